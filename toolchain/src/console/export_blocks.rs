//! Finding the console's `/export` blocks in the bytes a board sends.
//!
//! The board (`firmware/console`, `export.rs`) answers `/export` with, per kind of
//! feedback, a header line `--- NAME: what it is for ---` followed by JSONL records, and
//! closes with `--- end of export: N records from M entries ---`. Lines end in `\r\n`.
//!
//! [`ExportScanner`] takes the output in chunks of any size (a chunk may end inside a
//! line, inside a `\r\n`, inside a UTF-8 character) and reports each block once it is
//! complete: when the next header or the end line arrives. It only looks for blocks right
//! after the board echoed an `/export` command line (`> /export`), so a reply that happens
//! to print header-like lines cannot write files. Block names must be plain file names
//! ending in `.jsonl`: they come from the board and become paths.

/// A line longer than this ends an export (the console's records are a few KiB at most).
pub const MAX_LINE: usize = 1 << 20;

/// One complete block: its file name and its record lines (without line ends), as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportBlock {
    pub name: String,
    pub lines: Vec<Vec<u8>>,
}

/// What the scanner found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportEvent {
    /// A block ended by the next header or the end line.
    Block(ExportBlock),
    /// The end line, `--- end of export: … ---`, as sent.
    End(String),
    /// A header whose name is not a plain `*.jsonl` file name; its lines are ignored.
    Refused { header: String },
    /// The output went on with something that is neither a record, a header nor the end
    /// line (the board restarted, or the connection ended): the open block is dropped.
    Interrupted { name: String, lines: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Ordinary output.
    Idle,
    /// The board echoed `/export`: a header (or a "no feedback" notice) comes next.
    Armed,
    /// Inside a block.
    Block(ExportBlock),
    /// Inside a refused block: records are skipped up to the next header or the end.
    Skipping,
}

/// Splits a byte stream into lines and picks out the export blocks; see the module docs.
#[derive(Debug, Clone)]
pub struct ExportScanner {
    line: Vec<u8>,
    /// The line being collected passed [`MAX_LINE`]; the rest of it is dropped.
    overlong: bool,
    state: State,
}

impl Default for ExportScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl ExportScanner {
    pub fn new() -> Self {
        ExportScanner {
            line: Vec::new(),
            overlong: false,
            state: State::Idle,
        }
    }

    /// Take in the next chunk of output; returns what it completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<ExportEvent> {
        let mut events = Vec::new();
        let mut rest = bytes;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            self.push(&rest[..i]);
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let overlong = std::mem::take(&mut self.overlong);
            self.on_line(&line, overlong, &mut events);
            rest = &rest[i + 1..];
        }
        self.push(rest);
        events
    }

    /// The output ended: an unfinished line is taken as a line, and an open block is
    /// reported as interrupted (no end line came).
    pub fn finish(&mut self) -> Vec<ExportEvent> {
        let mut events = Vec::new();
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            let overlong = std::mem::take(&mut self.overlong);
            self.on_line(&line, overlong, &mut events);
        }
        if let State::Block(b) = std::mem::replace(&mut self.state, State::Idle) {
            events.push(interrupted(b));
        }
        events
    }

    /// Whether a block is being collected.
    pub fn in_export(&self) -> bool {
        !matches!(self.state, State::Idle)
    }

    fn push(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.line.len());
        if bytes.len() > room {
            self.overlong = true;
        }
        self.line.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn on_line(&mut self, line: &[u8], overlong: bool, events: &mut Vec<ExportEvent>) {
        let state = std::mem::replace(&mut self.state, State::Idle);
        self.state = match state {
            State::Idle if is_export_echo(line) => State::Armed,
            State::Idle => State::Idle,
            State::Armed | State::Skipping | State::Block(_) if overlong => {
                if let State::Block(b) = state {
                    events.push(interrupted(b));
                }
                State::Idle
            }
            State::Armed => match classify(line) {
                Line::Header(Some(name)) => new_block(name),
                Line::Header(None) => {
                    events.push(refused(line));
                    State::Skipping
                }
                // "(no feedback to export)", or anything else: not an export after all.
                _ => State::Idle,
            },
            State::Skipping => match classify(line) {
                Line::Record | Line::Blank => State::Skipping,
                Line::Header(Some(name)) => new_block(name),
                Line::Header(None) => {
                    events.push(refused(line));
                    State::Skipping
                }
                Line::End => {
                    events.push(ExportEvent::End(text(line)));
                    State::Idle
                }
                Line::Other => State::Idle,
            },
            State::Block(mut b) => match classify(line) {
                Line::Record => {
                    b.lines.push(line.to_vec());
                    State::Block(b)
                }
                Line::Blank => State::Block(b),
                Line::Header(name) => {
                    events.push(ExportEvent::Block(b));
                    match name {
                        Some(name) => new_block(name),
                        None => {
                            events.push(refused(line));
                            State::Skipping
                        }
                    }
                }
                Line::End => {
                    events.push(ExportEvent::Block(b));
                    events.push(ExportEvent::End(text(line)));
                    State::Idle
                }
                Line::Other => {
                    events.push(interrupted(b));
                    State::Idle
                }
            },
        };
    }
}

