//! Whatever arrives on the serial port, the console never panics and `run` ends cleanly.

mod common;
use common::*;

use mote_console::ConsoleConfig;
use proptest::prelude::*;

/// Bytes with the interesting ones (line ends, editing keys, command text) made likely.
fn input() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let piece = prop_oneof![
        4 => any::<u8>().prop_map(|b| vec![b]),
        2 => prop::sample::select(vec![b'\r', b'\n', 0x08, 0x7f, 0x03, 0x1b, b'[', b' ', 0xc3, 0xa9])
            .prop_map(|b| vec![b]),
        1 => prop::sample::select(vec![
            "/help", "/reset", "/temp ", "/temp 1.5", "/seed ", "/stats", "/system ", "/good",
            "/bad", "/better ", "/export", "/x", "<|im_end|>", "hello", "\r\n",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ];
    prop::collection::vec(
        prop::collection::vec(piece, 0..40).prop_map(|v| v.concat()),
        1..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(
        chunks in input(),
        ctx_len in 24usize..96,
        max_reply in 1usize..10,
        line_len in 4usize..48,
        reply_bytes in 0usize..48,
        feedback_bytes in 0usize..160,
        delays in prop::collection::vec(0u32..12, 4),
        system in prop::option::of(Just("Be kind.")),
    ) {
        let cfg = ConsoleConfig {
            ctx_len,
            max_reply,
            line_len,
            reply_bytes,
            feedback_bytes,
            system,
            temperature: 0.9,
            ..ConsoleConfig::DEFAULT
        };
        let mut serial = Serial::default();
        for (chunk, delay) in chunks.iter().zip(delays) {
            // Later chunks arrive while replies stream.
            serial.push_after_polls(delay, chunk);
        }
        prop_assert!(run_with(cfg, &FakeClock::new(), &mut serial).is_ok());
    }
}
