//! The one synchronous NETLINK_ROUTE socket every reader and writer of `crate::netlink`
//! talks through.
//!
//! A netlink socket belongs to the netns it was created in, whatever thread uses it later:
//! [`RtSocket::open_in`] creates one inside another netns on a throwaway thread and hands
//! it back, so the caller's thread never leaves its own netns, and one socket then reads
//! devices, addresses, routes, rules, neighbours and the FDB one after the other on the
//! caller's thread. [`RtSocket::open_in_with`] also runs a little work inside the netns on
//! that same thread (the forwarding sysctls, which the kernel resolves against the reading
//! thread's netns): one visit to the netns per read of a node.
//!
//! Two layers: [`RtSocket::dump_raw`] hands each message of an answer, as raw bytes, to a
//! callback while the datagrams are read (the route dump decodes 100,000 routes this way,
//! with nothing in between); [`RtSocket::dump`] and [`RtSocket::request`] build on it and
//! return parsed [`RouteNetlinkMessage`]s.
//!
//! The socket asks the kernel for strict checking of requests (`NETLINK_GET_STRICT_CHK`,
//! Linux 4.20+) when it can, so dumps can be filtered by the kernel (one routing table);
//! on older kernels the requests still work, unfiltered.

use std::io;

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkDeserializable, NetlinkHeader, NetlinkMessage,
    NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use super::Netns;
use crate::error::refused;

/// A synchronous rtnetlink socket bound to the netns it was created in, with its sequence
/// numbers and a reusable receive buffer.
#[derive(Debug)]
pub struct RtSocket {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
    strict: bool,
    undecodable: Vec<String>,
}

/// The receive buffer to start with: the kernel caps each dump datagram at 32 KiB (larger
/// only for a single larger message, which [`RtSocket`] grows the buffer for).
const RECV_BUF: usize = 64 * 1024;

/// Size of `struct nlmsghdr`.
pub(crate) const NLMSG_HDRLEN: usize = 16;
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

