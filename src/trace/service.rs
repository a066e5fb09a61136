//! A trace to a Service: kube-proxy (iptables mode) DNATs a connection to the ClusterIP to
//! one ready endpoint picked by probability, so every ready endpoint is traced, each with
//! its own verdict, and the Service is reached only when all of them are. Without ready
//! endpoints kube-proxy rejects the connection; without Services in the input, an address
//! in the service range is never claimed delivered.

use std::net::IpAddr;

use anyhow::bail;
use serde::Serialize;

use super::walk::{Dnat, DnatTo};
use super::{Endpoint, Probe, Proto, Trace, resolve, trace_nat};
use crate::model::service::{Service, Services};
use crate::world::World;

/// A trace destination that is a Service address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `namespace/name`, or the service range when no Service is known.
    pub service: String,
    /// The Service address.
    pub vip: IpAddr,
    /// The Service port the probe meets, when known.
    pub port: Option<u16>,
    /// What kube-proxy does with it.
    pub fate: Fate,
    /// Remarks on the resolution (the port picked, endpoints not ready).
    pub notes: Vec<String>,
}

/// What kube-proxy does with a connection to a [`Target`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// DNAT to one of these endpoints: address, port, and the pod behind it when known.
    Endpoints(Vec<(IpAddr, Option<u16>, Option<String>)>),
    /// No ready endpoint: REJECT.
    Reject,
    /// The input lists no Services.
    Unknown,
    /// The input lists Services, and none has this address.
    NoService,
}

/// A Service destination's traces: one per ready endpoint (or the one rejected or unknown
/// request), and the overall verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceTrace {
    /// The Service (`namespace/name`, or the service range when none is known).
    pub service: String,
    /// Its address.
    pub cluster_ip: IpAddr,
    /// Its port the probe meets.
    pub port: Option<u16>,
    /// One trace per ready endpoint; the single request when none is traced to an endpoint.
    pub endpoints: Vec<Trace>,
    /// Whether every endpoint got through both ways (false without an endpoint).
    pub delivered: bool,
    /// The stable code of the overall verdict when not delivered (`no-endpoints`,
    /// `services-not-in-input`, `endpoints-failing`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// The overall verdict in a sentence.
    pub explanation: String,
    /// Things to know when reading the trace.
    pub notes: Vec<String>,
}

impl ServiceTrace {
    /// True when every ready endpoint got through both ways.
    pub fn ok(&self) -> bool {
        self.delivered
    }
}

fn protocol(probe: Probe) -> &'static str {
    match probe.proto {
        Proto::Udp => "UDP",
        _ => "TCP",
    }
}

/// Whether `spec` names a Service destination: `svc/NAMESPACE/NAME`, a Service's ClusterIP,
/// or (when the input lists no Services, or none has it) an address in the service range
/// that no host has. `None` when it is none of these.
pub fn target(
    world: &World,
    services: &Services,
    spec: &str,
    probe: Probe,
) -> anyhow::Result<Option<Target>> {
    let spec = spec.trim();
    if let Some(key) = spec
        .strip_prefix("svc/")
        .or_else(|| spec.strip_prefix("service/"))
    {
        if !services.listed {
            bail!(
                "{spec}: the input lists no Services (dump them with `kubectl get nodes,pods,svc,endpointslices -A -o json`)"
            );
        }
        let key = if key.contains('/') {
            key.to_string()
        } else {
            format!("default/{key}")
        };
        let Some(svc) = services.by_key(&key) else {
            bail!("no service {key} in the input");
        };
        return of_service(svc, probe, true).map(Some);
    }
    let Ok(ip) = spec.parse::<IpAddr>() else {
        return Ok(None);
    };
    if let Some(svc) = services.by_ip(ip) {
        return of_service(svc, probe, false).map(Some);
    }
    let (range, from, assumed) = services.range();
    if !world.owners(ip).is_empty() || !range.contains(ip) {
        return Ok(None);
    }
    let how = if assumed {
        format!("{range}, {from}, assumed")
    } else {
        format!("{range}, {from}")
    };
    Ok(Some(Target {
        service: how,
        vip: ip,
        port: probe.dport,
        fate: if services.listed {
            Fate::NoService
        } else {
            Fate::Unknown
        },
        notes: Vec::new(),
    }))
}

