//! Flannel's subnet leases against a real etcd (Debian's etcd-server), started on loopback
//! on free ports with a temporary data directory and killed when the test ends.
//!
//! Without the etcd binary these tests cannot run: under CI (`NETPATH_REQUIRE_ROOT=1`) they
//! fail saying so; elsewhere they are reported as ignored, with a loud note on stderr.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};
use netpath::etcd::{Client, Options, Secret};
use netpath::lease::manager::{Change, Manager, Request, Settings};
use netpath::lease::{LeaseAttrs, Registry};

use crate::lab::{TestNetns, netpath, sh, sh_output};

const PREFIX: &str = "/coreos.com/network";
const VXLAN: &str = r#"{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan", "VNI": 1}}"#;

/// The etcd binary, if installed.
fn etcd_binary() -> Option<String> {
    ["/usr/bin/etcd", "/usr/local/bin/etcd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .map(String::from)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on loopback")
}

/// A throwaway etcd: one member on loopback, killed on drop (also when the test fails).
pub struct Etcd {
    child: Option<Child>,
    dir: tempfile::TempDir,
    peer_port: u16,
    tls: Option<Tls>,
    /// `http://127.0.0.1:PORT` (or https).
    pub url: String,
}

/// Certificates for a TLS etcd.
#[derive(Clone)]
pub struct Tls {
    ca: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
}

impl Etcd {
    pub fn start() -> Etcd {
        Etcd::start_with(None)
    }

    fn start_with(tls: Option<Tls>) -> Etcd {
        let dir = tempfile::tempdir().expect("temp dir");
        let client_port = free_port();
        let peer_port = free_port();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let mut e = Etcd {
            child: None,
            dir,
            peer_port,
            url: format!("{scheme}://127.0.0.1:{client_port}"),
            tls,
        };
        e.run();
        e
    }

