//! libcni's result cache (`/var/lib/cni/results/<network>-<containerID>-<ifname>`).
//!
//! libcni writes one JSON file per attachment after a successful ADD (mode 0600, directory
//! 0700) and removes it on DEL: `kind: "cniCacheV1"`, `containerId`, `config` (the network
//! config, base64), `ifName`, `networkName`, `netns`, `cniArgs` (pairs such as
//! `["K8S_POD_NAMESPACE", "default"]`), `capabilityArgs`, and `result`: the CNI result
//! (`interfaces[]` with `name`, `mac`, `sandbox` — host-side ones have no sandbox —, and
//! `ips[]` with `address` in CIDR form and `interface`, an index into `interfaces`).
//! An entry left behind by a DEL that never ran is stale.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

/// The `kind` libcni writes.
pub const CACHE_KIND: &str = "cniCacheV1";

/// Where libcni keeps results by default.
pub const DEFAULT_DIR: &str = "/var/lib/cni/results";

/// One interface of a CNI result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CniInterface {
    /// Interface name (`cni0`, `veth1a2b3c4d`, `cali…`, `eth0`).
    pub name: String,
    /// MAC address as the plugin reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// The netns path for pod-side interfaces; empty or absent for host-side ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
}

impl CniInterface {
    /// True for an interface on the host (no sandbox).
    pub fn on_host(&self) -> bool {
        self.sandbox.as_deref().is_none_or(str::is_empty)
    }
}

/// One address of a CNI result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CniIp {
    /// Address with prefix (`10.244.1.5/24`).
    pub address: IpNetwork,
    /// Index into the result's interfaces, when given.
    pub interface: Option<usize>,
}

/// A parsed cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheEntry {
    /// Sandbox (pod infra) container id.
    pub container_id: String,
    /// CNI network name (`cbr0`, `k8s-pod-network`).
    pub network: String,
    /// Pod-side interface name (`eth0`).
    pub if_name: String,
    /// The netns path the runtime passed (`/var/run/netns/cni-…`).
    pub netns: Option<String>,
    /// `cniArgs` as key/value pairs.
    pub args: Vec<(String, String)>,
    /// `result.interfaces`.
    pub interfaces: Vec<CniInterface>,
    /// `result.ips` (or the legacy `ip4`/`ip6`).
    pub ips: Vec<CniIp>,
    /// The network config's `hairpinMode` (kube-flannel's delegate config sets it true: the
    /// bridge plugin then turns hairpin on for the pod's port), when the config says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hairpin_mode: Option<bool>,
}

impl CacheEntry {
    /// The value of a `cniArgs` key.
    pub fn arg(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `K8S_POD_NAMESPACE`.
    pub fn pod_namespace(&self) -> Option<&str> {
        self.arg("K8S_POD_NAMESPACE")
    }

    /// `K8S_POD_NAME`.
    pub fn pod_name(&self) -> Option<&str> {
        self.arg("K8S_POD_NAME")
    }

    /// `K8S_POD_UID`.
    pub fn pod_uid(&self) -> Option<&str> {
        self.arg("K8S_POD_UID")
    }

    /// Host-side interface names of the result (`cni0`, `veth…`, `cali…`).
    pub fn host_interfaces(&self) -> impl Iterator<Item = &str> {
        self.interfaces
            .iter()
            .filter(|i| i.on_host())
            .map(|i| i.name.as_str())
    }

    /// The pod's addresses (without prefix).
    pub fn pod_ips(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.ips.iter().map(|i| i.address.ip())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    kind: Option<String>,
    container_id: Option<String>,
    if_name: Option<String>,
    network_name: Option<String>,
    netns: Option<String>,
    cni_args: Option<Vec<Vec<String>>>,
    result: Option<RawResult>,
    config: Option<String>,
}

/// `hairpinMode` in a cached network config (base64 JSON: a plugin's config, a conflist,
/// or flannel's with a `delegate`), wherever it is; `None` when unreadable or absent.
fn hairpin_mode(config: &str) -> Option<bool> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(config.trim())
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    fn find(v: &serde_json::Value) -> Option<bool> {
        match v {
            serde_json::Value::Object(m) => m
                .get("hairpinMode")
                .and_then(serde_json::Value::as_bool)
                .or_else(|| m.values().find_map(find)),
            serde_json::Value::Array(a) => a.iter().find_map(find),
            _ => None,
        }
    }
    find(&v)
}

#[derive(Deserialize, Default)]
struct RawResult {
    #[serde(default)]
    interfaces: Vec<CniInterface>,
    #[serde(default)]
    ips: Vec<RawIp>,
    ip4: Option<RawLegacyIp>,
    ip6: Option<RawLegacyIp>,
}

#[derive(Deserialize)]
struct RawIp {
    address: String,
    interface: Option<usize>,
}

#[derive(Deserialize)]
struct RawLegacyIp {
    ip: String,
}

/// Why a cache file was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON, or not the shape libcni writes (truncated, corrupt): a problem on the node.
    Corrupt(String),
    /// Valid JSON of another kind (an older libcni's bare result): skipped.
    OtherKind(String),
}

