//! What every text parser needs first: the lines a user pasted, cleaned of what is not
//! output (CRLF, comments, shell prompts, Markdown fences and quotes, colour escapes),
//! each kept with its line number; and small token helpers.

use std::net::IpAddr;

use anyhow::{Result, bail};
use ipnetwork::IpNetwork;

use crate::dataplane::{Family, Protocol, RouteType, Scope, Table};

/// One line of output, after cleaning.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    /// 1-based line number in the input.
    pub no: usize,
    /// The text: colour escapes removed, trailing whitespace and trailing comment cut,
    /// leading whitespace kept (continuation lines start with a tab).
    pub text: String,
    /// What the latest shell prompt line above this one asked for (`$ ip -6 route show table 100`).
    pub prompt: std::rc::Rc<Prompt>,
}

impl Line {
    /// The whitespace-separated tokens (runs of spaces and tabs count as one: old iproute2
    /// printed two spaces between fields).
    pub fn tokens(&self) -> Vec<&str> {
        self.text.split_whitespace().collect()
    }

    /// True when the line starts with whitespace (a continuation line in `ip route`).
    pub fn indented(&self) -> bool {
        self.text.starts_with([' ', '\t'])
    }
}

/// What a prompt line (`[root@node ~]# ip -6 route show table 100`) tells about the lines
/// under it: iproute2 leaves out of each line what the command filtered on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Prompt {
    /// The whole command, for messages.
    pub command: Option<String>,
    /// `-4` / `-6` / `-f inet6`.
    pub family: Option<Family>,
    /// `table N` (not `all`): iproute2 does not print the table it filtered on.
    pub table: Option<Table>,
    /// `proto P`: not printed when filtered on.
    pub proto: Option<Protocol>,
    /// `type T`: not printed when filtered on.
    pub kind: Option<RouteType>,
    /// `dev D`: not printed when filtered on.
    pub dev: Option<String>,
    /// `scope S`: not printed when filtered on.
    pub scope: Option<Scope>,
    /// The command does not list routes: `ip route get …` (the kernel's answer for one
    /// address, not a route of the table), `ip route add`, `del`, `flush` ….
    pub not_listing: bool,
}

/// Commands a prompt line may run; anything else after `$ ` still counts as a prompt.
const COMMANDS: &[&str] = &[
    "ip", "route", "netstat", "cat", "bridge", "sysctl", "sudo", "ss", "arp", "less", "more",
    "head", "tail", "grep", "kubectl", "oc", "nsenter", "crictl", "docker", "ssh", "for", "watch",
    "echo", "sort",
];

fn is_command(word: &str) -> bool {
    let base = word.rsplit('/').next().unwrap_or(word);
    COMMANDS.contains(&base)
}

/// If `line` is a shell prompt followed by a command (`$ ip r`, `[root@node ~]# ip route`,
/// `user@host:~$ route -n`, `node1 # cat /proc/net/route`), the command.
pub(crate) fn prompt_command(line: &str) -> Option<&str> {
    let t = line.trim();
    let bytes = t.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'$' && b != b'#' && b != b'%' {
            continue;
        }
        let at_end = i + 1 == bytes.len();
        if !at_end && !bytes[i + 1].is_ascii_whitespace() {
            continue;
        }
        let before = t[..i].trim_end();
        let after = t[i + 1..].trim();
        let bracketed = before.starts_with('[') && before.ends_with(']');
        let prompt_like = before.is_empty()
            || bracketed
            || (!before.contains(char::is_whitespace) && !before.contains('='));
        if !prompt_like {
            return None;
        }
        let first = after.split_whitespace().next().unwrap_or("");
        let hosty =
            before.contains('@') || bracketed || before.ends_with(':') || before.ends_with('~');
        if after.is_empty() {
            return if hosty { Some(after) } else { None };
        }
        if is_command(first) || hosty || (b == b'$' && before.is_empty()) {
            return Some(after);
        }
        return None;
    }
    None
}

