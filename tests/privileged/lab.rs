//! Test lab: network namespaces, veths, bridges and vxlan devices built for one test and
//! removed afterwards (also when the test fails: the guards clean up on drop).
//!
//! Safety: every address a test configures or sends to lives inside namespaces made here.
//! Nothing is configured in the host namespace.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// True when running as root (privileged tests need it).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Run a shell command, panicking with its stderr when it fails.
pub fn sh(cmd: &str) -> String {
    let out = sh_output(cmd);
    assert!(
        out.status.success(),
        "command failed: {cmd}\nstatus: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run a shell command and return its output, whatever its status.
pub fn sh_output(cmd: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("cannot run sh")
}

/// The netpath binary built for these tests.
pub fn netpath() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netpath"))
}

/// A network namespace named `np-<tag>-<pid>-<n>`, deleted on drop.
pub struct TestNetns {
    /// The name under /run/netns.
    pub name: String,
}

impl TestNetns {
    /// Create a fresh namespace with `lo` up.
    pub fn new(tag: &str) -> TestNetns {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("np-{tag}-{}-{n}", std::process::id());
        sh(&format!("ip netns add {name}"));
        let ns = TestNetns { name };
        ns.exec("ip link set lo up");
        ns
    }

    /// Run a shell command inside the namespace; panics when it fails.
    pub fn exec(&self, cmd: &str) -> String {
        sh(&format!(
            "ip netns exec {} sh -c '{}'",
            self.name,
            cmd.replace('\'', "'\\''")
        ))
    }

    /// Wait until the kernel has finished changing the namespace on its own: IPv6
    /// duplicate address detection adds link-local addresses and their `fe80` routes about
    /// a second after a device comes up, and multicast listener reports add neighbour
    /// entries at random times within a second. Tests that read the state twice (a text
    /// dump, then a JSON dump or a netlink read) compare equal only once it is still.
    /// Gives up after ten seconds and leaves the comparison to say what moved.
    pub fn settle(&self) {
        let read = || {
            self.exec_output(
                "ip -6 addr show tentative; ip addr; ip route show table all; \
                 ip -6 route show table all; ip neigh show; ip -6 neigh show",
            )
            .stdout
        };
        let mut last = read();
        for _ in 0..10 {
            std::thread::sleep(std::time::Duration::from_millis(1000));
            let now = read();
            let tentative = self.exec_output("ip -6 addr show tentative").stdout;
            if now == last && tentative.is_empty() {
                return;
            }
            last = now;
        }
    }

    /// Run a shell command inside the namespace and return its output, whatever its status.
    pub fn exec_output(&self, cmd: &str) -> Output {
        sh_output(&format!(
            "ip netns exec {} sh -c '{}'",
            self.name,
            cmd.replace('\'', "'\\''")
        ))
    }

    /// The namespace file.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        let _ = sh_output(&format!("ip netns pids {} | xargs -r kill -9", self.name));
        let _ = sh_output(&format!("ip netns del {}", self.name));
    }
}
