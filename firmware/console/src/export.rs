//! `/export`: the feedback ring as JSONL in the toolchain's formats.
//!
//! The blocks and their formats are described in the crate docs.

use embedded_io::Write;

use crate::feedback::{Entry, FeedbackRing, Field, Verdict};
use crate::json;

/// One block of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Sft,
    Preferences,
    Labels,
}

impl Block {
    const ALL: [Block; 3] = [Block::Sft, Block::Preferences, Block::Labels];

    fn header(self) -> &'static str {
        match self {
            Block::Sft => "--- sft.jsonl: demonstrations for `mote sft` (/good, /better) ---",
            Block::Preferences => {
                "--- preferences.jsonl: pairs for `mote rm` and `mote dpo` (/better) ---"
            }
            Block::Labels => {
                "--- labels.jsonl: replies rated good or bad, KTO-style (/good, /bad) ---"
            }
        }
    }

    /// The fields after `system` and `prompt` that `e` gives in this block, if any.
    fn fields<'r>(self, e: &Entry<'r>) -> Option<(Pair<'r>, Option<Pair<'r>>)> {
        use Value::{Bool, Text};
        let label = |l| Some(("label", Bool(l)));
        match (self, e.verdict) {
            (Block::Sft, Verdict::Good) => Some((("completion", Text(e.reply)), None)),
            (Block::Sft, Verdict::Better) => Some((("completion", Text(e.better)), None)),
            (Block::Preferences, Verdict::Better) => Some((
                ("chosen", Text(e.better)),
                Some(("rejected", Text(e.reply))),
            )),
            (Block::Labels, Verdict::Good) => Some((("completion", Text(e.reply)), label(true))),
            (Block::Labels, Verdict::Bad) => Some((("completion", Text(e.reply)), label(false))),
            _ => None,
        }
    }
}

type Pair<'r> = (&'static str, Value<'r>);

#[derive(Clone, Copy)]
enum Value<'r> {
    Text(Field<'r>),
    Bool(bool),
}

/// Print every non-empty block; returns the number of lines written.
pub(crate) fn export<S: Write>(port: &mut S, ring: &FeedbackRing<'_>) -> Result<usize, S::Error> {
    let mut lines = 0;
    for block in Block::ALL {
        let mut first = true;
        for e in ring.iter() {
            let Some(fields) = block.fields(&e) else {
                continue;
            };
            if core::mem::take(&mut first) {
                port.write_all(block.header().as_bytes())?;
                port.write_all(b"\r\n")?;
            }
            record(port, &e, fields)?;
            lines += 1;
        }
    }
    Ok(lines)
}

/// One JSON object on one line.
fn record<S: Write>(
    port: &mut S,
    e: &Entry<'_>,
    (first, second): (Pair<'_>, Option<Pair<'_>>),
) -> Result<(), S::Error> {
    port.write_all(b"{")?;
    if !e.system.is_empty() {
        port.write_all(b"\"system\":")?;
        json::write_str(port, &e.system.0)?;
        port.write_all(b",")?;
    }
    port.write_all(b"\"prompt\":")?;
    json::write_str(port, &e.prompt.0)?;
    for (name, value) in core::iter::once(first).chain(second) {
        port.write_all(b",")?;
        json::write_str(port, &[name.as_bytes()])?;
        port.write_all(b":")?;
        match value {
            Value::Text(f) => json::write_str(port, &f.0)?,
            Value::Bool(b) => port.write_all(if b { b"true" } else { b"false" })?,
        }
    }
    port.write_all(b"}\r\n")
}
