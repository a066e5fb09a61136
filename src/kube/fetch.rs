//! The requests: every List netpath needs, page by page (`limit`/`continue`), read as raw JSON
//! and handed to the [`super::list::ListWriter`]; and what a failure means, in one line.

use std::time::Duration;

use kube::{Client, Config};

use super::config::{Origin, one_line};
use super::list::{ListWriter, Page};
use crate::error::refused;

/// Objects per page, as kubectl's default `--chunk-size`.
pub const PAGE: usize = 500;

/// One kind of object netpath reads.
#[derive(Debug, Clone, Copy)]
pub struct Resource {
    /// The List path (`/api/v1/pods`).
    pub path: &'static str,
    /// The plural, as RBAC names it (`pods`).
    pub plural: &'static str,
    /// The API group, as RBAC names it (`""` for the core group).
    pub group: &'static str,
    /// The item kind (`Pod`).
    pub kind: &'static str,
    /// The item apiVersion (`v1`).
    pub api_version: &'static str,
    /// A field selector, when only some objects are wanted.
    pub selector: Option<&'static str>,
    /// Custom resources: absent (404) means "not installed", not an error.
    pub optional: bool,
}

const fn core(
    path: &'static str,
    plural: &'static str,
    kind: &'static str,
    selector: Option<&'static str>,
) -> Resource {
    Resource {
        path,
        plural,
        group: "",
        kind,
        api_version: "v1",
        selector,
        optional: false,
    }
}

const fn calico(
    path: &'static str,
    plural: &'static str,
    group: &'static str,
    kind: &'static str,
    api_version: &'static str,
) -> Resource {
    Resource {
        path,
        plural,
        group,
        kind,
        api_version,
        selector: None,
        optional: true,
    }
}

/// What is read, in the order kubectl's `get nodes,pods,ippools,blockaffinities,cm` prints it.
pub const CORE: [Resource; 4] = [
    core("/api/v1/nodes", "nodes", "Node", None),
    core("/api/v1/pods", "pods", "Pod", None),
    core(
        "/api/v1/configmaps",
        "configmaps",
        "ConfigMap",
        Some("metadata.name=kube-flannel-cfg"),
    ),
    core(
        "/api/v1/configmaps",
        "configmaps",
        "ConfigMap",
        Some("metadata.name=calico-config"),
    ),
];

/// Calico's pools and block affinities: the CRDs first; Calico's API server (v3) where the
/// CRDs are not served.
pub const CALICO: [[Resource; 2]; 2] = [
    [
        calico(
            "/apis/crd.projectcalico.org/v1/ippools",
            "ippools",
            "crd.projectcalico.org",
            "IPPool",
            "crd.projectcalico.org/v1",
        ),
        calico(
            "/apis/projectcalico.org/v3/ippools",
            "ippools",
            "projectcalico.org",
            "IPPool",
            "projectcalico.org/v3",
        ),
    ],
    [
        calico(
            "/apis/crd.projectcalico.org/v1/blockaffinities",
            "blockaffinities",
            "crd.projectcalico.org",
            "BlockAffinity",
            "crd.projectcalico.org/v1",
        ),
        calico(
            "/apis/projectcalico.org/v3/blockaffinities",
            "blockaffinities",
            "projectcalico.org",
            "BlockAffinity",
            "projectcalico.org/v3",
        ),
    ],
];

/// Read everything into one List document; the counts are per kind read.
pub async fn read_all(
    config: Config,
    origin: &Origin,
    timeout: Duration,
) -> anyhow::Result<(Vec<u8>, Vec<(&'static str, usize)>)> {
    let client = Client::try_from(config).map_err(|e| {
        refused(format!(
            "Kubernetes API at {}: {}",
            origin.describe(),
            one_line(&e)
        ))
    })?;
    let reader = Reader {
        client,
        origin,
        timeout,
    };
    // The lists are independent: ask for all of them at once, and write them in order.
    let (nodes, pods, flannel_cm, calico_cm, pools, affinities) = tokio::join!(
        reader.list(&CORE[0]),
        reader.list(&CORE[1]),
        reader.list(&CORE[2]),
        reader.list(&CORE[3]),
        reader.first_served(&CALICO[0]),
        reader.first_served(&CALICO[1]),
    );
    let mut writer = ListWriter::new();
    let mut counts = Vec::new();
    for (pages, kind) in [
        (nodes?, "Node"),
        (pods?, "Pod"),
        (pools?, "IPPool"),
        (affinities?, "BlockAffinity"),
        (flannel_cm?, "ConfigMap"),
        (calico_cm?, "ConfigMap"),
    ] {
        let mut n = 0;
        for page in &pages {
            n += writer.push(page);
        }
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, c)) => *c += n,
            None => counts.push((kind, n)),
        }
    }
    Ok((writer.finish(), counts))
}

struct Reader<'a> {
    client: Client,
    origin: &'a Origin,
    timeout: Duration,
}

