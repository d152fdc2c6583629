//! Chat turns: streaming, Ctrl-C, a full context, serial errors and the memory contract.

mod common;
use common::*;

use embedded_io::ErrorKind;
use mote_console::{Console, ConsoleConfig, ConsoleError, Uninterruptible};
use mote_runtime::{Gguf, Model, Tokenizer};

fn stats_line<'t>(out: &'t str, prefix: &str) -> &'t str {
    lines(out)
        .into_iter()
        .rfind(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} line in:\n{out}"))
}

#[test]
fn ctrl_c_stops_a_reply_between_tokens() {
    let cfg = ConsoleConfig {
        max_reply: 40,
        ..config()
    };
    let mut serial = Serial::new(b"go on and on\r");
    // Ctrl-C shows up at the sixth poll, i.e. before the sixth reply token.
    serial.push_after_polls(5, b"\x03");
    serial.push(b"/stats\r");
    run_with(cfg, &FakeClock::new(), &mut serial).unwrap();
    let out = serial.text();
    assert!(out.contains("\r\n(stopped)\r\n"), "{out}");
    assert!(
        stats_line(&out, "reply: ").starts_with("reply: 5 tokens"),
        "{out}"
    );
    // The stop is not typed into the next line.
    assert!(!out.contains("^C"));
}

#[test]
fn bytes_typed_during_a_reply_wait_for_it() {
    let mut serial = Serial::new(b"hello\r");
    serial.push_after_polls(2, b"/seed 3\r");
    run_with(config(), &FakeClock::new(), &mut serial).unwrap();
    let out = serial.text();
    let reply_end = out
        .find("(reply cut at 8 tokens)")
        .expect("the reply ran to the end");
    let echo = out
        .find("> /seed 3")
        .expect("the typed line is read after it");
    assert!(reply_end < echo);
    assert!(out.contains("(seed 3)"));
}

#[test]
fn without_read_ready_replies_run_to_the_end() {
    let file = read_reference(MODEL);
    let g = Gguf::parse(&file).unwrap();
    let model = Model::load(&g).unwrap();
    let mut table = vec![0u32; Tokenizer::table_len(&g).unwrap()];
    let tok = Tokenizer::build(&g, &mut table).unwrap();
    let cfg = config();
    let mut mem = vec![0u8; Console::<FakeClock>::memory_needed(&model, &cfg).unwrap()];
    let mut console = Console::new(&model, &tok, &mut mem, FakeClock::new(), cfg).unwrap();
    let mut serial = Serial::new(b"hello\r\x03/seed 2\r");
    let mut port = Uninterruptible(&mut serial);
    console.run(&mut port).unwrap();
    let out = serial.text();
    assert!(out.contains("(reply cut at 8 tokens)"), "{out}");
    assert!(out.contains("> ^C\r\n> /seed 2"), "{out}");
}

#[test]
fn replies_are_streamed_before_the_turn_ends() {
    let cfg = ConsoleConfig {
        max_reply: 40,
        ..config()
    };
    let mut serial = Serial::new(b"hello\r");
    serial.push_after_polls(10, b"\x03");
    run_with(cfg, &FakeClock::new(), &mut serial).unwrap();
    let out = serial.text();
    let reply = lines(&out)[2];
    assert!(
        !reply.is_empty(),
        "ten tokens of text were out when Ctrl-C came:\n{out}"
    );
}

#[test]
fn a_message_longer_than_the_context_is_refused() {
    let cfg = ConsoleConfig {
        ctx_len: 48,
        line_len: 512,
        ..config()
    };
    let long = format!("{}\r/seed 1\rhi\r", "many words here ".repeat(20));
    let out = transcript(cfg, long.as_bytes());
    assert!(out.contains("(message too long: "), "{out}");
    assert!(out.contains("; not sent)"));
    assert!(out.contains("(seed 1)"), "the console keeps working");
    assert!(out.contains("> hi\r\n"), "and chats on");
    assert!(out.contains("(reply cut at 8 tokens)"));
}

#[test]
fn a_reply_that_fills_the_context_is_cut() {
    let cfg = ConsoleConfig {
        ctx_len: 48,
        max_reply: 200,
        ..config()
    };
    let out = transcript(cfg, b"tell me a long story\r/stats\rhi\r");
    assert!(
        out.contains("(context full: the reply was cut; /reset starts over)"),
        "{out}"
    );
    let ctx = stats_line(&out, "context: ");
    assert!(ctx.ends_with("/48 positions"), "{ctx}");
    assert!(out.contains("> hi\r\n"), "the console keeps working");
}