/// Parse one cache file's contents.
pub fn parse(text: &str) -> Result<CacheEntry, ParseError> {
    let raw: RawEntry =
        serde_json::from_str(text).map_err(|e| ParseError::Corrupt(e.to_string()))?;
    match raw.kind.as_deref() {
        Some(CACHE_KIND) => {}
        Some(k) => return Err(ParseError::OtherKind(format!("kind {k:?}"))),
        None => return Err(ParseError::OtherKind("no \"kind\" field".into())),
    }
    let container_id = raw
        .container_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ParseError::Corrupt("no containerId".into()))?;
    let if_name = raw
        .if_name
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ParseError::Corrupt("no ifName".into()))?;
    let mut args = Vec::new();
    for pair in raw.cni_args.unwrap_or_default() {
        match pair.as_slice() {
            [k, v] => args.push((k.clone(), v.clone())),
            _ => {
                return Err(ParseError::Corrupt(format!(
                    "cniArgs entry {pair:?} is not a [key, value] pair"
                )));
            }
        }
    }
    let result = raw.result.unwrap_or_default();
    let mut ips = Vec::new();
    for ip in &result.ips {
        ips.push(CniIp {
            address: parse_cidr(&ip.address)?,
            interface: ip.interface,
        });
    }
    for legacy in [&result.ip4, &result.ip6].into_iter().flatten() {
        ips.push(CniIp {
            address: parse_cidr(&legacy.ip)?,
            interface: None,
        });
    }
    Ok(CacheEntry {
        container_id,
        network: raw.network_name.unwrap_or_default(),
        if_name,
        netns: raw.netns.filter(|s| !s.is_empty()),
        args,
        interfaces: result.interfaces,
        ips,
        hairpin_mode: raw.config.as_deref().and_then(hairpin_mode),
    })
}

fn parse_cidr(s: &str) -> Result<IpNetwork, ParseError> {
    s.parse::<IpNetwork>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNetwork::from))
        .map_err(|_| ParseError::Corrupt(format!("{s:?} is not an address")))
}

/// One file of the cache directory, read and parsed.
#[derive(Debug, Clone)]
pub struct CacheFile {
    /// The file.
    pub path: PathBuf,
    /// The entry, or why it could not be used.
    pub entry: Result<CacheEntry, ParseError>,
}

/// What reading the cache directory gave: files, and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct CacheDir {
    /// Parsed (or unparseable) files, sorted by name.
    pub files: Vec<CacheFile>,
    /// (path, reason) of what could not be read at all.
    pub unread: Vec<(PathBuf, String)>,
}

/// Read every file in `dir`. A missing or unreadable directory, and unreadable files, are
/// reported in `unread`; nothing here fails.
pub fn read_dir(dir: &Path) -> CacheDir {
    let mut out = CacheDir::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            out.unread.push((dir.to_path_buf(), io_reason(&e)));
            return out;
        }
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for e in entries {
        match e {
            Ok(e) => paths.push(e.path()),
            Err(e) => out.unread.push((dir.to_path_buf(), io_reason(&e))),
        }
    }
    paths.sort();
    for path in paths {
        match crate::input::read(&path, "CNI cache file", crate::input::MAX_SMALL) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let entry = parse(&text);
                // containerd and CRI-O also cache the sandbox's loopback attachment
                // (`cni-loopback-<id>-lo`: 127.0.0.1/8 and ::1 on lo): not a pod interface.
                if entry.as_ref().is_ok_and(|e| e.if_name == "lo") {
                    continue;
                }
                out.files.push(CacheFile { entry, path });
            }
            Err(e) => {
                let reason = match e.downcast_ref::<std::io::Error>() {
                    Some(io) => io_reason(io),
                    None => format!("{e:#}"),
                };
                out.unread.push((path, reason));
            }
        }
    }
    out
}

