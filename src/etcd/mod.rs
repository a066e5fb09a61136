//! A small etcd v3 client over etcd's JSON gRPC gateway (`POST /v3/kv/range`, `/v3/kv/txn`,
//! `/v3/lease/grant`, `/v3/watch`, …), as served by etcd 3.4 and later under `/v3/`.
//!
//! Keys and values travel base64-encoded and 64-bit numbers as JSON strings; fields equal to
//! their zero value are left out by the gateway, so every field here has a default.
//! Endpoints are tried in order and the last one that answered is kept. TLS (a CA file, a
//! client certificate and key) goes through rustls; user/password authentication gets a
//! token from `/v3/auth/authenticate`, sent as the `Authorization` header and refreshed
//! when etcd says it is no longer valid. The password is never printed (not even by
//! `Debug`).

mod wire;

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

pub use wire::{Event, EventKind, KeyValue, WatchResponse};

/// What went wrong talking to etcd.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No endpoint answered (connection refused, timeout, TLS failure…).
    #[error("etcd unreachable ({endpoints}): {detail}")]
    Unreachable {
        /// The endpoints tried.
        endpoints: String,
        /// The last transport error.
        detail: String,
    },
    /// etcd answered with an error (gRPC status code and message).
    #[error("etcd refused {what}: {message} (gRPC code {code})")]
    Server {
        /// The request (`/v3/kv/range`).
        what: String,
        /// gRPC status code (11 out of range: compacted; 16 unauthenticated).
        code: i64,
        /// etcd's message.
        message: String,
    },
    /// etcd's answer could not be understood.
    #[error("etcd answered {what} with something unexpected: {detail}")]
    Decode {
        /// The request.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// Bad client configuration (unreadable certificate…).
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// True when etcd could not be reached at all: callers retry with backoff and keep
    /// what they knew.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Error::Unreachable { .. })
    }

    /// True when etcd said the requested revision was compacted away.
    pub fn is_compacted(&self) -> bool {
        matches!(self, Error::Server { code: 11, message, .. } if message.contains("compacted"))
    }
}

/// A password or other secret: kept in memory, never printed.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How to reach etcd.
#[derive(Debug, Clone)]
pub struct Options {
    /// Client URLs (`http://10.0.0.1:2379`, `https://…`); tried in order.
    pub endpoints: Vec<String>,
    /// CA bundle (PEM) to verify the server with (otherwise the Mozilla roots).
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS.
    pub cert_file: Option<PathBuf>,
    /// Client private key (PEM) for mutual TLS.
    pub key_file: Option<PathBuf>,
    /// User name for etcd's authentication.
    pub username: Option<String>,
    /// Password for etcd's authentication.
    pub password: Option<Secret>,
    /// Time limit of one unary request (connect, send, receive).
    pub timeout: Duration,
}

impl Options {
    /// Options for plain-HTTP endpoints with the default timeout (5 s).
    pub fn new(endpoints: Vec<String>) -> Options {
        Options {
            endpoints,
            ca_file: None,
            cert_file: None,
            key_file: None,
            username: None,
            password: None,
            timeout: Duration::from_secs(5),
        }
    }
}

/// A lease id (`0` means no lease).
pub type LeaseId = i64;

/// The result of a create-if-absent transaction.
#[derive(Debug, Clone)]
pub enum Create {
    /// The key was created at this revision.
    Created(i64),
    /// The key already existed: here it is.
    Exists(Option<KeyValue>),
}

/// Decode `data` as the gateway's answers are decoded: a unary answer (range, txn, lease)
/// and each line as a watch stream line. The fuzz entry (`crate::fuzzing::etcd_wire`).
#[doc(hidden)]
pub fn decode_for_fuzzing(data: &[u8]) {
    for path in ["/v3/kv/range", "/v3/kv/txn", "/v3/lease/grant", "/v3/watch"] {
        if let Ok(v) = decode_answer(path, 200, data) {
            if let Some(kvs) = v.get("kvs").cloned() {
                if let Ok(kvs) = decode::<Vec<wire::RawKeyValue>>(path, kvs) {
                    for kv in kvs {
                        let _ = kv.decode();
                    }
                }
            }
            let result = v.get("result").cloned().unwrap_or(v);
            let _ = decode::<wire::RawWatchResponse>(path, result).map(|r| r.decode());
        }
    }
    let _ = decode_answer("/v3/kv/range", 400, data);
}

