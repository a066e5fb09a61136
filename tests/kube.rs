//! netpath against a Kubernetes API: a local HTTPS API server double (tests/kube/apiserver.py,
//! serving a kubectl-format List the way kube-apiserver does), checked first with the real
//! `kubectl` so it speaks the real protocol, then netpath against it: the same answers as from
//! the equivalent dump, kubeconfig resolution and credentials, the kubectl plugin, and every
//! error. Loopback only; no root.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

const TOKEN: &str = "np-test-token-7f3a";

fn netpath() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_netpath"));
    clean_env(&mut c);
    c
}

/// No kubeconfig but the one a test names, no colours.
fn clean_env(c: &mut Command) {
    c.env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", scratch().join("home"))
        .env("NO_COLOR", "1");
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One directory for the whole test binary: certificates, kubeconfigs, an empty HOME.
fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(d.path().join("home")).expect("home");
        make_certs(d.path());
        d
    })
    .path()
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

/// A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by it; and
/// a second CA that signed nothing (for the TLS failure).
fn make_certs(dir: &Path) {
    for ca in ["ca", "other-ca"] {
        std::fs::write(
            dir.join(format!("{ca}.ext")),
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n",
        )
        .expect("ext");
        openssl(
            &format!(
                "req -x509 -newkey rsa:2048 -nodes -keyout {ca}.key -out {ca}.crt -days 2 -subj /CN=np-test-{ca} -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
            ),
            dir,
        );
    }
    for (name, ext) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        ),
        (
            "client",
            "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n",
        ),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), ext).expect("ext");
        openssl(
            &format!(
                "req -newkey rsa:2048 -nodes -keyout {name}.key -out {name}.csr -subj /CN=np-{name}/O=system:masters"
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
}

/// The API server double, stopped when dropped.
struct Api {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Api {
    /// Serve `list` (a kubectl-format List file); `extra` are more apiserver.py flags.
    fn start(list: &Path, extra: &[&str]) -> Api {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let port_file = dir.join("port");
        let log = dir.join("requests.log");
        let s = scratch();
        let child = Command::new("python3")
            .arg(repo().join("tests/kube/apiserver.py"))
            .arg("--list")
            .arg(list)
            .arg("--cert")
            .arg(s.join("server.crt"))
            .arg("--key")
            .arg(s.join("server.key"))
            .arg("--ca")
            .arg(s.join("ca.crt"))
            .args(["--token", TOKEN, "--lifetime", "300"])
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(&log)
            .args(extra)
            .stdin(Stdio::null())
            .spawn()
            .expect("python3 runs the API server double");
        let mut api = Api {
            child,
            port: 0,
            log,
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                api.port = p.trim().parse().expect("port");
                return api;
            }
            if let Ok(Some(status)) = api.child.try_wait() {
                panic!("the API server double exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the API server double did not start within 60 s");
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// A kubeconfig for this server: `user` is the YAML of the user entry's body.
    fn kubeconfig(&self, name: &str, user: &str, namespace: &str) -> PathBuf {
        kubeconfig_for(&self.url(), name, user, namespace, "ca.crt")
    }

    /// The kubeconfig with the test token, context namespace `default`.
    fn token_kubeconfig(&self) -> PathBuf {
        self.kubeconfig("token", &format!("token: {TOKEN}"), "default")
    }

    fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn kubeconfig_for(server: &str, name: &str, user: &str, namespace: &str, ca: &str) -> PathBuf {
    let path = tempfile::tempdir()
        .expect("tempdir")
        .keep()
        .join(format!("{name}.yaml"));
    let ca = scratch().join(ca);
    let user = user.replace('\n', "\n      ");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1
kind: Config
clusters:
  - name: double
    cluster:
      server: {server}
      certificate-authority: {}
users:
  - name: {name}
    user:
      {user}
contexts:
  - name: double-{name}
    context:
      cluster: double
      user: {name}
      namespace: {namespace}
current-context: double-{name}
",
            ca.display()
        ),
    )
    .expect("kubeconfig");
    path
}

fn fixture(name: &str) -> PathBuf {
    repo().join("testdata/clusters").join(name)
}

fn run(mut c: Command) -> Output {
    c.stdin(Stdio::null()).output().expect("run")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `netpath --json ARGS`: the exit code and the document without its `cluster` (which names
/// the source: a context or a file).
fn json_of(args: &[&str]) -> (i32, Value) {
    let mut c = netpath();
    c.arg("--json").args(args);
    let o = run(c);
    let mut doc: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: netpath {args:?}: {}", text(&o)));
    if let Some(m) = doc.as_object_mut() {
        m.remove("cluster");
    }
    (o.status.code().unwrap_or(-1), doc)
}

fn kubectl() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
}

/// Run kubectl against a kubeconfig with a private cache directory.
fn kubectl_run(kubectl: &Path, kubeconfig: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(kubectl);
    clean_env(&mut c);
    c.arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(scratch().join("home/kube-cache"))
        .args(args);
    run(c)
}

fn no_kubectl(test: &str) {
    eprintln!(
        "\n*** {test}: kubectl is not on PATH: the API server double was NOT checked against the real kubectl (install kubernetes-client) ***\n"
    );
}

/// The equivalent dump: what `kubectl get nodes,pods,ippools,blockaffinities,cm -A -o json`
/// writes from the double (or, without kubectl, the fixture itself).
fn kubectl_dump(api: &Api, calico: bool) -> PathBuf {
    let Some(k) = kubectl() else {
        no_kubectl("kubectl_dump");
        return PathBuf::new();
    };
    let kinds = if calico {
        "nodes,pods,ippools.crd.projectcalico.org,blockaffinities.crd.projectcalico.org,cm"
    } else {
        "nodes,pods,cm"
    };
    let o = kubectl_run(
        &k,
        &api.token_kubeconfig(),
        &["get", kinds, "-A", "-o", "json"],
    );
    assert!(o.status.success(), "kubectl get: {}", text(&o));
    let path = tempfile::tempdir()
        .expect("tempdir")
        .keep()
        .join("kubectl-dump.json");
    std::fs::write(&path, &o.stdout).expect("write dump");
    path
}

// ---- the double, checked with kubectl ----

#[test]
fn double_speaks_kubectl() {
    let Some(k) = kubectl() else {
        no_kubectl("double_speaks_kubectl");
        return;
    };
    let api = Api::start(
        &fixture("calico-kubectl.json"),
        &["--deny", "list:services"],
    );
    let kc = api.token_kubeconfig();
    // Every kind netpath reads, all namespaces, paginated (2 per page).
    let o = kubectl_run(
        &k,
        &kc,
        &[
            "get",
            "nodes,pods,ippools.crd.projectcalico.org,blockaffinities.crd.projectcalico.org",
            "-A",
            "-o",
            "json",
            "--chunk-size=2",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).expect("kubectl's JSON");
    let kinds: Vec<&str> = doc["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["kind"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "Pod").count(),
        5,
        "{kinds:?}"
    );
    assert_eq!(kinds.iter().filter(|k| **k == "Node").count(), 3);
    assert_eq!(kinds.iter().filter(|k| **k == "BlockAffinity").count(), 4);
    assert!(
        api.requests().contains("continue="),
        "kubectl followed continue tokens: {}",
        api.requests()
    );
    // Namespaced list, single GET, field selector.
    let o = kubectl_run(&k, &kc, &["get", "pods", "-n", "prod", "-o", "name"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "pod/backend-0\n",
        "{}",
        text(&o)
    );
    let o = kubectl_run(&k, &kc, &["get", "pod", "db-0", "-o", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let pod: Value = serde_json::from_slice(&o.stdout).expect("pod");
    assert_eq!(pod["kind"], "Pod");
    assert_eq!(pod["metadata"]["namespace"], "default");
    let o = kubectl_run(
        &k,
        &kc,
        &[
            "get",
            "pods",
            "-A",
            "--field-selector",
            "spec.nodeName=worker-2",
            "-o",
            "name",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(!String::from_utf8_lossy(&o.stdout).is_empty());
    // 404, 403 and 401 as kubectl reports them.
    let o = kubectl_run(&k, &kc, &["get", "pod", "nope"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("pods \"nope\" not found"),
        "{}",
        text(&o)
    );
    let o = kubectl_run(&k, &kc, &["get", "services", "-A"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot list resource \"services\""),
        "{}",
        text(&o)
    );
    let bad = api.kubeconfig("bad", "token: wrong", "default");
    let o = kubectl_run(&k, &bad, &["get", "nodes"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Unauthorized")
            || String::from_utf8_lossy(&o.stderr).contains("provide credentials"),
        "{}",
        text(&o)
    );
}

// ---- the same answers as from the dump ----

fn same_answers(fixture_name: &str, calico: bool, pairs: &[(&str, &str)]) {
    let api = Api::start(&fixture(fixture_name), &[]);
    let kc = api.token_kubeconfig();
    let kc = kc.to_str().expect("path");
    let dump = kubectl_dump(&api, calico);
    let dump = if dump.as_os_str().is_empty() {
        fixture(fixture_name)
    } else {
        dump
    };
    let dump = dump.to_str().expect("path");
    for (a, b) in pairs {
        let live = json_of(&["trace", a, b, "--kubeconfig", kc]);
        let file = json_of(&["trace", a, b, "--cluster", dump]);
        assert_eq!(live, file, "trace {a} {b}: live vs dump");
        // The text report too, but for the line naming the source.
        let strip = |o: Output| {
            String::from_utf8_lossy(&o.stdout)
                .replace(dump, "SOURCE")
                .replace("context double-token", "SOURCE")
        };
        let mut c = netpath();
        c.args(["trace", a, b, "--kubeconfig", kc]);
        let live = run(c);
        let mut c = netpath();
        c.args(["trace", a, b, "--cluster", dump]);
        let file = run(c);
        assert_eq!(live.status.code(), file.status.code());
        assert_eq!(strip(live), strip(file), "trace {a} {b} text");
    }
    let live = json_of(&["trace", "--all", "--kubeconfig", kc]);
    let file = json_of(&["trace", "--all", "--cluster", dump]);
    assert_eq!(live, file, "trace --all: live vs dump");
}

#[test]
fn calico_live_answers_as_the_dump() {
    same_answers(
        "calico-kubectl.json",
        true,
        &[
            ("frontend-6d4f9-abcde", "db-0"),
            ("default/backend-0", "prod/backend-0"),
            ("worker-1", "db-0"),
        ],
    );
}

#[test]
fn flannel_live_answers_as_the_dump() {
    same_answers(
        "flannel-kubectl.json",
        false,
        &[("web-0", "db-0"), ("api-0", "web-0"), ("web-0", "1.1.1.1")],
    );
}

#[test]
fn dump_writes_what_cluster_reads() {
    let api = Api::start(&fixture("flannel-kubectl.json"), &[]);
    let kc = api.token_kubeconfig();
    let kc = kc.to_str().expect("path");
    let out = tempfile::tempdir()
        .expect("tempdir")
        .keep()
        .join("cluster.json");
    let mut c = netpath();
    c.args(["dump", "--kubeconfig", kc, "-o"]).arg(&out);
    let o = run(c);
    assert!(o.status.success(), "{}", text(&o));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("4 nodes, 6 pods"), "{summary}");
    assert!(summary.contains("context double-token"), "{summary}");
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).expect("dump")).expect("JSON");
    assert_eq!(doc["kind"], "List");
    assert!(
        doc["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["kind"].is_string() && i["apiVersion"].is_string())
    );
    let live = json_of(&["plan", "--node", "node-a", "--kubeconfig", kc]);
    let file = json_of(&[
        "plan",
        "--node",
        "node-a",
        "--cluster",
        out.to_str().expect("path"),
    ]);
    assert_eq!(live, file);
    // And with kubectl's own dump of the same server: the same document, item for item.
    if let Some(k) = kubectl() {
        let o = kubectl_run(
            &k,
            Path::new(kc),
            &["get", "nodes,pods,cm", "-A", "-o", "json"],
        );
        let theirs: Value = serde_json::from_slice(&o.stdout).expect("kubectl JSON");
        let names = |d: &Value| {
            let mut v: Vec<String> = d["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter(|i| i["kind"] != "ConfigMap" || i["metadata"]["name"] == "kube-flannel-cfg")
                .map(|i| format!("{} {}", i["kind"], i["metadata"]["name"]))
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&doc), names(&theirs));
    } else {
        no_kubectl("dump_writes_what_cluster_reads");
    }
}

#[test]
fn pages_are_followed_to_the_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("big.json");
    let o = run({
        let mut c = netpath();
        c.args(["demo", "--generate-kubectl", "40", "1234"]);
        c
    });
    std::fs::write(&list, &o.stdout).expect("write");
    let api = Api::start(&list, &[]);
    let kc = api.token_kubeconfig();
    let out = dir.path().join("dump.json");
    let mut c = netpath();
    c.arg("dump")
        .arg("--kubeconfig")
        .arg(&kc)
        .arg("-o")
        .arg(&out);
    let o = run(c);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("40 nodes, 1234 pods, 1 IPPool, 40 BlockAffinities"),
        "{}",
        text(&o)
    );
    let pod_requests = api
        .requests()
        .lines()
        .filter(|l| l.contains("/api/v1/pods?"))
        .count();
    assert_eq!(
        pod_requests,
        3,
        "1234 pods in pages of 500: {}",
        api.requests()
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).expect("dump")).expect("JSON");
    assert_eq!(
        doc["items"].as_array().map(Vec::len),
        Some(40 + 1234 + 1 + 40)
    );
}

// ---- configuration and credentials, as kubectl resolves them ----

fn trace_ok(envs: &[(&str, &Path)], args: &[&str]) -> Output {
    let mut c = netpath();
    for (k, v) in envs {
        c.env(k, v);
    }
    c.args(["trace", "web-0", "db-0"]).args(args);
    let o = run(c);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    o
}

#[test]
fn kubeconfig_from_env_home_and_flag() {
    let api = Api::start(&fixture("flannel-kubectl.json"), &[]);
    let kc = api.token_kubeconfig();
    trace_ok(&[("KUBECONFIG", &kc)], &[]);
    trace_ok(&[], &["--kubeconfig", kc.to_str().expect("path")]);
    // ~/.kube/config
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(home.path().join(".kube")).expect("mkdir");
    std::fs::copy(&kc, home.path().join(".kube/config")).expect("copy");
    trace_ok(&[("HOME", home.path())], &[]);
    // $KUBECONFIG as a list, merged: contexts in one file, the cluster and user in another;
    // the first file's current-context wins.
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(
        &a,
        "apiVersion: v1\nkind: Config\ncurrent-context: merged\ncontexts:\n  - name: merged\n    context: {cluster: double, user: token}\n",
    )
    .expect("a");
    std::fs::copy(&kc, &b).expect("b");
    let list = std::env::join_paths([&a, &b]).expect("join");
    let o = trace_ok(&[("KUBECONFIG", Path::new(&list))], &[]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("context merged"),
        "{}",
        text(&o)
    );
    // --context picks another context of the merged files.
    let o = trace_ok(
        &[("KUBECONFIG", Path::new(&list))],
        &["--context", "double-token"],
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("context double-token"));
}

#[test]
fn client_certificate_and_exec_plugin_credentials() {
    let api = Api::start(&fixture("flannel-kubectl.json"), &[]);
    let s = scratch();
    let cert = api.kubeconfig(
        "cert",
        &format!(
            "client-certificate: {}\nclient-key: {}",
            s.join("client.crt").display(),
            s.join("client.key").display()
        ),
        "default",
    );
    trace_ok(&[], &["--kubeconfig", cert.to_str().expect("path")]);
    // An exec credential plugin, as cloud providers ship them.
    let plugin = s.join("credential-plugin.sh");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{TOKEN}\"}}}}'\n"
        ),
    )
    .expect("plugin");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&plugin)
        .status()
        .expect("chmod");
    let exec = api.kubeconfig(
        "exec",
        &format!(
            "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: {}\n  interactiveMode: Never",
            plugin.display()
        ),
        "default",
    );
    trace_ok(&[], &["--kubeconfig", exec.to_str().expect("path")]);
    // A token file.
    let token_file = s.join("token");
    std::fs::write(&token_file, TOKEN).expect("token");
    let tf = api.kubeconfig(
        "tokenfile",
        &format!("tokenFile: {}", token_file.display()),
        "default",
    );
    trace_ok(&[], &["--kubeconfig", tf.to_str().expect("path")]);
}

// ---- names like kubectl ----

#[test]
fn pod_names_resolved_in_the_namespace_like_kubectl() {
    let api = Api::start(&fixture("calico-kubectl.json"), &[]);
    let default_ns = api.token_kubeconfig();
    let other_ns = api.kubeconfig("other", &format!("token: {TOKEN}"), "other");
    let endpoints = |kc: &Path, extra: &[&str]| {
        let mut args = vec!["trace", "backend-0", "db-0", "--kubeconfig"];
        let kc = kc.to_str().expect("path").to_string();
        let kc: &str = Box::leak(kc.into_boxed_str());
        args.push(kc);
        args.extend_from_slice(extra);
        let mut c = netpath();
        c.arg("--json").args(&args);
        run(c)
    };
    // The context's namespace (default) holds a backend-0: that one.
    let o = endpoints(&default_ns, &[]);
    let doc: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert!(
        doc.to_string().contains("default/backend-0"),
        "{}",
        text(&o)
    );
    // -n/--namespace overrides it.
    let o = endpoints(&default_ns, &["-n", "prod"]);
    let doc: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert!(doc.to_string().contains("prod/backend-0"), "{}", text(&o));
    // A namespace without one: the name must be unique across namespaces, and is not.
    let o = endpoints(&other_ns, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("ambiguous")
            && err.contains("default/backend-0")
            && err.contains("prod/backend-0"),
        "{err}"
    );
    // Unique across namespaces: found from any namespace.
    let mut c = netpath();
    c.args([
        "trace",
        "frontend-6d4f9-abcde",
        "db-0",
        "-n",
        "prod",
        "--kubeconfig",
    ])
    .arg(&default_ns);
    let o = run(c);
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{}",
        text(&o)
    );
}

// ---- the kubectl plugin ----

#[test]
fn kubectl_plugin_behaves_as_netpath() {
    let api = Api::start(&fixture("flannel-kubectl.json"), &[]);
    let kc = api.token_kubeconfig();
    let bin = tempfile::tempdir().expect("tempdir");
    let plugin = bin.path().join("kubectl-netpath");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_netpath"), &plugin).expect("symlink");
    // Through the symlink directly.
    let direct = {
        let mut c = Command::new(&plugin);
        clean_env(&mut c);
        c.env("KUBECONFIG", &kc).args(["trace", "web-0", "db-0"]);
        run(c)
    };
    let mut c = netpath();
    c.env("KUBECONFIG", &kc).args(["trace", "web-0", "db-0"]);
    let plain = run(c);
    assert_eq!(
        direct.status.code(),
        plain.status.code(),
        "{}",
        text(&direct)
    );
    assert_eq!(direct.stdout, plain.stdout);
    // Through kubectl, which finds it on PATH and hands it its arguments.
    let Some(k) = kubectl() else {
        no_kubectl("kubectl_plugin_behaves_as_netpath");
        return;
    };
    let path = std::env::join_paths(std::iter::once(bin.path().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let mut c = Command::new(&k);
    clean_env(&mut c);
    c.env("PATH", &path)
        .env("KUBECONFIG", &kc)
        .args(["netpath", "trace", "web-0", "db-0"]);
    let via = run(c);
    assert_eq!(via.status.code(), plain.status.code(), "{}", text(&via));
    assert_eq!(via.stdout, plain.stdout);
    let mut c = Command::new(&k);
    clean_env(&mut c);
    c.env("PATH", &path)
        .args(["netpath", "trace", "web-0", "db-0", "--kubeconfig"])
        .arg(&kc);
    let flags = run(c);
    assert_eq!(flags.stdout, plain.stdout, "{}", text(&flags));
}

// ---- every error: one line, naming the server, exit 3 ----

fn refused(args: &[&str], kubeconfig: &Path, wants: &[&str]) -> String {
    let mut c = netpath();
    c.args(args).arg("--kubeconfig").arg(kubeconfig);
    let start = Instant::now();
    let o = run(c);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for w in wants {
        assert!(err.contains(w), "{w:?} in {err}");
    }
    assert!(start.elapsed() < Duration::from_secs(30));
    err
}

#[test]
fn unauthorized_forbidden_and_tls_failures() {
    let api = Api::start(&fixture("calico-kubectl.json"), &["--deny", "list:pods"]);
    let url = api.url();
    let bad = api.kubeconfig("bad", "token: wrong", "default");
    refused(
        &["trace", "db-0", "backend-0"],
        &bad,
        &[&url, "401", "credentials"],
    );
    refused(
        &["trace", "db-0", "backend-0"],
        &api.token_kubeconfig(),
        &[&url, "403", "list pods", "deploy/rbac.yaml"],
    );
    let wrong_ca = kubeconfig_for(
        &url,
        "tls",
        &format!("token: {TOKEN}"),
        "default",
        "other-ca.crt",
    );
    refused(&["trace", "--all"], &wrong_ca, &[&url, "TLS"]);
    let api2 = Api::start(
        &fixture("calico-kubectl.json"),
        &["--deny", "list:blockaffinities"],
    );
    refused(
        &["dump"],
        &api2.token_kubeconfig(),
        &["403", "list blockaffinities.crd.projectcalico.org"],
    );
}

#[test]
fn unreachable_and_silent_servers() {
    // Nothing listens on a port just closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let server = format!("https://127.0.0.1:{port}");
    let kc = kubeconfig_for(
        &server,
        "gone",
        &format!("token: {TOKEN}"),
        "default",
        "ca.crt",
    );
    refused(&["trace", "a", "b"], &kc, &[&server, "cannot reach"]);
    // A server that accepts and never answers: the request times out.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let hold = std::thread::spawn(move || {
        let mut held = Vec::new();
        listener.set_nonblocking(true).expect("nonblocking");
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(8) {
            if let Ok((s, _)) = listener.accept() {
                held.push(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        for mut s in held {
            let mut b = [0u8; 1];
            let _ = s.set_nonblocking(true);
            let _ = s.read(&mut b);
        }
    });
    let kc = kubeconfig_for(
        &silent,
        "silent",
        &format!("token: {TOKEN}"),
        "default",
        "ca.crt",
    );
    let start = Instant::now();
    refused(
        &["plan", "--node", "n1", "--request-timeout", "1s"],
        &kc,
        &[&silent, "within 1 s", "--request-timeout"],
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let _ = hold.join();
}

#[test]
fn no_configuration_at_all_is_one_line() {
    let mut c = netpath();
    c.args(["trace", "a", "b"]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("--kubeconfig") && err.contains("--cluster"),
        "{err}"
    );
    // A missing CRD means "not Calico": the Flannel cluster's API has none, and that is fine
    // (checked above); an unknown context is named.
    let api = Api::start(&fixture("flannel-kubectl.json"), &[]);
    refused(
        &["trace", "web-0", "db-0", "--context", "nope"],
        &api.token_kubeconfig(),
        &["no context \"nope\"", "double-token"],
    );
}

#[test]
fn missing_calico_crds_mean_not_calico() {
    let api = Api::start(&fixture("flannel-kubectl.json"), &[]);
    let kc = api.token_kubeconfig();
    let (code, doc) = json_of(&[
        "plan",
        "--node",
        "node-b",
        "--kubeconfig",
        kc.to_str().expect("path"),
    ]);
    assert_eq!(code, 0);
    assert!(
        doc["mode"].as_str().unwrap_or("").contains("lannel"),
        "{doc}"
    );
    assert!(
        api.requests()
            .contains("/apis/crd.projectcalico.org/v1/ippools")
    );
    assert!(
        api.requests()
            .contains("/apis/projectcalico.org/v3/ippools")
    );
}