/// A short reason for an I/O error, with the fix for permission problems.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied; run as root".into(),
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hairpin_mode_is_read_from_the_cached_config_wherever_it_is() {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let flannel =
            r#"{"name":"cbr0","plugins":[{"type":"flannel","delegate":{"hairpinMode":true}}]}"#;
        assert_eq!(hairpin_mode(&b64(flannel)), Some(true));
        assert_eq!(
            hairpin_mode(&b64(r#"{"type":"bridge","hairpinMode":false}"#)),
            Some(false)
        );
        assert_eq!(hairpin_mode(&b64(r#"{"type":"calico"}"#)), None);
        assert_eq!(hairpin_mode("not base64!"), None);
    }

    const FLANNEL: &str = r#"{"kind":"cniCacheV1","containerId":"3f6940ab5ab4","config":"eyJ9","ifName":"eth0","networkName":"cbr0","netns":"/var/run/netns/cni-8b8677c8-8929-4746-8206-514069760f6e","cniArgs":[["IgnoreUnknown","true"],["K8S_POD_NAMESPACE","default"],["K8S_POD_NAME","web-0"],["K8S_POD_INFRA_CONTAINER_ID","3f6940ab5ab4"],["K8S_POD_UID","9d1c"]],"result":{"cniVersion":"1.0.0","interfaces":[{"name":"cni0","mac":"3a:1f:00:00:00:01"},{"name":"veth1a2b3c4d","mac":"3a:1f:00:00:00:02"},{"name":"eth0","mac":"3a:1f:00:00:00:03","sandbox":"/var/run/netns/cni-8b8677c8-8929-4746-8206-514069760f6e"}],"ips":[{"interface":2,"address":"10.244.1.5/24","gateway":"10.244.1.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{}}}"#;

    #[test]
    fn libcni_entry() {
        let e = parse(FLANNEL).unwrap();
        assert_eq!(e.container_id, "3f6940ab5ab4");
        assert_eq!(e.network, "cbr0");
        assert_eq!(e.if_name, "eth0");
        assert_eq!(e.pod_namespace(), Some("default"));
        assert_eq!(e.pod_name(), Some("web-0"));
        assert_eq!(e.pod_uid(), Some("9d1c"));
        assert_eq!(
            e.host_interfaces().collect::<Vec<_>>(),
            vec!["cni0", "veth1a2b3c4d"]
        );
        assert_eq!(
            e.pod_ips().collect::<Vec<_>>(),
            vec!["10.244.1.5".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(e.ips[0].interface, Some(2));
    }

    #[test]
    fn older_result_versions() {
        // CNI 0.3/0.4 results carry "version"; 0.2 ones "ip4".
        let v04 = r#"{"kind":"cniCacheV1","containerId":"c","ifName":"eth0","networkName":"k8s-pod-network","result":{"cniVersion":"0.4.0","interfaces":[{"name":"cali7a673551ccb"}],"ips":[{"version":"4","address":"10.65.0.2/32"}]}}"#;
        let e = parse(v04).unwrap();
        assert_eq!(e.ips[0].address.to_string(), "10.65.0.2/32");
        assert_eq!(e.netns, None);
        let v02 = r#"{"kind":"cniCacheV1","containerId":"c","ifName":"eth0","result":{"ip4":{"ip":"10.1.0.5/16"}}}"#;
        assert_eq!(
            parse(v02).unwrap().ips[0].address.to_string(),
            "10.1.0.5/16"
        );
    }

    #[test]
    fn bad_files() {
        let truncated = &FLANNEL[..FLANNEL.len() / 2];
        assert!(matches!(parse(truncated), Err(ParseError::Corrupt(_))));
        assert!(matches!(parse(""), Err(ParseError::Corrupt(_))));
        assert!(matches!(
            parse("\u{0}\u{1}garbage"),
            Err(ParseError::Corrupt(_))
        ));
        assert!(matches!(
            parse(r#"{"cniVersion":"0.3.1","ips":[]}"#),
            Err(ParseError::OtherKind(_))
        ));
        assert!(matches!(
            parse(r#"{"kind":"cniCacheV1","ifName":"eth0"}"#),
            Err(ParseError::Corrupt(_))
        ));
        let bad_ip = r#"{"kind":"cniCacheV1","containerId":"c","ifName":"eth0","result":{"ips":[{"address":"10.1.0.999/24"}]}}"#;
        assert!(matches!(parse(bad_ip), Err(ParseError::Corrupt(_))));
        let bad_args = r#"{"kind":"cniCacheV1","containerId":"c","ifName":"eth0","cniArgs":[["K8S_POD_NAME"]]}"#;
        assert!(matches!(parse(bad_args), Err(ParseError::Corrupt(_))));
    }

    #[test]
    fn directory_with_bad_members() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cbr0-3f6940ab5ab4-eth0"), FLANNEL).unwrap();
        std::fs::write(dir.path().join("cbr0-dead-eth0"), &FLANNEL[..40]).unwrap();
        std::fs::create_dir(dir.path().join("a-directory")).unwrap();
        let got = read_dir(dir.path());
        assert_eq!(got.files.len(), 2);
        assert!(got.files[0].entry.is_ok());
        assert!(matches!(got.files[1].entry, Err(ParseError::Corrupt(_))));
        assert_eq!(got.unread.len(), 1, "{:?}", got.unread);
        let missing = read_dir(&dir.path().join("nope"));
        assert_eq!(missing.unread[0].1, "no such file or directory");
    }
}
