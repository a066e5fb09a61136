//! Flannel's subnet leases in etcd, read and written exactly as flanneld does, so that a
//! Flannel node and a netpath node read each other's leases.
//!
//! Layout (flannel `pkg/subnet/etcd/registry.go`, `pkg/subnet/subnet.go`, `pkg/lease/lease.go`):
//! * `<prefix>/config`: the net-conf JSON (Network, SubnetLen, SubnetMin/Max, Backend).
//! * `<prefix>/subnets/<a.b.c.d>-<len>` (dual stack: `…-<len>&<v6>-<len6>`): one key per
//!   node, its value the JSON of flannel's `LeaseAttrs`:
//!   `{"PublicIP":"192.168.1.11","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"7a:…"}}`,
//!   attached to an etcd lease (24 h TTL, [`TTL`]).
//!
//! [`Registry`] is the store; [`manager::Manager`] holds this node's lease (allocation as a
//! transaction, reuse after restart, renewal, re-acquisition) and follows everybody else's
//! through a watch; [`cluster`] turns leases into a [`crate::model::Cluster`].

pub mod check;
pub mod cluster;
pub mod manager;
pub mod source;

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime};

use anyhow::{Context, anyhow, bail};
use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::dataplane::MacAddr;
use crate::etcd::{self, Client, Create, KeyValue, LeaseId};
use crate::model::Flannel;
use crate::model::flannel::parse_net_conf;

/// flanneld's default etcd prefix.
pub const DEFAULT_PREFIX: &str = "/coreos.com/network";

/// flanneld's lease TTL (`subnetTTL`, 24 h).
pub const TTL: Duration = Duration::from_secs(24 * 3600);

/// Flannel's network config, as read from `<prefix>/config`, with flannel's defaults and
/// checks applied (`pkg/subnet/config.go CheckNetworkConfig`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetConfig {
    /// The config text as stored.
    #[serde(skip)]
    pub text: String,
    /// Network and backend, as the rest of netpath models them.
    pub flannel: Flannel,
    /// `Network`.
    pub network: Ipv4Network,
    /// `SubnetLen` (default 24, or the network's prefix + 2 for small networks).
    pub subnet_len: u8,
    /// `SubnetMin` (default: the second subnet; the first is never handed out).
    pub subnet_min: Ipv4Addr,
    /// `SubnetMax` (default: the last subnet).
    pub subnet_max: Ipv4Addr,
    /// `Backend.Type`, as leases carry it in `BackendType` (`vxlan`, `host-gw`, `ipip`).
    pub backend_type: String,
}

