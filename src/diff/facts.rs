//! Pods by facts, not by invented names.
//!
//! A plan names each pod's host veth, but only Calico fixes that name (`cali` +
//! sha1(namespace.pod)[:11]); the `bridge` CNI plugin Flannel delegates to picks `veth` + 8
//! random hex digits, and a kubectl dump never carries them. The bridge plugin also picks
//! cni0's MAC, and the pod's MAC (which Felix's permanent neighbour entry holds) is the
//! kernel's choice. Before a plan is compared with a node, [`resolve`] puts the node's
//! facts where the plan could only guess:
//! - cni0's MAC is not planned (the bridge plugin's);
//! - each pod's host veth is found by what the kernel says: the pod map (CNI cache entry,
//!   peer netns), the pod IP's `/32` route, or the bridge port its MAC was learnt on;
//!   the planned device, routes, neighbours and sysctls move to that name, and a bridge
//!   plugin veth's MAC is not planned;
//! - the permanent neighbour of a Calico pod carries the pod's real MAC when it is known;
//! - a planned pod the node does not have is taken out of the plan and reported as
//!   information naming the pod: pods are the CNI plugin's and the kubelet's, not the
//!   node daemon's.

use std::net::IpAddr;

use super::{Finding, FindingKind, Severity};
use crate::dataplane::{LinkKind, MacAddr, NodeState};
use crate::plan::{NodePlan, PodPlan};
use crate::snapshot::PodEntry;

/// The bridge the bridge plugin makes for Flannel's pods.
const BRIDGE: &str = "cni0";

/// What the node's facts did to a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// Pods found, as (`namespace/name`, host veth).
    pub located: Vec<(String, String)>,
    /// Pods of the plan the node has no interface for (`namespace/name`, their IP).
    pub absent: Vec<(String, Option<IpAddr>)>,
    /// Bridge-plugin pods whose port of cni0 has hairpin off (`namespace/name`, host veth):
    /// kube-flannel's CNI config sets `hairpinMode: true`, so the bridge plugin turns it on.
    pub hairpin_off: Vec<(String, String)>,
}

impl Resolution {
    /// Information naming each planned pod the node does not have: pods are the CNI
    /// plugin's and the kubelet's, so this is never an error of the node.
    /// And a warning naming each pod whose bridge port has hairpin off.
    pub fn findings(&self) -> Vec<Finding> {
        let absent = self.absent.iter().map(|(key, ip)| {
            let addr = ip.map(|ip| format!(" ({ip})")).unwrap_or_default();
            Finding::new(Severity::Info, FindingKind::Missing, format!("pod {key}"))
                .expected(format!("a veth to pod {key}{addr}"))
                .actual("no veth of the node leads to it: its sandbox is gone, or not made yet")
        });
        let hairpin = self.hairpin_off.iter().map(|(key, veth)| {
            Finding::new(
                Severity::Warning,
                FindingKind::HairpinOff,
                format!("pod {key}"),
            )
            .expected(format!(
                "{veth} port of {BRIDGE} with hairpin on (kube-flannel's hairpinMode)"
            ))
            .actual(format!(
                "hairpin off on {veth}: the pod cannot reach itself through a Service"
            ))
            .fix(vec![format!(
                "ip link set dev {veth} type bridge_slave hairpin on"
            )])
        });
        absent.chain(hairpin).collect()
    }
}

/// Put the node's facts into a node's plan (see the module documentation); `plan.pods` is
/// updated to the host veths found, and loses the pods the node does not have. `pods` is the
/// node's pod map when it was read (a snapshot's, or a live scan); without it pods are found
/// by their routes and bridge ports only.
pub fn resolve(plan: &mut NodePlan, actual: &NodeState, pods: Option<&[PodEntry]>) -> Resolution {
    let mut planned = std::mem::take(&mut plan.pods);
    let out = resolve_state(&mut plan.state, &mut planned, actual, pods);
    plan.pods = planned;
    out
}