impl RtSocket {
    /// Open a socket in the calling thread's netns.
    pub fn open() -> anyhow::Result<RtSocket> {
        let mut sock = Socket::new(NETLINK_ROUTE)
            .map_err(|e| refused(format!("cannot open a netlink socket: {e}")))?;
        sock.bind_auto()
            .map_err(|e| refused(format!("cannot bind a netlink socket: {e}")))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| os_error("connecting the netlink socket to the kernel", e))?;
        // Kernels before 4.20 lack the option: dumps then come unfiltered, which is fine.
        let strict = sock.set_netlink_get_strict_chk(true).is_ok();
        // Errors without a copy of the failed request (the sequence number names it).
        let _ = sock.set_cap_ack(true);
        let _ = sock.set_ext_ack(true);
        // A larger socket buffer keeps a big dump flowing; failure is harmless.
        let _ = sock.set_rx_buf_sz(1 << 20);
        Ok(RtSocket {
            sock,
            seq: 0,
            buf: Vec::with_capacity(RECV_BUF),
            strict,
            undecodable: Vec::new(),
        })
    }

    /// Open a socket inside `netns` (on a throwaway thread for another netns); the socket
    /// keeps talking to that netns from whichever thread uses it.
    pub fn open_in(netns: &Netns) -> anyhow::Result<RtSocket> {
        netns.run(RtSocket::open)
    }

    /// Open a socket inside `netns` and run `inside` there too, on the same visit (the
    /// same throwaway thread): for what must be read from inside the netns rather than
    /// over netlink, such as /proc/sys/net. An error of `inside` is returned to the
    /// caller as its value, beside the socket.
    pub fn open_in_with<T: Send>(
        netns: &Netns,
        inside: impl FnOnce() -> T + Send,
    ) -> anyhow::Result<(RtSocket, T)> {
        netns.run(|| {
            let sock = RtSocket::open()?;
            Ok((sock, inside()))
        })
    }

    /// Whether the kernel accepted strict checking of requests.
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// Messages the kernel sent that could not be decoded since the last call (each one
    /// described), so callers can say what was skipped.
    pub fn take_undecodable(&mut self) -> Vec<String> {
        std::mem::take(&mut self.undecodable)
    }

    /// Ask for a bigger receive buffer (SO_RCVBUF), e.g. to hold many error answers of a
    /// pipelined batch. Failure is harmless: the kernel keeps its default.
    pub(crate) fn set_rx_buf(&mut self, bytes: usize) {
        let _ = self.sock.set_rx_buf_sz(bytes);
    }

    /// The next sequence number (for requests serialized by the caller).
    pub(crate) fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// A request with the next sequence number and `NLM_F_REQUEST | flags`, finalized.
    pub(crate) fn message(
        &mut self,
        payload: RouteNetlinkMessage,
        flags: u16,
    ) -> NetlinkMessage<RouteNetlinkMessage> {
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.next_seq();
        let mut m = NetlinkMessage::new(header, NetlinkPayload::from(payload));
        m.finalize();
        m
    }

    /// Send one request (`NLM_F_REQUEST | flags`); returns its sequence number.
    pub(crate) fn send(
        &mut self,
        payload: RouteNetlinkMessage,
        flags: u16,
        what: &str,
    ) -> anyhow::Result<u32> {
        let m = self.message(payload, flags);
        let mut bytes = vec![0u8; m.buffer_len()];
        m.serialize(&mut bytes);
        self.send_bytes(&bytes, what)?;
        Ok(m.header.sequence_number)
    }

    /// Send requests the caller serialized (one or many, back to back) in one `sendmsg`.
    pub(crate) fn send_bytes(&mut self, bytes: &[u8], what: &str) -> anyhow::Result<()> {
        loop {
            match self.sock.send(bytes, 0) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(os_error(what, e)),
            }
        }
    }

    /// Read one datagram into the buffer (grown first when the next one is larger).
    fn recv_datagram(&mut self, flags: libc::c_int) -> io::Result<()> {
        // Peek at the size first so a large datagram is never truncated.
        let mut probe = [0u8; NLMSG_HDRLEN];
        let size = loop {
            match self.sock.recv(
                &mut &mut probe[..],
                flags | libc::MSG_PEEK | libc::MSG_TRUNC,
            ) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.buf.clear();
        if self.buf.capacity() < size {
            self.buf.reserve(size);
        }
        loop {
            match self.sock.recv(&mut self.buf, flags) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Receive the answer to request `seq`, handing each message's type and payload to
    /// `each`, until the answer is complete: NLMSG_DONE for a dump; for a single request
    /// its first answer (a message, an acknowledgement or an error). Returns the errno when
    /// the kernel answered with an error.
    ///
    /// When `each` fails (or a message is malformed) in the middle of a dump, the rest of
    /// the dump is still read and dropped, so that the socket can take the next request
    /// (the kernel refuses a new dump while one is unfinished), and then the error is
    /// returned.
    pub(crate) fn receive(
        &mut self,
        seq: u32,
        dump: bool,
        what: &str,
        mut each: impl FnMut(u16, &[u8]) -> anyhow::Result<()>,
    ) -> anyhow::Result<Option<i32>> {
        let mut failed: Option<anyhow::Error> = None;
        loop {
            self.recv_datagram(0).map_err(|e| os_error(what, e))?;
            if self.buf.is_empty() {
                anyhow::bail!(
                    "{what}: the kernel closed the netlink socket in the middle of an answer"
                );
            }
            let mut off = 0;
            while off + NLMSG_HDRLEN <= self.buf.len() {
                let b = &self.buf[off..];
                let len = u32_at(b, 0) as usize;
                let kind = u16::from_ne_bytes([b[4], b[5]]);
                let msg_seq = u32_at(b, 8);
                if len < NLMSG_HDRLEN || len > b.len() {
                    // The rest of this datagram cannot be framed; later ones can.
                    failed.get_or_insert_with(|| {
                        anyhow::anyhow!(
                            "{what}: the kernel sent a malformed netlink message (length {len})"
                        )
                    });
                    break;
                }
                let payload = &b[NLMSG_HDRLEN..len];
                off += (len + 3) & !3;
                if msg_seq != seq {
                    continue;
                }
                match kind {
                    NLMSG_DONE => return finish(failed, None),
                    NLMSG_ERROR => {
                        if payload.len() < 4 {
                            anyhow::bail!("{what}: the kernel sent a truncated netlink error");
                        }
                        let code = u32_at(payload, 0) as i32;
                        return finish(failed, (code != 0).then_some(-code));
                    }
                    NLMSG_NOOP => {}
                    _ => {
                        if failed.is_none() {
                            if let Err(e) = each(kind, payload) {
                                failed = Some(e);
                            }
                        }
                        if !dump {
                            return finish(failed, None);
                        }
                    }
                }
            }
        }
    }

    /// Send a dump request (`NLM_F_DUMP`) and hand each message of the answer, raw (its
    /// type and its payload after the netlink header), to `each` while the datagrams are
    /// read. Returns the errno when the kernel refused. When `each` fails, it is not called
    /// again, the rest of the dump is read and dropped (the kernel refuses a new dump on a
    /// socket while one is unfinished), and its error is returned.
    pub fn dump_raw(
        &mut self,
        payload: RouteNetlinkMessage,
        what: &str,
        each: impl FnMut(u16, &[u8]) -> anyhow::Result<()>,
    ) -> anyhow::Result<Option<i32>> {
        let seq = self.send(payload, NLM_F_DUMP, what)?;
        self.receive(seq, true, what, each)
    }

    /// Send a dump request and collect every message of the answer, parsed. Messages that
    /// cannot be decoded are skipped and described in [`RtSocket::take_undecodable`].
    pub fn dump(
        &mut self,
        payload: RouteNetlinkMessage,
        what: &str,
    ) -> anyhow::Result<Vec<RouteNetlinkMessage>> {
        let mut out = Vec::new();
        let mut undecodable = Vec::new();
        let err = self.dump_raw(payload, what, |kind, bytes| {
            match parse(kind, bytes) {
                Ok(m) => out.push(m),
                Err(e) => undecodable.push(format!("{what}: {e}")),
            }
            Ok(())
        })?;
        self.undecodable.append(&mut undecodable);
        match err {
            None => Ok(out),
            Some(errno) => Err(errno_error(what, errno)),
        }
    }

    /// Send one request and return the kernel's one answer, parsed.
    pub fn request(
        &mut self,
        payload: RouteNetlinkMessage,
        what: &str,
    ) -> anyhow::Result<RouteNetlinkMessage> {
        let seq = self.send(payload, 0, what)?;
        let mut answer = None;
        let err = self.receive(seq, false, what, |kind, bytes| {
            answer = Some(parse(kind, bytes).map_err(|e| anyhow::anyhow!("{what}: {e}"))?);
            Ok(())
        })?;
        if let Some(errno) = err {
            return Err(errno_error(what, errno));
        }
        answer.ok_or_else(|| anyhow::anyhow!("{what}: the kernel sent no answer"))
    }

    /// Send one change with `NLM_F_ACK` and wait for its acknowledgement. `Ok(None)`: done;
    /// `Ok(Some(errno))`: the kernel refused; `Err`: the socket itself failed.
    pub(crate) fn ack(
        &mut self,
        payload: RouteNetlinkMessage,
        flags: u16,
        what: &str,
    ) -> anyhow::Result<Option<i32>> {
        let seq = self.send(payload, flags | NLM_F_ACK, what)?;
        self.receive(seq, false, what, |_, _| Ok(()))
    }

    /// Read the answers already queued, without waiting, and hand `(sequence number,
    /// errno)` of each error to `each` (acknowledgements and other messages are dropped).
    /// For pipelined requests: the kernel processes them inside `sendmsg`, so their
    /// answers are all queued when it returns.
    pub(crate) fn drain_errors(&mut self, mut each: impl FnMut(u32, i32)) -> io::Result<()> {
        loop {
            match self.recv_datagram(libc::MSG_DONTWAIT) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
            let mut off = 0;
            while off + NLMSG_HDRLEN <= self.buf.len() {
                let b = &self.buf[off..];
                let len = u32_at(b, 0) as usize;
                if len < NLMSG_HDRLEN || len > b.len() {
                    break;
                }
                let kind = u16::from_ne_bytes([b[4], b[5]]);
                if kind == NLMSG_ERROR && len >= NLMSG_HDRLEN + 4 {
                    let code = u32_at(b, NLMSG_HDRLEN) as i32;
                    if code != 0 {
                        each(u32_at(b, 8), -code);
                    }
                }
                off += (len + 3) & !3;
            }
        }
    }
}

/// The first error of an answer, or its errno.
fn finish(failed: Option<anyhow::Error>, errno: Option<i32>) -> anyhow::Result<Option<i32>> {
    match failed {
        Some(e) => Err(e),
        None => Ok(errno),
    }
}

/// Parse one message payload of type `kind`.
fn parse(
    kind: u16,
    payload: &[u8],
) -> Result<RouteNetlinkMessage, netlink_packet_core::DecodeError> {
    let mut header = NetlinkHeader::default();
    header.message_type = kind;
    RouteNetlinkMessage::deserialize(&header, payload)
}

/// A native-endian u32 at `at` (the caller checked the length).
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A failed socket call as an error a user can act on (permission problems exit 3); the
/// `io::Error` stays in the chain.
pub(crate) fn os_error(what: &str, e: io::Error) -> anyhow::Error {
    match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => {
            refused(format!("{what}: the kernel said {e}; run as root"))
        }
        _ => anyhow::Error::new(e).context(what.to_string()),
    }
}

/// A kernel errno as an error a user can act on: permission problems exit 3, and so do
/// requests the kernel does not support.
pub(crate) fn errno_error(what: &str, errno: i32) -> anyhow::Error {
    let io = io::Error::from_raw_os_error(errno);
    match errno {
        libc::EPERM | libc::EACCES => refused(format!("{what}: the kernel said {io}; run as root")),
        libc::EOPNOTSUPP | libc::EAFNOSUPPORT => {
            refused(format!("{what}: the kernel does not support this: {io}"))
        }
        _ => anyhow::anyhow!("{what}: the kernel said {io}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_message_by_its_type() {
        use netlink_packet_core::Emitable;
        use netlink_packet_route::link::{LinkAttribute, LinkMessage};
        let mut m = LinkMessage::default();
        m.header.index = 4;
        m.attributes.push(LinkAttribute::IfName("eth0".into()));
        let mut bytes = vec![0u8; m.buffer_len()];
        m.emit(&mut bytes);
        let RouteNetlinkMessage::NewLink(back) = parse(16, &bytes).unwrap() else {
            panic!("not a link message");
        };
        assert_eq!(back, m);
        assert!(parse(16, &bytes[..3]).is_err());
    }

    /// A dump whose callback fails reports that error, is not called again, and the
    /// socket still takes the next request. Reads the devices of the test's own netns and
    /// changes nothing (the many-datagram case, where the kernel would answer EBUSY
    /// without the drain, is in tests/privileged/netlink.rs).
    #[test]
    fn a_failed_callback_leaves_the_socket_usable() {
        use netlink_packet_route::link::LinkMessage;
        let mut sock = RtSocket::open().unwrap();
        let mut seen = 0;
        let err = sock
            .dump_raw(
                RouteNetlinkMessage::GetLink(LinkMessage::default()),
                "listing links",
                |_, _| {
                    seen += 1;
                    anyhow::bail!("stop here")
                },
            )
            .unwrap_err();
        assert_eq!(err.to_string(), "stop here");
        assert_eq!(seen, 1);
        for _ in 0..2 {
            let links = sock.links().unwrap();
            assert!(links.iter().any(|l| l.name == "lo"), "{links:?}");
        }
        assert!(sock.take_undecodable().is_empty());
    }

    #[test]
    fn errors_keep_permission_problems_apart() {
        let e = errno_error("listing links", libc::EPERM);
        assert_eq!(crate::error::exit_code(&e), 3, "{e:#}");
        let e = errno_error("listing links", libc::ENOENT);
        assert_eq!(crate::error::exit_code(&e), 2);
        assert!(format!("{e:#}").contains("listing links"));
    }
}
