//! Packet times in the local time zone (`--local-time`), as tcpdump shows them: the UTC
//! offset and zone name come from the C library (`TZ`, else /etc/localtime), looked up once
//! per quarter hour of capture time, since daylight saving changes happen on those.

use crate::pcapfile::Timestamp;

/// A UTC offset and the zone's abbreviation at some instant (`UTC` by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    /// Seconds east of UTC.
    pub offset: i32,
    name: [u8; 12],
    len: u8,
}

impl Default for Zone {
    fn default() -> Self {
        Zone::named(0, b"UTC")
    }
}

impl Zone {
    /// A zone `offset` seconds east of UTC called `name` (cut to 12 bytes).
    pub fn named(offset: i32, name: &[u8]) -> Zone {
        let mut z = Zone {
            offset,
            name: [0; 12],
            len: name.len().min(12) as u8,
        };
        z.name[..usize::from(z.len)].copy_from_slice(&name[..usize::from(z.len)]);
        z
    }

    /// The abbreviation (`UTC`, `CET`, `PDT`, or `+0530` where the zone has none).
    pub fn name(&self) -> &[u8] {
        &self.name[..usize::from(self.len)]
    }

    /// `ts` moved to this zone's wall clock.
    pub fn shift(&self, ts: Timestamp) -> Timestamp {
        Timestamp {
            sec: ts.sec + i64::from(self.offset),
            nsec: ts.nsec,
        }
    }
}

/// The local zone at capture times, with a one-entry cache.
#[derive(Debug, Default)]
pub struct LocalClock {
    quarter: Option<i64>,
    zone: Zone,
}

impl LocalClock {
    /// A clock reading the local zone (the C library reads `TZ` on its first use).
    pub fn new() -> LocalClock {
        LocalClock::default()
    }

    /// The local zone at Unix time `sec`.
    pub fn at(&mut self, sec: i64) -> Zone {
        let quarter = sec.div_euclid(900);
        if self.quarter != Some(quarter) {
            self.zone = local_zone(sec);
            self.quarter = Some(quarter);
        }
        self.zone
    }
}

fn local_zone(sec: i64) -> Zone {
    // time_t is 64 bits on every platform netpath builds for (Linux, 64-bit).
    let t = sec as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`, which lives on this stack frame; a null
    // result (time out of range) is handled. tm_zone points into the C library's static
    // zone names, valid for the life of the process, and is read right away.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return Zone::default();
        }
        let offset = tm.tm_gmtoff as i32;
        let name = if tm.tm_zone.is_null() {
            None
        } else {
            Some(std::ffi::CStr::from_ptr(tm.tm_zone).to_bytes())
        };
        match name {
            Some(n) if !n.is_empty() => Zone::named(offset, n),
            _ => {
                let (sign, abs) = if offset < 0 {
                    ('-', -offset)
                } else {
                    ('+', offset)
                };
                let text = format!("{sign}{:02}{:02}", abs / 3600, abs / 60 % 60);
                Zone::named(offset, text.as_bytes())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_shifts_and_names() {
        let z = Zone::named(3600, b"CET");
        assert_eq!(z.name(), b"CET");
        let ts = Timestamp { sec: 100, nsec: 7 };
        assert_eq!(z.shift(ts), Timestamp { sec: 3700, nsec: 7 });
        assert_eq!(Zone::default().name(), b"UTC");
        assert_eq!(Zone::named(0, b"a-very-long-zone-name").name().len(), 12);
    }
}
