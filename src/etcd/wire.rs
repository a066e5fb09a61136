//! The gateway's JSON shapes. 64-bit numbers come as strings, zero values are left out,
//! keys and values are base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A JSON number or a string holding one (the gateway writes int64 as strings).
pub(crate) fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn de_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    match v {
        Value::Null => Ok(0),
        v => as_i64(&v).ok_or_else(|| serde::de::Error::custom(format!("not an integer: {v}"))),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Header {
    #[serde(default, deserialize_with = "de_i64")]
    pub revision: i64,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct HeaderOnly {
    #[serde(default)]
    pub header: Header,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawKeyValue {
    #[serde(default)]
    key: String,
    #[serde(default, deserialize_with = "de_i64")]
    create_revision: i64,
    #[serde(default, deserialize_with = "de_i64")]
    mod_revision: i64,
    #[serde(default, deserialize_with = "de_i64")]
    version: i64,
    #[serde(default)]
    value: String,
    #[serde(default, deserialize_with = "de_i64")]
    lease: i64,
}

impl RawKeyValue {
    pub fn decode(self) -> Result<KeyValue, String> {
        let key = B64
            .decode(&self.key)
            .map_err(|e| format!("key is not base64: {e}"))?;
        let value = B64.decode(&self.value).map_err(|e| {
            format!(
                "value of {:?} is not base64: {e}",
                String::from_utf8_lossy(&key)
            )
        })?;
        Ok(KeyValue {
            key,
            value,
            create_revision: self.create_revision,
            mod_revision: self.mod_revision,
            version: self.version,
            lease: self.lease,
        })
    }
}

/// A key and its value, with etcd's bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key.
    pub key: Vec<u8>,
    /// The value (empty for a delete event).
    pub value: Vec<u8>,
    /// Revision at which the key was created.
    pub create_revision: i64,
    /// Revision of the last change.
    pub mod_revision: i64,
    /// Number of changes since creation.
    pub version: i64,
    /// The lease the key is attached to (0: none).
    pub lease: i64,
}

impl KeyValue {
    /// The key as text (lossy).
    pub fn key_str(&self) -> String {
        String::from_utf8_lossy(&self.key).into_owned()
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RangeResponse {
    #[serde(default)]
    pub header: Header,
    #[serde(default)]
    pub kvs: Vec<RawKeyValue>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TxnOp {
    #[serde(default)]
    pub response_range: Option<RangeResponse>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TxnResponse {
    #[serde(default)]
    pub header: Header,
    #[serde(default)]
    pub succeeded: bool,
    #[serde(default)]
    pub responses: Vec<TxnOp>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DeleteResponse {
    #[serde(default, deserialize_with = "de_i64")]
    pub deleted: i64,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct LeaseGrant {
    #[serde(default, rename = "ID", deserialize_with = "de_i64")]
    pub id: i64,
    #[serde(default, rename = "TTL", deserialize_with = "de_i64")]
    pub ttl: i64,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct LeaseTtl {
    #[serde(default, rename = "TTL", deserialize_with = "de_i64")]
    pub ttl: i64,
    #[serde(default, rename = "grantedTTL", deserialize_with = "de_i64")]
    pub granted_ttl: i64,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawEvent {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    kv: RawKeyValue,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawWatchResponse {
    #[serde(default)]
    header: Header,
    #[serde(default)]
    created: bool,
    #[serde(default)]
    canceled: bool,
    #[serde(default, deserialize_with = "de_i64")]
    compact_revision: i64,
    #[serde(default)]
    cancel_reason: String,
    #[serde(default)]
    events: Vec<RawEvent>,
}

impl RawWatchResponse {
    pub fn decode(self) -> Result<WatchResponse, String> {
        let events = self
            .events
            .into_iter()
            .map(|e| {
                Ok(Event {
                    kind: if e.kind == "DELETE" {
                        EventKind::Delete
                    } else {
                        EventKind::Put
                    },
                    kv: e.kv.decode()?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(WatchResponse {
            revision: self.header.revision,
            created: self.created,
            canceled: self.canceled,
            compact_revision: self.compact_revision,
            cancel_reason: self.cancel_reason,
            events,
        })
    }
}

/// Put or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The key was created or changed.
    Put,
    /// The key was deleted (or its lease expired).
    Delete,
}

/// One change seen by a watch.
#[derive(Debug, Clone)]
pub struct Event {
    /// Put or delete.
    pub kind: EventKind,
    /// The key (and for a put, its new value).
    pub kv: KeyValue,
}

/// One message of a watch stream.
#[derive(Debug, Clone)]
pub struct WatchResponse {
    /// The store's revision when this was sent.
    pub revision: i64,
    /// The watch was just created.
    pub created: bool,
    /// The watch was cancelled by the server (see `compact_revision`, `cancel_reason`).
    pub canceled: bool,
    /// Non-zero when the requested start revision was compacted: the oldest revision left.
    pub compact_revision: i64,
    /// Why the server cancelled the watch.
    pub cancel_reason: String,
    /// The changes.
    pub events: Vec<Event>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_etcd_3_4_sends() {
        let r: RawWatchResponse = serde_json::from_str(
            r#"{"header":{"cluster_id":"1","member_id":"2","revision":"5","raft_term":"2"},"events":[{"type":"DELETE","kv":{"key":"L2NvcmVvcy5jb20vbmV0d29yay9zdWJuZXRzLzEwLjI0NC4yLjAtMjQ=","mod_revision":"5"}}]}"#,
        )
        .unwrap();
        let r = r.decode().unwrap();
        assert_eq!(r.revision, 5);
        assert_eq!(r.events[0].kind, EventKind::Delete);
        assert_eq!(
            r.events[0].kv.key_str(),
            "/coreos.com/network/subnets/10.244.2.0-24"
        );
        let r: RawWatchResponse = serde_json::from_str(
            r#"{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"5"}"#,
        )
        .unwrap();
        let r = r.decode().unwrap();
        assert!(r.canceled);
        assert_eq!(r.compact_revision, 5);
        let t: TxnResponse = serde_json::from_str(
            r#"{"header":{"revision":"3"},"responses":[{"response_range":{"header":{"revision":"3"},"kvs":[{"key":"YQ==","create_revision":"3","mod_revision":"3","version":"1","value":"e30=","lease":"4111120195389163783"}],"count":"1"}}]}"#,
        )
        .unwrap();
        assert!(!t.succeeded);
        let kv = t
            .responses
            .into_iter()
            .next()
            .unwrap()
            .response_range
            .unwrap()
            .kvs;
        let kv = kv.into_iter().next().unwrap().decode().unwrap();
        assert_eq!(kv.lease, 4111120195389163783);
        assert_eq!(kv.value, b"{}");
    }
}
