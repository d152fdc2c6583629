//! Typing: echo, backspace, Ctrl-C, Ctrl-D, line ends, overlong and non-UTF-8 lines.

mod common;
use common::*;

use mote_console::ConsoleConfig;

/// The user prompt of the one `/good` entry a transcript exported.
fn exported_prompt(out: &str) -> String {
    let blocks = export_blocks(out);
    blocks[0].1[0]["prompt"].as_str().unwrap().to_string()
}

#[test]
fn typed_characters_are_echoed() {
    let out = transcript(config(), "héllo\r".as_bytes());
    assert!(out.contains("> héllo\r\n"), "{out}");
}

#[test]
fn backspace_erases_one_character() {
    // 'é' is two bytes; one backspace (BS or DEL) takes it whole.
    let out = transcript(
        config(),
        "hellé\x7fo wr\x08orld\r/good\r/export\r".as_bytes(),
    );
    assert_eq!(out.matches("\x08 \x08").count(), 2);
    assert_eq!(exported_prompt(&out), "hello world");
}

#[test]
fn backspace_on_an_empty_line_does_nothing() {
    let out = transcript(config(), b"\x08\x7f/help\r");
    assert!(!out.contains("\x08 \x08"));
    assert!(out.contains("commands:"));
}

#[test]
fn cr_lf_and_crlf_each_end_one_line() {
    let out = transcript(
        config(),
        b"/seed 1\r/seed 2\n/seed 3\r\n/seed 4\n\r/stats\r",
    );
    for n in 1..=4 {
        assert!(out.contains(&format!("(seed {n})")));
    }
    // The banner's prompt, one per line (six lines: "\n\r" is two), and none for the LF of
    // the CRLF.
    assert_eq!(out.matches("> ").count(), 1 + 6, "{out}");
}

#[test]
fn ctrl_c_clears_the_line() {
    let out = transcript(config(), b"secret\x03/good\r");
    assert!(out.contains("> secret^C\r\n> /good"), "{out}");
    assert!(
        out.contains("(no reply to rate yet)"),
        "the cleared line was not sent"
    );
}

#[test]
fn ctrl_d_on_an_empty_line_ends_the_session() {
    let mut serial = Serial::new(b"/seed 5\r\x04/help\r");
    run_with(config(), &FakeClock::new(), &mut serial).unwrap();
    let out = serial.text();
    assert!(out.contains("(seed 5)"));
    assert!(!out.contains("commands:"), "nothing is read after Ctrl-D");
}

#[test]
fn ctrl_d_inside_a_line_is_ignored() {
    let out = transcript(config(), b"/se\x04ed 9\r");
    assert!(out.contains("(seed 9)"), "{out}");
}

#[test]
fn the_end_of_input_ends_the_session() {
    let mut serial = Serial::new(b"/seed 3");
    assert!(run_with(config(), &FakeClock::new(), &mut serial).is_ok());
}

#[test]
fn an_overlong_line_is_discarded_up_to_its_end() {
    let cfg = ConsoleConfig {
        line_len: 16,
        ..config()
    };
    let mut input = Vec::new();
    input.extend_from_slice(b"/seed 1234567890123456789 and more\r");
    input.extend_from_slice(b"/seed 77\r");
    let out = transcript(cfg, &input);
    assert!(
        out.contains("(line too long: 16 bytes at most; the rest of it is ignored)"),
        "{out}"
    );
    assert!(!out.contains("(seed 1234"));
    assert!(out.contains("(seed 77)"), "the console keeps working");
}

#[test]
fn a_line_of_exactly_the_buffer_size_is_accepted() {
    let cfg = ConsoleConfig {
        line_len: 8,
        ..config()
    };
    let out = transcript(cfg, b"/seed 12\r");
    assert!(out.contains("(seed 12)"), "{out}");
}

#[test]
fn non_utf8_lines_are_refused() {
    let out = transcript(config(), b"caf\xe9\r\xff\xfe\r/seed 4\r");
    assert_eq!(out.matches("(not UTF-8: line ignored)").count(), 2);
    assert!(out.contains("(seed 4)"));
    assert!(!out.contains("reply cut"), "nothing was sent to the model");
}

#[test]
fn escape_sequences_are_ignored() {
    let out = transcript(config(), b"/se\x1b[Ded 6\x1bOA\r");
    assert!(out.contains("(seed 6)"), "{out}");
}