/// Read what an `ip … route …` (or `route -6`, `netstat -rn -A inet6`) command filters on.
pub(crate) fn prompt_of(command: &str) -> Prompt {
    let mut p = Prompt {
        command: Some(command.to_string()),
        ..Prompt::default()
    };
    let toks: Vec<&str> = command.split_whitespace().collect();
    let mut i = 0;
    // Skip `sudo`, `ip netns exec NS`, `nsenter … --`.
    while i < toks.len() && !is_ip_or_route(toks[i]) {
        i += 1;
    }
    if i >= toks.len() {
        return p;
    }
    let tool = toks[i].rsplit('/').next().unwrap_or(toks[i]);
    i += 1;
    if tool == "bridge" || (tool == "ip" && !is_route_object(&toks[i..])) {
        // ip link / addr / neigh, bridge fdb: the device filter is what lines leave out.
        for (j, w) in toks[i..].iter().enumerate() {
            match *w {
                "-6" => p.family = Some(Family::Inet6),
                "-4" => p.family = Some(Family::Inet),
                "dev" => p.dev = toks.get(i + j + 1).map(|d| d.to_string()),
                _ => {}
            }
        }
        return p;
    }
    if tool != "ip" {
        // route / netstat: only the family matters.
        for w in &toks[i..] {
            match *w {
                "-6" | "inet6" | "-A6" => p.family = Some(Family::Inet6),
                "-4" | "inet" => p.family = Some(Family::Inet),
                _ => {}
            }
        }
        return p;
    }
    // ip options.
    while i < toks.len() && toks[i].starts_with('-') {
        match toks[i] {
            "-6" => p.family = Some(Family::Inet6),
            "-4" => p.family = Some(Family::Inet),
            "-f" | "-family" | "--family" => {
                match toks.get(i + 1) {
                    Some(&"inet6") => p.family = Some(Family::Inet6),
                    Some(&"inet") => p.family = Some(Family::Inet),
                    _ => {}
                }
                i += 1;
            }
            "-n" | "-netns" | "--netns" | "-b" | "-batch" | "-rc" | "-rcvbuf" => i += 1,
            _ => {}
        }
        i += 1;
    }
    // The object: r, ro, rou, rout, route.
    match toks.get(i) {
        Some(o) if !o.is_empty() && "route".starts_with(*o) => i += 1,
        _ => return p,
    }
    if let Some(v) = toks.get(i) {
        if ["show", "list", "ls", "lst", "sh", "s", "l", "li", "lis"].contains(v) {
            i += 1;
        } else if *v == "get" || *v == "g" || *v == "ge" {
            p.not_listing = true;
            return p;
        } else if !v.contains('.')
            && !v.contains(':')
            && v.chars().all(|c| c.is_ascii_lowercase())
            && ![
                "table", "tab", "vrf", "proto", "protocol", "type", "dev", "oif", "scope", "root",
                "match", "exact", "from", "via", "src", "tos", "dsfield", "realm", "realms", "iif",
                "cache",
            ]
            .contains(v)
        {
            // ip route add / del / flush / monitor …: no output of routes to read.
            return Prompt {
                command: p.command,
                family: p.family,
                not_listing: true,
                ..Prompt::default()
            };
        }
    }
    while i < toks.len() {
        let v = toks.get(i + 1).copied();
        match (toks[i], v) {
            ("table" | "tab" | "vrf", Some(t)) if t != "all" => p.table = Table::parse(t),
            ("proto" | "protocol", Some(t)) => p.proto = Protocol::parse(t),
            ("type", Some(t)) => p.kind = RouteType::parse(t),
            ("dev" | "oif", Some(t)) => p.dev = Some(t.to_string()),
            ("scope", Some(t)) => p.scope = Scope::parse(t),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    p
}

fn is_ip_or_route(word: &str) -> bool {
    let base = word.rsplit('/').next().unwrap_or(word);
    matches!(base, "ip" | "route" | "netstat" | "bridge")
}

/// True when the `ip` arguments (options first) name the route object.
fn is_route_object(args: &[&str]) -> bool {
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') {
        if matches!(
            args[i],
            "-f" | "-family"
                | "--family"
                | "-n"
                | "-netns"
                | "--netns"
                | "-b"
                | "-batch"
                | "-rc"
                | "-rcvbuf"
        ) {
            i += 1;
        }
        i += 1;
    }
    args.get(i)
        .is_some_and(|o| !o.is_empty() && "route".starts_with(*o))
}

/// Remove ANSI colour escapes (`ip -c`, `grep --color`).
fn strip_ansi(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\u{1b}') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // CSI: parameters and intermediates, then one final byte in @..~.
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}

/// Split the input into output lines: CRLF handled, blank lines, comment lines (`#`),
/// Markdown fences, and shell prompt lines dropped (prompts set [`Line::prompt`] for the
/// lines below), `> ` quote markers and colour escapes removed. With `trailing_comments`,
/// ` # …` at the end of a line is cut too.
///
/// Fails on binary input (NUL or other control bytes).
pub(crate) fn clean_lines(input: &str, trailing_comments: bool) -> Result<Vec<Line>> {
    clean(input, trailing_comments, None)
}

/// [`clean_lines`] for a route dump pasted from a ticket: a line with a stray control
/// character (a terminal's bell or backspace, a mangled paste) is skipped with a warning
/// instead of refusing the input, unless most lines have one (binary data).
pub(crate) fn clean_route_lines(input: &str, w: &mut super::Warnings) -> Result<Vec<Line>> {
    clean(input, true, Some(w))
}

fn clean(
    input: &str,
    trailing_comments: bool,
    mut lenient: Option<&mut super::Warnings>,
) -> Result<Vec<Line>> {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut out = Vec::new();
    let mut prompt = std::rc::Rc::new(Prompt::default());
    // Old Mac line endings (a lone CR) count as line breaks too.
    let lone_cr = !input.contains('\n') && input.contains('\r');
    let lines: Vec<&str> = if lone_cr {
        input.split('\r').collect()
    } else {
        input.split('\n').collect()
    };
    let is_odd = |c: char| c.is_control() && !matches!(c, '\t' | '\u{0c}' | '\u{0b}' | '\r');
    let damaged = lines
        .iter()
        .filter(|l| strip_ansi(l).chars().any(is_odd))
        .count();
    let nonblank = lines.iter().filter(|l| !l.trim().is_empty()).count();
    if damaged * 2 > nonblank {
        lenient = None;
    }
    for (idx, raw) in lines.into_iter().enumerate() {
        let no = idx + 1;
        let raw = raw.trim_end_matches('\r');
        let text = strip_ansi(raw);
        if let Some(c) = text
            .chars()
            .find(|c| c.is_control() && !matches!(c, '\t' | '\u{0c}' | '\u{0b}'))
        {
            if let Some(w) = lenient.as_deref_mut() {
                w.skipped_route(
                    no,
                    &text,
                    format!("control character {:#04x} in the line", c as u32),
                    readable_dst(&text),
                );
                continue;
            }
            bail!(
                "line {no}: control character {:#04x}: this looks like binary data, not command output",
                c as u32
            );
        }
        let mut text: &str = &text;
        // Markdown / e-mail quotes: "> 10.0.0.0/8 via …".
        while let Some(rest) = text.trim_start().strip_prefix('>') {
            if rest.is_empty() || rest.starts_with([' ', '\t']) {
                text = rest.strip_prefix(' ').unwrap_or(rest);
            } else {
                break;
            }
        }
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            continue;
        }
        if let Some(cmd) = prompt_command(trimmed) {
            prompt = std::rc::Rc::new(prompt_of(cmd));
            continue;
        }
        if trimmed.starts_with('#') || trimmed.starts_with("//") {
            continue;
        }
        let mut kept = text.trim_end();
        if trailing_comments && let Some(pos) = find_comment(kept) {
            kept = kept[..pos].trim_end();
        }
        out.push(Line {
            no,
            text: kept.to_string(),
            prompt: std::rc::Rc::clone(&prompt),
        });
    }
    Ok(out)
}

