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
complete -c netpath -n "__fish_netpath_needs_command" -f -a "capture" -d 'Capture live packets (libpcap) in any netns and show outer and inner layers'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "decode" -d 'Decode a capture (pcap/pcapng, or - for stdin) into layers: tunnels understood, outer node to node and inner pod to pod'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "man" -d 'Print the man page (roff) to standard output'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s i -l interface -d 'Interface to capture on; `any` for every interface of the namespace (Linux cooked v2)' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l netns -d 'Capture inside this network namespace (a name under /run/netns or a path such as /proc/PID/ns/net)' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s c -l count -d 'Stop after this many packets' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l duration -d 'Stop after this long (`30s`, `500ms`, `2m`, `1h`; a bare number is seconds)' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s f -l filter -d 'Only packets matching this BPF filter (libpcap syntax, as tcpdump: `udp port 8472`)' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s w -l write -d 'Also write the raw packets to this pcap file (`-` for standard output, which then carries only the pcap)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s s -l snaplen -d 'Bytes kept per packet' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l vxlan-port -d 'Decode this UDP destination port as VXLAN too (besides 4789 and 8472); repeatable' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l cluster -d 'Name addresses from a `kubectl get nodes,pods -A -o json` dump: outer IPs as nodes, inner IPs as namespace/pod' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l mtu -d 'Link MTU for the "over the inner MTU" count (inner MTU = this minus the encapsulation overhead: VXLAN 50, IPIP 20)' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l no-promisc -d 'Do not put the interface into promiscuous mode'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l tree -d 'Show every layer and field, indented outer to inner, instead of one line per packet'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l stats -d 'Show counts instead of packets, when the capture stops: per encapsulation, VNI, outer node pair and inner flow; bad checksums, truncations, packets over the inner MTU, fragments'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l no-checksums -d 'Do not verify checksums (a capture on the sending host sees offloaded, partial ones)'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -s f -l filter -d 'Only packets matching this libpcap filter (`udp port 8472`, `host 10.244.1.5`)' -r
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l vxlan-port -d 'Decode this UDP destination port as VXLAN too (besides 4789 and 8472); repeatable' -r
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l cluster -d 'Name addresses from a `kubectl get nodes,pods -A -o json` dump: outer IPs as nodes, inner IPs as namespace/pod' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand decode" -s c -l count -d 'Stop after this many packets (after the filter)' -r
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l mtu -d 'Link MTU for the "over the inner MTU" count (inner MTU = this minus the encapsulation overhead: VXLAN 50, IPIP 20)' -r
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l tree -d 'Show every layer and field, indented outer to inner, instead of one line per packet'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l stats -d 'Show counts instead of packets: per encapsulation, VNI, outer node pair and inner flow; bad checksums, truncations, packets over the inner MTU, fragments'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l no-checksums -d 'Do not verify checksums'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand man" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand man" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand man" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions capture decode man help" -f -a "completions" -d 'Print shell completions (bash, zsh, fish) to standard output'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions capture decode man help" -f -a "capture" -d 'Capture live packets (libpcap) in any netns and show outer and inner layers'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions capture decode man help" -f -a "decode" -d 'Decode a capture (pcap/pcapng, or - for stdin) into layers: tunnels understood, outer node to node and inner pod to pod'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions capture decode man help" -f -a "man" -d 'Print the man page (roff) to standard output'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions capture decode man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