impl Reader<'_> {
    /// The first of `choices` the server serves (an empty list when none is).
    async fn first_served(&self, choices: &[Resource]) -> anyhow::Result<Vec<Page>> {
        for r in choices {
            if let Some(pages) = self.pages(r).await? {
                return Ok(pages);
            }
        }
        Ok(Vec::new())
    }

    async fn list(&self, r: &Resource) -> anyhow::Result<Vec<Page>> {
        Ok(self.pages(r).await?.unwrap_or_default())
    }

    /// Every page of one List; `None` when an optional resource is not served.
    async fn pages(&self, r: &Resource) -> anyhow::Result<Option<Vec<Page>>> {
        let mut pages = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let url = page_url(r, next.as_deref());
            let text = match self.get(&url).await {
                Ok(t) => t,
                Err(Failure::Api(e)) if e.code == 404 && r.optional => return Ok(None),
                Err(f) => return Err(refused(f.sentence(self.origin, r, self.timeout))),
            };
            let page = Page::new(text, *r).map_err(|e| {
                refused(format!(
                    "Kubernetes API at {}: {} is not a {}List: {e}",
                    self.origin.describe(),
                    r.path,
                    r.kind
                ))
            })?;
            next = page.continue_token().map(str::to_string);
            pages.push(page);
            if next.is_none() {
                return Ok(Some(pages));
            }
        }
    }

    async fn get(&self, url: &str) -> Result<String, Failure> {
        let request = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| Failure::Other(e.to_string()))?;
        match tokio::time::timeout(self.timeout, self.client.request_text(request)).await {
            Err(_) => Err(Failure::Timeout),
            Ok(Ok(text)) => Ok(text),
            Ok(Err(kube::Error::Api(e))) => Err(Failure::Api(e)),
            Ok(Err(e)) => Err(classify(&e)),
        }
    }
}

fn page_url(r: &Resource, next: Option<&str>) -> String {
    let mut url = format!("{}?limit={PAGE}", r.path);
    if let Some(s) = r.selector {
        url.push_str("&fieldSelector=");
        url.push_str(&encode(s));
    }
    if let Some(c) = next {
        url.push_str("&continue=");
        url.push_str(&encode(c));
    }
    url
}

/// Percent-encode a query value (continue tokens are base64: `+`, `/` and `=` must not reach
/// the server as themselves).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Why a request failed.
#[derive(Debug)]
pub enum Failure {
    /// The server answered with an error Status.
    Api(kube::core::ErrorResponse),
    /// No answer within the request timeout.
    Timeout,
    /// The TLS handshake failed (the server's certificate, or ours).
    Tls(String),
    /// No connection (refused, unreachable, name not found).
    Unreachable(String),
    /// The client could not authenticate (an exec plugin failed, a token file is missing).
    Credentials(String),
    /// Anything else.
    Other(String),
}

fn classify(err: &kube::Error) -> Failure {
    // The client's layers prefix their names ("ServiceError: client error (Connect): …"):
    // what is left says what happened.
    let mut text = one_line(err);
    for layer in ["ServiceError: ", "HyperError: ", "client error (Connect): "] {
        if let Some(rest) = text.strip_prefix(layer) {
            text = rest.to_string();
        }
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(c) = cause {
        if c.downcast_ref::<rustls::Error>().is_some() {
            return Failure::Tls(text);
        }
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                return Failure::Tls(text);
            }
            if io.kind() == std::io::ErrorKind::TimedOut {
                return Failure::Timeout;
            }
        }
        cause = c.source();
    }
    if matches!(err, kube::Error::Auth(_)) {
        return Failure::Credentials(text);
    }
    let lower = text.to_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        Failure::Tls(text)
    } else if lower.contains("connect") || lower.contains("dns") || lower.contains("resolve") {
        Failure::Unreachable(text)
    } else {
        Failure::Other(text)
    }
}

impl Failure {
    /// One line naming the server and what is missing.
    pub fn sentence(&self, origin: &Origin, r: &Resource, timeout: Duration) -> String {
        let at = origin.describe();
        match self {
            Failure::Api(e) => match e.code {
                401 => format!(
                    "the Kubernetes API at {at} does not accept the credentials (401 Unauthorized): the kubeconfig's token, client certificate or exec plugin gave none it knows, or they expired"
                ),
                403 => format!(
                    "the Kubernetes API at {at} forbids list {} (403 Forbidden: {}): netpath needs the read-only ClusterRole in deploy/rbac.yaml bound to this user",
                    resource_name(r),
                    clean(&e.message)
                ),
                code => format!(
                    "the Kubernetes API at {at} refused list {} ({code} {}: {})",
                    resource_name(r),
                    e.reason,
                    clean(&e.message)
                ),
            },
            Failure::Timeout => format!(
                "the Kubernetes API at {at} did not answer list {} within {} s (--request-timeout)",
                resource_name(r),
                timeout.as_secs_f64()
            ),
            Failure::Tls(t) => format!(
                "TLS with the Kubernetes API at {at} failed: {t} (check the kubeconfig's certificate-authority and client certificate)"
            ),
            Failure::Unreachable(t) => {
                format!("cannot reach the Kubernetes API at {at}: {t}")
            }
            Failure::Credentials(t) => {
                format!("no credentials for the Kubernetes API at {at}: {t}")
            }
            Failure::Other(t) => {
                format!("the Kubernetes API at {at}: list {}: {t}", resource_name(r))
            }
        }
    }
}

/// `pods`, `ippools.crd.projectcalico.org`: the resource as RBAC and kubectl name it.
fn resource_name(r: &Resource) -> String {
    if r.group.is_empty() {
        r.plural.to_string()
    } else {
        format!("{}.{}", r.plural, r.group)
    }
}

fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_url_encodes_selector_and_continue() {
        assert_eq!(
            page_url(&CORE[2], Some("eyJzdGFydCI6IDUwMH0=")),
            "/api/v1/configmaps?limit=500&fieldSelector=metadata.name%3Dkube-flannel-cfg&continue=eyJzdGFydCI6IDUwMH0%3D"
        );
        assert_eq!(page_url(&CORE[0], None), "/api/v1/nodes?limit=500");
    }

    #[test]
    fn resource_names_as_rbac_says_them() {
        assert_eq!(resource_name(&CORE[1]), "pods");
        assert_eq!(
            resource_name(&CALICO[1][0]),
            "blockaffinities.crd.projectcalico.org"
        );
    }
}