fn of_service(svc: &Service, probe: Probe, named: bool) -> anyhow::Result<Target> {
    let key = svc.key();
    let Some(vip) = svc.cluster_ip else {
        bail!(
            "service {key} is headless (clusterIP: None): kube-proxy programs no rule for it; trace its pods"
        );
    };
    let proto = protocol(probe);
    let mut notes = Vec::new();
    let port = match svc.port(probe.dport, proto) {
        Some(p) => p,
        None => {
            let list = svc
                .ports
                .iter()
                .map(|p| format!("{}/{}", p.port, p.protocol))
                .collect::<Vec<_>>()
                .join(", ");
            match svc.port(None, proto).filter(|_| named) {
                Some(p) => {
                    notes.push(format!(
                        "service {key} has no port {}/{proto}: traced on its port {}/{proto} (pass --dport to pick another of {list})",
                        probe.dport.unwrap_or(0),
                        p.port
                    ));
                    p
                }
                None => bail!(
                    "service {key} ({vip}) has no port {}/{proto} (its ports: {}): kube-proxy programs no rule for it",
                    probe.dport.unwrap_or(0),
                    if list.is_empty() { "none" } else { &list }
                ),
            }
        }
    };
    let not_ready: Vec<String> = svc
        .endpoints
        .iter()
        .filter(|e| !e.ready)
        .map(|e| e.ip.to_string())
        .collect();
    if !not_ready.is_empty() {
        notes.push(format!(
            "endpoints not ready, which kube-proxy leaves out: {}",
            not_ready.join(", ")
        ));
    }
    let mut ready: Vec<(IpAddr, Option<u16>, Option<String>)> = Vec::new();
    for e in svc.ready() {
        let item = (e.ip, e.target(port), e.pod.clone());
        if !ready.contains(&item) {
            ready.push(item);
        }
    }
    Ok(Target {
        service: key,
        vip,
        port: Some(port.port),
        fate: if ready.is_empty() {
            Fate::Reject
        } else {
            Fate::Endpoints(ready)
        },
        notes,
    })
}

/// Trace SRC → the Service `target`: every ready endpoint through kube-proxy's DNAT.
pub fn trace(world: &World, src: &Endpoint, target: &Target, probe: Probe) -> ServiceTrace {
    let probe = Probe {
        dport: target.port.or(probe.dport),
        ..probe
    };
    let port = target.port.map(|p| format!(":{p}")).unwrap_or_default();
    let mut notes = target.notes.clone();
    let (endpoints, delivered, code, explanation) = match &target.fate {
        Fate::Endpoints(eps) => {
            let traces: Vec<Trace> = eps
                .iter()
                .map(|(ip, ep_port, pod)| {
                    let dst = endpoint(world, *ip, pod.as_deref(), target, &port);
                    let dnat = Dnat {
                        vip: target.vip,
                        service: target.service.clone(),
                        to: DnatTo::Endpoint(*ip, *ep_port),
                    };
                    trace_nat(world, src, &dst, probe, Some(dnat))
                })
                .collect();
            let failing: Vec<String> = traces
                .iter()
                .filter(|t| !t.ok())
                .map(|t| t.dst.ip.map_or_else(String::new, |i| i.to_string()))
                .collect();
            let n = traces.len();
            if failing.is_empty() {
                let what = format!(
                    "delivered: all {n} ready endpoint(s) of service {} ({}{port}) are reached and answer",
                    target.service, target.vip
                );
                (traces, true, None, what)
            } else {
                let what = format!(
                    "not delivered: {} of {n} ready endpoint(s) of service {} ({}{port}) fail ({}); kube-proxy picks an endpoint per connection, so those connections fail",
                    failing.len(),
                    target.service,
                    target.vip,
                    failing.join(", ")
                );
                (traces, false, Some("endpoints-failing"), what)
            }
        }
        Fate::Reject | Fate::Unknown | Fate::NoService => {
            let (to, code) = match target.fate {
                Fate::Reject => (DnatTo::Reject, "no-endpoints"),
                Fate::NoService => (DnatTo::NoService, "no-service"),
                _ => (DnatTo::Unknown, "services-not-in-input"),
            };
            let label = match target.fate {
                Fate::Reject => format!(
                    "service {} ({}{port}), no ready endpoints",
                    target.service, target.vip
                ),
                _ => format!("{} (in the service range {})", target.vip, target.service),
            };
            let dst = Endpoint {
                label,
                kind: None,
                host: None,
                ip: Some(target.vip),
                note: None,
            };
            let dnat = Dnat {
                vip: target.vip,
                service: target.service.clone(),
                to,
            };
            let t = trace_nat(world, src, &dst, probe, Some(dnat));
            let what = format!("not delivered: {}", t.request.verdict.explanation());
            if matches!(target.fate, Fate::Unknown) {
                notes.push(format!(
                    "the service range is {}; a destination in it is a ClusterIP that only the Services in the input can explain",
                    target.service
                ));
            }
            (vec![t], false, Some(code), what)
        }
    };
    ServiceTrace {
        service: target.service.clone(),
        cluster_ip: target.vip,
        port: target.port,
        endpoints,
        delivered,
        code,
        explanation,
        notes,
    }
}

/// An endpoint as a trace destination, labelled with the Service it is reached through.
fn endpoint(world: &World, ip: IpAddr, pod: Option<&str>, target: &Target, port: &str) -> Endpoint {
    let via = format!("via service {} ({}{port})", target.service, target.vip);
    match resolve(world, &ip.to_string(), false) {
        Ok(mut e) => {
            e.label = format!("{} {via}", e.label);
            e
        }
        Err(_) => Endpoint {
            label: format!(
                "{ip}{} (outside the cluster) {via}",
                pod.map(|p| format!(" ({p})")).unwrap_or_default()
            ),
            kind: None,
            host: None,
            ip: Some(ip),
            note: None,
        },
    }
}
