//! A stop request from the user: SIGINT (Ctrl-C) or SIGTERM set a flag that the capture
//! loop polls between packets, so the loop ends cleanly, flushes `-w` and prints its
//! summary. A second Ctrl-C kills the process the usual way.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Install the SIGINT and SIGTERM handlers (once per process; installing again is harmless).
/// Each handler fires once, then the default action is back (SA_RESETHAND), so a second
/// Ctrl-C ends a capture that does not stop.
pub fn install() -> std::io::Result<()> {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value; we set the
        // handler to a function that only stores to an atomic, and pass valid pointers.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// True once the user asked to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigterm_sets_the_flag_once() {
        install().unwrap();
        assert!(!requested());
        // SAFETY: raising a signal we installed a handler for.
        unsafe { libc::raise(libc::SIGTERM) };
        assert!(requested());
    }
}