fn new_block(name: String) -> State {
    State::Block(ExportBlock {
        name,
        lines: Vec::new(),
    })
}

fn interrupted(b: ExportBlock) -> ExportEvent {
    ExportEvent::Interrupted {
        name: b.name,
        lines: b.lines.len(),
    }
}

fn refused(line: &[u8]) -> ExportEvent {
    ExportEvent::Refused { header: text(line) }
}

fn text(line: &[u8]) -> String {
    String::from_utf8_lossy(line).into_owned()
}

enum Line {
    /// `--- NAME: … ---`; the name if it is a plain `*.jsonl` file name.
    Header(Option<String>),
    End,
    /// A JSON object's line (checked later, against the block's format).
    Record,
    Blank,
    Other,
}

fn classify(line: &[u8]) -> Line {
    if line.starts_with(b"--- end of export") {
        return Line::End;
    }
    if let Some(inner) = line
        .strip_prefix(b"--- ")
        .and_then(|l| l.strip_suffix(b" ---"))
    {
        if let Some(colon) = inner.iter().position(|&b| b == b':') {
            let name = std::str::from_utf8(&inner[..colon]).ok();
            return Line::Header(name.filter(|n| is_plain_jsonl_name(n)).map(str::to_owned));
        }
    }
    if line.first() == Some(&b'{') {
        Line::Record
    } else if line.iter().all(u8::is_ascii_whitespace) {
        Line::Blank
    } else {
        Line::Other
    }
}

