# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_netpath_global_optspecs
    string join \n color= json kubeconfig= context= n/namespace= request-timeout= h/help V/version
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
complete -c netpath -n "__fish_netpath_needs_command" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_needs_command" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_needs_command" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_needs_command" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_needs_command" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_needs_command" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "routes" -d 'The kernel\'s routes with route -n\'s U/G/H flags and what route -n hides (blackhole, onlink, linkdown, proto, table, every nexthop), each explained; `routes get ADDR` shows which route wins and why'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "pods" -d 'Map host veths to pods (by ifindex and netns id) and find what dead pods left behind'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "decode" -d 'Decode a capture (pcap/pcapng, or - for stdin) into layers: tunnels understood, outer node to node and inner pod to pod'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "capture" -d 'Capture live packets (libpcap) in any netns and show outer and inner layers'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "trace" -d 'The expected path of a packet from SRC to DST and back, hop by hop, and where and why it is dropped (exit 1 when either direction is not delivered)'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "plan" -d 'A node\'s expected dataplane (devices, addresses, routes, neighbours, FDB), as the ip/bridge commands that would create it'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "demo" -d 'List the built-in demo clusters (`--cluster demo:NAME`), or print one\'s cluster file'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "snapshot" -d 'A node\'s real dataplane (devices, addresses, routes of every table, rules, neighbours, FDB, forwarding sysctls, pod veths) as one JSON document, live or from text dumps'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "check" -d 'Compare a node\'s plan with what it really has: every difference, with its fix'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "agent" -d 'Reconcile this node\'s kernel to its plan: devices, addresses, neighbours, FDB, routes'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "leases" -d 'Flannel\'s subnet leases in etcd: who holds which subnet, TTLs, conflicts; --watch follows them'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "dump" -d 'Write the live cluster\'s nodes, pods, Calico pools and block affinities and CNI ConfigMaps as the kubectl List that --cluster reads (a post-mortem to trace elsewhere)'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "completions" -d 'Print shell completions (bash, zsh, fish) to standard output'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "man" -d 'Print a man page (roff) to standard output: netpath\'s, or one command\'s (`netpath man trace | man -l -`)'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l table -d 'Which table: a number, main, local, default, or all [default: main]' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l netns -d 'The network namespace: a name from `ip netns` or a path such as /proc/PID/ns/net' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l from -d 'Read the routes from a file (`-` for standard input) instead of the kernel: `ip route` text, `ip -j route` JSON, `route -n`/`netstat -rn` text or /proc/net/route, detected automatically' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -s 4 -d 'IPv4 routes only'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -s 6 -d 'IPv6 routes only'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l compat -d 'Print exactly what `route -n` prints for the same routes (IPv4 main table)'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -f -a "get" -d 'Which route wins for an address and why, beside the kernel\'s own answer (like `ip route get`); with `routes --from FILE get ADDR`, predicted from a dump. Exits 1 when the address is not routable'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l from -d 'The source address of the packet (like `ip route get ADDR from SRC`)' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l iif -d 'Look up as if the packet arrived on this device (a forwarding lookup, like `ip route get ADDR iif DEV`): shows ip_forward and rp_filter refusals' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l mark -d 'The packet\'s firewall mark, for `fwmark` policy rules (like `ip route get ADDR mark MARK`): a number, or hex with 0x' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l tos -d 'The packet\'s TOS, for `tos` policy rules and routes (like `ip route get ADDR tos TOS`): a number, or hex with 0x' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l netns -d 'The network namespace: a name from `ip netns` or a path such as /proc/PID/ns/net' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from help" -f -a "get" -d 'Which route wins for an address and why, beside the kernel\'s own answer (like `ip route get`); with `routes --from FILE get ADDR`, predicted from a dump. Exits 1 when the address is not routable'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l netns -d 'The node\'s network namespace (a name under /run/netns or a path such as /proc/PID/ns/net); default: the current one' -r
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l netns-dir -d 'A directory of named network namespaces to search for pods (repeatable); default: /run/netns and /var/run/netns, where containerd and CRI-O put `cni-<uuid>`' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l proc -d 'The proc filesystem whose <pid>/ns/net are searched for pods (e.g. /host/proc in a container)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l cni-cache -d 'libcni\'s result cache directory (a cache dir holding results/ is accepted too); default: /var/lib/cni/results' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l pods -d 'Pods from `kubectl get pods -A -o json`, matched to veths by pod IP when the CNI cache does not name them' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l calico-prefix -d 'Calico\'s host interface prefix (Felix\'s InterfacePrefix; the first of a comma-separated list is used)' -r
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand pods" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand pods" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand pods" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -s r -l read -d 'The capture file, as tcpdump\'s -r (the same as giving it without a flag)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand decode" -s f -l filter -d 'Only packets matching this libpcap filter (`udp port 8472`, `host 10.244.1.5`). It sees the outer headers, as tcpdump: on VXLAN and IPIP, the node-to-node packet' -r
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l vxlan-port -d 'Decode this UDP destination port as VXLAN too (besides 4789 and 8472); repeatable' -r
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l cluster -d 'Name addresses from a `kubectl get nodes,pods -A -o json` dump: outer IPs as nodes, inner IPs as namespace/pod; `--cluster` alone reads them from the Kubernetes API' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand decode" -s c -l count -d 'Stop after this many packets (after the filter)' -r
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l mtu -d 'Link MTU for the "over the inner MTU" count (inner MTU = this minus the encapsulation overhead: VXLAN 50, IPIP 20)' -r
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l threads -d 'Threads that decode and count for `--stats` (default: the CPUs available, at most 8; 1 counts on the reading thread). The other views print in file order on one thread' -r
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand decode" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l tree -d 'Show every layer and field, indented outer to inner, instead of one line per packet'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l stats -d 'Show counts instead of packets: per encapsulation, VNI, outer node pair and inner flow; bad checksums, truncations, packets over the inner MTU, fragments'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l no-checksums -d 'Do not verify checksums'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l local-time -d 'Show times in the local time zone (`TZ`, else /etc/localtime), as tcpdump does, instead of UTC. JSON times stay UTC'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand decode" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s i -l interface -d 'Interface to capture on; `any` for every interface of the namespace (Linux cooked v2)' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l netns -d 'Capture inside this network namespace (a name under /run/netns or a path such as /proc/PID/ns/net)' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s c -l count -d 'Stop after this many packets' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l duration -d 'Stop after this long (`30s`, `500ms`, `2m`, `1h`; a bare number is seconds)' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s f -l filter -d 'Only packets matching this BPF filter (libpcap syntax, as tcpdump: `udp port 8472`)' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s w -l write -d 'Also write the raw packets to this pcap file (`-` for standard output, which then carries only the pcap)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s s -l snaplen -d 'Bytes kept per packet' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l vxlan-port -d 'Decode this UDP destination port as VXLAN too (besides 4789 and 8472); repeatable' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l cluster -d 'Name addresses from a `kubectl get nodes,pods -A -o json` dump: outer IPs as nodes, inner IPs as namespace/pod; `--cluster` alone reads them from the Kubernetes API' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l mtu -d 'Link MTU for the "over the inner MTU" count (inner MTU = this minus the encapsulation overhead: VXLAN 50, IPIP 20)' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l no-promisc -d 'Do not put the interface into promiscuous mode'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l tree -d 'Show every layer and field, indented outer to inner, instead of one line per packet'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l stats -d 'Show counts instead of packets, when the capture stops: per encapsulation, VNI, outer node pair and inner flow; bad checksums, truncations, packets over the inner MTU, fragments'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l no-checksums -d 'Do not verify checksums (a capture on the sending host sees offloaded, partial ones)'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l local-time -d 'Show times in the local time zone (`TZ`, else /etc/localtime), as tcpdump does, instead of UTC. JSON times stay UTC'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand capture" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand trace" -s c -l cluster -d 'The cluster: `demo:NAME` (see `netpath demo`), a netpath cluster file (YAML/JSON), or `kubectl get nodes,pods[,ippools.crd.projectcalico.org,blockaffinities.crd.projectcalico.org,cm] -A -o json` output (`netpath dump`). Default: read it from the Kubernetes API (kubeconfig, as kubectl)' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l etcd-endpoints -d 'etcd client URLs (comma-separated), where Flannel keeps its subnet leases; the cluster is then read from the leases' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l etcd-prefix -d 'Flannel\'s etcd prefix (flanneld\'s --etcd-prefix)' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l etcd-cafile -d 'CA bundle (PEM) to verify etcd\'s certificate' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l etcd-certfile -d 'Client certificate (PEM) for etcd' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l etcd-keyfile -d 'Client private key (PEM) for etcd' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l etcd-username -d 'etcd user name (authentication)' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l etcd-password -d 'etcd password; prefer the NETPATH_ETCD_PASSWORD environment variable (a command line is visible to every user of the machine). Never printed' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l underlay -d 'The underlay\'s L2 subnets, for kubectl dumps whose node addresses carry no mask (Flannel): nodes in one subnet are adjacent' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l net-conf -d 'Flannel\'s net-conf.json, when the dump has no kube-flannel-cfg ConfigMap' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l ippool -d 'Calico IPPool YAML (repeatable), when the dump has no IPPools' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l calico-version -d 'calico/node\'s version (`v3.32.0`): BIRD\'s route metric and source, Felix\'s workload route metric, the VXLAN route MTU and who programs IPIP routes depend on it' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l flannel-version -d 'flanneld\'s version (`v0.28.9`)' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l proto -d 'Protocol of the probe' -r -f -a "tcp\t'TCP'
udp\t'UDP'
icmp\t'ICMP echo'"
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l dport -d 'Destination port (TCP/UDP)' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l size -d 'Total IP packet size in bytes; sent with DF, so a device with a smaller MTU drops it' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l snapshot -d 'Walk these nodes through their real state: snapshot files (`netpath snapshot -o`), text-dump directories, or directories holding one of either per node (matched by the snapshot\'s node name, else the file name). Other nodes use the plan' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l node -d 'With --live: the local node\'s name in the cluster (default: the host name)' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l netns -d 'With --live: the local node\'s network namespace (default: the current one)' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l format -d 'How to print the trace: text (hop by hop), or a picture of the path for runbooks and tickets: dot (Graphviz: `| dot -Tsvg > path.svg`) or mermaid (Markdown)' -r -f -a "text\t'Hop by hop, for people (the default)'
dot\t'A Graphviz digraph (`netpath trace … --format dot | dot -Tsvg > path.svg`)'
mermaid\t'A Mermaid flowchart (for Markdown that renders Mermaid: GitLab, GitHub, wikis)'"
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l html -d 'With --all: also write the node-pair matrix as a self-contained HTML page, each cell coloured by verdict with its reason code (the explanation on hover)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l all -d 'Trace one representative pod per node to every other node, both ways, and summarise the broken pairs'
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l live -d 'Walk the local node through the local kernel\'s state (snapshot it now), and show the kernel\'s own answer for each route lookup there (`ip route get … iif …`)'
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l timing -d 'Print load and trace timings to standard error (for benchmarks)'
complete -c netpath -n "__fish_netpath_using_subcommand trace" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand trace" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand trace" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand plan" -s c -l cluster -d 'The cluster: `demo:NAME` (see `netpath demo`), a netpath cluster file (YAML/JSON), or `kubectl get nodes,pods[,ippools.crd.projectcalico.org,blockaffinities.crd.projectcalico.org,cm] -A -o json` output (`netpath dump`). Default: read it from the Kubernetes API (kubeconfig, as kubectl)' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l etcd-endpoints -d 'etcd client URLs (comma-separated), where Flannel keeps its subnet leases; the cluster is then read from the leases' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l etcd-prefix -d 'Flannel\'s etcd prefix (flanneld\'s --etcd-prefix)' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l etcd-cafile -d 'CA bundle (PEM) to verify etcd\'s certificate' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l etcd-certfile -d 'Client certificate (PEM) for etcd' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l etcd-keyfile -d 'Client private key (PEM) for etcd' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l etcd-username -d 'etcd user name (authentication)' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l etcd-password -d 'etcd password; prefer the NETPATH_ETCD_PASSWORD environment variable (a command line is visible to every user of the machine). Never printed' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l underlay -d 'The underlay\'s L2 subnets, for kubectl dumps whose node addresses carry no mask (Flannel): nodes in one subnet are adjacent' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l net-conf -d 'Flannel\'s net-conf.json, when the dump has no kube-flannel-cfg ConfigMap' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l ippool -d 'Calico IPPool YAML (repeatable), when the dump has no IPPools' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l calico-version -d 'calico/node\'s version (`v3.32.0`): BIRD\'s route metric and source, Felix\'s workload route metric, the VXLAN route MTU and who programs IPIP routes depend on it' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l flannel-version -d 'flanneld\'s version (`v0.28.9`)' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l node -d 'The node to plan' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand plan" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand plan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand plan" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand demo" -l generate-kubectl -d 'Write a synthetic kubectl List of NODES nodes and PODS pods (Calico VXLAN CrossSubnet) to standard output, for benchmarks' -r
complete -c netpath -n "__fish_netpath_using_subcommand demo" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand demo" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand demo" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand demo" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand demo" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand demo" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand demo" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l node -d 'The node\'s name in the document; default: the host name (or, with --from-dir, the dump\'s `hostname` file or the directory\'s name)' -r
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -s o -l output -d 'Write the document to FILE (and a summary to standard output) instead of printing it' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l from-dir -d 'Convert a directory of text dumps (`ip route`, `ip -d link`, `ip addr`, `ip neigh`, `bridge fdb`, `sysctl -a` outputs, or a sosreport) instead of reading the kernel' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l netns -d 'The node\'s network namespace (a name under /run/netns or a path such as /proc/PID/ns/net); default: the current one' -r
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l netns-dir -d 'A directory of named network namespaces to search for pods (repeatable); default: /run/netns and /var/run/netns, where containerd and CRI-O put `cni-<uuid>`' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l proc -d 'The proc filesystem whose <pid>/ns/net are searched for pods (e.g. /host/proc in a container)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l cni-cache -d 'libcni\'s result cache directory (a cache dir holding results/ is accepted too); default: /var/lib/cni/results' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l pods -d 'Pods from `kubectl get pods -A -o json`, matched to veths by pod IP when the CNI cache does not name them' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l calico-prefix -d 'Calico\'s host interface prefix (Felix\'s InterfacePrefix; the first of a comma-separated list is used)' -r
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l no-pods -d 'Do not map veths to pods (skips the scan of network namespaces and the CNI cache)'
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand snapshot" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand check" -l plan -d 'The node\'s plan: `netpath plan --json` output (netpath.plan/v1) or a NodeState JSON' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand check" -s c -l cluster -d 'The cluster to plan the node from (`demo:NAME`, a cluster file, a kubectl dump). With `--snapshot DIR` holding one snapshot per node, every node of the cluster that has one is checked, with the findings that only show across nodes' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l etcd-endpoints -d 'etcd client URLs (comma-separated), where Flannel keeps its subnet leases; the cluster is then read from the leases' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l etcd-prefix -d 'Flannel\'s etcd prefix (flanneld\'s --etcd-prefix)' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l etcd-cafile -d 'CA bundle (PEM) to verify etcd\'s certificate' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand check" -l etcd-certfile -d 'Client certificate (PEM) for etcd' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand check" -l etcd-keyfile -d 'Client private key (PEM) for etcd' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand check" -l etcd-username -d 'etcd user name (authentication)' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l etcd-password -d 'etcd password; prefer the NETPATH_ETCD_PASSWORD environment variable (a command line is visible to every user of the machine). Never printed' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l public-ip -d 'This node\'s public IP (flanneld\'s --public-ip): its lease is found again by it after a restart, and the device holding it is the uplink' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l node -d 'The node (required with --cluster; picks one from a plan or snapshot file that holds several)' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l calico-version -d 'calico/node\'s version (`v3.32.0`): BIRD\'s route metric and source, Felix\'s workload route metric, the VXLAN route MTU and who programs IPIP routes depend on it' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l flannel-version -d 'flanneld\'s version (`v0.28.9`)' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l netns -d 'Read the live state of this network namespace: a name under /run/netns or a path such as /proc/PID/ns/net (default: the current one)' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l snapshot -d 'Compare with a snapshot instead of the live kernel: a JSON file (netpath.snapshot/v1 or NodeState), a directory of text dumps (ip route, ip -d link, ip addr …), or a directory holding one of those per node (with --cluster: all nodes at once)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand check" -l proto -d 'The agent\'s route protocol: its routes count as the CNI\'s' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand check" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand check" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand check" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand check" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l plan -d 'The node\'s plan: `netpath plan --json` output (netpath.plan/v1) or a NodeState JSON' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand agent" -s c -l cluster -d 'The cluster to plan the node from (`demo:NAME`, a cluster file, a kubectl dump); with --watch, re-read when the file changes' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l etcd-endpoints -d 'etcd client URLs (comma-separated), where Flannel keeps its subnet leases; the cluster is then read from the leases' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l etcd-prefix -d 'Flannel\'s etcd prefix (flanneld\'s --etcd-prefix)' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l etcd-cafile -d 'CA bundle (PEM) to verify etcd\'s certificate' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l etcd-certfile -d 'Client certificate (PEM) for etcd' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l etcd-keyfile -d 'Client private key (PEM) for etcd' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l etcd-username -d 'etcd user name (authentication)' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l etcd-password -d 'etcd password; prefer the NETPATH_ETCD_PASSWORD environment variable (a command line is visible to every user of the machine). Never printed' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l public-ip -d 'This node\'s public IP (flanneld\'s --public-ip): its lease is found again by it after a restart, and the device holding it is the uplink' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l node -d 'The node (required with --cluster; picks one from a plan file that holds several)' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l calico-version -d 'calico/node\'s version (`v3.32.0`): BIRD\'s route metric and source, Felix\'s workload route metric, the VXLAN route MTU and who programs IPIP routes depend on it' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l flannel-version -d 'flanneld\'s version (`v0.28.9`)' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l netns -d 'The network namespace to program: a name under /run/netns or a path such as /proc/PID/ns/net (default: the current one)' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l interval -d 'How often --watch re-checks the kernel (500ms, 10s, 1m)' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l proto -d 'The route protocol number (or name) that marks the agent\'s routes; it only ever changes or deletes routes with this protocol' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l dry-run -d 'Print the changes as ip/bridge commands (or JSON) and change nothing. Exit 1 when there is something to do'
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l once -d 'Apply once, read back, exit 0 only when the node matches the plan (the default)'
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l watch -d 'Keep going: re-read the plan when it changes, re-check the kernel every --interval, repair drift. One log line per change, one summary per pass'
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l adopt -d 'Take over foreign routes, neighbours and FDB entries that conflict with the plan (without it they are reported and left alone)'
complete -c netpath -n "__fish_netpath_using_subcommand agent" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand agent" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand agent" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l etcd-endpoints -d 'etcd client URLs (comma-separated), where Flannel keeps its subnet leases; the cluster is then read from the leases' -r
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l etcd-prefix -d 'Flannel\'s etcd prefix (flanneld\'s --etcd-prefix)' -r
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l etcd-cafile -d 'CA bundle (PEM) to verify etcd\'s certificate' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l etcd-certfile -d 'Client certificate (PEM) for etcd' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l etcd-keyfile -d 'Client private key (PEM) for etcd' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l etcd-username -d 'etcd user name (authentication)' -r
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l etcd-password -d 'etcd password; prefer the NETPATH_ETCD_PASSWORD environment variable (a command line is visible to every user of the machine). Never printed' -r
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l delete -d 'Delete the lease of this subnet (a node that is gone for good; flannel would keep its routes on every node until the lease expires, up to 24 h)' -r
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand leases" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l watch -d 'Follow the leases: print each change as it happens (JSON: one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand leases" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand leases" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand leases" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand dump" -s o -l output -d 'Write the List to FILE (default: standard output)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand dump" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand dump" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand dump" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand dump" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand dump" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand dump" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand dump" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand dump" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand completions" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand man" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand man" -l kubeconfig -d 'The kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand man" -l context -d 'The kubeconfig context to use (default: its current-context)' -r
complete -c netpath -n "__fish_netpath_using_subcommand man" -s n -l namespace -d 'The namespace a bare pod name is looked up in first (default: the context\'s), as in kubectl; then the name must be unique across namespaces' -r
complete -c netpath -n "__fish_netpath_using_subcommand man" -l request-timeout -d 'The longest one API request may take (`10s`, `1m`, a number of seconds; 0: no limit)' -r
complete -c netpath -n "__fish_netpath_using_subcommand man" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand man" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "routes" -d 'The kernel\'s routes with route -n\'s U/G/H flags and what route -n hides (blackhole, onlink, linkdown, proto, table, every nexthop), each explained; `routes get ADDR` shows which route wins and why'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "pods" -d 'Map host veths to pods (by ifindex and netns id) and find what dead pods left behind'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "decode" -d 'Decode a capture (pcap/pcapng, or - for stdin) into layers: tunnels understood, outer node to node and inner pod to pod'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "capture" -d 'Capture live packets (libpcap) in any netns and show outer and inner layers'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "trace" -d 'The expected path of a packet from SRC to DST and back, hop by hop, and where and why it is dropped (exit 1 when either direction is not delivered)'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "plan" -d 'A node\'s expected dataplane (devices, addresses, routes, neighbours, FDB), as the ip/bridge commands that would create it'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "demo" -d 'List the built-in demo clusters (`--cluster demo:NAME`), or print one\'s cluster file'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "snapshot" -d 'A node\'s real dataplane (devices, addresses, routes of every table, rules, neighbours, FDB, forwarding sysctls, pod veths) as one JSON document, live or from text dumps'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "check" -d 'Compare a node\'s plan with what it really has: every difference, with its fix'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "agent" -d 'Reconcile this node\'s kernel to its plan: devices, addresses, neighbours, FDB, routes'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "leases" -d 'Flannel\'s subnet leases in etcd: who holds which subnet, TTLs, conflicts; --watch follows them'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "dump" -d 'Write the live cluster\'s nodes, pods, Calico pools and block affinities and CNI ConfigMaps as the kubectl List that --cluster reads (a post-mortem to trace elsewhere)'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "completions" -d 'Print shell completions (bash, zsh, fish) to standard output'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "man" -d 'Print a man page (roff) to standard output: netpath\'s, or one command\'s (`netpath man trace | man -l -`)'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from routes pods decode capture trace plan demo snapshot check agent leases dump completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netpath -n "__fish_netpath_using_subcommand help; and __fish_seen_subcommand_from routes" -f -a "get" -d 'Which route wins for an address and why, beside the kernel\'s own answer (like `ip route get`); with `routes --from FILE get ADDR`, predicted from a dump. Exits 1 when the address is not routable'
