//! This node's lease and everybody else's, kept in step with etcd.
//!
//! * Acquisition follows flanneld (`pkg/subnet/etcd/local_manager.go tryAcquireLease`):
//!   reuse the lease whose `PublicIP` is this node's (restarts keep their subnet, and
//!   netpath also keeps the VTEP MAC it published, so peers see no change); else the
//!   previous subnet if still free; else a random free subnet among the first 100 in
//!   [SubnetMin, SubnetMax]. Creation is a transaction (create_revision = 0), retried on
//!   conflict, so two nodes never hold one subnet.
//! * Renewal: the etcd lease is kept alive at half its remaining life (24 h TTL: every
//!   12 h), and at once after every outage. A lease found gone (expired while etcd or the
//!   node was away, or deleted by hand) is re-acquired, preferring the same subnet.
//! * Everybody's leases: one read (a revision), then a watch from the next revision. A
//!   watch that falls behind compaction re-lists. When etcd is unreachable the last known
//!   leases stay as they are and [`Manager::poll`] retries with exponential backoff
//!   (0.2 s doubling to 5 s), then resyncs from a fresh read.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::Ipv4Addr;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use ipnetwork::Ipv4Network;

use super::{Lease, LeaseAttrs, NetConfig, Registry, TTL};
use crate::dataplane::MacAddr;
use crate::etcd::{self, EventKind};
use crate::model::FlannelBackend;

/// What this node asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The node's public (underlay) IP: flannel's `PublicIP`, by which a restarted node
    /// finds its lease again.
    pub public_ip: Ipv4Addr,
    /// VXLAN VTEP MAC to publish. `None`: the previous lease's, else a fresh random one.
    pub vtep_mac: Option<MacAddr>,
    /// Subnet to prefer when the node holds no lease (flannel's previous subnet).
    pub previous_subnet: Option<Ipv4Network>,
}

/// Timings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// TTL of the etcd lease (flannel: 24 h).
    pub ttl: Duration,
    /// A watch stream is reopened after this long, so a connection that died silently is
    /// noticed.
    pub watch_max: Duration,
    /// First retry delay while etcd is unreachable.
    pub backoff_min: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            ttl: TTL,
            watch_max: Duration::from_secs(300),
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(5),
        }
    }
}

/// One change to the leases.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A new lease.
    Added(Lease),
    /// A lease whose value changed (new VTEP MAC, new public IP).
    Updated(Lease),
    /// A lease that went (deleted or expired).
    Removed(Lease),
    /// This node's lease was acquired (or re-acquired after it was lost).
    Acquired(Lease),
    /// This node's lease was lost (expired, deleted or taken over) and is being re-acquired.
    Lost(Lease),
    /// The watch fell behind compaction: everything was read again.
    Relisted {
        /// The oldest revision etcd still had.
        compact_revision: i64,
    },
    /// etcd could not be reached; the leases known so far are kept.
    Unreachable(String),
    /// etcd answered again after an outage; everything was read again.
    Reconnected,
}

/// Whether etcd answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    /// The watch is running.
    Connected,
    /// etcd did not answer; retrying.
    Unreachable {
        /// The last error.
        error: String,
        /// When the outage began.
        since: Instant,
        /// When the next attempt is due.
        retry_at: Instant,
        /// The current delay between attempts.
        backoff: Duration,
    },
}

enum WatchMsg {
    Batch(etcd::WatchResponse),
    Compacted(i64),
    Broken(String),
    Ended,
}

/// Follows the leases under one prefix and, once [`Manager::acquire`] is called, holds
/// this node's.
pub struct Manager {
    registry: Registry,
    config: NetConfig,
    settings: Settings,
    request: Option<Request>,
    own: Option<Lease>,
    next_renew: Option<Instant>,
    leases: BTreeMap<Ipv4Network, Lease>,
    revision: i64,
    watch: Option<Receiver<WatchMsg>>,
    health: Health,
    pending: Vec<Change>,
    /// This node's lease just lost: its subnet is tried first when re-acquiring, and its
    /// VTEP MAC kept.
    lost: Option<Lease>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("prefix", &self.registry.prefix())
            .field("own", &self.own)
            .field("leases", &self.leases.len())
            .field("revision", &self.revision)
            .field("health", &self.health)
            .finish()
    }
}

