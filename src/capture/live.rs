//! Opening an interface with libpcap, inside a network namespace when asked, and reading
//! packets from it.

use std::os::fd::AsRawFd;
use std::time::Duration;

use anyhow::Context;

use crate::error::refused;
use crate::netlink::Netns;

/// LINKTYPE_LINUX_SLL2, what `tcpdump -i any` uses (libpcap ≥ 1.10 offers it for "any").
const LINKTYPE_LINUX_SLL2: i32 = 276;

/// How long a read waits for a packet before giving the loop a chance to check Ctrl-C and
/// the deadline (milliseconds).
const READ_TIMEOUT_MS: i32 = 100;

/// What to capture.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Interface name, or `any` for every interface of the namespace.
    pub interface: String,
    /// The network namespace to capture in.
    pub netns: Netns,
    /// Bytes kept per packet.
    pub snaplen: u32,
    /// Put the interface in promiscuous mode (not possible, and not asked, for `any`).
    pub promisc: bool,
    /// A BPF filter in libpcap's syntax (`udp port 8472`).
    pub filter: Option<String>,
}

impl LiveOptions {
    /// Capture everything on `interface` in the current namespace, full packets, promiscuous.
    pub fn new(interface: impl Into<String>) -> LiveOptions {
        LiveOptions {
            interface: interface.into(),
            netns: Netns::Current,
            snaplen: crate::pcapwrite::DEFAULT_SNAPLEN,
            promisc: true,
            filter: None,
        }
    }
}

/// An open live capture.
pub struct LiveCapture {
    cap: pcap::Capture<pcap::Active>,
    linktype: u32,
    interface: String,
    /// The last read found nothing: wait on the socket before reading again.
    idle: bool,
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("interface", &self.interface)
            .field("linktype", &self.linktype)
            .finish()
    }
}

/// One captured packet, borrowed from libpcap's buffer until the next read.
#[derive(Debug, Clone, Copy)]
pub struct LivePacket<'a> {
    /// Capture time since the Unix epoch.
    pub ts: Duration,
    /// The bytes captured (at most the snaplen).
    pub data: &'a [u8],
    /// The packet's length on the wire.
    pub orig_len: u32,
}

/// libpcap's counters at the end of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaptureStats {
    /// Packets the kernel handed to the capture (after the filter).
    pub received: u32,
    /// Packets dropped because the buffer was full.
    pub dropped: u32,
    /// Packets dropped by the interface or its driver.
    pub if_dropped: u32,
}

impl LiveCapture {
    /// Open the interface. With a namespace, the capture socket is created on a thread that
    /// entered it (a socket stays in the namespace it was created in), never on the main
    /// thread.
    pub fn open(opts: &LiveOptions) -> anyhow::Result<LiveCapture> {
        let opts_inner = opts.clone();
        opts.netns.run(move || open_here(&opts_inner))
    }

    /// The pcap link type of the packets (LINKTYPE_* number).
    pub fn linktype(&self) -> u32 {
        self.linktype
    }

    /// The interface captured on.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The next packet, or `None` when none came within the read timeout (~100 ms): the
    /// caller checks its stop conditions and calls again.
    pub fn next_packet(&mut self) -> anyhow::Result<Option<LivePacket<'_>>> {
        if self.idle {
            self.wait_readable()?;
        }
        match self.cap.next_packet() {
            Ok(p) => {
                self.idle = false;
                let ts = Duration::new(
                    u64::try_from(p.header.ts.tv_sec).unwrap_or(0),
                    u32::try_from(p.header.ts.tv_usec)
                        .unwrap_or(0)
                        .saturating_mul(1000)
                        .min(999_999_999),
                );
                Ok(Some(LivePacket {
                    ts,
                    data: p.data,
                    orig_len: p.header.len,
                }))
            }
            // Non-blocking mode: nothing there right now.
            Err(pcap::Error::TimeoutExpired) => {
                self.idle = true;
                Ok(None)
            }
            Err(e) => Err(anyhow::anyhow!("reading from {}: {e}", self.interface)),
        }
    }

    /// Wait until the capture socket is readable or the read timeout passes. libpcap's own
    /// timeout cannot be used for this: with TPACKET_V2 (immediate mode) libpcap 1.10 polls
    /// again after a timeout instead of returning, so a quiet interface would block forever.
    fn wait_readable(&mut self) -> anyhow::Result<()> {
        let mut fd = libc::pollfd {
            fd: self.cap.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the capture's own descriptor.
        let rc = unsafe { libc::poll(&mut fd, 1, READ_TIMEOUT_MS) };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            // A signal (Ctrl-C) interrupts the wait; the caller checks why.
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e)
                    .with_context(|| format!("waiting for packets on {}", self.interface));
            }
        }
        Ok(())
    }

    /// libpcap's received and dropped counters so far.
    pub fn stats(&mut self) -> anyhow::Result<CaptureStats> {
        let s = self
            .cap
            .stats()
            .with_context(|| format!("reading capture statistics of {}", self.interface))?;
        Ok(CaptureStats {
            received: s.received,
            dropped: s.dropped,
            if_dropped: s.if_dropped,
        })
    }
}

/// Open, in whatever namespace this thread is in.
fn open_here(opts: &LiveOptions) -> anyhow::Result<LiveCapture> {
    let snaplen = i32::try_from(opts.snaplen.max(1)).unwrap_or(i32::MAX);
    let inactive = pcap::Capture::from_device(opts.interface.as_str())
        .map_err(|e| open_error(&opts.interface, e))?;
    let mut cap = inactive
        .snaplen(snaplen)
        .promisc(opts.promisc && opts.interface != "any")
        // Immediate mode: packets are handed over as they arrive (no TPACKET_V3 batching).
        .immediate_mode(true)
        .open()
        .map_err(|e| open_error(&opts.interface, e))?
        // Non-blocking reads, with our own poll between them (see `wait_readable`).
        .setnonblock()
        .map_err(|e| open_error(&opts.interface, e))?;
    if opts.interface == "any" {
        // Like tcpdump 4.99: prefer cooked v2, which carries the interface index.
        let offered = cap.list_datalinks().unwrap_or_default();
        if offered.contains(&pcap::Linktype(LINKTYPE_LINUX_SLL2)) {
            cap.set_datalink(pcap::Linktype(LINKTYPE_LINUX_SLL2))
                .context("switching the \"any\" capture to Linux cooked v2")?;
        }
    }
    if let Some(filter) = &opts.filter {
        cap.filter(filter, true)
            .map_err(|e| anyhow::anyhow!("bad filter {filter:?}: {e}"))?;
    }
    let linktype = u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX);
    Ok(LiveCapture {
        cap,
        linktype,
        interface: opts.interface.clone(),
        idle: false,
    })
}

/// Turn libpcap's open errors into messages a user can act on, with exit 3 for permission
/// problems.
fn open_error(interface: &str, e: pcap::Error) -> anyhow::Error {
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("permitted") || lower.contains("permission") {
        refused(format!(
            "cannot capture on {interface}: {text}; run as root or give the binary CAP_NET_RAW"
        ))
    } else if lower.contains("no such device") {
        anyhow::anyhow!(
            "cannot capture on {interface}: no such interface in this network namespace \
             (list them with \"ip link\", or use -i any)"
        )
    } else {
        anyhow::anyhow!("cannot capture on {interface}: {text}")
    }
}