#[test]
fn a_long_conversation_drops_old_turns() {
    let cfg = ConsoleConfig {
        ctx_len: 64,
        ..config()
    };
    let mut script = Vec::new();
    for i in 0..8 {
        script.extend_from_slice(format!("question {i}\r").as_bytes());
    }
    script.extend_from_slice(b"/stats\r");
    let out = transcript(cfg, &script);
    assert_eq!(out.matches("(reply cut at 8 tokens)").count(), 8, "{out}");
    let ctx = stats_line(&out, "context: ");
    let used: usize = ctx["context: ".len()..]
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(used <= 64);
    // All eight lines were read although they were typed ahead during the first reply.
    assert!(out.contains("> question 7\r\n"));
    // A random model's reply holds control bytes; none reach the terminal.
    assert!(
        out.bytes()
            .all(|b| b >= 0x20 || b == b'\r' || b == b'\n' || b == b'\t'),
        "{out:?}"
    );
}

#[test]
fn a_serial_error_ends_run_with_it() {
    for fail_after in [0, 10, 60, 200] {
        let mut serial = Serial::new(b"hello there\r/help\r");
        serial.fail_after = Some(fail_after);
        let r = run_with(config(), &FakeClock::new(), &mut serial);
        assert_eq!(
            r,
            Err(ErrorKind::BrokenPipe),
            "failing after {fail_after} bytes"
        );
    }
}

#[test]
fn memory_needed_is_enough_at_any_alignment() {
    let file = read_reference(MODEL);
    let g = Gguf::parse(&file).unwrap();
    let model = Model::load(&g).unwrap();
    let mut table = vec![0u32; Tokenizer::table_len(&g).unwrap()];
    let tok = Tokenizer::build(&g, &mut table).unwrap();
    let cfg = ConsoleConfig {
        ctx_len: 256,
        ..ConsoleConfig::DEFAULT
    };
    let needed = Console::<FakeClock>::memory_needed(&model, &cfg).unwrap();
    let arena = model.arena_bytes(256).unwrap();
    assert!(
        needed > arena && needed < arena + 16 * 1024,
        "{needed} for arena {arena}"
    );
    let mut big = vec![0u8; needed + 64];
    for offset in [0, 1, 3, 17, 63] {
        let mem = &mut big[offset..offset + needed];
        assert!(Console::new(&model, &tok, mem, FakeClock::new(), cfg).is_ok());
    }
    let short = &mut big[..needed - 1];
    assert!(matches!(
        Console::new(&model, &tok, short, FakeClock::new(), cfg),
        Err(ConsoleError::MemoryTooSmall { got, .. }) if got == needed - 1
    ));
}

#[test]
fn bad_configs_are_errors() {
    let file = read_reference(MODEL);
    let g = Gguf::parse(&file).unwrap();
    let model = Model::load(&g).unwrap();
    for (cfg, field) in [
        (
            ConsoleConfig {
                ctx_len: 0,
                ..config()
            },
            "ctx_len",
        ),
        (
            ConsoleConfig {
                max_reply: 0,
                ..config()
            },
            "max_reply",
        ),
        (
            ConsoleConfig {
                line_len: 0,
                ..config()
            },
            "line_len",
        ),
        (
            ConsoleConfig {
                line_len: 70_000,
                ..config()
            },
            "line_len",
        ),
        (
            ConsoleConfig {
                reply_bytes: 70_000,
                ..config()
            },
            "reply_bytes",
        ),
    ] {
        assert_eq!(
            Console::<FakeClock>::memory_needed(&model, &cfg),
            Err(ConsoleError::BadConfig(field))
        );
    }
    let mut table = vec![0u32; Tokenizer::table_len(&g).unwrap()];
    let tok = Tokenizer::build(&g, &mut table).unwrap();
    let cfg = ConsoleConfig {
        temperature: -1.0,
        ..config()
    };
    let mut mem = vec![0u8; Console::<FakeClock>::memory_needed(&model, &cfg).unwrap()];
    assert!(matches!(
        Console::new(&model, &tok, &mut mem, FakeClock::new(), cfg),
        Err(ConsoleError::BadConfig(_))
    ));
}