impl Manager {
    /// Read the network config and every lease (etcd must answer now).
    pub fn new(registry: Registry, settings: Settings) -> anyhow::Result<Manager> {
        let config = registry.config()?;
        let mut m = Manager {
            registry,
            config,
            settings,
            request: None,
            own: None,
            next_renew: None,
            leases: BTreeMap::new(),
            revision: 0,
            watch: None,
            health: Health::Connected,
            pending: Vec::new(),
            lost: None,
        };
        m.relist()?;
        // The leases found now are the starting point, not changes.
        m.pending.clear();
        Ok(m)
    }

    /// The network config.
    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// This node's lease, once acquired.
    pub fn own(&self) -> Option<&Lease> {
        self.own.as_ref()
    }

    /// Every known lease (this node's included), by subnet.
    pub fn leases(&self) -> impl Iterator<Item = &Lease> {
        self.leases.values()
    }

    /// The revision the known leases are at.
    pub fn revision(&self) -> i64 {
        self.revision
    }

    /// Whether etcd answers.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Acquire this node's lease (see the module doc for how), and keep it from now on.
    pub fn acquire(&mut self, request: Request) -> anyhow::Result<Lease> {
        self.request = Some(request);
        let lease = self.acquire_now(None)?;
        Ok(lease)
    }

    /// Give this node's lease back (delete the key, revoke the etcd lease): the node
    /// leaves the cluster.
    pub fn release(&mut self) -> anyhow::Result<()> {
        self.request = None;
        self.next_renew = None;
        if let Some(own) = self.own.take() {
            self.registry
                .delete(&own)
                .with_context(|| format!("releasing {}", own.key))?;
            self.leases.remove(&own.subnet);
        }
        Ok(())
    }

    fn attrs_for(&self, request: &Request, previous: Option<&Lease>) -> LeaseAttrs {
        let vxlan = match &self.config.flannel.backend {
            FlannelBackend::Vxlan { vni, .. } => {
                let mac = request
                    .vtep_mac
                    .or_else(|| previous.and_then(|l| l.attrs.vtep_mac()))
                    .unwrap_or_else(random_vtep_mac);
                Some((*vni, mac))
            }
            _ => None,
        };
        let mut attrs = LeaseAttrs::new(request.public_ip, &self.config.backend_type, vxlan);
        if let Some(p) = previous {
            // Keep what we do not manage (an IPv6 side written by a dual-stack flanneld).
            attrs.public_ipv6 = p.attrs.public_ipv6;
            attrs.backend_v6_data = p.attrs.backend_v6_data.clone();
        }
        attrs
    }