    fn run(&mut self) {
        let bin = etcd_binary().expect("etcd binary");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("etcd.log"))
            .expect("etcd log");
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let mut cmd = Command::new(bin);
        cmd.arg("--name")
            .arg("np")
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .arg("--listen-client-urls")
            .arg(&self.url)
            .arg("--advertise-client-urls")
            .arg(&self.url)
            .arg("--listen-peer-urls")
            .arg(&peer)
            .arg("--initial-advertise-peer-urls")
            .arg(&peer)
            .arg("--initial-cluster")
            .arg(format!("np={peer}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        if let Some(t) = &self.tls {
            cmd.args(["--cert-file", &t.server_cert, "--key-file", &t.server_key])
                .args(["--trusted-ca-file", &t.ca, "--client-cert-auth"]);
        }
        self.child = Some(cmd.spawn().expect("starting etcd"));
        // Ready when a range answers.
        let client = self.client();
        let t0 = Instant::now();
        while client.range(b"/ready", None).is_err() {
            if t0.elapsed() > Duration::from_secs(20) {
                panic!("etcd did not come up in 20 s:\n{}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn options(&self) -> Options {
        let mut o = Options::new(vec![self.url.clone()]);
        if let Some(t) = &self.tls {
            o.ca_file = Some(t.ca.clone().into());
            o.cert_file = Some(t.client_cert.clone().into());
            o.key_file = Some(t.client_key.clone().into());
        }
        o
    }

    pub fn client(&self) -> Client {
        Client::new(&self.options()).expect("client")
    }

    pub fn registry(&self) -> Registry {
        Registry::new(self.client(), PREFIX)
    }

    pub fn put_config(&self, text: &str) {
        self.client()
            .put(format!("{PREFIX}/config").as_bytes(), text.as_bytes(), 0)
            .expect("put config");
    }

    /// Kill etcd (like a crash); its data stays.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Start it again on the same ports and data.
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("etcd.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn settings() -> Settings {
    Settings {
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_millis(500),
        ..Settings::default()
    }
}

fn request(ip: [u8; 4]) -> Request {
    Request {
        public_ip: Ipv4Addr::from(ip),
        vtep_mac: None,
        previous_subnet: None,
    }
}

/// Poll `m` until `pred` holds on the changes seen so far, or `limit` passes.
fn poll_until(
    m: &mut Manager,
    limit: Duration,
    mut pred: impl FnMut(&[Change], &Manager) -> bool,
) -> Result<Vec<Change>, Failed> {
    let t0 = Instant::now();
    let mut seen = Vec::new();
    loop {
        if pred(&seen, m) {
            return Ok(seen);
        }
        if t0.elapsed() > limit {
            return Err(format!("condition not met in {limit:?}; changes seen: {seen:#?}").into());
        }
        let changes = m
            .poll(Duration::from_millis(200))
            .map_err(|e| format!("{e:#}"))?;
        seen.extend(changes);
    }
}

fn check(cond: bool, msg: impl FnOnce() -> String) -> Result<(), Failed> {
    if cond { Ok(()) } else { Err(msg().into()) }
}

pub fn tests() -> Vec<Trial> {
    let trials = vec![
        Trial::test("etcd::allocation_writes_flannels_exact_layout", allocation),
        Trial::test(
            "etcd::renewal_keeps_the_lease_and_expiry_is_reacquired",
            renewal,
        ),
        Trial::test(
            "etcd::restart_reuses_the_lease_without_a_write",
            reuse_after_restart,
        ),
        Trial::test(
            "etcd::concurrent_allocators_never_share_a_subnet",
            concurrent,
        ),
        Trial::test("etcd::hand_written_flannel_lease_is_honoured", hand_written),
        Trial::test("etcd::outage_keeps_leases_and_resyncs", outage),
        Trial::test("etcd::watch_behind_compaction_relists", compaction),
        Trial::test("etcd::auth_and_tls", auth_and_tls),
        Trial::test("etcd::leases_command_and_cluster_source", leases_command),
        Trial::test("etcd::agents_converge_join_leave_restart_outage", agent_lab),
    ];
    if etcd_binary().is_some() {
        return trials;
    }
    eprintln!();
    eprintln!(
        "!!! {} ETCD TESTS NOT RUN: no etcd binary (apt-get install etcd-server).",
        trials.len()
    );
    if std::env::var("NETPATH_REQUIRE_ROOT").is_ok_and(|v| v == "1") {
        return vec![Trial::test("etcd::etcd_server_is_installed", || {
            Err("etcd is not installed: the etcd tests must run in CI (apt-get install etcd-server)".into())
        })];
    }
    trials
        .into_iter()
        .map(|t| t.with_ignored_flag(true))
        .collect()
}

fn allocation() -> Result<(), Failed> {
    let etcd = Etcd::start();
    etcd.put_config(VXLAN);
    let mut m = Manager::new(etcd.registry(), settings()).map_err(|e| format!("{e:#}"))?;
    let lease = m
        .acquire(request([192, 168, 50, 11]))
        .map_err(|e| format!("{e:#}"))?;
    check(m.config().compatible(&lease.subnet), || {
        format!("{lease:?}")
    })?;
    let key = format!("{PREFIX}/subnets/{}-24", lease.subnet.network());
    check(lease.key == key, || format!("{} != {key}", lease.key))?;
    let client = etcd.client();
    let (kvs, _) = client.range(key.as_bytes(), None)?;
    let kv = kvs.first().ok_or("no key written")?;
    let value = String::from_utf8_lossy(&kv.value);
    let mac = lease.attrs.vtep_mac().ok_or("no VTEP MAC")?;
    let expected = format!(
        r#"{{"PublicIP":"192.168.50.11","PublicIPv6":null,"BackendType":"vxlan","BackendData":{{"VNI":1,"VtepMAC":"{mac}"}}}}"#
    );
    check(value == expected, || {
        format!("value {value}\nexpected {expected}")
    })?;
    let (ttl, granted) = client
        .time_to_live(kv.lease)?
        .ok_or("no etcd lease on the key")?;
    check(granted == 86400 && ttl > 86000, || {
        format!("ttl {ttl} granted {granted}")
    })?;
    // A second node gets another subnet.
    let mut m2 = Manager::new(etcd.registry(), settings()).map_err(|e| format!("{e:#}"))?;
    let l2 = m2
        .acquire(request([192, 168, 50, 12]))
        .map_err(|e| format!("{e:#}"))?;
    check(l2.subnet != lease.subnet, || "same subnet twice".into())?;
    // And the first one sees it through its watch.
    poll_until(&mut m, Duration::from_secs(5), |_, m| {
        m.leases().count() == 2
    })?;
    Ok(())
}

fn renewal() -> Result<(), Failed> {
    let etcd = Etcd::start();
    etcd.put_config(VXLAN);
    let short = Settings {
        ttl: Duration::from_secs(3),
        ..settings()
    };
    let mut a = Manager::new(etcd.registry(), short.clone()).map_err(|e| format!("{e:#}"))?;
    let lease = a
        .acquire(request([10, 1, 0, 1]))
        .map_err(|e| format!("{e:#}"))?;
    let mut watcher = Manager::new(etcd.registry(), settings()).map_err(|e| format!("{e:#}"))?;
    // Three TTLs of polling: renewed, never removed.
    let t0 = Instant::now();
    let mut seen = Vec::new();
    while t0.elapsed() < Duration::from_secs(9) {
        seen.extend(
            a.poll(Duration::from_millis(300))
                .map_err(|e| format!("{e:#}"))?,
        );
        seen.extend(
            watcher
                .poll(Duration::from_millis(10))
                .map_err(|e| format!("{e:#}"))?,
        );
    }
    check(
        !seen
            .iter()
            .any(|c| matches!(c, Change::Removed(_) | Change::Lost(_))),
        || format!("lease dropped while renewed: {seen:#?}"),
    )?;
    check(watcher.leases().any(|l| l.subnet == lease.subnet), || {
        "watcher lost the lease".into()
    })?;
    // Stop renewing: etcd expires it, the watcher sees it go.
    poll_until(&mut watcher, Duration::from_secs(10), |c, _| {
        c.iter()
            .any(|c| matches!(c, Change::Removed(l) if l.subnet == lease.subnet))
    })?;
    // The node comes back: it notices, and takes the same subnet again.
    let seen = poll_until(&mut a, Duration::from_secs(10), |c, _| {
        c.iter().any(|c| matches!(c, Change::Acquired(_)))
    })?;
    check(seen.iter().any(|c| matches!(c, Change::Lost(_))), || {
        format!("{seen:#?}")
    })?;
    let again = a.own().ok_or("no lease after re-acquiring")?;
    check(again.subnet == lease.subnet, || {
        format!("re-acquired {} instead of {}", again.subnet, lease.subnet)
    })?;
    check(again.attrs.vtep_mac() == lease.attrs.vtep_mac(), || {
        "VTEP MAC changed on re-acquiring".into()
    })?;
    poll_until(&mut watcher, Duration::from_secs(5), |c, _| {
        c.iter()
            .any(|c| matches!(c, Change::Added(l) if l.subnet == lease.subnet))
    })?;
    Ok(())
}

fn reuse_after_restart() -> Result<(), Failed> {
    let etcd = Etcd::start();
    etcd.put_config(VXLAN);
    let first = {
        let mut m = Manager::new(etcd.registry(), settings()).map_err(|e| format!("{e:#}"))?;
        m.acquire(request([10, 2, 0, 1]))
            .map_err(|e| format!("{e:#}"))?
    };
    // "Restart": a new manager for the same public IP.
    let mut m = Manager::new(etcd.registry(), settings()).map_err(|e| format!("{e:#}"))?;
    let second = m
        .acquire(request([10, 2, 0, 1]))
        .map_err(|e| format!("{e:#}"))?;
    check(second.subnet == first.subnet, || {
        format!("{} then {}", first.subnet, second.subnet)
    })?;
    check(second.attrs == first.attrs, || "attributes changed".into())?;
    check(second.mod_revision == first.mod_revision, || {
        "the restart rewrote the lease (peers would see a change)".into()
    })?;
    check(m.leases().count() == 1, || "one lease expected".into())?;
    Ok(())
}

fn concurrent() -> Result<(), Failed> {
    let etcd = Etcd::start();
    // 10.7.0.0/24 in /28s: SubnetMin .16 .. SubnetMax .240 = 15 subnets for 20 nodes.
    etcd.put_config(
        r#"{"Network": "10.7.0.0/24", "SubnetLen": 28, "Backend": {"Type": "host-gw"}}"#,
    );
    let n = 20;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let registry = etcd.registry();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut m = Manager::new(registry, settings()).map_err(|e| format!("{e:#}"))?;
                barrier.wait();
                m.acquire(request([10, 70, 0, 10 + i as u8]))
                    .map(|l| l.subnet)
                    .map_err(|e| format!("{e:#}"))
            })
        })
        .collect();
    let mut won = Vec::new();
    let mut lost = Vec::new();
    for h in handles {
        match h.join().map_err(|_| "allocator panicked")? {
            Ok(s) => won.push(s),
            Err(e) => lost.push(e),
        }
    }
    let distinct: BTreeSet<_> = won.iter().collect();
    check(distinct.len() == won.len(), || {
        format!("duplicate subnet: {won:?}")
    })?;
    check(won.len() <= 15, || format!("{} leases of 15", won.len()))?;
    for e in &lost {
        check(
            e.contains("out of subnets") || e.contains("conflicting"),
            || e.clone(),
        )?;
    }
    check(
        lost.iter().filter(|e| e.contains("out of subnets")).count() + won.len() >= 15,
        || format!("won {won:?}, lost {lost:?}"),
    )?;
    let listing = etcd.registry().list(false)?;
    check(listing.leases.len() == won.len(), || {
        format!("{} keys for {} winners", listing.leases.len(), won.len())
    })?;
    Ok(())
}