/// Hide the credentials of every URL in `text` (`http://root:S3cr3t@host` becomes
/// `http://***@host`): for messages and output that quote endpoints.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("://") || !text.contains('@') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#', space, comma or quote.
        let end = tail
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | ',' | '"' | '\'' | ')') || c.is_whitespace()
            })
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// Take `user[:password]@` out of a URL: the URL without it, and the credentials.
fn split_userinfo(url: &str) -> (String, Option<(String, Option<String>)>) {
    let Some(i) = url.find("://") else {
        return (url.to_string(), None);
    };
    let (scheme, rest) = url.split_at(i + 3);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..end].rfind('@') else {
        return (url.to_string(), None);
    };
    let info = &rest[..at];
    let creds = match info.split_once(':') {
        Some((u, p)) => (u.to_string(), Some(p.to_string())),
        None => (info.to_string(), None),
    };
    (format!("{scheme}{}", &rest[at + 1..]), Some(creds))
}

/// An etcd v3 client (cheap to clone; clones share the endpoint choice and token).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    agent: ureq::Agent,
    endpoints: Vec<String>,
    current: AtomicUsize,
    user: Option<(String, Secret)>,
    token: Mutex<Option<String>>,
    timeout: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoints", &self.inner.endpoints)
            .field("user", &self.inner.user.as_ref().map(|u| &u.0))
            .finish()
    }
}

/// The end of the range covering every key that starts with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // Every byte was 0xff: the range runs to the end of the keyspace.
    vec![0]
}

