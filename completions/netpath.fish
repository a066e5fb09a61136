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
complete -c netpath -n "__fish_netpath_needs_command" -f -a "routes" -d 'The kernel\'s routes with route -n\'s U/G/H flags and what route -n hides (blackhole, onlink, linkdown, proto, table, every nexthop), each explained; `routes get ADDR` shows which route wins and why'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "man" -d 'Print the man page (roff) to standard output'
complete -c netpath -n "__fish_netpath_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand completions" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand completions" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l table -d 'Which table: a number, main, local, default, or all [default: main]' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l netns -d 'The network namespace: a name from `ip netns` or a path such as /proc/PID/ns/net' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -s 4 -d 'IPv4 routes only'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -s 6 -d 'IPv6 routes only'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l compat -d 'Print exactly what `route -n` prints for the same routes (IPv4 main table)'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -f -a "get" -d 'Which route wins for an address and why, beside the kernel\'s own answer (like `ip route get`). Exits 1 when the address is not routable'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and not __fish_seen_subcommand_from get help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l from -d 'The source address of the packet (like `ip route get ADDR from SRC`)' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l iif -d 'Look up as if the packet arrived on this device (a forwarding lookup, like `ip route get ADDR iif DEV`): shows ip_forward and rp_filter refusals' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l netns -d 'The network namespace: a name from `ip netns` or a path such as /proc/PID/ns/net' -r
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from help" -f -a "get" -d 'Which route wins for an address and why, beside the kernel\'s own answer (like `ip route get`). Exits 1 when the address is not routable'
complete -c netpath -n "__fish_netpath_using_subcommand routes; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netpath -n "__fish_netpath_using_subcommand man" -l color -d 'When to colour the output: auto (a terminal, and NO_COLOR unset), always, never' -r -f -a "auto\t'Colour when standard output is a terminal and `NO_COLOR` is unset or empty'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c netpath -n "__fish_netpath_using_subcommand man" -l json -d 'Print JSON for scripts instead of a table (one document with a "schema" field; streams print one object per line)'
complete -c netpath -n "__fish_netpath_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c netpath -n "__fish_netpath_using_subcommand man" -s V -l version -d 'Print version'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions routes man help" -f -a "completions" -d 'Print shell completions (bash, zsh, fish) to standard output'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions routes man help" -f -a "routes" -d 'The kernel\'s routes with route -n\'s U/G/H flags and what route -n hides (blackhole, onlink, linkdown, proto, table, every nexthop), each explained; `routes get ADDR` shows which route wins and why'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions routes man help" -f -a "man" -d 'Print the man page (roff) to standard output'
complete -c netpath -n "__fish_netpath_using_subcommand help; and not __fish_seen_subcommand_from completions routes man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c netpath -n "__fish_netpath_using_subcommand help; and __fish_seen_subcommand_from routes" -f -a "get" -d 'Which route wins for an address and why, beside the kernel\'s own answer (like `ip route get`). Exits 1 when the address is not routable'
