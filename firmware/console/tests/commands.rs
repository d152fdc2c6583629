//! The slash commands.

mod common;
use common::*;

/// The `context: used/total` figures of each `/stats` in a transcript.
fn context_used(out: &str) -> Vec<(usize, usize)> {
    lines(out)
        .iter()
        .filter_map(|l| l.strip_prefix("context: "))
        .map(|c| {
            let c = c.trim_end_matches(" positions");
            let (a, b) = c.split_once('/').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect()
}

/// The reply printed for each message in a transcript: the line after `> message`.
fn reply_to<'t>(out: &'t str, message: &str) -> Vec<&'t str> {
    let ls = lines(out);
    ls.windows(2)
        .filter(|w| w[0] == format!("> {message}"))
        .map(|w| w[1])
        .collect()
}

#[test]
fn help_lists_every_command() {
    let out = transcript(config(), b"/help\r");
    for cmd in [
        "/help", "/reset", "/temp", "/seed", "/stats", "/system", "/good", "/bad", "/better",
        "/export", "Ctrl-C", "Ctrl-D",
    ] {
        assert!(out.contains(cmd), "{cmd} missing from:\n{out}");
    }
}

#[test]
fn unknown_commands_get_a_message() {
    let out = transcript(config(), b"/frobnicate now\r/help\r");
    assert!(out.contains("(unknown command /frobnicate; /help lists the commands)"));
    assert!(out.contains("commands:"), "the console goes on");
}

#[test]
fn reset_returns_the_context_to_the_system_prompt() {
    let cfg = mote_console::ConsoleConfig {
        system: Some("Be brief."),
        ..config()
    };
    let out = transcript(cfg, b"/stats\rhello\r/stats\r/reset\r/stats\r");
    assert!(out.contains("(conversation reset)"));
    let used = context_used(&out);
    assert_eq!(used.len(), 3);
    assert!(used[0].0 > 1, "BOS and the system prompt are evaluated");
    assert!(used[1].0 > used[0].0);
    assert_eq!(used[2], used[0]);
    assert_eq!(used[0].1, 128);
}

#[test]
fn temp_and_seed_show_and_set() {
    let out = transcript(
        config(),
        b"/temp\r/temp 0.7\r/temp -1\r/temp hot\r/seed 42\r/seed\r/seed x\r",
    );
    let ls = lines(&out);
    for want in [
        "(temperature 0)",
        "(temperature 0.7)",
        "(usage: /temp X, a number >= 0)",
        "(seed 42)",
        "(usage: /seed N)",
    ] {
        assert!(ls.contains(&want), "{want} missing from:\n{out}");
    }
    assert_eq!(ls.iter().filter(|&&l| l == "(seed 42)").count(), 2);
    assert_eq!(ls.iter().filter(|&&l| l == "(temperature 0.7)").count(), 1);
}

#[test]
fn the_same_seed_gives_the_same_reply() {
    let cfg = mote_console::ConsoleConfig {
        temperature: 1.0,
        top_k: 0,
        max_reply: 12,
        ..config()
    };
    let script = b"/seed 7\rtell me\r/reset\r/seed 7\rtell me\r/reset\r/seed 8\rtell me\r";
    let out = transcript(cfg, script);
    let replies = reply_to(&out, "tell me");
    assert_eq!(replies.len(), 3, "{out}");
    assert_eq!(replies[0], replies[1], "same seed, same reply");
    assert_ne!(replies[0], replies[2], "another seed, another reply");
    // And the whole session is reproducible.
    assert_eq!(out, transcript(cfg, script));
}

#[test]
fn stats_time_prompt_and_reply_apart() {
    let out = transcript(config(), b"/stats\rhello\r/stats\r");
    assert!(out.contains("no turn yet"));
    let ls = lines(&out);
    let prompt = ls.iter().find(|l| l.starts_with("prompt: ")).unwrap();
    let reply = ls.iter().find(|l| l.starts_with("reply: ")).unwrap();
    // The fake clock advances 1 ms per reading: start, prompt evaluated, reply done.
    assert!(prompt.contains(" tokens in 0.001 s, "), "{prompt}");
    assert!(prompt.ends_with(" tokens/s"), "{prompt}");
    assert_eq!(
        *reply,
        "reply: 8 tokens in 0.001 s, 0.125 ms/token, 8000.000 tokens/s"
    );
    let memory = ls.iter().find(|l| l.starts_with("memory: arena ")).unwrap();
    assert!(
        memory.contains(" bytes in all, model 175360 bytes"),
        "{memory}"
    );
    assert!(ls.contains(&"feedback: 0 entries, 0/2048 bytes"));
}

#[test]
fn stats_in_the_clock_unit() {
    let clock = FakeClock {
        unit: "instr",
        ..FakeClock::new()
    };
    let mut serial = Serial::new(b"hi\r/stats\r");
    run_with(config(), &clock, &mut serial).unwrap();
    let out = serial.text();
    assert!(
        out.contains("reply: 8 tokens in 0.001 instr, 0.000 instr/token"),
        "{out}"
    );
    assert!(!out.contains("tokens/s"));
}

#[test]
fn stats_show_the_model_image_size_when_given() {
    let cfg = mote_console::ConsoleConfig {
        model_bytes: 188_384,
        ..config()
    };
    let out = transcript(cfg, b"/stats\r");
    assert!(out.contains("model 188384 bytes"), "{out}");
}

#[test]
fn stats_show_the_stack_when_the_board_measures_it() {
    struct Gauge;
    impl mote_console::StackGauge for Gauge {
        fn used(&self) -> usize {
            1234
        }
        fn size(&self) -> usize {
            32768
        }
    }
    let out = transcript(config(), b"/stats\r");
    assert!(!out.contains("stack:"), "{out}");

    let mut serial = Serial::new(b"/stats\r");
    run_with_stack(config(), &FakeClock::new(), &mut serial, Some(&Gauge)).unwrap();
    let out = serial.text();
    let ls = lines(&out);
    let feedback = ls.iter().position(|l| l.starts_with("feedback: ")).unwrap();
    assert_eq!(ls[feedback + 1], "stack: 1234 of 32768 bytes used at most");
}

#[test]
fn system_sets_the_prompt_and_resets() {
    let out = transcript(
        config(),
        b"/stats\r/system You answer in French.\r/stats\r/system\r/stats\r",
    );
    assert!(out.contains("(system prompt set; conversation reset)"));
    assert!(out.contains("(system prompt cleared; conversation reset)"));
    let used = context_used(&out);
    assert_eq!(used[0].0, 1, "BOS only");
    assert!(used[1].0 > 5);
    assert_eq!(used[2].0, 1);
}

#[test]
fn a_system_prompt_too_long_for_the_context_is_refused() {
    let cfg = mote_console::ConsoleConfig {
        ctx_len: 32,
        system: Some("Short."),
        ..config()
    };
    let long = format!("/system {}\r/stats\r", "word ".repeat(40));
    let out = transcript(cfg, long.as_bytes());
    assert!(out.contains("(system prompt not changed: "), "{out}");
    let used = context_used(&out);
    assert!(used[0].0 > 1, "the old system prompt is back");
}
