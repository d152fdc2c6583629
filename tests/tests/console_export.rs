//! The console's `/export` read back by the toolchain: each block, saved as its own file,
//! loads with the reader meant for it (`mote sft`'s demonstrations, `mote rm`/`mote dpo`'s
//! preferences), with the texts intact.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::path::Path;

use embedded_io::{ErrorType, Read, ReadReady, Write};
use mote_console::{Clock, Console, ConsoleConfig};
use mote_runtime::{Gguf, Model, Tokenizer};
use mote_tests::reference_dir;
use mote_toolchain::data::sft::{load_examples, parse_conversation, Role, SftConfig};
use mote_toolchain::data::{read_preferences, read_records};
use mote_toolchain::init_random::synthetic_vocab;
use mote_toolchain::tokenizer::hf::hf_tokenizer;

struct Serial {
    input: VecDeque<u8>,
    out: Vec<u8>,
}

impl ErrorType for Serial {
    type Error = Infallible;
}

impl Read for Serial {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        match (buf.first_mut(), self.input.pop_front()) {
            (Some(dst), Some(b)) => {
                *dst = b;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

impl ReadReady for Serial {
    /// Nothing is typed during a reply.
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok(false)
    }
}

impl Write for Serial {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

struct Ticks;

impl Clock for Ticks {
    fn now(&self) -> u64 {
        0
    }
    fn ticks_per_second(&self) -> u64 {
        1
    }
}

/// What the console printed for `script`.
fn session(script: &str) -> String {
    let file = std::fs::read(reference_dir().join("ref-tiny-q8_0.gguf")).unwrap();
    let g = Gguf::parse(&file).unwrap();
    let model = Model::load(&g).unwrap();
    let mut table = vec![0u32; Tokenizer::table_len(&g).unwrap()];
    let tok = Tokenizer::build(&g, &mut table).unwrap();
    let cfg = ConsoleConfig {
        ctx_len: 128,
        max_reply: 12,
        system: Some("You are \"mote\".\tBe brief."),
        ..ConsoleConfig::DEFAULT
    };
    let mut mem = vec![0u8; Console::<Ticks>::memory_needed(&model, &cfg).unwrap()];
    let mut console = Console::new(&model, &tok, &mut mem, Ticks, cfg).unwrap();
    let mut serial = Serial {
        input: script.bytes().collect(),
        out: Vec::new(),
    };
    console.run(&mut serial).unwrap();
    String::from_utf8_lossy(&serial.out).into_owned()
}

/// Save each export block under its file name in `dir`; returns the names.
fn save_blocks(out: &str, dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let mut text = String::new();
    let start = out.find("\r\n--- ").expect("an export") + 2;
    for line in out[start..].split("\r\n") {
        if line.starts_with("--- end of export") {
            break;
        }
        if let Some(h) = line.strip_prefix("--- ") {
            if let Some(prev) = names.last() {
                std::fs::write(dir.join(prev), std::mem::take(&mut text)).unwrap();
            }
            names.push(h.split(':').next().unwrap().to_string());
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    std::fs::write(dir.join(names.last().unwrap()), text).unwrap();
    names
}

#[test]
fn exported_feedback_loads_in_the_toolchain() {
    let out = session(
        "What is 2 + 2?\r/good\r\
         Say \"hi\" \\ please\r/better Hi! \"Quoted\" and a \\ backslash.\r\
         Name a colour.\r/bad\r/export\r",
    );
    let dir = tempfile::tempdir().unwrap();
    let names = save_blocks(&out, dir.path());
    assert_eq!(names, ["sft.jsonl", "preferences.jsonl", "labels.jsonl"]);

    // mote sft: both demonstrations parse and tokenize.
    let sft = dir.path().join("sft.jsonl");
    let hf = hf_tokenizer(&synthetic_vocab(600)).unwrap();
    let cfg = SftConfig {
        max_len: 1024,
        ..SftConfig::default()
    };
    assert_eq!(load_examples(&sft, &hf, &cfg).unwrap().len(), 2);
    let demos: Vec<_> = read_records(&sft)
        .unwrap()
        .iter()
        .map(|r| parse_conversation(r).unwrap())
        .collect();
    let roles: Vec<_> = demos[0].iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::System, Role::User, Role::Assistant]);
    assert_eq!(demos[0][0].content, "You are \"mote\".\tBe brief.");
    assert_eq!(demos[0][1].content, "What is 2 + 2?");
    assert_eq!(demos[1][1].content, "Say \"hi\" \\ please");
    assert_eq!(demos[1][2].content, "Hi! \"Quoted\" and a \\ backslash.");

    // mote rm / mote dpo: the pair, better text first.
    let prefs = read_preferences(&dir.path().join("preferences.jsonl")).unwrap();
    assert_eq!(prefs.len(), 1);
    assert_eq!(prefs[0].responses[0], "Hi! \"Quoted\" and a \\ backslash.");
    assert_eq!(prefs[0].context.len(), 2, "system and user turns");

    // The labels: /good true, /bad false.
    let labels = read_records(&dir.path().join("labels.jsonl")).unwrap();
    let flags: Vec<_> = labels.iter().map(|r| r.fields["label"].clone()).collect();
    assert_eq!(flags, [serde_json::json!(true), serde_json::json!(false)]);
    assert_eq!(labels[1].fields["prompt"], "Name a colour.");
}
