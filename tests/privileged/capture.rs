//! Live capture of traffic the kernel really encapsulated: two namespaces stand in for two
//! nodes, joined by a veth pair (the underlay, 192.168.50.0/24), each with a vxlan device
//! programmed the way Flannel (VNI 1, port 8472) or Calico (VNI 4096, port 4789) programs
//! it: nolearning, a permanent neighbour entry for the remote VTEP and an FDB entry
//! pointing at the remote node. A "pod" address on each side's `lo` sends UDP to the
//! other; `netpath capture` on the underlay veth must show VXLAN with the right VNI, port
//! and inner addresses.
//!
//! The captures written by these tests are what testdata/kernel-vxlan-8472.pcap and
//! testdata/kernel-vxlan-4789.pcap hold; `NETPATH_UPDATE_TESTDATA=1` refreshes them.
//! Without it the test compares the new capture with the committed file by structure
//! (layers, addresses, ports, VNI), not bytes: outer source ports, IP ids and timestamps
//! change from run to run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};
use serde_json::Value;

use crate::lab::{TestNetns, netpath};

pub fn tests() -> Vec<Trial> {
    vec![
        Trial::test("capture::kernel_vxlan_8472_flannel", || {
            kernel_vxlan(&FLANNEL)
        }),
        Trial::test("capture::kernel_vxlan_4789_calico", || {
            kernel_vxlan(&CALICO)
        }),
        Trial::test("capture::any_is_linux_cooked_v2", any_is_linux_cooked_v2),
        Trial::test("capture::ctrl_c_stops_cleanly", ctrl_c_stops_cleanly),
        Trial::test("capture::duration_and_count_stop", duration_and_count_stop),
        Trial::test(
            "capture::bad_interface_filter_netns",
            bad_interface_filter_netns,
        ),
    ]
}