impl Client {
    /// A client for `options`; reads the TLS files now (errors name the file).
    pub fn new(options: &Options) -> Result<Client, Error> {
        if options.endpoints.is_empty() {
            return Err(Error::Config("no etcd endpoint given".into()));
        }
        let mut endpoints = Vec::new();
        let mut url_user = None;
        for e in &options.endpoints {
            let e = e.trim().trim_end_matches('/');
            if e.is_empty() {
                continue;
            }
            let e = if e.contains("://") {
                e.to_string()
            } else {
                format!("http://{e}")
            };
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(Error::Config(format!(
                    "etcd endpoint {:?}: expected http://HOST:PORT or https://HOST:PORT",
                    redact(&e)
                )));
            }
            // Credentials in the URL are taken out of it, so no message can show them.
            let (e, user) = split_userinfo(&e);
            if user.is_some() {
                url_user = user;
            }
            endpoints.push(e);
        }
        if endpoints.is_empty() {
            return Err(Error::Config(
                "--etcd-endpoints is empty: give at least one etcd URL, e.g. http://10.0.0.1:2379"
                    .into(),
            ));
        }
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(ca) = &options.ca_file {
            let pem = crate::input::read(ca, "--etcd-cafile", crate::input::MAX_SMALL)
                .map_err(|e| Error::Config(format!("{e:#}")))?;
            let certs: Vec<_> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(Error::Config(format!(
                    "--etcd-cafile {}: no PEM certificate in it",
                    ca.display()
                )));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        match (&options.cert_file, &options.key_file) {
            (Some(cert), Some(key)) => {
                let pem = crate::input::read(cert, "--etcd-certfile", crate::input::MAX_SMALL)
                    .map_err(|e| Error::Config(format!("{e:#}")))?;
                let chain: Vec<_> = ureq::tls::parse_pem(&pem)
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                if chain.is_empty() {
                    return Err(Error::Config(format!(
                        "--etcd-certfile {}: no PEM certificate in it",
                        cert.display()
                    )));
                }
                let pem = crate::input::read(key, "--etcd-keyfile", crate::input::MAX_SMALL)
                    .map_err(|e| Error::Config(format!("{e:#}")))?;
                let key = ureq::tls::PrivateKey::from_pem(&pem).map_err(|e| {
                    Error::Config(format!(
                        "--etcd-keyfile {}: no usable PEM private key ({e})",
                        key.display()
                    ))
                })?;
                tls = tls.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&chain, key)));
            }
            (None, None) => {}
            _ => {
                return Err(Error::Config(
                    "--etcd-certfile and --etcd-keyfile go together".into(),
                ));
            }
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(options.timeout.min(Duration::from_secs(3))))
            .tls_config(tls.build())
            .user_agent("netpath")
            .build()
            .into();
        let (username, password) = match (&options.username, url_user) {
            (None, Some((u, p))) => (Some(u), p.map(Secret::new).or(options.password.clone())),
            _ => (options.username.clone(), options.password.clone()),
        };
        let user = match (&username, &password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            (Some(u), None) => Some((u.clone(), Secret::default())),
            (None, Some(_)) => {
                return Err(Error::Config(
                    "an etcd password needs a user name (--etcd-username)".into(),
                ));
            }
            (None, None) => None,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                agent,
                endpoints,
                current: AtomicUsize::new(0),
                user,
                token: Mutex::new(None),
                timeout: options.timeout,
            }),
        })
    }

    /// The endpoints, as given.
    pub fn endpoints(&self) -> &[String] {
        &self.inner.endpoints
    }

    /// The endpoint in use (the last one that answered).
    pub fn current_endpoint(&self) -> &str {
        let i = self.inner.current.load(Ordering::Relaxed) % self.inner.endpoints.len();
        &self.inner.endpoints[i]
    }

    fn token(&self) -> Option<String> {
        self.inner.token.lock().ok().and_then(|t| t.clone())
    }

    fn set_token(&self, token: Option<String>) {
        if let Ok(mut t) = self.inner.token.lock() {
            *t = token;
        }
    }

    /// Get a token from `/v3/auth/authenticate` (when a user is configured).
    fn authenticate(&self) -> Result<(), Error> {
        let Some((user, password)) = &self.inner.user else {
            return Ok(());
        };
        let body = json!({"name": user, "password": password.expose()});
        let v = self.post_raw("/v3/auth/authenticate", &body, false)?;
        let token = v
            .get("token")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Decode {
                what: "/v3/auth/authenticate".into(),
                detail: "no token in the answer".into(),
            })?;
        self.set_token(Some(token.to_string()));
        Ok(())
    }

    /// One unary call: POST `path` with `body`, JSON back. Authenticates first when a user
    /// is configured, and once more when etcd says the token is no longer valid.
    fn call(&self, path: &str, body: &Value) -> Result<Value, Error> {
        if self.inner.user.is_some() && self.token().is_none() {
            self.authenticate()?;
        }
        match self.post_raw(path, body, true) {
            Err(Error::Server { code, message, .. })
                if self.inner.user.is_some() && is_auth_error(code, &message) =>
            {
                self.set_token(None);
                self.authenticate()?;
                self.post_raw(path, body, true)
            }
            r => r,
        }
    }

    /// POST to the current endpoint, failing over to the next ones on transport errors.
    fn post_raw(&self, path: &str, body: &Value, with_token: bool) -> Result<Value, Error> {
        let text = body.to_string();
        let n = self.inner.endpoints.len();
        let start = self.inner.current.load(Ordering::Relaxed);
        let mut last = String::new();
        for k in 0..n {
            let i = (start + k) % n;
            let url = format!("{}{path}", self.inner.endpoints[i]);
            let mut req = self
                .inner
                .agent
                .post(&url)
                .header("Content-Type", "application/json");
            if with_token && let Some(t) = self.token() {
                req = req.header("Authorization", t);
            }
            let resp = req
                .config()
                .timeout_global(Some(self.inner.timeout))
                .build()
                .send(text.as_str());
            match resp {
                Ok(mut resp) => {
                    self.inner.current.store(i, Ordering::Relaxed);
                    let status = resp.status().as_u16();
                    let bytes = resp
                        .body_mut()
                        .with_config()
                        .limit(256 << 20)
                        .read_to_vec()
                        .map_err(|e| Error::Unreachable {
                            endpoints: url.clone(),
                            detail: format!("reading the answer: {e}"),
                        })?;
                    return decode_answer(path, status, &bytes);
                }
                Err(e) => last = format!("{url}: {e}"),
            }
        }
        Err(Error::Unreachable {
            endpoints: self.inner.endpoints.join(","),
            detail: last,
        })
    }

    /// Any gateway call (`/v3/auth/user/add`, `/v3/maintenance/status`…): POST `body` to
    /// `path`, the JSON answer back.
    pub fn request(&self, path: &str, body: &Value) -> Result<Value, Error> {
        self.call(path, body)
    }

    /// The key `key` (or every key in `[key, range_end)`), and the store's revision.
    pub fn range(
        &self,
        key: &[u8],
        range_end: Option<&[u8]>,
    ) -> Result<(Vec<KeyValue>, i64), Error> {
        let mut body = json!({"key": B64.encode(key)});
        if let Some(end) = range_end {
            body["range_end"] = json!(B64.encode(end));
        }
        let v = self.call("/v3/kv/range", &body)?;
        let r: wire::RangeResponse = decode("/v3/kv/range", v)?;
        let kvs = r
            .kvs
            .into_iter()
            .map(|kv| kv.decode())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|detail| Error::Decode {
                what: "/v3/kv/range".into(),
                detail,
            })?;
        Ok((kvs, r.header.revision))
    }

    /// Every key starting with `prefix`, and the store's revision.
    pub fn range_prefix(&self, prefix: &[u8]) -> Result<(Vec<KeyValue>, i64), Error> {
        self.range(prefix, Some(&prefix_end(prefix)))
    }

    /// Put `value` at `key`, attached to `lease` (0: none). Returns the new revision.
    pub fn put(&self, key: &[u8], value: &[u8], lease: LeaseId) -> Result<i64, Error> {
        let mut body = json!({"key": B64.encode(key), "value": B64.encode(value)});
        if lease != 0 {
            body["lease"] = json!(lease.to_string());
        }
        let v = self.call("/v3/kv/put", &body)?;
        let r: wire::HeaderOnly = decode("/v3/kv/put", v)?;
        Ok(r.header.revision)
    }

    /// Create `key` only if it does not exist (a transaction comparing its create_revision
    /// with 0), attached to `lease`. When it exists, returns it.
    pub fn create(&self, key: &[u8], value: &[u8], lease: LeaseId) -> Result<Create, Error> {
        let k = B64.encode(key);
        let mut put = json!({"key": k, "value": B64.encode(value)});
        if lease != 0 {
            put["lease"] = json!(lease.to_string());
        }
        let body = json!({
            "compare": [{"key": k, "target": "CREATE", "result": "EQUAL", "create_revision": "0"}],
            "success": [{"request_put": put}],
            "failure": [{"request_range": {"key": k}}],
        });
        let v = self.call("/v3/kv/txn", &body)?;
        let r: wire::TxnResponse = decode("/v3/kv/txn", v)?;
        if r.succeeded {
            return Ok(Create::Created(r.header.revision));
        }
        let existing = r
            .responses
            .into_iter()
            .find_map(|op| op.response_range)
            .and_then(|rr| rr.kvs.into_iter().next())
            .map(|kv| kv.decode())
            .transpose()
            .map_err(|detail| Error::Decode {
                what: "/v3/kv/txn".into(),
                detail,
            })?;
        Ok(Create::Exists(existing))
    }

    /// Put `value` at `key` only if the key is still at `mod_revision` (nobody changed it
    /// since it was read). Returns whether it was written.
    pub fn replace(
        &self,
        key: &[u8],
        value: &[u8],
        lease: LeaseId,
        mod_revision: i64,
    ) -> Result<bool, Error> {
        let k = B64.encode(key);
        let mut put = json!({"key": k, "value": B64.encode(value)});
        if lease != 0 {
            put["lease"] = json!(lease.to_string());
        }
        let body = json!({
            "compare": [{"key": k, "target": "MOD", "result": "EQUAL", "mod_revision": mod_revision.to_string()}],
            "success": [{"request_put": put}],
        });
        let v = self.call("/v3/kv/txn", &body)?;
        let r: wire::TxnResponse = decode("/v3/kv/txn", v)?;
        Ok(r.succeeded)
    }

    /// Delete `key`. Returns how many keys went.
    pub fn delete(&self, key: &[u8]) -> Result<i64, Error> {
        let v = self.call("/v3/kv/deleterange", &json!({"key": B64.encode(key)}))?;
        let r: wire::DeleteResponse = decode("/v3/kv/deleterange", v)?;
        Ok(r.deleted)
    }

    /// Grant a lease of `ttl` seconds. Returns its id and the TTL etcd granted.
    pub fn grant(&self, ttl: i64) -> Result<(LeaseId, i64), Error> {
        let v = self.call("/v3/lease/grant", &json!({"TTL": ttl.to_string()}))?;
        let r: wire::LeaseGrant = decode("/v3/lease/grant", v)?;
        if let Some(e) = r.error.filter(|e| !e.is_empty()) {
            return Err(Error::Server {
                what: "/v3/lease/grant".into(),
                code: 0,
                message: e,
            });
        }
        Ok((r.id, r.ttl))
    }

    /// Refresh lease `id` to its granted TTL. Returns the TTL now left, or `None` when the
    /// lease no longer exists (expired or revoked).
    pub fn keepalive(&self, id: LeaseId) -> Result<Option<i64>, Error> {
        let v = self.call("/v3/lease/keepalive", &json!({"ID": id.to_string()}))?;
        let r: wire::LeaseTtl = decode("/v3/lease/keepalive", v)?;
        Ok((r.ttl > 0).then_some(r.ttl))
    }

    /// Seconds left on lease `id` and the TTL it was granted with, or `None` when the
    /// lease does not exist.
    pub fn time_to_live(&self, id: LeaseId) -> Result<Option<(i64, i64)>, Error> {
        let v = self.call("/v3/lease/timetolive", &json!({"ID": id.to_string()}))?;
        let r: wire::LeaseTtl = decode("/v3/lease/timetolive", v)?;
        Ok((r.ttl > 0).then_some((r.ttl, r.granted_ttl)))
    }

    /// Revoke lease `id` (its keys are deleted).
    pub fn revoke(&self, id: LeaseId) -> Result<(), Error> {
        match self.call("/v3/lease/revoke", &json!({"ID": id.to_string()})) {
            Ok(_) => Ok(()),
            // Already gone: that is what we wanted.
            Err(Error::Server { message, .. }) if message.contains("not found") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Compact the key-value history up to `revision` (tests and maintenance).
    pub fn compact(&self, revision: i64) -> Result<(), Error> {
        self.call(
            "/v3/kv/compaction",
            &json!({"revision": revision.to_string(), "physical": true}),
        )?;
        Ok(())
    }

    /// Watch every key starting with `prefix`, from `start_revision` (0: from now). The
    /// stream ends after `max_duration` (so a connection that died silently is noticed);
    /// reopen it from the last revision seen + 1.
    pub fn watch_prefix(
        &self,
        prefix: &[u8],
        start_revision: i64,
        max_duration: Duration,
    ) -> Result<Watch, Error> {
        if self.inner.user.is_some() && self.token().is_none() {
            self.authenticate()?;
        }
        let mut create = json!({
            "key": B64.encode(prefix),
            "range_end": B64.encode(prefix_end(prefix)),
        });
        if start_revision > 0 {
            create["start_revision"] = json!(start_revision.to_string());
        }
        let body = json!({"create_request": create}).to_string();
        let n = self.inner.endpoints.len();
        let start = self.inner.current.load(Ordering::Relaxed);
        let mut last = String::new();
        for k in 0..n {
            let i = (start + k) % n;
            let url = format!("{}/v3/watch", self.inner.endpoints[i]);
            let mut req = self
                .inner
                .agent
                .post(&url)
                .header("Content-Type", "application/json");
            if let Some(t) = self.token() {
                req = req.header("Authorization", t);
            }
            let resp = req
                .config()
                .timeout_recv_response(Some(self.inner.timeout))
                .timeout_recv_body(Some(max_duration))
                .build()
                .send(body.as_str());
            match resp {
                Ok(mut resp) => {
                    self.inner.current.store(i, Ordering::Relaxed);
                    if resp.status().as_u16() != 200 {
                        let bytes = resp
                            .body_mut()
                            .with_config()
                            .limit(1 << 20)
                            .read_to_vec()
                            .unwrap_or_default();
                        let status = resp.status().as_u16();
                        return Err(decode_answer("/v3/watch", status, &bytes)
                            .err()
                            .unwrap_or_else(|| Error::Decode {
                                what: "/v3/watch".into(),
                                detail: format!("HTTP status {status}"),
                            }));
                    }
                    return Ok(Watch {
                        reader: BufReader::new(resp.into_body().into_reader()),
                        endpoint: url,
                    });
                }
                Err(e) => last = format!("{url}: {e}"),
            }
        }
        Err(Error::Unreachable {
            endpoints: self.inner.endpoints.join(","),
            detail: last,
        })
    }
}

fn is_auth_error(code: i64, message: &str) -> bool {
    code == 16 || message.contains("invalid auth token") || message.contains("user name is empty")
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, v: Value) -> Result<T, Error> {
    serde_json::from_value(v).map_err(|e| Error::Decode {
        what: what.into(),
        detail: e.to_string(),
    })
}

/// Turn an HTTP answer into JSON or an etcd error. Streaming endpoints (keepalive) wrap
/// their answer in `{"result": …}` or `{"error": …}`, one per line.
fn decode_answer(path: &str, status: u16, bytes: &[u8]) -> Result<Value, Error> {
    let text = String::from_utf8_lossy(bytes);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let v: Value = serde_json::from_str(first).map_err(|e| Error::Decode {
        what: path.into(),
        detail: format!("HTTP {status}: {e}: {:.200}", first),
    })?;
    if let Some(err) = server_error(path, &v) {
        return Err(err);
    }
    if status != 200 {
        return Err(Error::Decode {
            what: path.into(),
            detail: format!("HTTP status {status}: {:.200}", first),
        });
    }
    Ok(match v {
        Value::Object(mut m) if m.contains_key("result") => m.remove("result").unwrap_or_default(),
        v => v,
    })
}

/// The error inside a gateway answer, in either of its shapes:
/// `{"error": "...", "message": "...", "code": 11}` or `{"error": {"grpc_code": 11, "message": "..."}}`.
fn server_error(path: &str, v: &Value) -> Option<Error> {
    let e = v.get("error")?;
    let (code, message) = match e {
        Value::Object(o) => (
            o.get("grpc_code")
                .or_else(|| o.get("code"))
                .and_then(wire::as_i64)
                .unwrap_or(0),
            o.get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        Value::String(s) => (
            v.get("code").and_then(wire::as_i64).unwrap_or(0),
            v.get("message")
                .and_then(Value::as_str)
                .unwrap_or(s)
                .to_string(),
        ),
        _ => return None,
    };
    Some(Error::Server {
        what: path.into(),
        code,
        message,
    })
}

/// An open watch stream: an iterator of responses. It ends (`None`) when the server closes
/// the stream or its time is up; an `Err` item means the stream broke.
pub struct Watch {
    reader: BufReader<ureq::BodyReader<'static>>,
    endpoint: String,
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl Iterator for Watch {
    type Item = Result<WatchResponse, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut line = String::new();
        loop {
            line.clear();
            match self.reader.read_line(&mut line) {
                Ok(0) => return None,
                Ok(_) if line.trim().is_empty() => continue,
                Ok(_) => break,
                Err(e) => {
                    // The time limit we set ourselves ends the stream normally.
                    if e.to_string().contains("timeout") || e.kind() == std::io::ErrorKind::TimedOut
                    {
                        return None;
                    }
                    return Some(Err(Error::Unreachable {
                        endpoints: self.endpoint.clone(),
                        detail: format!("watch stream broke: {e}"),
                    }));
                }
            }
        }
        let v: Value = match serde_json::from_str(line.trim()) {
            Ok(v) => v,
            Err(e) => {
                return Some(Err(Error::Decode {
                    what: "/v3/watch".into(),
                    detail: format!("{e}: {:.200}", line.trim()),
                }));
            }
        };
        if let Some(err) = server_error("/v3/watch", &v) {
            return Some(Err(err));
        }
        let result = v.get("result").cloned().unwrap_or(v);
        Some(
            decode::<wire::RawWatchResponse>("/v3/watch", result).and_then(|r| {
                r.decode().map_err(|detail| Error::Decode {
                    what: "/v3/watch".into(),
                    detail,
                })
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_url_credentials() {
        assert_eq!(
            redact("etcd unreachable (http://root:S3cr3t@10.0.0.1:2379,http://b:2379): x"),
            "etcd unreachable (http://***@10.0.0.1:2379,http://b:2379): x"
        );
        assert_eq!(redact("http://h:2379/v3"), "http://h:2379/v3");
        assert_eq!(redact("mail a@b"), "mail a@b");
    }

    #[test]
    fn credentials_in_an_endpoint_leave_the_url() {
        let (url, creds) = split_userinfo("http://root:S3cr3t@10.0.0.1:2379");
        assert_eq!(url, "http://10.0.0.1:2379");
        assert_eq!(creds, Some(("root".into(), Some("S3cr3t".into()))));
        let c = Client::new(&Options::new(vec!["http://root:S3cr3t@127.0.0.1:1".into()])).unwrap();
        assert_eq!(c.endpoints(), ["http://127.0.0.1:1"]);
        assert!(!format!("{c:?}").contains("S3cr3t"));
    }

    #[test]
    fn empty_endpoints_are_a_sentence() {
        let e = Client::new(&Options::new(vec![String::new()])).unwrap_err();
        assert!(e.to_string().contains("at least one etcd URL"), "{e}");
    }

    #[test]
    fn prefix_end_increments_the_last_byte() {
        assert_eq!(prefix_end(b"/a/"), b"/a0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff"), vec![0]);
    }

    #[test]
    fn gateway_errors_in_both_shapes() {
        let v: Value = serde_json::from_str(
            r#"{"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11}"#,
        )
        .unwrap();
        let e = server_error("/v3/kv/range", &v).unwrap();
        assert!(e.is_compacted(), "{e}");
        let v: Value = serde_json::from_str(
            r#"{"error":{"grpc_code":16,"http_code":401,"message":"etcdserver: invalid auth token","http_status":"Unauthorized"}}"#,
        )
        .unwrap();
        let Some(Error::Server { code, message, .. }) = server_error("/v3/watch", &v) else {
            panic!()
        };
        assert!(is_auth_error(code, &message));
        let ok = decode_answer(
            "/v3/lease/keepalive",
            200,
            br#"{"result":{"ID":"7","TTL":"60"}}"#,
        )
        .unwrap();
        assert_eq!(ok["TTL"], "60");
        assert!(decode_answer("/v3/kv/range", 502, b"<html>bad gateway</html>").is_err());
    }

    #[test]
    fn secrets_are_not_printed() {
        let mut o = Options::new(vec!["http://127.0.0.1:1".into()]);
        o.username = Some("root".into());
        o.password = Some(Secret::new("hunter2"));
        let s = format!("{o:?}");
        assert!(!s.contains("hunter2"), "{s}");
        let c = Client::new(&o).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        let e = c.range(b"x", None).unwrap_err();
        assert!(e.is_unreachable(), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}