/// A lease exactly as flanneld v0.28 writes it (vxlan, with its own etcd lease).
fn write_flannel_lease(client: &Client, subnet: &str, ip: &str, mac: &str) -> String {
    let (id, _) = client.grant(86400).expect("grant");
    let key = format!("{PREFIX}/subnets/{subnet}");
    let value = format!(
        r#"{{"PublicIP":"{ip}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{{"VNI":1,"VtepMAC":"{mac}"}}}}"#
    );
    client
        .put(key.as_bytes(), value.as_bytes(), id)
        .expect("put lease");
    value
}

fn hand_written() -> Result<(), Failed> {
    let etcd = Etcd::start();
    etcd.put_config(VXLAN);
    let client = etcd.client();
    let value = write_flannel_lease(
        &client,
        "10.244.77.0-24",
        "192.168.9.77",
        "c2:11:22:33:44:55",
    );
    let mut m = Manager::new(etcd.registry(), settings()).map_err(|e| format!("{e:#}"))?;
    let l = m
        .leases()
        .find(|l| l.subnet.to_string() == "10.244.77.0/24")
        .ok_or("hand-written lease not read")?
        .clone();
    check(l.attrs.public_ip == Ipv4Addr::new(192, 168, 9, 77), || {
        format!("{l:?}")
    })?;
    check(
        l.attrs.vtep_mac().map(|m| m.to_string()).as_deref() == Some("c2:11:22:33:44:55"),
        || format!("{l:?}"),
    )?;
    check(l.attrs.to_json() == value, || l.attrs.to_json())?;
    // netpath on that node takes the flannel lease over as it is: same subnet, same MAC,
    // nothing written.
    let own = m
        .acquire(request([192, 168, 9, 77]))
        .map_err(|e| format!("{e:#}"))?;
    check(
        own.subnet == l.subnet && own.mod_revision == l.mod_revision,
        || format!("{own:?}"),
    )?;
    // And what netpath writes, flannel's parser shape reads back identically.
    let attrs = LeaseAttrs::parse(value.as_bytes())?;
    check(attrs == l.attrs, || "parse mismatch".into())?;
    Ok(())
}