impl NetConfig {
    /// Parse and check net-conf JSON; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> anyhow::Result<NetConfig> {
        let flannel = parse_net_conf(text, source)?;
        let v: Value = serde_json::from_str(text).with_context(|| source.to_string())?;
        let top = v
            .as_object()
            .ok_or_else(|| anyhow!("{source}: expected a JSON object"))?;
        let IpNetwork::V4(network) = flannel.network else {
            bail!(
                "{source}: Network {} is not IPv4 (netpath allocates IPv4 leases)",
                flannel.network
            );
        };
        let backend_type = get(top, "Backend")
            .and_then(Value::as_object)
            .and_then(|b| get(b, "Type"))
            .and_then(Value::as_str)
            .unwrap_or("udp")
            .to_string();
        let plen = network.prefix();
        let subnet_len = match get(top, "SubnetLen").filter(|v| !v.is_null()) {
            Some(v) => {
                let n = v
                    .as_u64()
                    .ok_or_else(|| anyhow!("{source}: SubnetLen is {v}, expected a number"))?;
                if n == 0 {
                    default_subnet_len(plen, source)?
                } else {
                    if n > 30 {
                        bail!("{source}: SubnetLen must be less than /31 (is {n})");
                    }
                    if (n as u8) < plen + 2 {
                        bail!(
                            "{source}: SubnetLen {n}: Network {network} must be able to accommodate at least four subnets"
                        );
                    }
                    n as u8
                }
            }
            None => default_subnet_len(plen, source)?,
        };
        let size = 1u32 << (32 - subnet_len);
        let net_ip = u32::from(network.network());
        let net_end = net_ip | (u32::MAX >> plen);
        let addr = |k: &str| -> anyhow::Result<Option<Ipv4Addr>> {
            match get(top, k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                None => Ok(None),
                Some(s) => s
                    .parse::<Ipv4Addr>()
                    .map(Some)
                    .map_err(|_| anyhow!("{source}: {k} {s:?} is not an IPv4 address")),
            }
        };
        let subnet_min = match addr("SubnetMin")? {
            None => Ipv4Addr::from(net_ip + size),
            Some(a) if network.contains(a) => a,
            Some(a) => {
                bail!("{source}: SubnetMin {a} is not in the range of the Network {network}")
            }
        };
        let subnet_max = match addr("SubnetMax")? {
            None => Ipv4Addr::from(net_end.wrapping_add(1).wrapping_sub(size)),
            Some(a) if network.contains(a) => a,
            Some(a) => {
                bail!("{source}: SubnetMax {a} is not in the range of the Network {network}")
            }
        };
        let mask = u32::MAX << (32 - subnet_len);
        for (k, a) in [("SubnetMin", subnet_min), ("SubnetMax", subnet_max)] {
            if u32::from(a) & mask != u32::from(a) {
                bail!("{source}: {k} is not on a SubnetLen boundary: {a}");
            }
        }
        Ok(NetConfig {
            text: text.to_string(),
            flannel,
            network,
            subnet_len,
            subnet_min,
            subnet_max,
            backend_type,
        })
    }

    /// True when `subnet` is one this config hands out (flannel's `isSubnetConfigCompat`):
    /// the configured length, between SubnetMin and SubnetMax.
    pub fn compatible(&self, subnet: &Ipv4Network) -> bool {
        subnet.prefix() == self.subnet_len
            && subnet.network() >= self.subnet_min
            && subnet.network() <= self.subnet_max
    }

    /// Free subnets in [SubnetMin, SubnetMax], in order, at most `limit` of them (flannel
    /// picks at random among the first 100).
    pub fn free_subnets<'a>(
        &self,
        taken: impl Iterator<Item = &'a Ipv4Network> + Clone,
        limit: usize,
    ) -> Vec<Ipv4Network> {
        let size = 1u64 << (32 - self.subnet_len);
        let mut out = Vec::new();
        let mut ip = u32::from(self.subnet_min) as u64;
        while ip <= u32::from(self.subnet_max) as u64 && out.len() < limit {
            let first = ip as u32;
            let last = (ip + size - 1) as u32;
            let overlaps = taken.clone().any(|t| {
                let t0 = u32::from(t.network());
                let t1 = t0 | (u32::MAX.checked_shr(t.prefix() as u32).unwrap_or(0));
                t0 <= last && first <= t1
            });
            if !overlaps && let Ok(n) = Ipv4Network::new(Ipv4Addr::from(first), self.subnet_len) {
                out.push(n);
            }
            ip += size;
        }
        out
    }
}

fn default_subnet_len(plen: u8, source: &str) -> anyhow::Result<u8> {
    if plen > 28 {
        bail!("{source}: network is too small. Minimum useful network prefix is /28");
    }
    Ok(if plen <= 22 { 24 } else { plen + 2 })
}

/// A key, matched case-insensitively like Go's encoding/json.
fn get<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Flannel's `LeaseAttrs`: what a node publishes about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaseAttrs {
    /// `PublicIP`: the node's underlay address (flannel's `--public-ip`).
    pub public_ip: Ipv4Addr,
    /// `PublicIPv6` (`null` when unset).
    pub public_ipv6: Option<Ipv6Addr>,
    /// `BackendType` (`vxlan`, `host-gw`, `ipip`).
    pub backend_type: String,
    /// `BackendData`, as stored (vxlan: `{"VNI":1,"VtepMAC":"…"}`).
    pub backend_data: Option<Value>,
    /// `BackendV6Data`, as stored.
    pub backend_v6_data: Option<Value>,
}

impl LeaseAttrs {
    /// Attributes for a node of `backend_type`; vxlan carries its VNI and VTEP MAC.
    pub fn new(
        public_ip: Ipv4Addr,
        backend_type: &str,
        vxlan: Option<(u32, MacAddr)>,
    ) -> LeaseAttrs {
        let backend_data = vxlan.map(|(vni, mac)| {
            let mut m = Map::new();
            m.insert("VNI".into(), Value::from(vni));
            m.insert("VtepMAC".into(), Value::from(mac.to_string()));
            Value::Object(m)
        });
        LeaseAttrs {
            public_ip,
            public_ipv6: None,
            backend_type: backend_type.to_string(),
            backend_data,
            backend_v6_data: None,
        }
    }