    /// Flannel's acquisition, retried on conflicting writes. `prefer`: a subnet to try first.
    fn acquire_now(&mut self, lost: Option<&Lease>) -> anyhow::Result<Lease> {
        let Some(request) = self.request.clone() else {
            bail!("no lease requested");
        };
        let ttl = self.settings.ttl;
        for _ in 0..10 {
            let listing = self.registry.list(false)?;
            let mine = listing
                .leases
                .iter()
                .find(|l| l.attrs.public_ip == request.public_ip)
                .cloned();
            if let Some(l) = mine {
                if self.config.compatible(&l.subnet) {
                    let attrs = self.attrs_for(&request, Some(&l));
                    let alive = self.registry.renew(&l)?;
                    let lease = if alive.is_some() && attrs == l.attrs {
                        // Same subnet, same attributes, lease alive: nothing to write, and
                        // the other nodes see no change at all.
                        Some(Lease {
                            expires: alive.filter(|_| l.etcd_lease != 0),
                            ..l.clone()
                        })
                    } else {
                        let ttl = (l.etcd_lease != 0).then_some(ttl);
                        self.registry.take_over(&l, &attrs, ttl)?
                    };
                    match lease {
                        Some(lease) => return Ok(self.hold(lease, listing.revision)),
                        None => continue,
                    }
                }
                // flanneld deletes a lease of this node that no longer fits the config.
                self.registry.delete(&l)?;
            }
            let taken: Vec<Ipv4Network> = listing.leases.iter().map(|l| l.subnet).collect();
            let free_of = |sn: &Ipv4Network| {
                !taken
                    .iter()
                    .any(|t| t.contains(sn.network()) || sn.contains(t.network()))
            };
            let preferred = lost
                .map(|l| l.subnet)
                .or(request.previous_subnet)
                .filter(|sn| self.config.compatible(sn) && free_of(sn));
            let subnet = match preferred {
                Some(sn) => sn,
                None => {
                    let free = self.config.free_subnets(taken.iter(), 100);
                    if free.is_empty() {
                        bail!(
                            "out of subnets: every /{} of {} between {} and {} is leased ({} leases under {})",
                            self.config.subnet_len,
                            self.config.network,
                            self.config.subnet_min,
                            self.config.subnet_max,
                            listing.leases.len(),
                            self.registry.subnets_prefix()
                        );
                    }
                    free[random_below(free.len())]
                }
            };
            let attrs = self.attrs_for(&request, lost);
            if let Some(lease) = self.registry.create(&subnet, &attrs, ttl)? {
                return Ok(self.hold(lease, listing.revision));
            }
            // Somebody else took it between our read and our write: read again.
        }
        bail!(
            "gave up acquiring a subnet after 10 conflicting attempts (other nodes allocating at the same time)"
        )
    }

    fn hold(&mut self, lease: Lease, revision: i64) -> Lease {
        self.next_renew = Some(self.renew_time(&lease));
        self.own = Some(lease.clone());
        let old = self.leases.insert(lease.subnet, lease.clone());
        if old.as_ref() != Some(&lease) {
            self.pending.push(Change::Acquired(lease.clone()));
        }
        self.revision = self.revision.max(revision);
        lease
    }

    fn renew_time(&self, lease: &Lease) -> Instant {
        let left = lease
            .expires
            .and_then(|e| e.duration_since(SystemTime::now()).ok())
            .unwrap_or(self.settings.ttl);
        Instant::now() + (left / 2).max(Duration::from_millis(500))
    }

    /// Renew this node's lease; re-acquire it when it is gone.
    fn renew(&mut self) -> Result<(), etcd::Error> {
        let Some(own) = self.own.clone() else {
            self.next_renew = None;
            return Ok(());
        };
        match self.registry.renew(&own)? {
            Some(expires) => {
                if own.etcd_lease != 0 {
                    let own = Lease {
                        expires: Some(expires),
                        ..own
                    };
                    self.next_renew = Some(self.renew_time(&own));
                    self.own = Some(own);
                } else {
                    self.next_renew = Some(Instant::now() + self.settings.ttl / 2);
                }
                Ok(())
            }
            None => {
                self.lost(own);
                Ok(())
            }
        }
    }

    fn lost(&mut self, own: Lease) {
        self.pending.push(Change::Lost(own.clone()));
        self.own = None;
        self.next_renew = Some(Instant::now());
        // Re-acquired (preferring the same subnet) by the next renewal step.
        self.lost = Some(own);
    }

    /// Read every lease again (a fresh read at one revision) and record what changed.
    fn relist(&mut self) -> Result<(), etcd::Error> {
        let listing = self.registry.list(false)?;
        let fresh: BTreeMap<Ipv4Network, Lease> =
            listing.leases.into_iter().map(|l| (l.subnet, l)).collect();
        for (sn, old) in &self.leases {
            if !fresh.contains_key(sn) {
                self.pending.push(Change::Removed(old.clone()));
            }
        }
        for (sn, new) in &fresh {
            match self.leases.get(sn) {
                None => self.pending.push(Change::Added(new.clone())),
                Some(old) if old.attrs != new.attrs => {
                    self.pending.push(Change::Updated(new.clone()))
                }
                Some(_) => {}
            }
        }
        self.leases = fresh;
        self.revision = listing.revision;
        if let Some(own) = self.own.clone() {
            match self.leases.get(&own.subnet) {
                Some(l) if l.attrs.public_ip == own.attrs.public_ip => {
                    // Still ours: make sure its etcd lease is alive (it may have expired
                    // while etcd was away).
                    self.renew()?;
                }
                _ => self.lost(own),
            }
        }
        Ok(())
    }