/// How one CNI programs its vxlan device, and the pod addresses on each side.
struct Overlay {
    name: &'static str,
    device: &'static str,
    vni: u32,
    port: u16,
    /// VTEP MACs of node A and node B.
    macs: [&'static str; 2],
    /// VTEP (tunnel) addresses of node A and node B.
    vteps: [&'static str; 2],
    /// Pod CIDR routed through each node's VTEP.
    cidrs: [&'static str; 2],
    /// One pod address per side.
    pods: [&'static str; 2],
    testdata: &'static str,
}

const FLANNEL: Overlay = Overlay {
    name: "flannel",
    device: "flannel.1",
    vni: 1,
    port: 8472,
    macs: ["7a:3c:11:22:33:01", "7a:3c:11:22:33:02"],
    vteps: ["10.244.1.0", "10.244.2.0"],
    cidrs: ["10.244.1.0/24", "10.244.2.0/24"],
    pods: ["10.244.1.5", "10.244.2.7"],
    testdata: "kernel-vxlan-8472.pcap",
};

const CALICO: Overlay = Overlay {
    name: "calico",
    device: "vxlan.calico",
    vni: 4096,
    port: 4789,
    macs: ["66:f9:37:c3:7e:94", "66:74:9e:10:2a:51"],
    vteps: ["10.244.0.193", "10.244.5.193"],
    cidrs: ["10.244.0.192/26", "10.244.5.192/26"],
    pods: ["10.244.0.194", "10.244.5.200"],
    testdata: "kernel-vxlan-4789.pcap",
};

const UNDERLAY: [&str; 2] = ["192.168.50.1", "192.168.50.2"];
const CLIENT_PORT: u16 = 40000;
const SERVER_PORT: u16 = 5000;

/// Two "nodes" and the underlay veth between them (`u0` in A, `u1` in B).
struct Lab {
    nodes: [TestNetns; 2],
}

impl Lab {
    fn new(o: &Overlay) -> Lab {
        let nodes = [TestNetns::new("capa"), TestNetns::new("capb")];
        for n in &nodes {
            // No IPv6: its router solicitations and DAD would be noise on the underlay.
            n.exec(
                "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1",
            );
        }
        nodes[0].exec(&format!(
            "ip link add u0 type veth peer name u1 netns {}",
            nodes[1].name
        ));
        for (i, n) in nodes.iter().enumerate() {
            let (me, peer) = (i, 1 - i);
            let dev = format!("u{i}");
            n.exec(&format!(
                "ip addr add {}/24 dev {dev} && ip link set {dev} up",
                UNDERLAY[me]
            ));
            n.exec(&format!(
                "ip link add {d} address {mac} type vxlan id {vni} local {local} dev {dev} \
                 dstport {port} nolearning && ip addr add {vtep}/32 dev {d} && ip link set {d} up",
                d = o.device,
                mac = o.macs[me],
                vni = o.vni,
                local = UNDERLAY[me],
                port = o.port,
                vtep = o.vteps[me],
            ));
            n.exec(&format!("ip addr add {}/32 dev lo", o.pods[me]));
            // What the CNI programs for the remote node.
            n.exec(&format!(
                "ip neigh add {vtep} lladdr {mac} dev {d} nud permanent && \
                 bridge fdb append {mac} dev {d} dst {remote} && \
                 ip route add {cidr} via {vtep} dev {d} onlink",
                vtep = o.vteps[peer],
                mac = o.macs[peer],
                d = o.device,
                remote = UNDERLAY[peer],
                cidr = o.cidrs[peer],
            ));
        }
        // The underlay neighbours resolve before any capture starts.
        nodes[0].exec(&format!("ip neigh replace {} lladdr $(ip netns exec {} cat /sys/class/net/u1/address) dev u0 nud permanent", UNDERLAY[1], nodes[1].name));
        nodes[1].exec(&format!("ip neigh replace {} lladdr $(ip netns exec {} cat /sys/class/net/u0/address) dev u1 nud permanent", UNDERLAY[0], nodes[0].name));
        Lab { nodes }
    }

    /// Pod A sends one UDP datagram to pod B, which answers it.
    fn exchange(&self, o: &Overlay) -> Result<(), Failed> {
        let server = format!(
            "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
             s.bind(('{}',{SERVER_PORT}))\ns.settimeout(5)\nd,a=s.recvfrom(100)\ns.sendto(d.upper(),a)\n",
            o.pods[1]
        );
        let mut srv = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.nodes[1].name,
                "python3",
                "-c",
                &server,
            ])
            .spawn()
            .map_err(|e| format!("python3: {e}"))?;
        std::thread::sleep(Duration::from_millis(300));
        let client = format!(
            "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n\
             s.bind(('{}',{CLIENT_PORT}))\ns.settimeout(5)\ns.sendto(b'hello from {}',('{}',{SERVER_PORT}))\n\
             print(s.recvfrom(100)[0].decode())\n",
            o.pods[0], o.name, o.pods[1]
        );
        let reply = self.nodes[0].exec(&format!("python3 -c \"{client}\""));
        let _ = srv.wait();
        if !reply.contains("HELLO FROM") {
            return Err(format!("no reply through the {} overlay: {reply:?}", o.name).into());
        }
        Ok(())
    }
}

/// Start `netpath capture` with `args` and wait until it says it is capturing.
fn start_capture(args: &[&str]) -> Result<(Child, BufReader<std::process::ChildStderr>), Failed> {
    let mut child = netpath()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning netpath: {e}"))?;
    let mut err = BufReader::new(child.stderr.take().ok_or("no stderr")?);
    let mut line = String::new();
    err.read_line(&mut line)
        .map_err(|e| format!("reading stderr: {e}"))?;
    if !line.contains("capturing on") {
        let _ = child.kill();
        return Err(format!("netpath capture did not start: {line}").into());
    }
    Ok((child, err))
}

/// Wait for the capture to end by itself (within `limit`), returning stdout and the rest of
/// stderr.
fn finish(
    mut child: Child,
    mut err: BufReader<std::process::ChildStderr>,
    limit: Duration,
) -> Result<(std::process::ExitStatus, String, String), Failed> {
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("netpath capture did not stop within {limit:?}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        std::io::Read::read_to_string(&mut o, &mut out).map_err(|e| e.to_string())?;
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).map_err(|e| e.to_string())?;
    Ok((status, out, rest))
}

/// The parts of a decoded packet that stay the same from run to run: protocol per layer,
/// addresses, the VXLAN port and VNI, the inner ports.
fn structure(packet: &Value) -> Vec<String> {
    let layers = packet["layers"].as_array().cloned().unwrap_or_default();
    let mut inside = false;
    layers
        .iter()
        .map(|l| {
            let proto = l["proto"].as_str().unwrap_or("?");
            match proto {
                "ipv4" | "ipv6" => format!("{proto} {} > {}", l["src"], l["dst"]),
                // The outer source port is a hash of the inner flow with a per-boot seed.
                "udp" if !inside => format!("udp > {}", l["dst_port"]),
                "udp" | "tcp" => format!("{proto} {} > {}", l["src_port"], l["dst_port"]),
                "vxlan" => {
                    inside = true;
                    format!("vxlan vni {} port {}", l["vni"], l["port"])
                }
                "eth" if inside => format!("eth {} > {}", l["src"], l["dst"]),
                other => other.to_string(),
            }
        })
        .collect()
}

/// `netpath --json decode FILE`: the packet objects (the summary object dropped).
fn decode_json(path: &Path) -> Result<Vec<Value>, Failed> {
    let out = netpath()
        .args(["--json", "decode"])
        .arg(path)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "netpath decode {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    json_packets(&String::from_utf8_lossy(&out.stdout))
}

fn json_packets(text: &str) -> Result<Vec<Value>, Failed> {
    let mut packets = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))?;
        if v.get("layers").is_some() {
            packets.push(v);
        }
    }
    Ok(packets)
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn kernel_vxlan(o: &Overlay) -> Result<(), Failed> {
    let lab = Lab::new(o);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join(o.testdata);
    let filter = format!("udp port {}", o.port);
    let file_arg = file.to_string_lossy().to_string();
    let (child, err) = start_capture(&[
        "--json",
        "capture",
        "-i",
        "u0",
        "--netns",
        &lab.nodes[0].name,
        "--filter",
        &filter,
        "-c",
        "2",
        "--duration",
        "20s",
        "-w",
        &file_arg,
    ])?;
    lab.exchange(o)?;
    let (status, out, rest) = finish(child, err, Duration::from_secs(25))?;
    if !status.success() {
        return Err(format!("netpath capture failed: {status}: {rest}").into());
    }
    if !rest.contains("2 packets captured") || !rest.contains("count reached") {
        return Err(format!("unexpected summary: {rest}").into());
    }

    // What `capture --json` showed live.
    let live = json_packets(&out)?;
    let expected = |from: usize| -> Vec<String> {
        let to = 1 - from;
        let (sport, dport) = if from == 0 {
            (CLIENT_PORT, SERVER_PORT)
        } else {
            (SERVER_PORT, CLIENT_PORT)
        };
        vec![
            "eth".to_string(),
            format!("ipv4 \"{}\" > \"{}\"", UNDERLAY[from], UNDERLAY[to]),
            format!("udp > {}", o.port),
            format!("vxlan vni {} port {}", o.vni, o.port),
            format!("eth \"{}\" > \"{}\"", o.macs[from], o.macs[to]),
            format!("ipv4 \"{}\" > \"{}\"", o.pods[from], o.pods[to]),
            format!("udp {sport} > {dport}"),
        ]
    };
    let want = vec![expected(0), expected(1)];
    let got: Vec<_> = live.iter().map(structure).collect();
    if got != want {
        return Err(format!("live capture:\n{got:#?}\nwanted:\n{want:#?}").into());
    }
    if o.port == 8472 && live[0]["layers"][3]["cni_hint"] != "flannel" {
        return Err(format!("VNI 1 on 8472 not labelled Flannel: {}", live[0]).into());
    }
    if o.port == 4789 && live[0]["layers"][3]["cni_hint"] != "calico" {
        return Err(format!("VNI 4096 on 4789 not labelled Calico: {}", live[0]).into());
    }

    // The -w file holds the same packets.
    let written = decode_json(&file)?;
    let got_file: Vec<_> = written.iter().map(structure).collect();
    if got_file != want {
        return Err(format!("-w file:\n{got_file:#?}\nwanted:\n{want:#?}").into());
    }

    // The committed kernel capture has the same structure (or is refreshed).
    let committed = testdata(o.testdata);
    if std::env::var("NETPATH_UPDATE_TESTDATA").is_ok_and(|v| v == "1") {
        std::fs::copy(&file, &committed).map_err(|e| format!("{}: {e}", committed.display()))?;
    }
    let old: Vec<_> = decode_json(&committed)?.iter().map(structure).collect();
    if old != want {
        return Err(format!(
            "{} no longer matches what the kernel sends:\n{old:#?}\nnow:\n{want:#?}\n\
             refresh with NETPATH_UPDATE_TESTDATA=1 cargo test --test privileged capture",
            committed.display()
        )
        .into());
    }
    Ok(())
}