    /// The VXLAN VTEP MAC in `BackendData.VtepMAC`, if any.
    pub fn vtep_mac(&self) -> Option<MacAddr> {
        let data = self.backend_data.as_ref()?.as_object()?;
        get(data, "VtepMAC")?.as_str()?.parse().ok()
    }

    /// The VNI in `BackendData.VNI`, if any.
    pub fn vni(&self) -> Option<u32> {
        let data = self.backend_data.as_ref()?.as_object()?;
        get(data, "VNI")?
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
    }

    /// The value flanneld writes: Go's `json.Marshal(LeaseAttrs)`, fields in declaration
    /// order, `PublicIPv6` always present, the others left out when empty.
    pub fn to_json(&self) -> String {
        let mut m = Map::new();
        m.insert("PublicIP".into(), Value::from(self.public_ip.to_string()));
        m.insert(
            "PublicIPv6".into(),
            self.public_ipv6
                .map(|a| Value::from(a.to_string()))
                .unwrap_or(Value::Null),
        );
        if !self.backend_type.is_empty() {
            m.insert("BackendType".into(), Value::from(self.backend_type.clone()));
        }
        if let Some(d) = &self.backend_data {
            m.insert("BackendData".into(), d.clone());
        }
        if let Some(d) = &self.backend_v6_data {
            m.insert("BackendV6Data".into(), d.clone());
        }
        Value::Object(m).to_string()
    }

    /// Parse a lease value (keys case-insensitive, like Go).
    pub fn parse(value: &[u8]) -> anyhow::Result<LeaseAttrs> {
        let v: Value = serde_json::from_slice(value).map_err(|e| anyhow!("not JSON: {e}"))?;
        let m = v
            .as_object()
            .ok_or_else(|| anyhow!("expected a JSON object with PublicIP"))?;
        let public_ip = match get(m, "PublicIP") {
            Some(Value::String(s)) => s
                .parse()
                .map_err(|_| anyhow!("PublicIP {s:?} is not an IPv4 address"))?,
            // Go's ip.IP4 marshals as a string; a missing one unmarshals to 0.0.0.0.
            None | Some(Value::Null) => Ipv4Addr::UNSPECIFIED,
            Some(other) => bail!("PublicIP is {other}, expected a string"),
        };
        let public_ipv6 = match get(m, "PublicIPv6") {
            Some(Value::String(s)) => Some(
                s.parse()
                    .map_err(|_| anyhow!("PublicIPv6 {s:?} is not an IPv6 address"))?,
            ),
            _ => None,
        };
        let backend_type = get(m, "BackendType")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let keep = |k: &str| get(m, k).filter(|v| !v.is_null()).cloned();
        Ok(LeaseAttrs {
            public_ip,
            public_ipv6,
            backend_type,
            backend_data: keep("BackendData"),
            backend_v6_data: keep("BackendV6Data"),
        })
    }
}

/// One subnet lease.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lease {
    /// The node's pod subnet (`10.244.1.0/24`).
    pub subnet: Ipv4Network,
    /// The IPv6 subnet of a dual-stack key, if any.
    pub subnet_v6: Option<Ipv6Network>,
    /// What the node published.
    pub attrs: LeaseAttrs,
    /// The etcd key.
    pub key: String,
    /// The etcd lease the key is attached to (0: none, a reservation that never expires).
    pub etcd_lease: LeaseId,
    /// When it expires, when known (read with [`Registry::list`]'s TTL look-up, or our own).
    #[serde(skip)]
    pub expires: Option<SystemTime>,
    /// Revision that created the key.
    pub create_revision: i64,
    /// Revision of its last change.
    pub mod_revision: i64,
}

impl Lease {
    /// Seconds left before expiry, when known.
    pub fn ttl_left(&self) -> Option<u64> {
        self.expires.map(|e| {
            e.duration_since(SystemTime::now())
                .unwrap_or_default()
                .as_secs()
        })
    }

    /// Build from a key-value read from etcd.
    pub fn from_kv(kv: &KeyValue) -> anyhow::Result<Lease> {
        let key = kv.key_str();
        let (subnet, subnet_v6) = parse_subnet_key(&key)
            .ok_or_else(|| anyhow!("{key}: not a subnet key (expected …/subnets/a.b.c.d-len)"))?;
        let attrs = LeaseAttrs::parse(&kv.value).with_context(|| key.clone())?;
        Ok(Lease {
            subnet,
            subnet_v6,
            attrs,
            key,
            etcd_lease: kv.lease,
            expires: None,
            create_revision: kv.create_revision,
            mod_revision: kv.mod_revision,
        })
    }
}

