//! Standard output, checked: the one way commands write to it.
//!
//! Every write error becomes an error the command returns (`cannot write to standard
//! output: …`, exit 2) instead of a panic inside `print!`; a closed stdout (`>&-`), which
//! the standard library silently ignores, is reported the same way; and a reader that went
//! away (`| head -1`) is recognised by [`is_closed_pipe`] so `main` can end quietly.
//!
//! Text written through [`Stdout`] (not [`Stdout::raw`]) has its control characters escaped
//! ([`escape`]): names read from input (a node called `\x1b]52;c;…`) never reach the terminal
//! raw. The colour sequences netpath itself writes (`ESC [ … m`) pass when colour is on.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// A write to standard output failed; wraps the OS error so `main` can tell it apart.
#[derive(Debug)]
pub struct StdoutError(pub io::Error);

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

/// True when `err` is a write to standard output whose reader has gone (EPIPE): the
/// command should end quietly, as `cat` or `rg` do under `| head`.
pub fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let inner = cause
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|e| e.downcast_ref::<StdoutError>())
            .or_else(|| cause.downcast_ref::<StdoutError>());
        inner.is_some_and(|e| e.0.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// True when `err` is a failed write to standard output (any cause).
pub fn is_stdout_error(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<StdoutError>().is_some()
            || cause
                .downcast_ref::<io::Error>()
                .and_then(|io| io.get_ref())
                .is_some_and(|e| e.is::<StdoutError>())
    })
}

fn wrap(e: io::Error) -> io::Error {
    if e.get_ref().is_some_and(|inner| inner.is::<StdoutError>()) {
        return e;
    }
    io::Error::new(e.kind(), StdoutError(e))
}

/// Set when the process started with file descriptor 1 closed.
static STARTED_CLOSED: AtomicBool = AtomicBool::new(false);

/// Record that the process started with standard output closed (`>&-`). The binary calls
/// this from a constructor that runs before the standard library reopens a closed fd 1 on
/// /dev/null, after which the two could not be told apart.
pub fn mark_started_closed() {
    STARTED_CLOSED.store(true, Ordering::Relaxed);
}

/// Whether standard output was closed: writes would go nowhere.
fn closed() -> bool {
    static CLOSED: OnceLock<bool> = OnceLock::new();
    *CLOSED.get_or_init(|| {
        // SAFETY: F_GETFD only queries the descriptor's flags.
        STARTED_CLOSED.load(Ordering::Relaxed) || unsafe { libc::fcntl(1, libc::F_GETFD) } == -1
    })
}

fn closed_error() -> io::Error {
    wrap(io::Error::other("it is closed"))
}

/// Print `text` to standard output, control characters escaped.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = Stdout::text();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Print raw bytes (help, JSON, a pcap stream) to standard output, checked.
pub fn print_raw(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = Stdout::raw();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// Standard output with checked writes; text mode escapes control characters.
pub struct Stdout {
    inner: io::StdoutLock<'static>,
    escaper: Option<Escaper>,
}

impl Stdout {
    /// Text for people: control characters from input escaped.
    pub fn text() -> Stdout {
        Stdout {
            inner: io::stdout().lock(),
            escaper: Some(Escaper::new(
                colored::control::SHOULD_COLORIZE.should_colorize(),
            )),
        }
    }

    /// [`Stdout::raw`] for JSON, [`Stdout::text`] otherwise.
    pub fn for_json(json: bool) -> Stdout {
        if json { Stdout::raw() } else { Stdout::text() }
    }

    /// Bytes as they are (JSON escapes by itself; pcap is binary).
    pub fn raw() -> Stdout {
        Stdout {
            inner: io::stdout().lock(),
            escaper: None,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if closed() {
            return Err(closed_error());
        }
        let res = match &mut self.escaper {
            None => self.inner.write_all(buf),
            Some(esc) => esc.write(buf, &mut self.inner),
        };
        res.map_err(wrap)
    }

    fn flush(&mut self) -> io::Result<()> {
        if closed() {
            return Err(closed_error());
        }
        if let Some(esc) = &mut self.escaper {
            esc.finish(&mut self.inner).map_err(wrap)?;
        }
        self.inner.flush().map_err(wrap)
    }
}

impl Drop for Stdout {
    fn drop(&mut self) {
        if let Some(esc) = &mut self.escaper {
            let _ = esc.finish(&mut self.inner);
        }
    }
}

/// Is this byte a C0 control (or DEL) that must not reach a terminal raw?
#[inline]
fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f
}

/// Could this byte start something to escape (a C0 control, DEL, or the lead byte of a
/// UTF-8 encoded C1 control U+0080..U+009F)?
#[inline]
fn is_suspect(b: u8) -> bool {
    is_control(b) || b == 0xc2
}

/// The index of the first byte [`is_suspect`] (or the length): 32 bytes at a time, in a
/// loop the compiler vectorises, so clean text costs next to nothing.
fn first_suspect(buf: &[u8]) -> usize {
    let mut i = 0;
    for chunk in buf.chunks_exact(32) {
        let mut any = false;
        for &b in chunk {
            any |= is_suspect(b);
        }
        if any {
            break;
        }
        i += 32;
    }
    buf[i..]
        .iter()
        .position(|&b| is_suspect(b))
        .map_or(buf.len(), |p| p + i)
}

/// Print one diagnostic line (a warning, a note, a summary) on standard error, as every
/// diagnostic of netpath is printed: credentials in URLs redacted and control characters
/// escaped, so a name read from input cannot drive the terminal. A failed write to stderr is
/// ignored: there is nowhere left to report it, and `eprintln!` would panic instead
/// (`2>/dev/full`). Use it through the [`diag!`](crate::diag) macro.
pub fn diag(args: fmt::Arguments<'_>) {
    let text = args.to_string();
    let text = crate::etcd::redact(&text);
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{}", escape(&text));
}

/// `eprintln!` for netpath's diagnostics: formats its arguments and prints them with
/// [`render::out::diag`](crate::render::out::diag) (redacted, escaped, never a panic).
#[macro_export]
macro_rules! diag {
    ($($arg:tt)*) => {
        $crate::render::out::diag(format_args!($($arg)*))
    };
}

/// Escape control characters in `s`: C0 controls other than newline and tab, DEL and C1
/// controls become `\x1b`-style text (C1: `\u{9b}`). Borrowed when there is nothing to do.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_control_char(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Like [`escape`], for a single-line field: newlines and tabs are escaped too.
pub fn escape_line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control()) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_control_char(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let n = u32::from(c);
    if n < 0x80 {
        let _ = write!(out, "\\x{n:02x}");
    } else {
        let _ = write!(out, "\\u{{{n:x}}}");
    }
}

