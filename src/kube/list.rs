//! API pages into one kubectl-format List document, the file `--cluster` reads.
//!
//! The server sends typed Lists (`{"kind":"PodList","metadata":{"continue":…},"items":[…]}`)
//! whose items of built-in kinds carry no `kind`/`apiVersion`; kubectl adds them when it
//! prints `-o json`, and so does this writer. Items are copied as the server sent them (no
//! document tree is built): the dump keeps everything for a post-mortem, and the reader skips
//! what it does not need.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::fetch::Resource;

/// One page of a List, as received.
#[derive(Debug)]
pub struct Page {
    text: String,
    /// Where each item is in `text` (found once, when the page arrives).
    items: Vec<std::ops::Range<usize>>,
    resource: Resource,
    continue_token: Option<String>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(borrow, default)]
    items: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize, Default)]
struct ListMeta {
    #[serde(rename = "continue", default)]
    continue_token: Option<String>,
}

impl Page {
    /// Check a page's envelope and keep it; `resource` says what its items are.
    pub fn new(text: String, resource: Resource) -> Result<Page, serde_json::Error> {
        let envelope: Envelope = serde_json::from_str(&text)?;
        let continue_token = envelope.metadata.continue_token.filter(|c| !c.is_empty());
        let base = text.as_ptr() as usize;
        let items = envelope
            .items
            .unwrap_or_default()
            .iter()
            .map(|raw| {
                let start = raw.get().as_ptr() as usize - base;
                start..start + raw.get().len()
            })
            .collect();
        Ok(Page {
            text,
            items,
            resource,
            continue_token,
        })
    }

    /// The token for the next page, when there is one.
    pub fn continue_token(&self) -> Option<&str> {
        self.continue_token.as_deref()
    }
}

/// Builds the List document item by item.
#[derive(Debug)]
pub struct ListWriter {
    out: Vec<u8>,
    items: usize,
}

impl Default for ListWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl ListWriter {
    /// An empty List.
    pub fn new() -> ListWriter {
        let mut out = Vec::with_capacity(1 << 20);
        out.extend_from_slice(b"{\"apiVersion\":\"v1\",\"items\":[");
        ListWriter { out, items: 0 }
    }

    /// Append a page's items (each with its kind and apiVersion); returns how many.
    pub fn push(&mut self, page: &Page) -> usize {
        let typed = format!(
            "{{\"apiVersion\":\"{}\",\"kind\":\"{}\"",
            page.resource.api_version, page.resource.kind
        );
        for range in &page.items {
            if self.items > 0 {
                self.out.push(b',');
            }
            self.items += 1;
            let raw = &page.text[range.clone()];
            if has_type_meta(raw) {
                self.out.extend_from_slice(raw.as_bytes());
                continue;
            }
            self.out.extend_from_slice(typed.as_bytes());
            let body = raw
                .trim_start()
                .strip_prefix('{')
                .unwrap_or(raw)
                .trim_start();
            if !body.starts_with('}') {
                self.out.push(b',');
            }
            self.out.extend_from_slice(body.as_bytes());
        }
        page.items.len()
    }

    /// The finished document, as kubectl writes a List's envelope.
    pub fn finish(mut self) -> Vec<u8> {
        self.out
            .extend_from_slice(b"],\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"}}\n");
        self.out
    }
}

/// True when an item names its own kind (custom resources do; built-in kinds in a List do
/// not). The server writes TypeMeta before ObjectMeta when it writes it at all, so an item
/// that starts with either answers at once; any other shape has its top-level keys scanned.
fn has_type_meta(raw: &str) -> bool {
    let body = raw
        .trim_start()
        .strip_prefix('{')
        .unwrap_or("")
        .trim_start();
    if body.starts_with("\"apiVersion\"") || body.starts_with("\"kind\"") {
        return true;
    }
    if body.starts_with("\"metadata\"") {
        return false;
    }
    top_level_keys(raw).any(|k| k == "kind")
}

/// The keys of a JSON object's top level, raw (escapes left as they are).
fn top_level_keys(raw: &str) -> impl Iterator<Item = &str> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    let mut expect_key = false;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let b = bytes[i];
            i += 1;
            match b {
                b'"' => {
                    let start = i;
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    let end = i.min(bytes.len());
                    i += 1;
                    if depth == 1 && expect_key {
                        expect_key = false;
                        return raw.get(start..end);
                    }
                }
                b'{' | b'[' => {
                    depth += 1;
                    expect_key = depth == 1 && b == b'{';
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                b',' if depth == 1 => expect_key = true,
                _ => {}
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::super::fetch::{CALICO, CORE};
    use super::*;

    fn page(text: &str, r: Resource) -> Page {
        Page::new(text.to_string(), r).expect("page")
    }

    #[test]
    fn typed_items_get_kind_and_custom_resources_keep_theirs() {
        let mut w = ListWriter::new();
        let pods = page(
            r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":"abc","remainingItemCount":3},"items":[{"metadata":{"name":"a","namespace":"x"},"spec":{}},{}]}"#,
            CORE[1],
        );
        assert_eq!(pods.continue_token(), Some("abc"));
        assert_eq!(w.push(&pods), 2);
        let pools = page(
            r#"{"apiVersion":"crd.projectcalico.org/v1","items":[{"apiVersion":"crd.projectcalico.org/v1","kind":"IPPool","metadata":{"name":"p"}}],"kind":"IPPoolList","metadata":{"continue":"","resourceVersion":"1"}}"#,
            CALICO[0][0],
        );
        assert_eq!(pools.continue_token(), None);
        w.push(&pools);
        let doc = String::from_utf8(w.finish()).expect("utf8");
        let v: serde_json::Value = serde_json::from_str(&doc).expect("valid JSON");
        assert_eq!(v["kind"], "List");
        assert_eq!(v["items"][0]["kind"], "Pod");
        assert_eq!(v["items"][0]["apiVersion"], "v1");
        assert_eq!(v["items"][0]["metadata"]["name"], "a");
        assert_eq!(v["items"][1]["kind"], "Pod");
        assert_eq!(v["items"][2]["kind"], "IPPool");
        assert_eq!(v["items"][2]["apiVersion"], "crd.projectcalico.org/v1");
    }

    #[test]
    fn kind_found_anywhere_at_the_top_level_only() {
        assert!(has_type_meta(r#"{"spec":{"kind":"x"},"kind":"Pod"}"#));
        assert!(!has_type_meta(
            r#"{"spec":{"kind":"x","a":["kind"]},"status":{"s":"\"kind\""}}"#
        ));
        assert!(!has_type_meta(r#"{"metadata":{"name":"a"},"spec":{}}"#));
        assert!(has_type_meta(r#" { "kind" : "Pod" }"#));
    }

    #[test]
    fn an_empty_list_is_a_valid_document() {
        let doc = ListWriter::new().finish();
        let v: serde_json::Value = serde_json::from_slice(&doc).expect("valid JSON");
        assert_eq!(v["items"].as_array().map(Vec::len), Some(0));
    }
}
