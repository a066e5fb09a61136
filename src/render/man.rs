//! Man pages in roff: what clap_mangen makes of a command's definition, with the sections
//! it cannot know (EXIT STATUS, ENVIRONMENT, EXAMPLES, SEE ALSO).

use std::io::Write;

use clap_mangen::Man;

/// The man page of `cmd`, titled `title`; `name` is the subcommand it documents (`None`
/// for netpath itself, whose SEE ALSO lists `pages`).
pub fn page(
    cmd: &clap::Command,
    title: &str,
    name: Option<&str>,
    pages: &[&str],
) -> std::io::Result<Vec<u8>> {
    let man = Man::new(cmd.clone()).title(title.to_uppercase());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    if cmd.get_subcommands().next().is_some() {
        man.render_subcommands_section(&mut out)?;
    }
    if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
        man.render_extra_section(&mut out)?;
    }
    write_exit_status(&mut out, name)?;
    write_environment(&mut out, cmd)?;
    write_examples(&mut out, name)?;
    write_see_also(&mut out, name, pages)?;
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// Text for roff: backslashes escaped, hyphens kept literal, and a line that would start
/// with a control character (`.` or `'`) guarded.
fn roff_text(s: &str) -> String {
    let escaped = s.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// A section heading.
fn section(out: &mut Vec<u8>, name: &str) -> std::io::Result<()> {
    writeln!(out, ".SH \"{name}\"")
}

/// A tagged paragraph: `tag` in bold, then `text`.
fn item(out: &mut Vec<u8>, tag: &str, text: &str) -> std::io::Result<()> {
    writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff_text(tag), roff_text(text))
}

/// What exit 1 means for each command (the other codes are the same everywhere).
fn problem_means(command: Option<&str>) -> &'static str {
    match command {
        Some("routes") => {
            "`routes get`: the address is not routable (no route, a reject route, or the kernel refused the lookup)."
        }
        Some("pods") => "A leaked veth, a dead sandbox or another leftover was found.",
        Some("trace") => {
            "The packet or its reply is not delivered (either direction; with --all, any pair)."
        }
        Some("check") => "The node differs from its plan (a finding of severity error or warning).",
        Some("agent") => {
            "With --dry-run: there is something to change; otherwise the node still differs from its plan after the changes."
        }
        Some("leases") => "A finding about the leases: a conflict, an overlap, an expired lease.",
        Some("decode" | "capture") => {
            "Not used: decoding problems are reported in the output and exit 0."
        }
        Some(_) => "Not used by this command.",
        None => {
            "The diagnosis found a problem: a dropped packet, a drift from the plan, a leaked veth."
        }
    }
}

fn write_exit_status(out: &mut Vec<u8>, command: Option<&str>) -> std::io::Result<()> {
    section(out, "EXIT STATUS")?;
    item(out, "0", "All good.")?;
    item(out, "1", problem_means(command))?;
    item(
        out,
        "2",
        "Bad usage or bad input: an unknown flag, a file that cannot be parsed, an unknown pod.",
    )?;
    item(
        out,
        "3",
        "The environment refused: no permission, no such network namespace, a kernel without a feature, an API server that cannot be reached.",
    )
}

/// The environment variables a command reads: the ones every command reads, and those
/// its flags take defaults from.
fn write_environment(out: &mut Vec<u8>, cmd: &clap::Command) -> std::io::Result<()> {
    section(out, "ENVIRONMENT")?;
    item(
        out,
        "NO_COLOR",
        "When set and not empty, --color auto never colours.",
    )?;
    item(
        out,
        "KUBECONFIG",
        "The kubeconfig files (colon-separated, merged as kubectl merges them) used when no --kubeconfig is given and the cluster is read from the Kubernetes API.",
    )?;
    let mut flags: Vec<(String, String)> = cmd
        .get_arguments()
        .filter_map(|a| {
            let env = a.get_env()?.to_string_lossy().into_owned();
            let flag = a.get_long()?;
            Some((env, format!("The default of --{flag}.")))
        })
        .collect();
    flags.sort();
    flags.dedup();
    for (env, text) in flags {
        item(out, &env, &text)?;
    }
    if cmd
        .get_arguments()
        .any(|a| a.get_long() == Some("local-time"))
    {
        item(
            out,
            "TZ",
            "The time zone --local-time shows times in (else /etc/localtime).",
        )?;
    }
    Ok(())
}

