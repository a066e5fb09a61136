# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_netpath_global_optspecs
    string join \n color= json h/help V/version
end

function __fish_netpath_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_netpath_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_netpath_using_subcommand
    set -l cmd (__fish_netpath_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c netpath -n "__fish_netpath_needs_command" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_needs_command" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_needs_command" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "completions" -d 'Print shell completions (bash, zsh, fish) to standard output'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "demo" -d 'List the built-in demo clusters (`--cluster demo:NAME`), or print one\'s cluster file'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "plan" -d 'A node\'s expected dataplane (devices, addresses, routes, neighbours, FDB), as the ip/bridge commands that would create it'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "trace" -d 'The expected path of a packet from SRC to DST and back, hop by hop, and where and why it is dropped (exit 1 when either direction is not delivered)'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "man" -d 'Print the man page (roff) to standard output'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand demo" -l generate-kubectl -d 'Write a synthetic kubectl List of NODES nodes and PODS pods (Calico VXLAN CrossSubnet) to standard output, for benchmarks' -r
complete -c netpath -n "__fish_netpath_using_subcommand demo" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand demo" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand demo" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand plan" -s c -l cluster -d 'The cluster: `demo:NAME` (see `netpath demo`), a netpath cluster file (YAML/JSON), or `kubectl get nodes,pods[,ippools.crd.projectcalico.org,blockaffinities.crd.projectcalico.org,cm] -A -o json` output' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l underlay -d 'The underlay\'s L2 subnets, for kubectl dumps whose node addresses carry no mask (Flannel): nodes in one subnet are adjacent' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l net-conf -d 'Flannel\'s net-conf.json, when the dump has no kube-flannel-cfg ConfigMap' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l ippool -d 'Calico IPPool YAML (repeatable), when the dump has no IPPools' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand plan" -s n -l node -d 'The node to plan' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand plan" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand trace" -s c -l cluster -d 'The cluster: `demo:NAME` (see `netpath demo`), a netpath cluster file (YAML/JSON), or `kubectl get nodes,pods[,ippools.crd.projectcalico.org,blockaffinities.crd.projectcalico.org,cm] -A -o json` output' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l underlay -d 'The underlay\'s L2 subnets, for kubectl dumps whose node addresses carry no mask (Flannel): nodes in one subnet are adjacent' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l net-conf -d 'Flannel\'s net-conf.json, when the dump has no kube-flannel-cfg ConfigMap' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l ippool -d 'Calico IPPool YAML (repeatable), when the dump has no IPPools' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l proto -d 'Protocol of the probe' -r -f -a "tcp\t'TCP'
udp\t'UDP'
icmp\t'ICMP echo'"
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l dport -d 'Destination port (TCP/UDP)' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l size -d 'Total IP packet size in bytes; sent with DF, so a device with a smaller MTU drops it' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l all -d 'Trace one representative pod per node to every other node, both ways, and summarise the broken pairs'
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l timing -d 'Print load and trace timings to standard error (for benchmarks)'
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand trace" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand trace" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand man" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand man" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand man" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions demo plan trace man help" -f -a "completions" -d 'Print shell completions (bash, zsh, fish) to standard output'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions demo plan trace man help" -f -a "demo" -d 'List the built-in demo clusters (`--cluster demo:NAME`), or print one\'s cluster file'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions demo plan trace man help" -f -a "plan" -d 'A node\'s expected dataplane (devices, addresses, routes, neighbours, FDB), as the ip/bridge commands that would create it'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions demo plan trace man help" -f -a "trace" -d 'The expected path of a packet from SRC to DST and back, hop by hop, and where and why it is dropped (exit 1 when either direction is not delivered)'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions demo plan trace man help" -f -a "man" -d 'Print the man page (roff) to standard output'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions demo plan trace man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