/// [`resolve`] on a plan's host state and its pods.
pub fn resolve_state(
    state: &mut NodeState,
    planned_pods: &mut Vec<PodPlan>,
    actual: &NodeState,
    pods: Option<&[PodEntry]>,
) -> Resolution {
    let mut out = Resolution::default();
    if let Some(l) = state.links.iter_mut().find(|l| l.name == BRIDGE) {
        if matches!(l.kind, LinkKind::Bridge) {
            l.mac = None;
        }
    }
    let planned: Vec<PodPlan> = planned_pods.clone();
    for p in &planned {
        let key = format!("{}/{}", p.namespace, p.name);
        let ip = pod_ip(p);
        let entry = pods.and_then(|ps| find_entry(ps, &key, ip));
        let host = entry
            .map(|e| e.host_veth.clone())
            .filter(|h| actual.link(h).is_some())
            .or_else(|| {
                actual
                    .link(&p.host_veth)
                    .filter(|l| matches!(l.kind, LinkKind::Veth(_)))
                    .map(|l| l.name.clone())
            })
            .or_else(|| ip.and_then(|ip| veth_by_route(actual, ip)))
            .or_else(|| ip.and_then(|ip| veth_by_bridge_port(actual, ip)));
        let Some(host) = host else {
            remove_pod(state, &p.host_veth, ip);
            out.absent.push((key, ip));
            continue;
        };
        let pod_mac = entry.and_then(pod_side_mac);
        rename(state, &p.host_veth, &host);
        if let Some(l) = state.links.iter_mut().find(|l| l.name == host) {
            // The bridge plugin's veth MAC is random; Calico's ee:ee:ee:ee:ee:ee is its own.
            if l.master.as_deref() == Some(BRIDGE) {
                l.mac = None;
            }
        }
        if let Some(ip) = ip {
            let real = actual
                .neighbours
                .iter()
                .find(|n| n.dst == ip && n.dev == host)
                .and_then(|n| n.lladdr);
            // The pod's MAC when the pod map says it; else the node's own entry is taken as
            // the fact (a plan cannot know the MAC the kernel gave the pod); with neither,
            // the entry is not planned at all rather than planned with an invented MAC.
            let mac = pod_mac.or(real);
            state
                .neighbours
                .retain(|n| !(n.dst == ip && n.dev == host && mac.is_none()));
            for n in state
                .neighbours
                .iter_mut()
                .filter(|n| n.dst == ip && n.dev == host)
            {
                n.lladdr = mac;
            }
        }
        // The bridge plugin sets hairpin on the pod's port when the CNI config asks
        // (kube-flannel's does): a port of cni0 with hairpin off breaks a pod reaching
        // itself through a Service. Only a pod the plan puts on cni0 (a bridge-plugin pod).
        let bridged = state
            .links
            .iter()
            .any(|l| l.name == host && l.master.as_deref() == Some(BRIDGE));
        if bridged
            && actual
                .link(&host)
                .is_some_and(|a| a.master.as_deref() == Some(BRIDGE) && a.hairpin == Some(false))
        {
            out.hairpin_off.push((key.clone(), host.clone()));
        }
        if let Some(pp) = planned_pods
            .iter_mut()
            .find(|x| x.namespace == p.namespace && x.name == p.name)
        {
            pp.host_veth = host.clone();
        }
        out.located.push((key, host));
    }
    planned_pods.retain(|p| {
        !out.absent
            .iter()
            .any(|(k, _)| *k == format!("{}/{}", p.namespace, p.name))
    });
    out
}

/// The pod's IPv4 address, from its planned netns.
fn pod_ip(p: &PodPlan) -> Option<IpAddr> {
    p.state
        .addrs
        .iter()
        .map(|a| a.addr.ip())
        .find(|ip| ip.is_ipv4() && !ip.is_loopback())
}

/// The pod map's entry for a pod: by its name, else by its address.
fn find_entry<'a>(pods: &'a [PodEntry], key: &str, ip: Option<IpAddr>) -> Option<&'a PodEntry> {
    pods.iter()
        .find(|e| e.key().as_deref() == Some(key))
        .or_else(|| ip.and_then(|ip| pods.iter().find(|e| e.has_ip(ip))))
}

/// The MAC of the pod's end of the veth, when the pod map read the pod's netns.
fn pod_side_mac(e: &PodEntry) -> Option<MacAddr> {
    let st = e.state.as_ref()?;
    let name = e.ifname.as_deref().unwrap_or("eth0");
    st.link(name).and_then(|l| l.mac)
}

/// The veth a `/32` route sends the pod's address to (Calico, and any CNI that routes pods).
fn veth_by_route(actual: &NodeState, ip: IpAddr) -> Option<String> {
    actual
        .routes
        .iter()
        .filter(|r| r.dst.ip() == ip && r.dst.prefix() == 32)
        .flat_map(|r| r.nexthops.iter())
        .filter_map(|h| h.dev.as_deref())
        .find(|d| {
            actual
                .link(d)
                .is_some_and(|l| matches!(l.kind, LinkKind::Veth(_)))
        })
        .map(str::to_string)
}

/// The bridge port the pod's MAC was learnt on (its neighbour entry on cni0 gives the MAC,
/// the bridge FDB the port).
fn veth_by_bridge_port(actual: &NodeState, ip: IpAddr) -> Option<String> {
    let mac = actual
        .neighbours
        .iter()
        .find(|n| n.dst == ip && n.dev == BRIDGE)
        .and_then(|n| n.lladdr)?;
    actual
        .fdb
        .iter()
        .filter(|f| f.mac == mac && f.dev != BRIDGE)
        .map(|f| f.dev.clone())
        .find(|d| {
            actual
                .link(d)
                .is_some_and(|l| l.master.as_deref() == Some(BRIDGE))
        })
}

