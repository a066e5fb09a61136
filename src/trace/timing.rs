//! Wall and CPU time of a trace's phases, for `trace --timing` (benchmarks): on a shared
//! machine, wall time measures the neighbours too, so CPU time is given beside it.

use std::time::{Duration, Instant};

/// CPU time (user + system) of this process so far.
pub fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv =
        |t: libc::timeval| Duration::new(t.tv_sec.max(0) as u64, (t.tv_usec.max(0) as u32) * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Time spent on a phase.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spent {
    /// Wall time.
    pub wall: Duration,
    /// CPU time of this process.
    pub cpu: Duration,
}

impl Spent {
    /// Both in milliseconds.
    pub fn ms(&self) -> (f64, f64) {
        (self.wall.as_secs_f64() * 1e3, self.cpu.as_secs_f64() * 1e3)
    }

    /// Each divided by `n` (one of `n` runs).
    pub fn per(&self, n: u32) -> Spent {
        Spent {
            wall: self.wall / n.max(1),
            cpu: self.cpu / n.max(1),
        }
    }
}

/// A phase being measured.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    wall: Instant,
    cpu: Duration,
}

impl Stopwatch {
    /// Start now.
    pub fn start() -> Stopwatch {
        Stopwatch {
            wall: Instant::now(),
            cpu: cpu_time(),
        }
    }

    /// The time since the start.
    pub fn spent(&self) -> Spent {
        Spent {
            wall: self.wall.elapsed(),
            cpu: cpu_time().saturating_sub(self.cpu),
        }
    }
}