/// Where a trailing ` # comment` starts.
fn find_comment(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (1..b.len()).find(|&i| b[i] == b'#' && b[i - 1].is_ascii_whitespace())
}

/// Parse a destination as `ip route` prints it: `default`, a bare address (a host route),
/// or `ADDR/LEN`. `default` needs the family; `None` when the token is not a destination.
pub(crate) fn parse_dst(tok: &str, family: Family) -> Option<IpNetwork> {
    if tok == "default" || tok == "any" || tok == "all" {
        return Some(default_net(family));
    }
    if let Some((a, l)) = tok.split_once('/') {
        let addr: IpAddr = if a == "0" {
            match family {
                Family::Inet => IpAddr::from([0u8; 4]),
                Family::Inet6 => IpAddr::from([0u16; 8]),
            }
        } else {
            a.parse().ok()?
        };
        let len: u8 = l.parse().ok()?;
        return IpNetwork::new(addr, len).ok();
    }
    let addr: IpAddr = tok.parse().ok()?;
    Some(host_net(addr))
}

/// The default route's destination in a family.
pub(crate) fn default_net(family: Family) -> IpNetwork {
    match family {
        Family::Inet => IpNetwork::new(IpAddr::from([0u8; 4]), 0),
        Family::Inet6 => IpNetwork::new(IpAddr::from([0u16; 8]), 0),
    }
    .unwrap_or_else(|_| unreachable!("prefix 0 is valid in both families"))
}

