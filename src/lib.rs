//! netpath: troubleshoot Kubernetes pod networks (Flannel, Calico) on the node itself.
//!
//! One model of a node's dataplane ([`dataplane::NodeState`]) whatever its source, and
//! every command a function over it. See README.md for the commands.

pub mod agent;
pub mod capture;
pub mod cli;
pub mod cmd;
pub mod cni;
pub mod dataplane;
pub mod decode;
pub mod diff;
pub mod error;
pub mod etcd;
pub mod explain;
pub mod findings;
pub mod fuzzing;
pub mod input;
pub mod kube;
pub mod lease;
pub mod model;
pub mod netlink;
pub mod pcapfile;
pub mod pcapwrite;
pub mod plan;
pub mod pods;
pub mod render;
pub mod scene;
pub mod snapshot;
pub mod trace;
pub mod wire;
pub mod world;
