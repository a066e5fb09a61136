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
complete -c netpath -n "__fish_netpath_needs_command" -f -a "pods" -d 'Map host veths to pods (by ifindex and netns id) and find what dead pods left behind'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "completions" -d 'Print shell completions (bash, zsh, fish) to standard output'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "man" -d 'Print the man page (roff) to standard output'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l netns -d 'The node\'s network namespace (a name under /run/netns or a path such as /proc/PID/ns/net); default: the current one' -r
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l netns-dir -d 'A directory of named network namespaces to search for pods (repeatable); default: /run/netns and /var/run/netns, where containerd and CRI-O put `cni-<uuid>`' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l proc -d 'The proc filesystem whose <pid>/ns/net are searched for pods (e.g. /host/proc in a container)' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l cni-cache -d 'libcni\'s result cache directory (a cache dir holding results/ is accepted too); default: /var/lib/cni/results' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l pods -d 'Pods from `kubectl get pods -A -o json`, matched to veths by pod IP when the CNI cache does not name them' -r -F
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l calico-prefix -d 'Calico\'s host interface prefix (Felix\'s InterfacePrefix; the first of a comma-separated list is used)' -r
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand pods" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand pods" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand pods" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand man" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand man" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand man" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from pods completions man help" -f -a "pods" -d 'Map host veths to pods (by ifindex and netns id) and find what dead pods left behind'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from pods completions man help" -f -a "completions" -d 'Print shell completions (bash, zsh, fish) to standard output'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from pods completions man help" -f -a "man" -d 'Print the man page (roff) to standard output'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from pods completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