fn any_is_linux_cooked_v2() -> Result<(), Failed> {
    let ns = TestNetns::new("capany");
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("any.pcap");
    let file_arg = file.to_string_lossy().to_string();
    let (child, err) = start_capture(&[
        "capture",
        "-i",
        "any",
        "--netns",
        &ns.name,
        "--filter",
        "udp port 9999",
        "-c",
        "1",
        "--duration",
        "20s",
        "-w",
        &file_arg,
    ])?;
    ns.exec("python3 -c \"import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(b'x',('127.0.0.1',9999))\"");
    let (status, out, rest) = finish(child, err, Duration::from_secs(25))?;
    if !status.success() {
        return Err(format!("{status}: {rest}").into());
    }
    // On lo, "any" shows the datagram once, as it comes in.
    let lines: Vec<_> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() != 1
        || !lines
            .iter()
            .all(|l| l.contains("127.0.0.1") && l.contains("9999"))
    {
        return Err(format!("one-line view: {out}").into());
    }
    let bytes = std::fs::read(&file).map_err(|e| e.to_string())?;
    let linktype = u32::from_le_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    if linktype != 276 {
        return Err(format!("-i any wrote link type {linktype}, wanted 276 (SLL2)").into());
    }
    let packets = decode_json(&file)?;
    let first = &packets[0]["layers"][0];
    if first["proto"] != "sll2" {
        return Err(format!("first layer of an -i any packet: {first}").into());
    }
    Ok(())
}

