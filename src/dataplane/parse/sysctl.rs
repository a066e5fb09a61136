//! `sysctl -a` (or `sysctl net.ipv4 …`), and `grep . /proc/sys/net/ipv4/conf/*/rp_filter`
//! (`/proc/sys/net/ipv4/conf/all/rp_filter:1`), into the sysctls that decide forwarding.
//!
//! sysctl prints a device name's dots as slashes (`net.ipv4.conf.flannel/1.rp_filter`); they
//! are turned back into dots. Other keys are ignored.

use anyhow::{Result, anyhow};

use super::Warnings;
use super::text::clean_lines;
use crate::dataplane::Sysctls;

/// Read sysctl output into [`Sysctls`], with warnings.
pub fn parse_sysctls(input: &str) -> Result<(Sysctls, Vec<String>)> {
    let mut w = Warnings::default();
    let s = sysctls_in(input, &mut w)?;
    Ok((s, w.finish()))
}

fn flag(no: usize, key: &str, v: &str) -> Result<bool> {
    match v {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => match v.parse::<i64>() {
            Ok(n) => Ok(n != 0),
            Err(_) => Err(anyhow!("line {no}: {key} = {v:?} is not a number")),
        },
    }
}

pub(crate) fn sysctls_in(input: &str, w: &mut Warnings) -> Result<Sysctls> {
    let mut s = Sysctls::default();
    let mut seen = 0usize;
    for line in clean_lines(input, false)? {
        let no = line.no;
        let text = line.text.trim();
        // "key = value", "key=value", or "/proc/sys/path:value".
        let (key, value, path_form) = if let Some(rest) = text.strip_prefix("/proc/sys/") {
            match rest.split_once(':') {
                Some((k, v)) => (k.replace('/', "\u{0}"), v.trim().to_string(), true),
                None => {
                    w.skipped(no, text);
                    continue;
                }
            }
        } else {
            match text.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() && !k.trim().contains(' ') => {
                    (k.trim().replace('.', "\u{0}"), v.trim().to_string(), false)
                }
                _ => {
                    w.skipped(no, text);
                    continue;
                }
            }
        };
        // Split on the separator, then give a device name its dots back.
        let parts: Vec<String> = key
            .split('\u{0}')
            .map(|p| {
                if path_form {
                    p.to_string()
                } else {
                    p.replace('/', ".")
                }
            })
            .collect();
        let p: Vec<&str> = parts.iter().map(String::as_str).collect();
        let v = value.as_str();
        match p.as_slice() {
            ["net", "ipv4", "ip_forward"] => s.ip_forward = Some(flag(no, "ip_forward", v)?),
            ["net", "ipv6", "conf", "all", "forwarding"] => {
                s.ipv6_forwarding = Some(flag(no, "ipv6 forwarding", v)?)
            }
            ["net", "ipv4", "conf", dev, "forwarding"] => {
                s.forwarding
                    .insert(dev.to_string(), flag(no, "forwarding", v)?);
            }
            ["net", "ipv4", "conf", dev, "rp_filter"] => {
                let n: u8 = v
                    .parse()
                    .map_err(|_| anyhow!("line {no}: rp_filter = {v:?} is not 0, 1 or 2"))?;
                s.rp_filter.insert(dev.to_string(), n);
            }
            ["net", "ipv4", "conf", dev, "proxy_arp"] => {
                s.proxy_arp
                    .insert(dev.to_string(), flag(no, "proxy_arp", v)?);
            }
            _ => {}
        }
        seen += 1;
    }
    // net.ipv4.ip_forward and net.ipv4.conf.all.forwarding are one knob in the kernel.
    if s.ip_forward.is_none() {
        s.ip_forward = s.forwarding.get("all").copied();
    }
    if seen == 0 {
        return Err(anyhow!(
            "no sysctl lines (expected `key = value` as `sysctl -a` prints them)"
        ));
    }
    Ok(s)
}