/// The streaming form of [`escape`], which keeps netpath's own colour sequences when
/// colour is on. State carries over between writes (a sequence may be split by a buffer).
struct Escaper {
    color: bool,
    /// Bytes held back: an incomplete escape sequence, or a 0xc2 lead byte.
    pending: Vec<u8>,
}

impl Escaper {
    fn new(color: bool) -> Escaper {
        Escaper {
            color,
            pending: Vec::new(),
        }
    }

    fn write(&mut self, mut buf: &[u8], out: &mut impl Write) -> io::Result<()> {
        while !buf.is_empty() {
            if !self.pending.is_empty() {
                let b = buf[0];
                buf = &buf[1..];
                self.step_pending(b, out)?;
                continue;
            }
            // Fast path: everything up to the next suspect byte goes out as it is.
            let clean = first_suspect(buf);
            if clean > 0 {
                out.write_all(&buf[..clean])?;
                buf = &buf[clean..];
                continue;
            }
            let b = buf[0];
            buf = &buf[1..];
            if (b == 0x1b && self.color) || b == 0xc2 {
                self.pending.push(b);
            } else {
                write_escaped_byte(b, out)?;
            }
        }
        Ok(())
    }

    /// One more byte after held-back bytes.
    fn step_pending(&mut self, b: u8, out: &mut impl Write) -> io::Result<()> {
        if self.pending[0] == 0xc2 {
            self.pending.clear();
            if (0x80..=0x9f).contains(&b) {
                return write!(out, "\\u{{{b:x}}}");
            }
            out.write_all(&[0xc2])?;
            return self.write(&[b], out);
        }
        // An escape sequence: ESC [ digits/semicolons m is a colour; anything else is not.
        self.pending.push(b);
        let seq = &self.pending[1..];
        let complete_sgr = seq.len() >= 2
            && seq[0] == b'['
            && *seq.last().unwrap_or(&0) == b'm'
            && seq[1..seq.len() - 1]
                .iter()
                .all(|&c| c.is_ascii_digit() || c == b';');
        let partial_sgr = seq[0] == b'['
            && seq[1..].iter().all(|&c| c.is_ascii_digit() || c == b';')
            && seq.len() < 32;
        if complete_sgr {
            out.write_all(&self.pending)?;
            self.pending.clear();
        } else if !partial_sgr {
            self.flush_pending_escaped(out)?;
        }
        Ok(())
    }

    fn flush_pending_escaped(&mut self, out: &mut impl Write) -> io::Result<()> {
        let held = std::mem::take(&mut self.pending);
        if held.first() == Some(&0x1b) {
            write_escaped_byte(0x1b, out)?;
            // The rest is written through the escaper again (it may hold controls).
            return self.write(&held[1..], out);
        }
        out.write_all(&held)
    }

    fn finish(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.flush_pending_escaped(out)
    }
}

fn write_escaped_byte(b: u8, out: &mut impl Write) -> io::Result<()> {
    write!(out, "\\x{b:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(color: bool, parts: &[&[u8]]) -> String {
        let mut esc = Escaper::new(color);
        let mut out = Vec::new();
        for p in parts {
            esc.write(p, &mut out).unwrap();
        }
        esc.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escape_turns_terminal_controls_into_text() {
        assert_eq!(escape("node-1"), "node-1");
        assert_eq!(escape("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape("\x1b]52;c;aGk=\x07"), "\\x1b]52;c;aGk=\\x07");
        assert_eq!(escape("a\nb\tc"), "a\nb\tc");
        assert_eq!(escape("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape_line("a\nb"), "a\\x0ab");
    }

    #[test]
    fn stream_escapes_without_colour_and_keeps_colour_sequences_with_it() {
        assert_eq!(stream(false, &[b"x\x1b[31my"]), "x\\x1b[31my");
        assert_eq!(stream(true, &[b"x\x1b[31my\x1b[0m"]), "x\x1b[31my\x1b[0m");
        // Split across writes, still recognised.
        assert_eq!(stream(true, &[b"x\x1b", b"[3", b"1my"]), "x\x1b[31my");
        // A screen clear or OSC 52 is not a colour: escaped even with colour on.
        assert_eq!(stream(true, &[b"\x1b[2J"]), "\\x1b[2J");
        assert_eq!(
            stream(true, &[b"\x1b]52;c;aGk=\x07 ok"]),
            "\\x1b]52;c;aGk=\\x07 ok"
        );
        assert_eq!(stream(false, &["\u{9b}é\n".as_bytes()]), "\\u{9b}é\n");
        assert_eq!(stream(false, &[b"\xc2", b"\x9b"]), "\\u{9b}");
        // Trailing held bytes are not lost.
        assert_eq!(stream(true, &[b"a\x1b["]), "a\\x1b[");
    }
}
