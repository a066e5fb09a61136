//! Neighbour (ARP/NDP) and bridge FDB entries.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::MacAddr;

/// Neighbour-cache state (`NUD_*`), the words `ip neigh` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NudState {
    /// NUD_INCOMPLETE.
    Incomplete,
    /// NUD_REACHABLE.
    Reachable,
    /// NUD_STALE.
    Stale,
    /// NUD_DELAY.
    Delay,
    /// NUD_PROBE.
    Probe,
    /// NUD_FAILED.
    Failed,
    /// NUD_NOARP.
    Noarp,
    /// NUD_PERMANENT: what Flannel and Calico program.
    Permanent,
    /// NUD_NONE or anything else.
    None,
}

impl NudState {
    /// From the kernel's state bits. The kernel may set several (a VXLAN FDB entry added
    /// `permanent` reads back as PERMANENT|NOARP); the strongest one wins, as in
    /// `ip neigh`'s first word.
    pub fn from_bits(bits: u16) -> NudState {
        const ORDER: [(u16, NudState); 8] = [
            (0x80, NudState::Permanent),
            (0x40, NudState::Noarp),
            (0x02, NudState::Reachable),
            (0x04, NudState::Stale),
            (0x08, NudState::Delay),
            (0x10, NudState::Probe),
            (0x20, NudState::Failed),
            (0x01, NudState::Incomplete),
        ];
        ORDER
            .iter()
            .find(|(b, _)| bits & b != 0)
            .map(|(_, s)| *s)
            .unwrap_or(NudState::None)
    }

    /// The kernel's bit value.
    pub fn bits(&self) -> u16 {
        match self {
            NudState::Incomplete => 0x01,
            NudState::Reachable => 0x02,
            NudState::Stale => 0x04,
            NudState::Delay => 0x08,
            NudState::Probe => 0x10,
            NudState::Failed => 0x20,
            NudState::Noarp => 0x40,
            NudState::Permanent => 0x80,
            NudState::None => 0,
        }
    }

    /// True when the entry resolves an address (not incomplete or failed).
    pub fn resolves(&self) -> bool {
        !matches!(
            self,
            NudState::Incomplete | NudState::Failed | NudState::None
        )
    }
}

/// A neighbour entry (`ip neigh`): an IP resolved to a MAC on a device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Neighbour {
    /// The neighbour's IP address.
    pub dst: IpAddr,
    /// Its MAC address, if resolved.
    pub lladdr: Option<MacAddr>,
    /// The device.
    pub dev: String,
    /// State.
    pub state: NudState,
}

/// A bridge forwarding-database entry (`bridge fdb`). On a VXLAN device with `NTF_SELF`,
/// it maps an inner MAC to the remote VTEP's underlay IP (`dst`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FdbEntry {
    /// The MAC address.
    pub mac: MacAddr,
    /// The remote VTEP IP (VXLAN), if any.
    pub dst: Option<IpAddr>,
    /// The device the entry is on (`flannel.1`, a bridge port).
    pub dev: String,
    /// The bridge the device is enslaved to, for bridge-port entries (`master cni0`).
    #[serde(default)]
    pub master: Option<String>,
    /// NTF_SELF: the entry lives in the device's own table (VXLAN).
    #[serde(default)]
    pub self_: bool,
    /// State (`permanent`, `reachable` …).
    pub state: NudState,
}
