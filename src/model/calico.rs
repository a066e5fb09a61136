//! Calico IPPool resources: YAML (one or several `---` documents, or a List) as
//! `calicoctl get ippool -o yaml` or `kubectl get ippools.crd.projectcalico.org -o yaml`
//! print them, and the same objects inside a kubectl JSON List.

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;

use super::{EncapMode, IpPool, canonical, default_block_size, parse_net};

/// The fields of an IPPool's spec netpath uses.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolSpec {
    /// `spec.cidr`.
    pub cidr: Option<String>,
    /// `spec.ipipMode`.
    pub ipip_mode: Option<String>,
    /// `spec.vxlanMode`.
    pub vxlan_mode: Option<String>,
    /// `spec.blockSize`.
    pub block_size: Option<u8>,
    /// `spec.natOutgoing`.
    #[serde(default)]
    pub nat_outgoing: bool,
    /// `spec.disabled`.
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Deserialize)]
struct Doc {
    kind: Option<String>,
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: Option<PoolSpec>,
    #[serde(default)]
    items: Vec<Doc>,
}

#[derive(Debug, Default, Deserialize)]
struct Meta {
    name: Option<String>,
}

/// Turn one IPPool's name and spec into a pool; `what` names it in errors. Disabled pools
/// give `None` (no new blocks, but existing routes stay — netpath keeps them out).
pub fn pool(name: &str, spec: &PoolSpec, what: &str) -> anyhow::Result<Option<IpPool>> {
    if spec.disabled {
        return Ok(None);
    }
    let cidr = spec
        .cidr
        .as_deref()
        .ok_or_else(|| anyhow!("{what}: spec.cidr is missing"))?;
    let cidr = canonical(parse_net(cidr, &format!("{what}: spec.cidr"))?);
    if !cidr.is_ipv4() {
        return Ok(None);
    }
    let mode = |m: &Option<String>, f: &str| -> anyhow::Result<EncapMode> {
        let s = m.as_deref().unwrap_or("Never");
        EncapMode::parse(s).ok_or_else(|| {
            anyhow!("{what}: spec.{f} is {s:?} (expected Never, Always or CrossSubnet)")
        })
    };
    let ipip = mode(&spec.ipip_mode, "ipipMode")?;
    let vxlan = mode(&spec.vxlan_mode, "vxlanMode")?;
    if ipip != EncapMode::Never && vxlan != EncapMode::Never {
        bail!("{what}: ipipMode and vxlanMode are both enabled; Calico refuses such a pool");
    }
    Ok(Some(IpPool {
        name: name.to_string(),
        block_size: spec.block_size.unwrap_or_else(|| default_block_size(&cidr)),
        cidr,
        ipip,
        vxlan,
        nat_outgoing: spec.nat_outgoing,
    }))
}

/// Parse IPPool YAML; `source` names the file in errors.
pub fn parse_ippools(text: &str, source: &str) -> anyhow::Result<Vec<IpPool>> {
    let mut out = Vec::new();
    for (i, de) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let doc = Doc::deserialize(de).map_err(|e| anyhow!("{source}: document {}: {e}", i + 1))?;
        collect(&doc, &mut out).with_context(|| format!("{source}: document {}", i + 1))?;
    }
    if out.is_empty() {
        bail!("{source}: no enabled IPv4 IPPool found (expected kind: IPPool with spec.cidr)");
    }
    Ok(out)
}

fn collect(doc: &Doc, out: &mut Vec<IpPool>) -> anyhow::Result<()> {
    for item in &doc.items {
        collect(item, out)?;
    }
    match (doc.kind.as_deref(), &doc.spec) {
        (Some("IPPool"), Some(spec)) => {
            let name = doc.metadata.name.as_deref().unwrap_or("unnamed");
            if let Some(p) = pool(name, spec, &format!("IPPool {name}"))? {
                out.push(p);
            }
        }
        (Some("IPPool"), None) => bail!("IPPool without spec"),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calicoctl_yaml() {
        let text = "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: default-ipv4-ippool\nspec:\n  cidr: 10.65.0.0/16\n  ipipMode: CrossSubnet\n  natOutgoing: true\n---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: v6}\nspec: {cidr: 'fd00::/48', vxlanMode: Always}\n";
        let p = parse_ippools(text, "pools.yaml").unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].ipip, p[0].block_size), (EncapMode::CrossSubnet, 26));
        let bad = text.replace("CrossSubnet", "Sometimes");
        let e = format!("{:#}", parse_ippools(&bad, "pools.yaml").unwrap_err());
        assert!(e.contains("pools.yaml") && e.contains("ipipMode"), "{e}");
        let list = "apiVersion: v1\nkind: List\nitems:\n- kind: IPPool\n  metadata: {name: p}\n  spec: {cidr: 10.1.0.0/16, vxlanMode: Always, blockSize: 24}\n";
        assert_eq!(parse_ippools(list, "l").unwrap()[0].block_size, 24);
    }
}
