//! The netns machinery itself: entering a namespace on a throwaway thread, and the errors
//! a user gets for a namespace that does not exist.

use libtest_mimic::{Failed, Trial};
use netpath::netlink::Netns;

use crate::lab::{TestNetns, netpath};

pub fn tests() -> Vec<Trial> {
    vec![
        Trial::test("netns::run_enters_the_namespace", run_enters_the_namespace),
        Trial::test("netns::missing_netns_exits_3", missing_netns_exits_3),
    ]
}

fn run_enters_the_namespace() -> Result<(), Failed> {
    let ns = TestNetns::new("enter");
    ns.exec("ip link add np-a type veth peer name np-b && ip addr add 10.99.0.1/24 dev np-a && ip link set np-a up");
    let netns = Netns::parse(&ns.name);
    // Binding to 10.99.0.1 works only inside the namespace that has that address.
    let bound = netns
        .run(|| Ok(std::net::UdpSocket::bind("10.99.0.1:0").is_ok()))
        .map_err(|e| format!("{e:#}"))?;
    assert!(bound, "could not bind inside the test netns");
    assert!(
        std::net::UdpSocket::bind("10.99.0.1:0").is_err(),
        "main thread must stay in the host netns"
    );
    // By path too.
    let by_path =
        Netns::parse(&ns.path()).run(|| Ok(std::net::UdpSocket::bind("10.99.0.1:0").is_ok()));
    assert!(by_path.map_err(|e| format!("{e:#}"))?);
    Ok(())
}

fn missing_netns_exits_3() -> Result<(), Failed> {
    let err = Netns::parse("np-no-such-netns").run(|| Ok(())).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("no such file") && msg.contains("ip netns"),
        "{msg}"
    );
    assert_eq!(netpath::error::exit_code(&err), 3);
    let _ = netpath();
    Ok(())
}
