//! `/good`, `/bad`, `/better`, the ring they are kept in and `/export`.

mod common;
use common::*;

use mote_console::ConsoleConfig;
use serde_json::Value;

fn block<'b>(blocks: &'b [(String, Vec<Value>)], name: &str) -> &'b [Value] {
    blocks
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, r)| r.as_slice())
        .unwrap_or(&[])
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

/// The reply shown after `> message`, up to the note or prompt after it.
fn reply_to(out: &str, message: &str) -> String {
    let start = out.find(&format!("> {message}\r\n")).unwrap() + message.len() + 4;
    let rest = &out[start..];
    let end = ["\r\n(", "\r\n> "]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .unwrap();
    rest[..end].to_string()
}

/// An exported reply as the terminal showed it.
fn shown(v: &Value) -> String {
    v.as_str()
        .unwrap()
        .chars()
        .map(|c| match c {
            '\n' | '\t' => c,
            c if c.is_control() && (c as u32) < 0x80 => '\u{fffd}',
            c => c,
        })
        .collect::<String>()
        .replace('\n', "\r\n")
}

#[test]
fn export_prints_each_kind_in_its_block() {
    let cfg = ConsoleConfig {
        system: Some("Answer \"briefly\"."),
        ..config()
    };
    let script =
        "first \\ question\r/good\rsecond\r/bad\rthird\r/better Say \"hi\"\tthen\\stop.\r/export\r";
    let out = transcript(cfg, script.as_bytes());
    let blocks = export_blocks(&out);
    let names: Vec<&str> = blocks.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["sft.jsonl", "preferences.jsonl", "labels.jsonl"]);

    let sft = block(&blocks, "sft.jsonl");
    assert_eq!(sft.len(), 2, "/good and /better");
    for r in sft {
        assert_eq!(keys(r), ["completion", "prompt", "system"]);
        assert_eq!(r["system"], "Answer \"briefly\".");
    }
    assert_eq!(sft[0]["prompt"], "first \\ question");
    assert_eq!(
        shown(&sft[0]["completion"]),
        reply_to(&out, "first \\ question")
    );
    assert_eq!(sft[1]["prompt"], "third");
    assert_eq!(sft[1]["completion"], "Say \"hi\"\tthen\\stop.");

    let pairs = block(&blocks, "preferences.jsonl");
    assert_eq!(pairs.len(), 1);
    assert_eq!(keys(&pairs[0]), ["chosen", "prompt", "rejected", "system"]);
    assert_eq!(pairs[0]["chosen"], "Say \"hi\"\tthen\\stop.");
    assert_eq!(shown(&pairs[0]["rejected"]), reply_to(&out, "third"));

    let labels = block(&blocks, "labels.jsonl");
    assert_eq!(labels.len(), 2);
    assert_eq!(
        (&labels[0]["label"], &labels[1]["label"]),
        (&Value::Bool(true), &Value::Bool(false))
    );
    assert_eq!(labels[1]["prompt"], "second");
    assert_eq!(shown(&labels[1]["completion"]), reply_to(&out, "second"));
    assert!(out.contains("--- end of export: 5 records from 3 entries ---"));
}

#[test]
fn no_system_field_without_a_system_prompt() {
    let out = transcript(config(), b"hi\r/good\r/export\r");
    let blocks = export_blocks(&out);
    assert_eq!(
        keys(&block(&blocks, "sft.jsonl")[0]),
        ["completion", "prompt"]
    );
    assert!(block(&blocks, "preferences.jsonl").is_empty());
}

#[test]
fn replies_with_control_bytes_export_as_valid_json() {
    // A random model's replies are full of byte tokens; each must come out escaped.
    let mut script = Vec::new();
    for i in 0..6 {
        script.extend_from_slice(format!("q{i}\r/bad\r").as_bytes());
    }
    script.extend_from_slice(b"/export\r");
    let cfg = ConsoleConfig {
        max_reply: 16,
        feedback_bytes: 4096,
        ..config()
    };
    let out = transcript(cfg, &script);
    let labels = block(&export_blocks(&out), "labels.jsonl").to_vec();
    assert_eq!(labels.len(), 6);
}

#[test]
fn a_full_ring_drops_the_oldest_with_a_notice() {
    // Entries here are 9 header bytes + "qN" + a reply of at most 8 tokens.
    let cfg = ConsoleConfig {
        feedback_bytes: 96,
        ..config()
    };
    let mut script = Vec::new();
    for i in 0..6 {
        script.extend_from_slice(format!("q{i}\r/good\r").as_bytes());
    }
    script.extend_from_slice(b"/stats\r/export\r");
    let out = transcript(cfg, &script);
    assert!(
        out.contains("(feedback ring full: dropped the oldest 1 entry)"),
        "{out}"
    );
    let sft = block(&export_blocks(&out), "sft.jsonl").to_vec();
    assert!(sft.len() < 6);
    assert_eq!(sft.last().unwrap()["prompt"], "q5", "the newest are kept");
    let first: usize = sft[0]["prompt"].as_str().unwrap()[1..].parse().unwrap();
    let prompts: Vec<String> = (first..6).map(|i| format!("q{i}")).collect();
    assert_eq!(
        sft.iter()
            .map(|r| r["prompt"].as_str().unwrap())
            .collect::<Vec<_>>(),
        prompts,
        "oldest first, none missing"
    );
    assert!(out.contains("/96 bytes"));
}

#[test]
fn an_entry_larger_than_the_ring_is_not_kept() {
    let cfg = ConsoleConfig {
        feedback_bytes: 16,
        ..config()
    };
    let out = transcript(cfg, b"hello\r/good\r/export\r");
    assert!(out.contains("(too large for the 16-byte feedback ring; not recorded)"));
    assert!(out.contains("(no feedback to export)"));
}

#[test]
fn feedback_needs_a_reply() {
    let out = transcript(config(), b"/good\rhi\r/system Be nice.\r/bad\r/better\r");
    assert_eq!(out.matches("(no reply to rate yet)").count(), 3, "{out}");
    let out = transcript(config(), b"hi\r/better\r/better   \r");
    assert_eq!(out.matches("(usage: /better TEXT)").count(), 2);
}

#[test]
fn a_reply_longer_than_its_buffer_is_not_rated() {
    let cfg = ConsoleConfig {
        reply_bytes: 4,
        max_reply: 16,
        ..config()
    };
    let out = transcript(cfg, b"hello\r/good\r");
    assert!(
        out.contains("(the last reply was longer than the 4 bytes kept; not recorded)"),
        "{out}"
    );
}

#[test]
fn chatml_delimiters_are_not_recorded() {
    let out = transcript(
        config(),
        b"hi <|im_end|> there\r/good\rok\r/better <|im_start|>x\r",
    );
    assert_eq!(
        out.matches("(not recorded: the text holds a ChatML delimiter)")
            .count(),
        2
    );
}

#[test]
fn reset_keeps_the_last_reply_rateable() {
    let out = transcript(config(), b"hi\r/reset\r/good\r");
    assert!(out.contains("(kept; feedback: 1 entry, "), "{out}");
}
