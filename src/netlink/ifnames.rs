//! Interface index → name, for the readers that get only an ifindex from the kernel.

use std::collections::HashMap;

use futures::TryStreamExt;
use netlink_packet_route::link::LinkAttribute;

use super::kernel_error;

/// Every interface's index and name in the handle's netns.
pub async fn ifnames(handle: &rtnetlink::Handle) -> anyhow::Result<HashMap<u32, String>> {
    let mut names = HashMap::new();
    let mut links = handle.link().get().execute();
    while let Some(msg) = links
        .try_next()
        .await
        .map_err(|e| kernel_error("listing links", e))?
    {
        for attr in msg.attributes {
            if let LinkAttribute::IfName(name) = attr {
                names.insert(msg.header.index, name);
            }
        }
    }
    Ok(names)
}
