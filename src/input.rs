//! Opening the files netpath is given, one way for every input: a file where a file is
//! meant must be a regular file (a FIFO, `/dev/zero`, a directory or a symlink to one is
//! refused with a sentence, never read forever or waited on), and what is read whole is
//! read up to a stated limit. Standard input (`-`) is read up to the same limit.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use anyhow::{Context, bail};

/// The largest input read whole: cluster dumps (a 5,000-node, 150,000-pod kubectl dump is
/// 346 MB), snapshots, plans, route dumps.
pub const MAX_DOCUMENT: u64 = 1 << 30;

/// The largest route dump (`routes --from`, also standard input): 100,000 routes of `ip
/// route` text are about 8 MB.
pub const MAX_DUMP: u64 = 256 << 20;

/// The largest small file read whole: keys, certificates, configuration snippets.
pub const MAX_SMALL: u64 = 16 << 20;

/// Open `path` for reading, refusing anything but a regular file (after symlinks). A FIFO
/// is opened without waiting for a writer, then refused.
pub fn open(path: &Path, what: &str) -> anyhow::Result<File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .with_context(|| format!("cannot read {} ({what})", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {} ({what})", path.display()))?;
    let ft = meta.file_type();
    if !ft.is_file() {
        bail!(
            "{what} {} is {}, not a regular file",
            path.display(),
            kind_of(&ft)
        );
    }
    // Back to blocking reads (a regular file never blocks; this keeps later reads plain).
    blocking(&file);
    Ok(file)
}

/// Open `path` for reading without waiting (a FIFO opens at once) and say what it is; the
/// descriptor is back in blocking mode. For inputs that may be streams (captures).
pub fn open_any(path: &Path, what: &str) -> anyhow::Result<(File, std::fs::Metadata)> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .with_context(|| format!("cannot read {} ({what})", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {} ({what})", path.display()))?;
    blocking(&file);
    Ok((file, meta))
}

fn blocking(file: &File) {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: F_GETFL/F_SETFL on a descriptor the caller owns.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags != -1 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
}

/// Memory-map an open regular file read-only, named `name` in messages, with the same
/// SIGBUS guard as [`map`].
pub fn map_file(file: &File, name: &str) -> anyhow::Result<memmap2::Mmap> {
    // SAFETY: the map is read-only; truncation by another process is caught by the SIGBUS
    // handler (a message and exit, never undefined reads).
    let map = unsafe { memmap2::MmapOptions::new().map(file) }
        .with_context(|| format!("cannot memory-map {name}"))?;
    bus::watch(&map, name);
    Ok(map)
}

/// Memory-map a regular file read-only. If another program truncates it while it is
/// mapped (tcpdump's `-C`/`-W` ring files do), reading past the new end raises SIGBUS: the
/// handler installed here then says which file shrank and exits 2, instead of the process
/// dying by the signal without a word.
pub fn map(path: &Path, what: &str) -> anyhow::Result<memmap2::Mmap> {
    let file = open(path, what)?;
    map_file(&file, &format!("{what} {}", path.display()))
}

/// The SIGBUS handler for mapped inputs.
mod bus {
    use std::sync::Once;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Mapped ranges and their names (the last few; a message needs only the one hit).
    const SLOTS: usize = 8;
    static START: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static END: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static NAME_PTR: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static NAME_LEN: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    static INSTALL: Once = Once::new();

    pub fn watch(map: &memmap2::Mmap, name: &str) {
        INSTALL.call_once(install);
        let i = NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS;
        let start = map.as_ptr() as usize;
        // The name lives as long as the process (a few bytes per mapped input), so the
        // handler can read it without locking.
        let name: &'static [u8] = Box::leak(name.as_bytes().into());
        NAME_PTR[i].store(name.as_ptr() as usize, Ordering::Relaxed);
        NAME_LEN[i].store(name.len(), Ordering::Relaxed);
        START[i].store(start, Ordering::Relaxed);
        END[i].store(start + map.len(), Ordering::Relaxed);
    }

    fn install() {
        // SAFETY: a plain sigaction with an async-signal-safe handler.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = handler as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut());
        }
    }

    fn say(bytes: &[u8]) {
        // SAFETY: write(2) is async-signal-safe.
        unsafe {
            libc::write(2, bytes.as_ptr().cast(), bytes.len());
        }
    }

    extern "C" fn handler(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
        let addr = unsafe { (*info).si_addr() } as usize;
        say(b"netpath: ");
        let hit = (0..SLOTS).find(|&i| {
            (START[i].load(Ordering::Relaxed)..END[i].load(Ordering::Relaxed)).contains(&addr)
        });
        match hit {
            Some(i) => {
                let (ptr, len) = (
                    NAME_PTR[i].load(Ordering::Relaxed),
                    NAME_LEN[i].load(Ordering::Relaxed),
                );
                // SAFETY: ptr/len describe a leaked, never-freed byte string.
                say(unsafe { std::slice::from_raw_parts(ptr as *const u8, len) });
            }
            None => say(b"a memory-mapped input"),
        }
        say(b" shrank while it was being read (another program truncated it, as tcpdump -C/-W does with ring files); read a copy, or feed it through standard input\n");
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(2) }
    }
}

