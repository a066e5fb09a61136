//! What the `bridge` CNI plugin (with `host-local` IPAM, as Flannel's CNI meta-plugin
//! configures it) owns on a node: the `cni0` bridge and the host ends of the pods' veths.

use crate::model::Pod;

/// The bridge Flannel's CNI config names (`flannel` meta-plugin: `"bridge": "cni0"`); it
/// takes the lease's first address as the pods' gateway.
pub const BRIDGE: &str = "cni0";

/// The name of a pod's host veth under the bridge plugin: it picks `veth` + 8 random hex
/// digits (`ip.SetupVeth` → `RandomVethName`), for which netpath uses sha1("namespace/name")
/// as a stable stand-in.
pub fn host_veth_name(pod: &Pod) -> String {
    let h = super::sha1_hex(&format!("{}/{}", pod.namespace, pod.name));
    format!("veth{}", &h[..8])
}