/// Examples, as (what it does, the command line).
fn examples(command: Option<&str>) -> &'static [(&'static str, &'static str)] {
    match command {
        None => &[
            (
                "Trace a pod-to-pod packet on a built-in demo cluster:",
                "netpath trace --cluster demo:flannel-vxlan default/web-0 default/db-0",
            ),
            (
                "Trace two pods of the current kubeconfig context:",
                "netpath trace web-0 db-0",
            ),
            (
                "The man page of one command:",
                "netpath man trace | man -l -",
            ),
        ],
        Some("routes") => &[
            ("The main table, explained:", "netpath routes"),
            (
                "Every table of a pod's namespace:",
                "netpath routes --table all --netns /proc/1234/ns/net",
            ),
            (
                "Routes from a dump taken on a broken node:",
                "netpath routes --from ip-route.txt",
            ),
            (
                "Which route wins for a packet that arrives from a pod (a forwarding lookup needs a source):",
                "netpath routes get 10.244.2.7 --iif cni0 --from 10.244.1.5",
            ),
        ],
        Some("pods") => &[
            ("Map every host veth to its pod:", "netpath pods"),
            (
                "From inside a container that sees the host's /proc:",
                "netpath pods --proc /host/proc --json",
            ),
        ],
        Some("decode") => &[
            ("One line per packet:", "netpath decode capture.pcap"),
            (
                "Every layer of the VXLAN packets of Flannel:",
                "netpath decode capture.pcap --filter 'udp port 8472' --tree",
            ),
            (
                "Counts per node pair and flow:",
                "netpath decode capture.pcap --stats",
            ),
            (
                "Read tcpdump's output as it is written:",
                "tcpdump -i eth0 -w - | netpath decode -",
            ),
        ],
        Some("capture") => &[
            (
                "Twenty packets of Flannel's VXLAN on eth0:",
                "netpath capture -i eth0 -f 'udp port 8472' -c 20",
            ),
            (
                "Inside a pod's namespace, keeping the packets:",
                "netpath capture -i eth0 --netns /proc/1234/ns/net -w pod.pcap",
            ),
        ],
        Some("trace") => &[
            (
                "A request and its reply through Flannel VXLAN:",
                "netpath trace --cluster demo:flannel-vxlan default/web-0 default/db-0",
            ),
            (
                "Every node pair, both ways:",
                "netpath trace --all --cluster demo:calico-bgp-routed",
            ),
            (
                "Through the real tables of the nodes that have a snapshot:",
                "netpath trace web-0 db-0 --cluster cluster.json --snapshot snapshots/",
            ),
            (
                "UDP to a port, 1,450 bytes:",
                "netpath trace web-0 db-0 --proto udp --dport 53 --size 1450",
            ),
        ],
        Some("plan") => &[(
            "What node-2 should have, as ip commands:",
            "netpath plan --cluster demo:flannel-vxlan --node node-2",
        )],
        Some("demo") => &[
            ("The demo clusters:", "netpath demo"),
            (
                "A demo's cluster file, to start your own:",
                "netpath demo flannel-vxlan > cluster.yaml",
            ),
        ],
        Some("snapshot") => &[
            ("This node, to a file:", "netpath snapshot -o node-1.json"),
            (
                "From text dumps (ip route, ip -d link, ...) or a sosreport:",
                "netpath snapshot --from-dir dumps/node-1",
            ),
        ],
        Some("check") => &[
            (
                "This node against its plan:",
                "netpath check --cluster cluster.json --node node-1",
            ),
            (
                "Every node with a snapshot, offline:",
                "netpath check --cluster cluster.json --snapshot snapshots/",
            ),
        ],
        Some("agent") => &[
            (
                "What the agent would change, without changing it:",
                "netpath agent --cluster cluster.json --node node-1 --dry-run",
            ),
            (
                "Keep the node reconciled:",
                "netpath agent --cluster cluster.json --node node-1 --watch --interval 30s",
            ),
        ],
        Some("leases") => &[
            (
                "Flannel's leases:",
                "netpath leases --etcd-endpoints https://10.0.0.1:2379",
            ),
            (
                "Follow them:",
                "netpath leases --etcd-endpoints https://10.0.0.1:2379 --watch",
            ),
        ],
        Some("dump") => &[(
            "The live cluster, to trace elsewhere later:",
            "netpath dump -o cluster.json",
        )],
        Some("completions") => &[
            (
                "bash, for this shell:",
                "source <(netpath completions bash)",
            ),
            (
                "fish:",
                "netpath completions fish > ~/.config/fish/completions/netpath.fish",
            ),
        ],
        Some(_) => &[],
    }
}

fn write_examples(out: &mut Vec<u8>, command: Option<&str>) -> std::io::Result<()> {
    section(out, "EXAMPLES")?;
    for (what, line) in examples(command) {
        writeln!(
            out,
            ".PP\n{}\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE",
            roff_text(what),
            roff_text(line)
        )?;
    }
    Ok(())
}

fn write_see_also(out: &mut Vec<u8>, command: Option<&str>, pages: &[&str]) -> std::io::Result<()> {
    section(out, "SEE ALSO")?;
    let pages: Vec<String> = match command {
        None => pages
            .iter()
            .map(|p| format!("\\fBnetpath\\-{p}\\fR(1)"))
            .collect(),
        Some(_) => vec!["\\fBnetpath\\fR(1)".to_string()],
    };
    writeln!(out, "{}", pages.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_text_guards_control_characters() {
        assert_eq!(roff_text(".x"), "\\&.x");
        assert_eq!(roff_text("a\\b-c"), "a\\eb\\-c");
    }
}