    fn start_watch(&mut self) {
        let (tx, rx) = mpsc::channel();
        let client = self.registry.client.clone();
        let prefix = self.registry.subnets_prefix();
        let from = self.revision + 1;
        let max = self.settings.watch_max;
        std::thread::Builder::new()
            .name("etcd-watch".into())
            .spawn(move || {
                let watch = match client.watch_prefix(prefix.as_bytes(), from, max) {
                    Ok(w) => w,
                    Err(e) if e.is_compacted() => {
                        let _ = tx.send(WatchMsg::Compacted(0));
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send(WatchMsg::Broken(e.to_string()));
                        return;
                    }
                };
                for item in watch {
                    let msg = match item {
                        Ok(r) if r.canceled && r.compact_revision > 0 => {
                            WatchMsg::Compacted(r.compact_revision)
                        }
                        Ok(r) if r.canceled => WatchMsg::Broken(format!(
                            "etcd cancelled the watch: {}",
                            if r.cancel_reason.is_empty() {
                                "no reason given"
                            } else {
                                &r.cancel_reason
                            }
                        )),
                        Ok(r) if r.events.is_empty() => continue,
                        Ok(r) => WatchMsg::Batch(r),
                        Err(e) if e.is_compacted() => WatchMsg::Compacted(0),
                        Err(e) => WatchMsg::Broken(e.to_string()),
                    };
                    let last = !matches!(msg, WatchMsg::Batch(_));
                    if tx.send(msg).is_err() || last {
                        return;
                    }
                }
                let _ = tx.send(WatchMsg::Ended);
            })
            .ok();
        self.watch = Some(rx);
    }