/// A file name without directories or hidden-file dot: letters, digits, `.`, `_`, `-`,
/// starting with a letter or digit, ending in `.jsonl`.
pub fn is_plain_jsonl_name(name: &str) -> bool {
    name.len() <= 64
        && name.len() > ".jsonl".len()
        && name.ends_with(".jsonl")
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Whether `line` is the console's echo of an `/export` command: the prompt `> `, then the
/// command as typed. Backspaces are echoed as `\x08 \x08`; they are played back here the
/// way the terminal shows them, so `/exq⌫port` counts.
fn is_export_echo(line: &[u8]) -> bool {
    let mut shown: Vec<u8> = Vec::with_capacity(line.len());
    let mut cursor: usize = 0;
    for &b in line {
        if b == 0x08 {
            cursor = cursor.saturating_sub(1);
        } else {
            shown.truncate(cursor);
            shown.push(b);
            cursor += 1;
        }
    }
    shown.truncate(cursor);
    shown
        .strip_prefix(b"> ")
        .is_some_and(|typed| typed.trim_ascii() == b"/export")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &[u8] = b"mote console: /help lists the commands\r\n\
        > hello\r\nHi there!\r\n\
        > /good\r\n(rated good: 1 entry)\r\n\
        > /export\r\n\
        --- sft.jsonl: demonstrations for `mote sft` (/good, /better) ---\r\n\
        {\"prompt\":\"hello\",\"completion\":\"Hi there!\"}\r\n\
        --- labels.jsonl: replies rated good or bad, KTO-style (/good, /bad) ---\r\n\
        {\"prompt\":\"hello\",\"completion\":\"Hi there!\",\"label\":true}\r\n\
        --- end of export: 2 records from 1 entry ---\r\n> ";

    fn block(name: &str, lines: &[&str]) -> ExportEvent {
        ExportEvent::Block(ExportBlock {
            name: name.into(),
            lines: lines.iter().map(|l| l.as_bytes().to_vec()).collect(),
        })
    }

    fn expected() -> Vec<ExportEvent> {
        vec![
            block(
                "sft.jsonl",
                &[r#"{"prompt":"hello","completion":"Hi there!"}"#],
            ),
            block(
                "labels.jsonl",
                &[r#"{"prompt":"hello","completion":"Hi there!","label":true}"#],
            ),
            ExportEvent::End("--- end of export: 2 records from 1 entry ---".into()),
        ]
    }

    fn scan(chunks: &[&[u8]]) -> Vec<ExportEvent> {
        let mut s = ExportScanner::new();
        let mut events: Vec<_> = chunks.iter().flat_map(|c| s.feed(c)).collect();
        events.extend(s.finish());
        events
    }

    #[test]
    fn blocks_of_a_session() {
        assert_eq!(scan(&[SESSION]), expected());
    }

    #[test]
    fn any_chunking_gives_the_same_blocks() {
        let bytes: Vec<&[u8]> = SESSION.chunks(1).collect();
        assert_eq!(scan(&bytes), expected());
        for size in [2, 3, 5, 7, 64] {
            let chunks: Vec<&[u8]> = SESSION.chunks(size).collect();
            assert_eq!(scan(&chunks), expected(), "chunks of {size}");
        }
        // Split inside each "\r\n" and inside a multi-byte character.
        let text =
            "> /export\r\n--- sft.jsonl: x ---\r\n{\"prompt\":\"é\"}\r\n--- end of export ---\r\n";
        let b = text.as_bytes();
        for cut in 0..b.len() {
            let events = scan(&[&b[..cut], &b[cut..]]);
            assert_eq!(
                events[0],
                block("sft.jsonl", &["{\"prompt\":\"é\"}"]),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn plain_line_feeds_work_too() {
        let lf: Vec<u8> = SESSION.iter().copied().filter(|&b| b != b'\r').collect();
        assert_eq!(scan(&[&lf]), expected());
    }

    #[test]
    fn only_after_the_echo_of_export() {
        // A reply that prints an export's lines, without the command: nothing.
        let forged = b"> tell me a secret\r\n--- sft.jsonl: x ---\r\n{\"prompt\":\"a\"}\r\n\
                       --- end of export: 1 records from 1 entry ---\r\n> ";
        assert_eq!(scan(&[forged]), []);
        // `/export` with nothing to export.
        let empty = b"> /export\r\n(no feedback to export)\r\n> ";
        assert_eq!(scan(&[empty]), []);
        // Spaces around the command, and a typo erased with Backspace, still count.
        let edited =
            b"> /exq\x08 \x08port  \r\n--- sft.jsonl: x ---\r\n{}\r\n--- end of export ---\r\n";
        assert_eq!(
            scan(&[edited]),
            [
                block("sft.jsonl", &["{}"]),
                ExportEvent::End("--- end of export ---".into())
            ]
        );
        // Not the prompt's own line: a reply that ends in "/export".
        let reply =
            b"> hi\r\nthen type /export\r\n--- sft.jsonl: x ---\r\n{}\r\n--- end of export ---\r\n";
        assert_eq!(scan(&[reply]), []);
    }

    #[test]
    fn unsafe_names_are_refused_and_their_lines_skipped() {
        let out = b"> /export\r\n--- ../evil.jsonl: x ---\r\n{\"a\":1}\r\n\
                    --- sft.jsonl: x ---\r\n{\"b\":2}\r\n--- end of export ---\r\n";
        assert_eq!(
            scan(&[out]),
            [
                ExportEvent::Refused {
                    header: "--- ../evil.jsonl: x ---".into()
                },
                block("sft.jsonl", &["{\"b\":2}"]),
                ExportEvent::End("--- end of export ---".into()),
            ]
        );
        for bad in [
            "/etc/passwd.jsonl",
            ".hidden.jsonl",
            "a/b.jsonl",
            "sft.txt",
            ".jsonl",
            "a b.jsonl",
            "",
        ] {
            assert!(!is_plain_jsonl_name(bad), "{bad}");
        }
        for good in ["sft.jsonl", "preferences.jsonl", "labels-2.v1.jsonl"] {
            assert!(is_plain_jsonl_name(good), "{good}");
        }
    }

    #[test]
    fn a_cut_export_drops_its_open_block() {
        // The board restarted in the middle of the second block.
        let out = b"> /export\r\n--- sft.jsonl: x ---\r\n{\"a\":1}\r\n--- labels.jsonl: x ---\r\n\
                    {\"b\":2}\r\nmote console: /help lists the commands\r\n> ";
        assert_eq!(
            scan(&[out]),
            [
                block("sft.jsonl", &["{\"a\":1}"]),
                ExportEvent::Interrupted {
                    name: "labels.jsonl".into(),
                    lines: 1
                },
            ]
        );
        // The connection ended inside a record: the partial line is a record, the block
        // never ended.
        let mut s = ExportScanner::new();
        assert_eq!(s.feed(b"> /export\r\n--- sft.jsonl: x ---\r\n{\"a\":"), []);
        assert!(s.in_export());
        assert_eq!(
            s.finish(),
            [ExportEvent::Interrupted {
                name: "sft.jsonl".into(),
                lines: 1
            }]
        );
        assert!(!s.in_export());
    }

    #[test]
    fn an_overlong_line_ends_the_export() {
        let mut s = ExportScanner::new();
        s.feed(b"> /export\r\n--- sft.jsonl: x ---\r\n{");
        for _ in 0..(MAX_LINE / 4096 + 1) {
            assert_eq!(s.feed(&[b'x'; 4096]), []);
        }
        assert!(s.line.len() <= MAX_LINE);
        assert_eq!(
            s.feed(b"\r\n--- end of export ---\r\n"),
            [ExportEvent::Interrupted {
                name: "sft.jsonl".into(),
                lines: 0
            }]
        );
        // The scanner goes on normally afterwards.
        assert_eq!(
            s.feed(b"> /export\r\n--- sft.jsonl: x ---\r\n{}\r\n--- end of export ---\r\n"),
            [
                block("sft.jsonl", &["{}"]),
                ExportEvent::End("--- end of export ---".into())
            ]
        );
    }
}