/// Move everything planned on device `from` to `to`.
fn rename(st: &mut NodeState, from: &str, to: &str) {
    if from == to {
        return;
    }
    for l in st.links.iter_mut().filter(|l| l.name == from) {
        l.name = to.to_string();
    }
    for a in st.addrs.iter_mut().filter(|a| a.dev == from) {
        a.dev = to.to_string();
    }
    for r in &mut st.routes {
        for h in r
            .nexthops
            .iter_mut()
            .filter(|h| h.dev.as_deref() == Some(from))
        {
            h.dev = Some(to.to_string());
        }
    }
    for n in st.neighbours.iter_mut().filter(|n| n.dev == from) {
        n.dev = to.to_string();
    }
    for f in st.fdb.iter_mut().filter(|f| f.dev == from) {
        f.dev = to.to_string();
    }
    let s = &mut st.sysctls;
    for map in [&mut s.forwarding, &mut s.proxy_arp] {
        if let Some(v) = map.remove(from) {
            map.insert(to.to_string(), v);
        }
    }
    if let Some(v) = s.rp_filter.remove(from) {
        s.rp_filter.insert(to.to_string(), v);
    }
}

/// Take a pod the node does not have out of the plan: its veth, what goes through it, and
/// the `/32` route to it.
fn remove_pod(st: &mut NodeState, veth: &str, ip: Option<IpAddr>) {
    st.links.retain(|l| l.name != veth);
    st.addrs.retain(|a| a.dev != veth);
    st.routes.retain(|r| {
        let via_veth = r.nexthops.iter().any(|h| h.dev.as_deref() == Some(veth));
        let to_pod = ip.is_some_and(|ip| r.dst.ip() == ip) && r.dst.prefix() == 32;
        !(via_veth || to_pod)
    });
    st.neighbours.retain(|n| n.dev != veth);
    st.fdb.retain(|f| f.dev != veth);
    let s = &mut st.sysctls;
    s.forwarding.remove(veth);
    s.proxy_arp.remove(veth);
    s.rp_filter.remove(veth);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cluster;

    fn plan_of(spec: &str, node: &str) -> NodePlan {
        let c = Cluster::load(spec, &Default::default()).expect("demo");
        crate::plan::node(&c, node).expect("plan")
    }

    #[test]
    fn bridge_plugin_veth_found_by_its_pod_map_entry_and_renamed() {
        let mut plan = plan_of("demo:flannel-vxlan", "node-1");
        let planned = plan.pods[0].host_veth.clone();
        let mut actual = plan.state.clone();
        for l in actual.links.iter_mut().filter(|l| l.name == planned) {
            l.name = "veth0a1b2c3d".into();
        }
        let entry = PodEntry {
            host_veth: "veth0a1b2c3d".into(),
            host_ifindex: 7,
            namespace: Some(plan.pods[0].namespace.clone()),
            name: Some(plan.pods[0].name.clone()),
            netns: None,
            ifname: Some("eth0".into()),
            ips: Vec::new(),
            state: None,
        };
        let r = resolve(&mut plan, &actual, Some(&[entry]));
        assert!(r.absent.is_empty(), "{r:?}");
        assert!(
            plan.state
                .link("veth0a1b2c3d")
                .is_some_and(|l| l.mac.is_none())
        );
        assert!(plan.state.link(&planned).is_none());
        assert!(plan.state.link("cni0").is_some_and(|l| l.mac.is_none()));
    }

    #[test]
    fn pod_the_node_does_not_have_leaves_the_plan() {
        let mut plan = plan_of("demo:calico-bgp", "node-1");
        let veth = plan.pods[0].host_veth.clone();
        let mut actual = plan.state.clone();
        actual.links.retain(|l| l.name != veth);
        actual
            .routes
            .retain(|r| !r.nexthops.iter().any(|h| h.dev.as_deref() == Some(&veth)));
        let r = resolve(&mut plan, &actual, Some(&[]));
        assert_eq!(r.absent.len(), 1);
        assert!(plan.state.link(&veth).is_none());
        assert!(
            !plan
                .state
                .routes
                .iter()
                .any(|r| r.nexthops.iter().any(|h| h.dev.as_deref() == Some(&veth)))
        );
        assert!(plan.pods.is_empty());
    }

    #[test]
    fn calico_neighbour_takes_the_nodes_mac_when_the_pod_map_has_none() {
        let mut plan = plan_of("demo:calico-bgp", "node-1");
        let veth = plan.pods[0].host_veth.clone();
        let mut actual = plan.state.clone();
        let real = MacAddr([0x2e, 1, 2, 3, 4, 5]);
        for n in actual.neighbours.iter_mut().filter(|n| n.dev == veth) {
            n.lladdr = Some(real);
        }
        resolve(&mut plan, &actual, None);
        assert!(
            plan.state
                .neighbours
                .iter()
                .filter(|n| n.dev == veth)
                .all(|n| n.lladdr == Some(real))
        );
    }
}