    fn apply(&mut self, resp: etcd::WatchResponse) {
        for ev in resp.events {
            let key = ev.kv.key_str();
            let Some((subnet, _)) = super::parse_subnet_key(&key) else {
                continue;
            };
            match ev.kind {
                EventKind::Delete => {
                    if let Some(old) = self.leases.remove(&subnet) {
                        self.pending.push(Change::Removed(old));
                    }
                    if let Some(own) = self.own.clone()
                        && own.subnet == subnet
                    {
                        self.lost(own);
                    }
                }
                EventKind::Put => {
                    let Ok(new) = Lease::from_kv(&ev.kv) else {
                        // Not a lease flannel could read either: ignored, as flanneld does.
                        continue;
                    };
                    if let Some(own) = self.own.clone()
                        && own.subnet == subnet
                    {
                        if new.attrs.public_ip != own.attrs.public_ip {
                            // Somebody overwrote our key: we no longer hold this subnet.
                            self.own = None;
                            // Its subnet is taken now (so not preferred); its MAC is kept.
                            self.lost = Some(own.clone());
                            self.pending.push(Change::Lost(own));
                            self.next_renew = Some(Instant::now());
                        } else {
                            let mut own = own;
                            own.mod_revision = new.mod_revision;
                            own.attrs = new.attrs.clone();
                            own.etcd_lease = new.etcd_lease;
                            self.own = Some(own);
                        }
                    }
                    match self.leases.insert(subnet, new.clone()) {
                        None => self.pending.push(Change::Added(new)),
                        Some(old) if old.attrs != new.attrs => {
                            self.pending.push(Change::Updated(new))
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        self.revision = self.revision.max(resp.revision);
    }

    fn unreachable(&mut self, error: String) {
        self.watch = None;
        let now = Instant::now();
        let (since, backoff) = match &self.health {
            Health::Unreachable { since, backoff, .. } => {
                (*since, (*backoff * 2).min(self.settings.backoff_max))
            }
            Health::Connected => {
                self.pending.push(Change::Unreachable(error.clone()));
                (now, self.settings.backoff_min)
            }
        };
        self.health = Health::Unreachable {
            error,
            since,
            retry_at: now + backoff,
            backoff,
        };
    }

    /// Wait up to `wait` for lease changes, renewing this node's lease when due and
    /// riding out etcd outages (the known leases stay). Returns as soon as something
    /// changed. Errors are only those an operator must see (out of subnets, …); etcd being
    /// unreachable is reported as [`Change::Unreachable`] and in [`Manager::health`].
    pub fn poll(&mut self, wait: Duration) -> anyhow::Result<Vec<Change>> {
        let deadline = Instant::now() + wait;
        loop {
            if !self.pending.is_empty() {
                return Ok(std::mem::take(&mut self.pending));
            }
            let now = Instant::now();
            if let Health::Unreachable { retry_at, .. } = self.health {
                if now < retry_at {
                    if deadline <= now {
                        return Ok(Vec::new());
                    }
                    std::thread::sleep(retry_at.min(deadline) - now);
                    continue;
                }
                match self.relist() {
                    Ok(()) => {
                        self.health = Health::Connected;
                        self.pending.push(Change::Reconnected);
                        self.start_watch();
                    }
                    Err(e) if e.is_unreachable() => {
                        self.unreachable(e.to_string());
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
                continue;
            }
            if self.watch.is_none() {
                match self.relist() {
                    Ok(()) => self.start_watch(),
                    Err(e) if e.is_unreachable() => {
                        self.unreachable(e.to_string());
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if let Some(at) = self.next_renew
                && at <= now
                && self.request.is_some()
            {
                let step = if self.own.is_some() {
                    self.renew().map_err(anyhow::Error::from)
                } else {
                    let lost = self.lost.clone();
                    let r = self.acquire_now(lost.as_ref()).map(|_| ());
                    if r.is_ok() {
                        self.lost = None;
                    }
                    r
                };
                if let Err(e) = step {
                    match e.downcast_ref::<etcd::Error>() {
                        Some(ee) if ee.is_unreachable() => {
                            self.unreachable(ee.to_string());
                            continue;
                        }
                        _ => {
                            self.next_renew = Some(now + self.settings.backoff_max);
                            return Err(e);
                        }
                    }
                }
                continue;
            }
            let mut until = deadline;
            if let Some(at) = self.next_renew.filter(|_| self.request.is_some()) {
                until = until.min(at);
            }
            let Some(rx) = &self.watch else { continue };
            let msg = rx.recv_timeout(until.saturating_duration_since(now));
            match msg {
                Ok(WatchMsg::Batch(resp)) => self.apply(resp),
                Ok(WatchMsg::Compacted(rev)) => {
                    self.watch = None;
                    self.pending.push(Change::Relisted {
                        compact_revision: rev,
                    });
                }
                Ok(WatchMsg::Broken(e)) => self.unreachable(e),
                Ok(WatchMsg::Ended) | Err(RecvTimeoutError::Disconnected) => {
                    // Our own time limit: reopen from where we are, no re-read needed.
                    self.start_watch();
                }
                Err(RecvTimeoutError::Timeout) => {
                    if Instant::now() >= deadline {
                        return Ok(std::mem::take(&mut self.pending));
                    }
                }
            }
        }
    }
}

/// A random locally administered unicast MAC, as flannel makes for its VTEP.
pub fn random_vtep_mac() -> MacAddr {
    let mut b = [0u8; 6];
    fill_random(&mut b);
    crate::cni::local_unicast(b)
}

fn random_below(n: usize) -> usize {
    let mut b = [0u8; 8];
    fill_random(&mut b);
    (u64::from_le_bytes(b) % n.max(1) as u64) as usize
}

fn fill_random(buf: &mut [u8]) {
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .is_ok();
    if !ok {
        // No /dev/urandom: fall back on the std hasher's per-process random keys.
        use std::hash::{BuildHasher, Hasher};
        for (i, chunk) in buf.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            h.write_u128(
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos(),
            );
            let v = h.finish().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vtep_macs_are_local_unicast() {
        for _ in 0..50 {
            let m = random_vtep_mac();
            assert_eq!(m.0[0] & 0x03, 0x02, "{m}");
        }
        for n in 1..20 {
            assert!(random_below(n) < n);
        }
    }
}
