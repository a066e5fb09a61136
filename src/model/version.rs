//! The CNI's version, which decides the shapes of some routes (cni-semantics §7.4, §10,
//! §17, §18): read from the image tags of the calico-node and kube-flannel pods in a kubectl
//! dump, or given with `--calico-version` / `--flannel-version`.

use std::fmt;

use serde::Serialize;

/// A release version, `vMAJOR.MINOR.PATCH` (pre-release suffixes are dropped: `v3.34.0-0.dev`
/// is 3.34.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Version {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch.
    pub patch: u32,
}

impl Version {
    /// A version from its parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// Parse `v3.32.1`, `3.32`, `v0.28.9-rc1` (at least major and minor).
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let core = s.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        Some(Version::new(major, minor, patch))
    }

    /// True when this version is at least `major.minor`.
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The CNI versions a cluster runs, where known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Versions {
    /// calico/node's version.
    pub calico: Option<Version>,
    /// flanneld's version.
    pub flannel: Option<Version>,
}

impl Versions {
    /// Take a version from a container image reference, when it is calico/node's
    /// (`docker.io/calico/node:v3.32.0`, `quay.io/calico/node:v3.31.2`) or flannel's
    /// (`ghcr.io/flannel-io/flannel:v0.28.9`, `docker.io/flannel/flannel:v0.25.1`,
    /// `quay.io/coreos/flannel:v0.15.1`). A digest-only reference says nothing.
    pub fn note_image(&mut self, image: &str) {
        let image = image.split('@').next().unwrap_or(image);
        let Some((repo, tag)) = image.rsplit_once(':') else {
            return;
        };
        if repo.contains('/') && tag.contains('/') {
            return; // a registry port, no tag
        }
        let Some(v) = Version::parse(tag) else { return };
        let last = repo.rsplit('/').next().unwrap_or(repo);
        if repo.ends_with("calico/node") || last == "calico-node" {
            self.calico = Some(self.calico.map_or(v, |c| c.max(v)));
        } else if last == "flannel" {
            self.flannel = Some(self.flannel.map_or(v, |c| c.max(v)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_with_and_without_v_and_suffixes() {
        assert_eq!(Version::parse("v3.32.1"), Some(Version::new(3, 32, 1)));
        assert_eq!(Version::parse("3.31"), Some(Version::new(3, 31, 0)));
        assert_eq!(
            Version::parse("v3.34.0-0.dev"),
            Some(Version::new(3, 34, 0))
        );
        assert_eq!(Version::parse("latest"), None);
        assert!(Version::new(3, 32, 0).at_least(3, 32));
        assert!(!Version::new(3, 31, 9).at_least(3, 32));
    }

    #[test]
    fn image_tags_of_calico_node_and_flannel() {
        let mut v = Versions::default();
        v.note_image("docker.io/calico/node:v3.32.0");
        v.note_image("ghcr.io/flannel-io/flannel:v0.28.9");
        v.note_image("registry.example.com/app:1.2.3");
        v.note_image("docker.io/calico/cni:v3.99.0");
        assert_eq!(v.calico, Some(Version::new(3, 32, 0)));
        assert_eq!(v.flannel, Some(Version::new(0, 28, 9)));
        let mut w = Versions::default();
        w.note_image("localhost:5000/calico/node");
        w.note_image("quay.io/calico/node@sha256:abcd");
        assert_eq!(w, Versions::default());
    }
}
