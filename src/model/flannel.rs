//! Flannel's `net-conf.json` (the kube-flannel-cfg ConfigMap, or `/etc/kube-flannel/net-conf.json`).
//!
//! Go's encoding/json matches keys case-insensitively, so `"VNI"`, `"vni"` and `"Vni"` are
//! all the same key here too. A config without `Backend` means flannel's `udp` backend,
//! which netpath does not model.

use anyhow::{Context, anyhow, bail};
use serde_json::{Map, Value};

use super::{Flannel, FlannelBackend, canonical, parse_net};

/// Parse net-conf.json text; `source` names it in errors.
pub fn parse_net_conf(text: &str, source: &str) -> anyhow::Result<Flannel> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| anyhow!("{source}: {e} (expected flannel's net-conf.json)"))?;
    let top = v
        .as_object()
        .ok_or_else(|| anyhow!("{source}: expected a JSON object like {{\"Network\": \"10.244.0.0/16\", \"Backend\": {{\"Type\": \"vxlan\"}}}}"))?;
    let network = get(top, "Network").and_then(Value::as_str).ok_or_else(|| {
        anyhow!("{source}: field Network is missing (expected e.g. \"10.244.0.0/16\")")
    })?;
    let network = canonical(parse_net(network, &format!("{source}: Network"))?);
    let Some(backend) = get(top, "Backend").and_then(Value::as_object) else {
        bail!(
            "{source}: no Backend: flannel then uses the udp backend, which netpath does not model (expected Backend.Type host-gw, vxlan or ipip)"
        );
    };
    let ty = get(backend, "Type")
        .and_then(Value::as_str)
        .unwrap_or("udp");
    let num = |k: &str| -> anyhow::Result<Option<u64>> {
        match get(backend, k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| anyhow!("{source}: Backend.{k} is {v}, expected a number")),
        }
    };
    let flag = |k: &str| get(backend, k).and_then(Value::as_bool).unwrap_or(false);
    let backend = match ty.to_ascii_lowercase().as_str() {
        "host-gw" => FlannelBackend::HostGw,
        "vxlan" => FlannelBackend::Vxlan {
            vni: num("VNI")?
                .map(|v| v as u32)
                .filter(|&v| v != 0)
                .unwrap_or(1),
            port: num("Port")?
                .map(|p| u16::try_from(p).context("Backend.Port"))
                .transpose()?
                .filter(|&p| p != 0)
                .unwrap_or(8472),
            direct_routing: flag("DirectRouting"),
            learning: flag("Learning"),
        },
        "ipip" => FlannelBackend::Ipip {
            direct_routing: flag("DirectRouting"),
        },
        other => bail!(
            "{source}: Backend.Type {other:?} is not modelled (expected host-gw, vxlan or ipip)"
        ),
    };
    let mtu = num("MTU")?.map(|m| m as u32).filter(|&m| m != 0);
    Ok(Flannel {
        network,
        backend,
        mtu,
    })
}

/// A key, matched case-insensitively like Go's encoding/json.
fn get<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_flannel_default_and_case_insensitive_keys() {
        let f = parse_net_conf(
            r#"{"Network": "10.244.0.0/16", "EnableNFTables": false, "Backend": {"Type": "vxlan"}}"#,
            "net-conf.json",
        )
        .unwrap();
        assert_eq!(
            f.backend,
            FlannelBackend::Vxlan {
                vni: 1,
                port: 8472,
                direct_routing: false,
                learning: false
            }
        );
        let f = parse_net_conf(
            r#"{"network": "10.50.0.0/16", "backend": {"type": "vxlan", "vni": 4096, "port": 4789, "directRouting": true}}"#,
            "x",
        )
        .unwrap();
        assert_eq!(
            f.backend,
            FlannelBackend::Vxlan {
                vni: 4096,
                port: 4789,
                direct_routing: true,
                learning: false
            }
        );
        let e = parse_net_conf(r#"{"Network": "10.244.0.0/16"}"#, "cm")
            .unwrap_err()
            .to_string();
        assert!(e.contains("udp"), "{e}");
        let e = parse_net_conf(
            r#"{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan", "VNI": "one"}}"#,
            "cm",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("Backend.VNI"), "{e}");
    }
}