fn outage() -> Result<(), Failed> {
    let mut etcd = Etcd::start();
    etcd.put_config(VXLAN);
    let mut a = Manager::new(etcd.registry(), settings()).map_err(|e| format!("{e:#}"))?;
    let la = a
        .acquire(request([10, 3, 0, 1]))
        .map_err(|e| format!("{e:#}"))?;
    let mut b = Manager::new(etcd.registry(), settings()).map_err(|e| format!("{e:#}"))?;
    b.acquire(request([10, 3, 0, 2]))
        .map_err(|e| format!("{e:#}"))?;
    poll_until(&mut b, Duration::from_secs(5), |_, m| {
        m.leases().count() == 2
    })?;
    etcd.stop();
    let seen = poll_until(&mut b, Duration::from_secs(10), |c, _| {
        c.iter().any(|c| matches!(c, Change::Unreachable(_)))
    })?;
    check(
        !seen.iter().any(|c| matches!(c, Change::Removed(_))),
        || format!("leases dropped during the outage: {seen:#?}"),
    )?;
    // A while away: still retrying, still the same leases.
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(2) {
        let c = b
            .poll(Duration::from_millis(200))
            .map_err(|e| format!("{e:#}"))?;
        check(c.iter().all(|c| !matches!(c, Change::Removed(_))), || {
            format!("{c:?}")
        })?;
    }
    check(b.leases().count() == 2, || {
        "leases lost during the outage".into()
    })?;
    etcd.restart();
    // Meanwhile a's lease was deleted by hand and a new node registered.
    let client = etcd.client();
    client.delete(la.key.as_bytes())?;
    write_flannel_lease(&client, "10.244.200.0-24", "10.3.0.9", "c2:00:00:00:00:09");
    let seen = poll_until(&mut b, Duration::from_secs(15), |_, m| {
        m.leases()
            .any(|l| l.subnet.to_string() == "10.244.200.0/24")
            && !m.leases().any(|l| l.subnet == la.subnet)
    })?;
    check(
        seen.iter().any(|c| matches!(c, Change::Reconnected)),
        || format!("{seen:#?}"),
    )?;
    check(b.own().is_some(), || "b lost its own lease".into())?;
    // a comes back to find its lease gone: it re-acquires the same subnet.
    poll_until(&mut a, Duration::from_secs(15), |_, m| {
        m.own().is_some_and(|o| o.subnet == la.subnet)
            && m.leases()
                .any(|l| l.subnet.to_string() == "10.244.200.0/24")
    })?;
    Ok(())
}

fn compaction() -> Result<(), Failed> {
    let etcd = Etcd::start();
    etcd.put_config(VXLAN);
    let client = etcd.client();
    write_flannel_lease(&client, "10.244.1.0-24", "10.4.0.1", "c2:00:00:00:00:01");
    write_flannel_lease(&client, "10.244.2.0-24", "10.4.0.2", "c2:00:00:00:00:02");
    let short_watch = Settings {
        watch_max: Duration::from_secs(1),
        ..settings()
    };
    let mut m = Manager::new(etcd.registry(), short_watch).map_err(|e| format!("{e:#}"))?;
    m.poll(Duration::from_millis(300))
        .map_err(|e| format!("{e:#}"))?;
    // The watch stream ends (its time limit) while we are not looking; meanwhile the
    // leases change and etcd compacts its history past our revision.
    std::thread::sleep(Duration::from_millis(1500));
    client.delete(format!("{PREFIX}/subnets/10.244.1.0-24").as_bytes())?;
    write_flannel_lease(&client, "10.244.3.0-24", "10.4.0.3", "c2:00:00:00:00:03");
    let rev = client.put(b"/other", b"x", 0)?;
    client.compact(rev)?;
    let seen = poll_until(&mut m, Duration::from_secs(10), |_, m| {
        let s: Vec<String> = m.leases().map(|l| l.subnet.to_string()).collect();
        s == ["10.244.2.0/24", "10.244.3.0/24"]
    })?;
    check(
        seen.iter().any(|c| matches!(c, Change::Relisted { .. })),
        || format!("no re-list after compaction: {seen:#?}"),
    )?;
    check(m.revision() >= rev, || {
        format!("revision {} < {rev}", m.revision())
    })?;
    Ok(())
}

