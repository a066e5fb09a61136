//! Shared helpers for iproute2's JSON output (`ip -j …`, `bridge -j …`).

use anyhow::{Result, bail};
use serde_json::{Map, Value};

use super::text::{Prompt, prompt_command, prompt_of};

/// The input with prompt, comment and Markdown fence lines blanked (kept as empty lines, so
/// that serde's line numbers are the input's), and the first prompt's filters.
pub(crate) fn blank_non_json(input: &str) -> (String, Prompt) {
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let mut out = String::with_capacity(input.len());
    let mut prompt = None;
    for (i, line) in input.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let t = line.trim();
        if let Some(cmd) = prompt_command(t) {
            if prompt.is_none() {
                prompt = Some(prompt_of(cmd));
            }
            continue;
        }
        if t.starts_with('#') || t.starts_with("```") || t.starts_with("~~~") {
            continue;
        }
        out.push_str(line);
    }
    (out, prompt.unwrap_or_default())
}

/// An entry's device: the JSON's own (under `key`), else the one the prompt's `dev D` named.
pub(crate) fn dev_or_prompt(found: Option<&str>, prompt: &Prompt, key: &str) -> Result<String> {
    match found {
        Some(d) => Ok(d.to_string()),
        None => prompt
            .dev
            .clone()
            .ok_or_else(|| anyhow::anyhow!("no \"{key}\" (and no `dev` in the command)")),
    }
}

/// What a JSON value is, for messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Every object of the JSON documents in `text`: each document an array of objects (or one
/// object). `what` names the command for messages (`ip -j route`).
pub(crate) fn objects(text: &str, what: &str) -> Result<Vec<Map<String, Value>>> {
    let mut out = Vec::new();
    let stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    for value in stream {
        let value = match value {
            Ok(v) => v,
            Err(e) if e.is_eof() => bail!(
                "truncated JSON: the input ends inside a document (line {}, column {}); \
                 paste the whole output of `{what}`",
                e.line(),
                e.column()
            ),
            Err(e) => bail!("bad JSON at line {}, column {}: {e}", e.line(), e.column()),
        };
        match value {
            Value::Array(a) => {
                for (i, item) in a.into_iter().enumerate() {
                    match item {
                        Value::Object(o) => out.push(o),
                        other => bail!(
                            "JSON: element {} of the array is {}, not an object (expected the output of `{what}`)",
                            i + 1,
                            kind_of(&other)
                        ),
                    }
                }
            }
            Value::Object(o) => out.push(o),
            other => bail!(
                "JSON: expected an array of objects (the output of `{what}`), found {}",
                kind_of(&other)
            ),
        }
    }
    Ok(out)
}

/// A field as text: strings as they are, numbers printed.
pub(crate) fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