/// The deepest nesting accepted in a cluster file (real ones are a few levels deep).
pub const MAX_DEPTH: usize = 100;

/// Refuse text nested deeper than `limit`: flow brackets (`[`, `{`) outside quotes, and
/// YAML block nesting (a line's indentation, or a run of `- ` before its first item). Linear
/// time; parsers that take time quadratic in the depth are never handed such input.
pub fn check_depth(text: &[u8], limit: usize) -> anyhow::Result<()> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    let mut line_start = true;
    let mut indent = 0usize;
    let mut dashes = 0usize;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if b == b'\\' && q == b'"' {
                escaped = true;
            } else if b == q || b == b'\n' && q == b'\'' {
                quote = None;
            }
            i += 1;
            continue;
        }
        if line_start {
            match b {
                b' ' => indent += 1,
                b'-' if text.get(i + 1) == Some(&b' ') => {
                    dashes += 1;
                    indent += 2;
                    i += 1;
                }
                _ => line_start = false,
            }
            if dashes > limit || indent > 8 * limit {
                bail!(
                    "nested more than {limit} levels deep (YAML block nesting): not a cluster file"
                );
            }
        }
        match b {
            b'\n' => {
                line_start = true;
                indent = 0;
                dashes = 0;
            }
            b'"' | b'\'' => quote = Some(b),
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    bail!("nested more than {limit} levels deep: not a cluster file");
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// What a non-regular file is, in words.
pub fn kind_of(ft: &std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Read a regular file whole, up to `limit` bytes.
pub fn read(path: &Path, what: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
    let file = open(path, what)?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len > limit {
        bail!(
            "{what} {} is {}, over the limit of {} for one input",
            path.display(),
            size(len),
            size(limit)
        );
    }
    read_bounded(file, limit, &format!("{what} {}", path.display()))
}

/// Read a regular file whole as UTF-8 text, up to `limit` bytes.
pub fn read_to_string(path: &Path, what: &str, limit: u64) -> anyhow::Result<String> {
    let bytes = read(path, what, limit)?;
    String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("{what} {} is not UTF-8 text: {e}", path.display()))
}

/// Read standard input whole, up to `limit` bytes.
pub fn read_stdin(what: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
    read_bounded(
        io::stdin().lock(),
        limit,
        &format!("{what} on standard input"),
    )
}

/// `path`, or standard input when it is `-`, read whole up to `limit`.
pub fn read_path_or_stdin(path: &Path, what: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        read_stdin(what, limit)
    } else {
        read(path, what, limit)
    }
}

/// Read `r` to its end, failing past `limit` bytes (a stream without end, like
/// `/dev/zero`, stops there).
pub fn read_bounded(r: impl Read, limit: u64, name: &str) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {name}"))?;
    if buf.len() as u64 > limit {
        bail!(
            "{name} goes on past {}, the limit for one input: is it the right file?",
            size(limit)
        );
    }
    Ok(buf)
}

/// `1 GiB`, `16 MiB`, `512 bytes`.
pub fn size(n: u64) -> String {
    if n >= 1 << 30 && n % (1 << 30) == 0 {
        format!("{} GiB", n >> 30)
    } else if n >= 1 << 20 {
        format!("{:.0} MiB", n as f64 / f64::from(1 << 20))
    } else if n >= 1 << 10 {
        format!("{:.0} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_directories_are_refused_at_once() {
        let e = read(Path::new("/dev/zero"), "cluster file", MAX_DOCUMENT).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let e = read(dir.path(), "plan", MAX_DOCUMENT).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a path in a fresh temporary directory.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read(&fifo, "plan", MAX_DOCUMENT).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/dev/urandom", &link).unwrap();
        let e = read(&link, "plan", MAX_DOCUMENT).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused_in_linear_time() {
        let deep = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        let t = std::time::Instant::now();
        assert!(check_depth(deep.as_bytes(), MAX_DEPTH).is_err());
        assert!(check_depth("- ".repeat(100_000).as_bytes(), MAX_DEPTH).is_err());
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        check_depth(
            b"nodes:\n  - name: \"a[[[[\"\n    pods: [{x: 1}]\n",
            MAX_DEPTH,
        )
        .unwrap();
    }

    #[test]
    fn reads_stop_at_the_limit() {
        let e = read_bounded(io::repeat(0), 1 << 20, "standard input").unwrap_err();
        assert!(e.to_string().contains("1 MiB"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("big");
        std::fs::write(&f, vec![b'x'; 2048]).unwrap();
        assert!(read(&f, "file", 1024).is_err());
        assert_eq!(read(&f, "file", 4096).unwrap().len(), 2048);
    }
}