impl fmt::Display for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {}", self.subnet, self.attrs.public_ip)
    }
}

/// The key name of a subnet (`10.244.1.0-24`), as flannel's `MakeSubnetKey`.
pub fn subnet_key_name(subnet: &Ipv4Network, v6: Option<&Ipv6Network>) -> String {
    let mut s = format!("{}-{}", subnet.network(), subnet.prefix());
    if let Some(v6) = v6 {
        s.push_str(&format!("&{}-{}", v6.network(), v6.prefix()));
    }
    s
}

/// Parse the last path element of a subnet key (`…/10.244.1.0-24` or
/// `…/10.244.1.0-24&fc00::-64`), as flannel's `ParseSubnetKey`.
pub fn parse_subnet_key(key: &str) -> Option<(Ipv4Network, Option<Ipv6Network>)> {
    let name = key.rsplit('/').next()?;
    let (v4, v6) = match name.split_once('&') {
        Some((a, b)) => (a, Some(b)),
        None => (name, None),
    };
    let (ip, len) = v4.rsplit_once('-')?;
    let subnet = Ipv4Network::new(ip.parse().ok()?, len.parse().ok()?).ok()?;
    let subnet_v6 = match v6 {
        Some(v6) => {
            let (ip, len) = v6.rsplit_once('-')?;
            Some(Ipv6Network::new(ip.parse().ok()?, len.parse().ok()?).ok()?)
        }
        None => None,
    };
    Some((subnet, subnet_v6))
}

/// A subnet key that could not be read as a lease.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BadLease {
    /// The etcd key.
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Everything under `<prefix>/subnets/` at one revision.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// The leases, ordered by subnet.
    pub leases: Vec<Lease>,
    /// Keys that are not leases flannel could read.
    pub bad: Vec<BadLease>,
    /// The store's revision of this read (watch from `revision + 1`).
    pub revision: i64,
}

/// Flannel's etcd layout under one prefix.
#[derive(Debug, Clone)]
pub struct Registry {
    /// The etcd client.
    pub client: Client,
    prefix: String,
}