/// A host route's destination (/32 or /128).
pub(crate) fn host_net(addr: IpAddr) -> IpNetwork {
    IpNetwork::from(addr)
}

/// The prefix with its host bits cleared (`10.0.0.5/24` → `10.0.0.0/24`), and whether any
/// were set.
pub(crate) fn normalize(net: IpNetwork) -> (IpNetwork, bool) {
    let n = IpNetwork::new(net.network(), net.prefix()).unwrap_or(net);
    (n, n.ip() != net.ip())
}

/// The destination of a damaged route line, when that part is readable: the first token
/// after `Deleted` and the route type, if it is an address or prefix (`default` needs the
/// family, which a damaged line may not tell: `None`).
pub(crate) fn readable_dst(line: &str) -> Option<IpNetwork> {
    let mut toks = line.split_whitespace().skip_while(|t| *t == "Deleted");
    let mut first = toks.next()?;
    if RouteType::parse(first).is_some() {
        first = toks.next()?;
    }
    if first == "default" || first == "any" || first == "all" || first.starts_with("0/") {
        return None;
    }
    parse_dst(first, Family::Inet).map(|n| normalize(n).0)
}

/// True when the token could start a route line of `ip route` (a type, `default`, an
/// address or prefix).
pub(crate) fn looks_like_dst(tok: &str) -> bool {
    tok == "default"
        || tok.parse::<IpAddr>().is_ok()
        || tok.split_once('/').is_some_and(|(a, l)| {
            (a == "0" || a.parse::<IpAddr>().is_ok()) && l.parse::<u8>().is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_recognised() {
        assert_eq!(prompt_command("$ ip route"), Some("ip route"));
        assert_eq!(prompt_command("[root@node-1 ~]# ip r"), Some("ip r"));
        assert_eq!(prompt_command("user@host:~$ route -n"), Some("route -n"));
        assert_eq!(
            prompt_command("root@k8s-w1:/home/ubuntu# ip -6 route"),
            Some("ip -6 route")
        );
        assert_eq!(prompt_command("# ip -j route"), Some("ip -j route"));
        assert_eq!(prompt_command("[root@node ~]#"), Some(""));
        assert_eq!(prompt_command("10.0.0.0/8 via 10.1.1.1 dev eth0"), None);
        assert_eq!(prompt_command("# just a comment"), None);
        assert_eq!(prompt_command("net.ipv4.ip_forward = 1"), None);
    }

    #[test]
    fn prompt_filters_are_read() {
        let p = prompt_of("sudo ip -6 -d route show table 100 proto bird");
        assert_eq!(p.family, Some(Family::Inet6));
        assert_eq!(p.table, Some(Table(100)));
        assert_eq!(p.proto, Some(Protocol::BIRD));
        let p = prompt_of("ip r s table all");
        assert_eq!(p.table, None);
        let p = prompt_of("ip route show dev eth0 type blackhole");
        assert_eq!(p.dev.as_deref(), Some("eth0"));
        assert_eq!(p.kind, Some(RouteType::Blackhole));
        let p = prompt_of("ip -n node1 r");
        assert_eq!(p.family, None);
        assert_eq!(prompt_of("ip link").table, None);
    }

    #[test]
    fn cleaning() {
        let input = "\u{feff}$ ip -6 route\r\n# a comment\r\n\r\n> default via fe80::1 dev eth0  # gw\r\n```\r\n\u{1b}[32m10.0.0.0/8\u{1b}[0m dev eth0\r\n";
        let lines = clean_lines(input, true).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].no, 4);
        assert_eq!(lines[0].text, "default via fe80::1 dev eth0");
        assert_eq!(lines[0].prompt.family, Some(Family::Inet6));
        assert_eq!(lines[1].text, "10.0.0.0/8 dev eth0");
        let err = clean_lines("abc\n\u{0}\u{1}\u{2}", true).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn destinations() {
        assert_eq!(
            parse_dst("default", Family::Inet6).unwrap().to_string(),
            "::/0"
        );
        assert_eq!(parse_dst("10.0.0.5", Family::Inet).unwrap().prefix(), 32);
        assert_eq!(
            parse_dst("2001:db8::1", Family::Inet).unwrap().prefix(),
            128
        );
        assert!(parse_dst("10.0.0.0/33", Family::Inet).is_none());
        assert!(parse_dst("dev", Family::Inet).is_none());
        let (n, fixed) = normalize("10.0.0.5/24".parse().unwrap());
        assert_eq!((n.to_string().as_str(), fixed), ("10.0.0.0/24", true));
    }
}
