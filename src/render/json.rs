//! JSON conventions: one document per command with a `"schema"` field
//! (`netpath.<command>/v1`), or, for streams, one object per line.

use std::io::Write;

use serde::Serialize;

/// Print `value` as one pretty JSON document, followed by a newline.
/// `value` must serialize to an object whose first field is `schema`.
pub fn print_document<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, super::out::Stdout::raw());
    serde_json::to_writer_pretty(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Write `value` as one compact JSON line (for streams).
pub fn write_line<W: Write, T: Serialize>(out: &mut W, value: &T) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The schema string for a command, e.g. `schema("routes") == "netpath.routes/v1"`.
pub fn schema(command: &str) -> String {
    format!("netpath.{command}/v1")
}