impl Registry {
    /// The registry under `prefix` (`/coreos.com/network`).
    pub fn new(client: Client, prefix: &str) -> Registry {
        let prefix = format!("/{}", prefix.trim_matches('/'));
        Registry { client, prefix }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `<prefix>/config`.
    pub fn config_key(&self) -> String {
        format!("{}/config", self.prefix)
    }

    /// `<prefix>/subnets/`.
    pub fn subnets_prefix(&self) -> String {
        format!("{}/subnets/", self.prefix)
    }

    /// The key of `subnet`.
    pub fn subnet_key(&self, subnet: &Ipv4Network) -> String {
        format!("{}{}", self.subnets_prefix(), subnet_key_name(subnet, None))
    }

    /// Read the network config.
    pub fn config(&self) -> anyhow::Result<NetConfig> {
        let key = self.config_key();
        let (kvs, _) = self.client.range(key.as_bytes(), None)?;
        let Some(kv) = kvs.into_iter().next() else {
            bail!(
                "no flannel network config at {key} in etcd ({}): create it, e.g. etcdctl put {key} '{{\"Network\": \"10.244.0.0/16\", \"Backend\": {{\"Type\": \"vxlan\"}}}}'",
                self.client.endpoints().join(",")
            );
        };
        let text = String::from_utf8_lossy(&kv.value).into_owned();
        NetConfig::parse(&text, &key)
    }

    /// Every lease, with (when `with_ttl`) each one's expiry looked up.
    pub fn list(&self, with_ttl: bool) -> Result<Listing, etcd::Error> {
        let prefix = self.subnets_prefix();
        let (kvs, revision) = self.client.range_prefix(prefix.as_bytes())?;
        let mut out = Listing {
            revision,
            ..Listing::default()
        };
        for kv in &kvs {
            match Lease::from_kv(kv) {
                Ok(mut l) => {
                    if with_ttl && l.etcd_lease != 0 {
                        l.expires = self
                            .client
                            .time_to_live(l.etcd_lease)?
                            .map(|(ttl, _)| SystemTime::now() + Duration::from_secs(ttl as u64));
                    }
                    out.leases.push(l)
                }
                Err(e) => out.bad.push(BadLease {
                    key: kv.key_str(),
                    reason: format!("{e:#}"),
                }),
            }
        }
        out.leases.sort_by_key(|l| l.subnet);
        Ok(out)
    }

    /// Create the lease of `subnet` with `attrs` and a fresh etcd lease of `ttl`, only if
    /// nobody holds that subnet (a transaction on create_revision = 0). `Ok(None)`: taken.
    pub fn create(
        &self,
        subnet: &Ipv4Network,
        attrs: &LeaseAttrs,
        ttl: Duration,
    ) -> Result<Option<Lease>, etcd::Error> {
        let key = self.subnet_key(subnet);
        let (id, granted) = self.client.grant(ttl.as_secs().max(1) as i64)?;
        let value = attrs.to_json();
        match self.client.create(key.as_bytes(), value.as_bytes(), id) {
            Ok(Create::Created(rev)) => Ok(Some(Lease {
                subnet: *subnet,
                subnet_v6: None,
                attrs: attrs.clone(),
                key,
                etcd_lease: id,
                expires: Some(SystemTime::now() + Duration::from_secs(granted as u64)),
                create_revision: rev,
                mod_revision: rev,
            })),
            Ok(Create::Exists(_)) => {
                let _ = self.client.revoke(id);
                Ok(None)
            }
            Err(e) => {
                let _ = self.client.revoke(id);
                Err(e)
            }
        }
    }

    /// Rewrite an existing lease with `attrs` and a fresh etcd lease of `ttl` (or none, for
    /// a reservation), only if it is still at the revision it was read at. `Ok(None)`:
    /// somebody changed it meanwhile.
    pub fn take_over(
        &self,
        old: &Lease,
        attrs: &LeaseAttrs,
        ttl: Option<Duration>,
    ) -> Result<Option<Lease>, etcd::Error> {
        let (id, granted) = match ttl {
            Some(ttl) => self.client.grant(ttl.as_secs().max(1) as i64)?,
            None => (0, 0),
        };
        let value = attrs.to_json();
        let written =
            match self
                .client
                .replace(old.key.as_bytes(), value.as_bytes(), id, old.mod_revision)
            {
                Ok(w) => w,
                Err(e) => {
                    if id != 0 {
                        let _ = self.client.revoke(id);
                    }
                    return Err(e);
                }
            };
        if !written {
            if id != 0 {
                let _ = self.client.revoke(id);
            }
            return Ok(None);
        }
        // The key left its old etcd lease; flanneld and netpath grant one etcd lease per
        // key, so nothing else hangs on it: drop it.
        if old.etcd_lease != 0 && old.etcd_lease != id {
            let _ = self.client.revoke(old.etcd_lease);
        }
        let (kvs, _) = self.client.range(old.key.as_bytes(), None)?;
        let rev = kvs.first().map(|kv| kv.mod_revision).unwrap_or(0);
        Ok(Some(Lease {
            attrs: attrs.clone(),
            etcd_lease: id,
            expires: (id != 0).then(|| SystemTime::now() + Duration::from_secs(granted as u64)),
            mod_revision: rev,
            ..old.clone()
        }))
    }

    /// Refresh the etcd lease behind `lease`. `Ok(None)`: the lease is gone (expired or
    /// revoked), and with it the key.
    pub fn renew(&self, lease: &Lease) -> Result<Option<SystemTime>, etcd::Error> {
        if lease.etcd_lease == 0 {
            // A reservation: it never expires, but it can be deleted.
            let (kvs, _) = self.client.range(lease.key.as_bytes(), None)?;
            return Ok((!kvs.is_empty()).then_some(SystemTime::UNIX_EPOCH));
        }
        Ok(self
            .client
            .keepalive(lease.etcd_lease)?
            .map(|ttl| SystemTime::now() + Duration::from_secs(ttl as u64)))
    }

    /// Delete the lease of `subnet` (and revoke its etcd lease).
    pub fn delete(&self, lease: &Lease) -> Result<(), etcd::Error> {
        self.client.delete(lease.key.as_bytes())?;
        if lease.etcd_lease != 0 {
            self.client.revoke(lease.etcd_lease)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flannel_value_round_trip() {
        // A value exactly as flanneld v0.28 writes it for a vxlan node.
        let text = r#"{"PublicIP":"192.168.1.11","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"7a:3c:1e:22:9b:01"}}"#;
        let a = LeaseAttrs::parse(text.as_bytes()).unwrap();
        assert_eq!(a.public_ip, Ipv4Addr::new(192, 168, 1, 11));
        assert_eq!(a.vtep_mac().unwrap().to_string(), "7a:3c:1e:22:9b:01");
        assert_eq!(a.vni(), Some(1));
        assert_eq!(a.to_json(), text);
        let ours = LeaseAttrs::new(
            Ipv4Addr::new(192, 168, 1, 11),
            "vxlan",
            Some((1, "7a:3c:1e:22:9b:01".parse().unwrap())),
        );
        assert_eq!(ours.to_json(), text);
        // host-gw: no BackendData at all.
        let hg = LeaseAttrs::new(Ipv4Addr::new(10, 0, 0, 2), "host-gw", None);
        assert_eq!(
            hg.to_json(),
            r#"{"PublicIP":"10.0.0.2","PublicIPv6":null,"BackendType":"host-gw"}"#
        );
        // Go matches keys case-insensitively.
        let a = LeaseAttrs::parse(br#"{"publicip":"10.0.0.3","backendtype":"vxlan","backenddata":{"vtepmac":"02:00:00:00:00:01"}}"#).unwrap();
        assert_eq!(a.public_ip, Ipv4Addr::new(10, 0, 0, 3));
        assert_eq!(a.vtep_mac().unwrap().to_string(), "02:00:00:00:00:01");
        assert!(LeaseAttrs::parse(b"{\"PublicIP\": 7}").is_err());
        assert!(LeaseAttrs::parse(b"nope").is_err());
    }

    #[test]
    fn subnet_keys_like_flannel() {
        let (s, v6) = parse_subnet_key("/coreos.com/network/subnets/10.244.1.0-24").unwrap();
        assert_eq!(s.to_string(), "10.244.1.0/24");
        assert!(v6.is_none());
        assert_eq!(subnet_key_name(&s, None), "10.244.1.0-24");
        let (s, v6) =
            parse_subnet_key("/coreos.com/network/subnets/10.244.1.0-24&fc00::-64").unwrap();
        assert_eq!(s.prefix(), 24);
        assert_eq!(v6.unwrap().to_string(), "fc00::/64");
        assert!(parse_subnet_key("/coreos.com/network/subnets/garbage").is_none());
        assert!(parse_subnet_key("/x/subnets/10.244.1.0-40").is_none());
    }

    #[test]
    fn config_defaults_and_checks_like_flannel() {
        let c = NetConfig::parse(
            r#"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}"#,
            "cfg",
        )
        .unwrap();
        assert_eq!(c.subnet_len, 24);
        assert_eq!(c.subnet_min, Ipv4Addr::new(10, 244, 1, 0));
        assert_eq!(c.subnet_max, Ipv4Addr::new(10, 244, 255, 0));
        assert_eq!(c.backend_type, "vxlan");
        let small = NetConfig::parse(
            r#"{"Network":"10.5.0.0/26","Backend":{"Type":"host-gw"}}"#,
            "cfg",
        )
        .unwrap();
        assert_eq!(small.subnet_len, 28);
        assert_eq!(small.subnet_min, Ipv4Addr::new(10, 5, 0, 16));
        assert_eq!(small.subnet_max, Ipv4Addr::new(10, 5, 0, 48));
        let free = small.free_subnets(std::iter::empty(), 100);
        assert_eq!(free.len(), 3);
        let taken: Vec<Ipv4Network> = vec!["10.5.0.32/28".parse().unwrap()];
        let free = small.free_subnets(taken.iter(), 100);
        assert_eq!(
            free.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            ["10.5.0.16/28", "10.5.0.48/28"]
        );
        assert!(small.compatible(&"10.5.0.16/28".parse().unwrap()));
        assert!(!small.compatible(&"10.5.0.0/28".parse().unwrap()));
        assert!(!c.compatible(&"10.244.1.0/25".parse().unwrap()));
        for bad in [
            r#"{"Network":"10.244.0.0/16","SubnetLen":31,"Backend":{"Type":"vxlan"}}"#,
            r#"{"Network":"10.244.0.0/16","SubnetLen":17,"Backend":{"Type":"vxlan"}}"#,
            r#"{"Network":"10.244.0.0/16","SubnetMin":"10.244.1.5","Backend":{"Type":"vxlan"}}"#,
            r#"{"Network":"10.244.0.0/16","SubnetMax":"10.245.0.0","Backend":{"Type":"vxlan"}}"#,
            r#"{"Network":"10.244.0.0/30","Backend":{"Type":"vxlan"}}"#,
        ] {
            assert!(NetConfig::parse(bad, "cfg").is_err(), "{bad}");
        }
    }
}