fn ctrl_c_stops_cleanly() -> Result<(), Failed> {
    let ns = TestNetns::new("capint");
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("int.pcap");
    let file_arg = file.to_string_lossy().to_string();
    let (child, err) =
        start_capture(&["capture", "-i", "lo", "--netns", &ns.name, "-w", &file_arg])?;
    ns.exec("python3 -c \"import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(b'x',('127.0.0.1',9999))\"");
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: signalling the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let (status, out, rest) = finish(child, err, Duration::from_secs(10))?;
    if status.code() != Some(0) {
        return Err(format!("exit after Ctrl-C: {status}: {rest}").into());
    }
    if !rest.contains("interrupted") || !rest.contains("packets captured") {
        return Err(format!("no summary line after Ctrl-C: {rest}").into());
    }
    // The UDP datagram and the ICMP port unreachable that answers it.
    if !out.contains("UDP") || !out.contains("9999") {
        return Err(format!("packets before Ctrl-C not shown: {out}").into());
    }
    let packets = decode_json(&file)?;
    if packets.is_empty() {
        return Err("the -w file is empty after Ctrl-C".into());
    }
    Ok(())
}

fn duration_and_count_stop() -> Result<(), Failed> {
    let ns = TestNetns::new("capdur");
    // A quiet interface: the capture must still end when the duration is up.
    let (child, err) = start_capture(&[
        "capture",
        "-i",
        "lo",
        "--netns",
        &ns.name,
        "--duration",
        "300ms",
    ])?;
    let (status, out, rest) = finish(child, err, Duration::from_secs(10))?;
    if !status.success()
        || !rest.contains("0 packets captured")
        || !rest.contains("duration elapsed")
    {
        return Err(format!("{status}: {out} {rest}").into());
    }
    // --stats prints the counters at the end.
    let (child, err) = start_capture(&[
        "capture",
        "-i",
        "lo",
        "--netns",
        &ns.name,
        "-c",
        "1",
        "--stats",
        "--duration",
        "20s",
    ])?;
    ns.exec("python3 -c \"import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(b'x',('127.0.0.1',9999))\"");
    let (status, out, rest) = finish(child, err, Duration::from_secs(25))?;
    if !status.success() || !rest.contains("1 packets captured") || out.trim().is_empty() {
        return Err(format!("{status}: {out} {rest}").into());
    }
    Ok(())
}

fn bad_interface_filter_netns() -> Result<(), Failed> {
    let ns = TestNetns::new("capbad");
    let run = |args: &[&str]| -> Result<(Option<i32>, String), Failed> {
        let out = netpath().args(args).output().map_err(|e| e.to_string())?;
        Ok((
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    };
    let (code, err) = run(&["capture", "-i", "nosuch0", "--netns", &ns.name, "-c", "1"])?;
    if code != Some(2) || !err.contains("no such interface") {
        return Err(format!("missing interface: {code:?} {err}").into());
    }
    let (code, err) = run(&[
        "capture",
        "-i",
        "lo",
        "--netns",
        &ns.name,
        "--filter",
        "udp prot 1",
        "-c",
        "1",
    ])?;
    if code != Some(2) || !err.contains("bad filter") {
        return Err(format!("bad filter: {code:?} {err}").into());
    }
    let (code, err) = run(&[
        "capture",
        "-i",
        "lo",
        "--netns",
        "np-no-such-netns",
        "-c",
        "1",
    ])?;
    if code != Some(3) || !err.contains("ip netns") {
        return Err(format!("missing netns: {code:?} {err}").into());
    }
    Ok(())
}