fn openssl(args: &str, dir: &Path) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("openssl {args}"))
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn make_certs(dir: &Path) -> Tls {
    openssl(
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=np-test-ca",
        dir,
    );
    for (name, ext) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth",
        ),
        ("client", "extendedKeyUsage=clientAuth"),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), ext).expect("ext");
        openssl(
            &format!(
                "req -newkey rsa:2048 -nodes -keyout {name}.key -out {name}.csr -subj /CN=np-{name}"
            ),
            dir,
        );
        openssl(
            &format!(
                "x509 -req -in {name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out {name}.crt -days 2 -extfile {name}.ext"
            ),
            dir,
        );
    }
    let p = |f: &str| dir.join(f).display().to_string();
    Tls {
        ca: p("ca.crt"),
        server_cert: p("server.crt"),
        server_key: p("server.key"),
        client_cert: p("client.crt"),
        client_key: p("client.key"),
    }
}

fn auth_and_tls() -> Result<(), Failed> {
    // Authentication: a root user, auth enabled; the client gets a token and uses it.
    let etcd = Etcd::start();
    etcd.put_config(VXLAN);
    let c = etcd.client();
    let admin = |path: &str, body: &str| {
        let body: serde_json::Value = serde_json::from_str(body).expect("json");
        c.request(path, &body).expect(path);
    };
    admin(
        "/v3/auth/user/add",
        r#"{"name":"root","password":"pa55-word"}"#,
    );
    admin("/v3/auth/role/add", r#"{"name":"root"}"#);
    admin("/v3/auth/user/grant", r#"{"user":"root","role":"root"}"#);
    admin("/v3/auth/enable", "{}");
    let e = c
        .range(format!("{PREFIX}/config").as_bytes(), None)
        .unwrap_err();
    check(e.to_string().contains("user name is empty"), || {
        e.to_string()
    })?;
    let mut o = etcd.options();
    o.username = Some("root".into());
    o.password = Some(Secret::new("pa55-word"));
    let authed = Client::new(&o)?;
    let (kvs, _) = authed.range(format!("{PREFIX}/config").as_bytes(), None)?;
    check(kvs.len() == 1, || "config not read with auth".into())?;
    let mut m =
        Manager::new(Registry::new(authed, PREFIX), settings()).map_err(|e| format!("{e:#}"))?;
    m.acquire(request([10, 5, 0, 1]))
        .map_err(|e| format!("{e:#}"))?;
    o.password = Some(Secret::new("wrong-one"));
    let e = Client::new(&o)?.range(b"x", None).unwrap_err().to_string();
    check(
        e.contains("authentication failed") && !e.contains("wrong-one"),
        || e.clone(),
    )?;
    // The CLI never prints the password, even in errors.
    let out = netpath()
        .args([
            "leases",
            "--etcd-endpoints",
            &etcd.url,
            "--etcd-username",
            "root",
        ])
        .env("NETPATH_ETCD_PASSWORD", "wrong-one")
        .output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    check(
        out.status.code() == Some(2) && !text.contains("wrong-one"),
        || text.clone(),
    )?;
    let out = netpath()
        .args([
            "leases",
            "--etcd-endpoints",
            &etcd.url,
            "--etcd-username",
            "root",
        ])
        .env("NETPATH_ETCD_PASSWORD", "pa55-word")
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    check(out.status.success() && text.contains("10.5.0.1"), || {
        text.clone()
    })?;

    // TLS with client certificates.
    let dir = tempfile::tempdir()?;
    let tls = make_certs(dir.path());
    let secure = Etcd::start_with(Some(tls.clone()));
    secure.put_config(VXLAN);
    let mut m = Manager::new(secure.registry(), settings()).map_err(|e| format!("{e:#}"))?;
    m.acquire(request([10, 6, 0, 1]))
        .map_err(|e| format!("{e:#}"))?;
    let out = netpath()
        .args(["leases", "--etcd-endpoints", &secure.url])
        .args([
            "--etcd-cafile",
            &tls.ca,
            "--etcd-certfile",
            &tls.client_cert,
        ])
        .args(["--etcd-keyfile", &tls.client_key])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    check(out.status.success() && text.contains("10.6.0.1"), || {
        format!("{text}{}", String::from_utf8_lossy(&out.stderr))
    })?;
    // Without the client certificate etcd refuses the connection.
    let out = netpath()
        .args([
            "leases",
            "--etcd-endpoints",
            &secure.url,
            "--etcd-cafile",
            &tls.ca,
        ])
        .output()?;
    check(!out.status.success(), || {
        "TLS etcd answered without a client cert".into()
    })?;
    Ok(())
}

fn leases_command() -> Result<(), Failed> {
    let etcd = Etcd::start();
    etcd.put_config(VXLAN);
    let client = etcd.client();
    write_flannel_lease(&client, "10.244.1.0-24", "192.168.7.1", "c2:00:00:00:01:01");
    write_flannel_lease(&client, "10.244.2.0-24", "192.168.7.2", "c2:00:00:00:01:02");
    let run = |args: &[&str]| {
        netpath()
            .args(args)
            .args(["--etcd-endpoints", &etcd.url])
            .output()
            .expect("netpath")
    };
    let out = run(&["leases"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    check(
        out.status.success() && text.contains("c2:00:00:00:01:02") && text.contains("no conflicts"),
        || text.clone(),
    )?;
    let out = run(&["leases", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    check(
        v["schema"] == "netpath.leases/v1" && v["leases"].as_array().map(Vec::len) == Some(2),
        || v.to_string(),
    )?;
    check(
        v["leases"][0]["ttl_seconds"]
            .as_u64()
            .is_some_and(|t| t > 86000),
        || v.to_string(),
    )?;
    // plan and trace take the leases as the cluster.
    let out = run(&[
        "plan",
        "--node",
        "192.168.7.1",
        "--underlay",
        "192.168.7.0/24",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    check(
        out.status.success()
            && text.contains("10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink")
            && text.contains("c2:00:00:00:01:02"),
        || format!("{text}{}", String::from_utf8_lossy(&out.stderr)),
    )?;
    let out = run(&["trace", "--all"]);
    check(out.status.success(), || {
        String::from_utf8_lossy(&out.stdout).into_owned()
    })?;
    // A conflict: a second lease for the same node, exit 1.
    write_flannel_lease(&client, "10.244.3.0-24", "192.168.7.2", "c2:00:00:00:01:03");
    let out = run(&["leases"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    check(
        out.status.code() == Some(1) && text.contains("duplicate-public-ip"),
        || text.clone(),
    )?;
    // --delete removes one.
    let out = run(&["leases", "--delete", "10.244.3.0/24"]);
    check(out.status.success(), || {
        String::from_utf8_lossy(&out.stderr).into_owned()
    })?;
    check(etcd.registry().list(false)?.leases.len() == 2, || {
        "not deleted".into()
    })?;
    Ok(())
}

/// `netpath agent --watch` against etcd for one node, killed (-9) on drop.
struct Agent {
    child: Option<std::process::Child>,
    log: std::path::PathBuf,
}

impl Agent {
    fn start(url: &str, node: &str, ip: &str, netns: &TestNetns, logdir: &Path) -> Agent {
        let log = logdir.join(format!("agent-{node}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("agent log");
        let child = netpath()
            .args([
                "agent",
                "--etcd-endpoints",
                url,
                "--public-ip",
                ip,
                "--node",
                node,
            ])
            .args(["--netns", &netns.name, "--watch", "--interval", "1s"])
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .expect("starting netpath agent");
        Agent {
            child: Some(child),
            log,
        }
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) -> Result<(), String> {
    let t0 = Instant::now();
    while !cond() {
        if t0.elapsed() > limit {
            return Err(format!("{what}: not within {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn routes(ns: &TestNetns) -> String {
    ns.exec("ip route show; ip neigh show dev flannel.1 2>/dev/null; bridge fdb show dev flannel.1 2>/dev/null || true")
}

fn has_route(ns: &TestNetns, subnet: &str) -> bool {
    let net = subnet.trim_end_matches("/24");
    ns.exec_output("ip route show")
        .stdout
        .split(|&b| b == b'\n')
        .any(|l| {
            let l = String::from_utf8_lossy(l);
            l.starts_with(&format!("{net}/24 via {net} dev flannel.1 ")) && l.contains("onlink")
        })
}

/// Send UDP from pod `from` to `to_ip` (in pod `to`) until one datagram arrives (5 s).
fn udp(from: &TestNetns, to: &TestNetns, to_ip: &str) -> bool {
    let recv = std::process::Command::new("ip")
        .args(["netns", "exec", &to.name, "python3", "-c"])
        .arg(format!(
            "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('{to_ip}',5555));s.settimeout(5);print(s.recvfrom(64)[0].decode())"
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("receiver");
    std::thread::sleep(Duration::from_millis(300));
    let _ = from.exec_output(&format!(
        "python3 -c \"import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(20):\n  s.sendto(b'pod-to-pod',('{to_ip}',5555)); time.sleep(0.2)\" &"
    ));
    let out = recv.wait_with_output().expect("receiver output");
    String::from_utf8_lossy(&out.stdout).contains("pod-to-pod")
}

struct Node {
    ns: TestNetns,
    name: String,
    ip: String,
    pod: Option<(TestNetns, String)>,
}

/// The lab: a switch netns with a bridge, nodes with eth0 on it (192.168.77.1N/24), a
/// pod per node behind cni0 (made as flannel's bridge plugin does, once the lease is known).
fn lab_node(switch: &TestNetns, n: u8) -> Node {
    let ns = TestNetns::new(&format!("n{n}"));
    let ip = format!("192.168.77.{}", 10 + n);
    sh(&format!(
        "ip link add eth0 netns {} type veth peer name p{n} netns {}",
        ns.name, switch.name
    ));
    switch.exec(&format!("ip link set p{n} master br0 up"));
    ns.exec(&format!(
        "ip addr add {ip}/24 dev eth0 && ip link set eth0 up"
    ));
    Node {
        ns,
        name: format!("node-{n}"),
        ip,
        pod: None,
    }
}

fn add_pod(node: &mut Node, subnet: &str) {
    let base = subnet.trim_end_matches(".0/24");
    let pod = TestNetns::new("pod");
    node.ns.exec(&format!(
        "ip link add cni0 type bridge && ip addr add {base}.1/24 dev cni0 && ip link set cni0 up"
    ));
    sh(&format!(
        "ip -n {} link add vethp type veth peer name eth0 netns {}",
        node.ns.name, pod.name
    ));
    node.ns.exec("ip link set vethp master cni0 up");
    pod.exec(&format!(
        "ip addr add {base}.2/24 dev eth0 && ip link set eth0 up && ip route add default via {base}.1"
    ));
    node.pod = Some((pod, format!("{base}.2")));
}

fn subnet_of(etcd: &Etcd, ip: &str) -> Option<String> {
    etcd.registry()
        .list(false)
        .ok()?
        .leases
        .into_iter()
        .find(|l| l.attrs.public_ip.to_string() == ip)
        .map(|l| l.subnet.to_string())
}

fn agent_lab() -> Result<(), Failed> {
    let mut etcd = Etcd::start();
    etcd.put_config(r#"{"Network": "10.77.0.0/16", "Backend": {"Type": "vxlan"}}"#);
    let logs = tempfile::tempdir()?;
    let switch = TestNetns::new("sw");
    switch.exec("ip link add br0 type bridge && ip link set br0 up");
    let mut nodes: Vec<Node> = (1..=4).map(|n| lab_node(&switch, n)).collect();
    let mut agents: Vec<Agent> = nodes[..3]
        .iter()
        .map(|n| Agent::start(&etcd.url, &n.name, &n.ip, &n.ns, logs.path()))
        .collect();
    let dump = |agents: &[Agent]| {
        agents
            .iter()
            .map(|a| std::fs::read_to_string(&a.log).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n----\n")
    };
    let mut subnets = Vec::new();
    for n in &nodes[..3] {
        wait_for(
            &format!("lease of {}", n.ip),
            Duration::from_secs(20),
            || subnet_of(&etcd, &n.ip).is_some(),
        )
        .map_err(|e| format!("{e}\n{}", dump(&agents)))?;
        subnets.push(subnet_of(&etcd, &n.ip).ok_or("lease vanished")?);
    }
    check(subnets.iter().collect::<BTreeSet<_>>().len() == 3, || {
        format!("{subnets:?}")
    })?;
    for (i, n) in nodes[..3].iter_mut().enumerate() {
        add_pod(n, &subnets[i]);
    }
    // Converged: every node routes to the two others over flannel.1.
    for (i, n) in nodes[..3].iter().enumerate() {
        for (j, s) in subnets.iter().enumerate() {
            if i != j {
                wait_for(
                    &format!("{} route to {s}", n.name),
                    Duration::from_secs(15),
                    || has_route(&n.ns, s),
                )
                .map_err(|e| format!("{e}\n{}\n{}", routes(&n.ns), dump(&agents)))?;
            }
        }
    }
    // Pod-to-pod UDP across every pair.
    for i in 0..3 {
        for j in 0..3 {
            if i == j {
                continue;
            }
            let (from, _) = nodes[i].pod.as_ref().ok_or("no pod")?;
            let (to, to_ip) = nodes[j].pod.as_ref().ok_or("no pod")?;
            check(udp(from, to, to_ip), || {
                format!(
                    "UDP {} -> {} did not arrive\n{}\n{}",
                    nodes[i].name,
                    nodes[j].name,
                    routes(&nodes[i].ns),
                    routes(&nodes[j].ns)
                )
            })?;
        }
    }
    // check compares the node with the plan from the leases (writing nothing): nothing
    // differs but cni0, which the leases cannot know about (etcd holds no pods; flannel's
    // bridge plugin makes cni0 with the first pod).
    let out = netpath()
        .args(["--json", "check", "--etcd-endpoints", &etcd.url])
        .args(["--public-ip", &nodes[0].ip, "--node", &nodes[0].name])
        .args(["--netns", &nodes[0].ns.name])
        .output()?;
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let findings: Vec<String> = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] != "info")
        .map(|f| format!("{} {} {}", f["severity"], f["kind"], f["object"]))
        .collect();
    check(
        findings.len() == 1 && findings[0].contains("device cni0"),
        || format!("{findings:?}\n{doc}"),
    )?;
    // A fourth node joins: the others route to it within seconds.
    agents.push(Agent::start(
        &etcd.url,
        &nodes[3].name,
        &nodes[3].ip,
        &nodes[3].ns,
        logs.path(),
    ));
    wait_for("lease of node-4", Duration::from_secs(15), || {
        subnet_of(&etcd, &nodes[3].ip).is_some()
    })?;
    let s4 = subnet_of(&etcd, &nodes[3].ip).ok_or("no lease for node-4")?;
    for n in &nodes[..3] {
        wait_for(
            &format!("{} route to node-4", n.name),
            Duration::from_secs(5),
            || has_route(&n.ns, &s4),
        )?;
    }
    // It leaves (its agent stops, its lease is deleted): its route goes.
    agents[3].kill9();
    let out = netpath()
        .args(["leases", "--etcd-endpoints", &etcd.url, "--delete", &s4])
        .output()?;
    check(out.status.success(), || {
        String::from_utf8_lossy(&out.stderr).into_owned()
    })?;
    for n in &nodes[..3] {
        wait_for(
            &format!("{} route to node-4 gone", n.name),
            Duration::from_secs(5),
            || !has_route(&n.ns, &s4),
        )?;
    }
    // kill -9 of node-1's agent and a restart: same subnet, nothing rewritten, nothing
    // changes on the other nodes.
    let before: Vec<String> = nodes[1..3].iter().map(|n| routes(&n.ns)).collect();
    let rev_before = etcd
        .registry()
        .list(false)?
        .leases
        .iter()
        .map(|l| l.mod_revision)
        .max();
    agents[0].kill9();
    agents[0] = Agent::start(
        &etcd.url,
        &nodes[0].name,
        &nodes[0].ip,
        &nodes[0].ns,
        logs.path(),
    );
    std::thread::sleep(Duration::from_secs(3));
    check(
        subnet_of(&etcd, &nodes[0].ip).as_deref() == Some(subnets[0].as_str()),
        || "node-1 changed subnet on restart".into(),
    )?;
    let rev_after = etcd
        .registry()
        .list(false)?
        .leases
        .iter()
        .map(|l| l.mod_revision)
        .max();
    check(rev_before == rev_after, || {
        "the restart rewrote a lease".into()
    })?;
    let after: Vec<String> = nodes[1..3].iter().map(|n| routes(&n.ns)).collect();
    check(before == after, || {
        format!("routes changed on the other nodes:\n{before:?}\n{after:?}")
    })?;
    // etcd stops for a while: routes stay, traffic flows.
    etcd.stop();
    std::thread::sleep(Duration::from_secs(3));
    for (i, n) in nodes[..3].iter().enumerate() {
        for (j, s) in subnets.iter().enumerate() {
            check(i == j || has_route(&n.ns, s), || {
                format!("{} lost its route to {s} during the outage", n.name)
            })?;
        }
    }
    let (p2, _) = nodes[1].pod.as_ref().ok_or("no pod")?;
    let (p3, ip3) = nodes[2].pod.as_ref().ok_or("no pod")?;
    check(udp(p2, p3, ip3), || {
        "traffic stopped during the etcd outage".into()
    })?;
    // etcd returns; a lease written by hand in flannel's format meanwhile reaches every
    // agent without a restart.
    etcd.restart();
    write_flannel_lease(
        &etcd.client(),
        "10.77.99.0-24",
        "192.168.77.99",
        "c2:00:00:00:00:99",
    );
    for n in &nodes[..3] {
        wait_for(
            &format!("{} resynced after the outage", n.name),
            Duration::from_secs(15),
            || has_route(&n.ns, "10.77.99.0/24"),
        )
        .map_err(|e| format!("{e}\n{}", dump(&agents)))?;
    }
    let neigh = nodes[0].ns.exec("ip neigh show dev flannel.1");
    check(
        neigh.contains("10.77.99.0 lladdr c2:00:00:00:00:99"),
        || neigh.clone(),
    )?;
    let _ = sh_output("true");
    Ok(())
}
