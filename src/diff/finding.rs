//! What `check` reports: one finding per object that differs between plan and node.

use std::fmt;

use serde::Serialize;

pub use crate::findings::Severity;

/// What kind of difference a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// In the plan, not on the node.
    Missing,
    /// On the node, owned by the CNI (or the agent), not in the plan.
    Unexpected,
    /// On the node, not owned by the CNI: listed, not wrong.
    Foreign,
    /// A foreign route inside a planned prefix: it takes part of the pod traffic.
    Overlap,
    /// A foreign entry sits where the plan wants one of its own, with other content.
    Conflict,
    /// The route goes through another gateway.
    WrongNextHop,
    /// The route or device goes out of another device.
    WrongDevice,
    /// The onlink flag differs.
    WrongOnlink,
    /// The route type differs (unicast, blackhole …).
    WrongType,
    /// The route scope differs.
    WrongScope,
    /// The preferred source address differs.
    WrongSource,
    /// The MTU (of a route or a device) differs.
    WrongMtu,
    /// The route was installed by another protocol than planned (same forwarding).
    WrongProtocol,
    /// A neighbour or FDB entry points at an old MAC or VTEP.
    Stale,
    /// A neighbour or FDB entry is right but not permanent: the kernel may age it out.
    NotPermanent,
    /// The device is of another kind than planned.
    WrongKind,
    /// The VXLAN device has another VNI.
    WrongVni,
    /// The VXLAN device uses another UDP port.
    WrongPort,
    /// The tunnel's local address differs.
    WrongLocal,
    /// The VXLAN device sits on another underlying device.
    WrongUnderlay,
    /// The VXLAN device learns remote MACs (both CNIs turn learning off).
    Learning,
    /// The device's MAC address differs (remote FDB entries point at the planned one).
    WrongMac,
    /// The device is administratively down.
    Down,
    /// The device is enslaved to another bridge (or none).
    WrongMaster,
    /// A pod's bridge port has hairpin off where the CNI config turns it on: the pod
    /// cannot reach itself through a Service.
    HairpinOff,
    /// A forwarding sysctl that drops pod traffic.
    Sysctl,
    /// Two nodes claim the same (or overlapping) pod CIDRs.
    DuplicatePodCidr,
    /// A pod CIDR (or part of it) is taken by a more specific route or subnet.
    Shadowed,
    /// A blackhole drops a pod IP that another node borrowed from the block.
    HiddenByBlackhole,
    /// The CNI's route is there with the planned forwarding, in another shape (metric,
    /// source) that its version gives it: information, never a fix (the daemon keeps it).
    ShapeDiffers,
}

impl FindingKind {
    /// The words the table prints.
    pub fn words(&self) -> &'static str {
        match self {
            FindingKind::Missing => "missing",
            FindingKind::Unexpected => "unexpected",
            FindingKind::Foreign => "foreign",
            FindingKind::Overlap => "overlap",
            FindingKind::Conflict => "conflict",
            FindingKind::WrongNextHop => "wrong next hop",
            FindingKind::WrongDevice => "wrong device",
            FindingKind::WrongOnlink => "wrong onlink",
            FindingKind::WrongType => "wrong type",
            FindingKind::WrongScope => "wrong scope",
            FindingKind::WrongSource => "wrong source",
            FindingKind::WrongMtu => "wrong MTU",
            FindingKind::WrongProtocol => "other protocol",
            FindingKind::Stale => "stale",
            FindingKind::NotPermanent => "not permanent",
            FindingKind::WrongKind => "wrong kind",
            FindingKind::WrongVni => "wrong VNI",
            FindingKind::WrongPort => "wrong port",
            FindingKind::WrongLocal => "wrong local",
            FindingKind::WrongUnderlay => "wrong underlay",
            FindingKind::Learning => "learning on",
            FindingKind::WrongMac => "wrong MAC",
            FindingKind::Down => "down",
            FindingKind::WrongMaster => "wrong master",
            FindingKind::HairpinOff => "hairpin off",
            FindingKind::Sysctl => "sysctl",
            FindingKind::DuplicatePodCidr => "duplicate pod CIDR",
            FindingKind::Shadowed => "shadowed",
            FindingKind::HiddenByBlackhole => "hidden by blackhole",
            FindingKind::ShapeDiffers => "shape differs",
        }
    }
}

impl crate::findings::Kind for FindingKind {
    fn word(&self) -> &'static str {
        self.words()
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.words())
    }
}

/// One difference between a node's plan and its state.
pub type Finding = crate::findings::Finding<FindingKind>;
