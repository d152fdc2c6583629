//! The ChatML session's context policy on a real model: the system prompt survives
//! every drop, old turns go whole, an overlong turn is a clear error.

mod common;
use common::read_reference;

use mote_runtime::chat::{Chat, ChatBuffers, Finish, TurnSink};
use mote_runtime::{
    Error, Gguf, Model, OwnedArena, Sampler, SamplerConfig, Session, SessionConfig, Tokenizer,
};

#[test]
fn context_policy_keeps_the_system_prompt() {
    let file = read_reference("ref-tiny-q8_0.gguf");
    let g = Gguf::parse(&file).unwrap();
    let model = Model::load(&g).unwrap();
    let mut table = vec![0u32; Tokenizer::table_len(&g).unwrap()];
    let tok = Tokenizer::build(&g, &mut table).unwrap();
    let ctx = 80;
    let sc = SessionConfig::new(ctx);
    let mut arena = OwnedArena::new(model.arena_bytes_for(&sc).unwrap());
    let session = Session::new(&model, arena.as_mut_slice(), sc).unwrap();
    let sampler = Sampler::new(SamplerConfig {
        temperature: 0.8,
        seed: 3,
        ..Default::default()
    })
    .unwrap();
    let (mut ids, mut text) = (vec![0u32; ctx], vec![0u8; 512]);
    let mut scratch = vec![0u32; ChatBuffers::scratch_len(text.len())];
    let bufs = ChatBuffers {
        ids: &mut ids,
        text: &mut text,
        scratch: &mut scratch,
    };
    let mut chat = Chat::new(session, &tok, sampler, bufs, Some("You are terse.")).unwrap();

    let prefix: Vec<u32> = chat.session().tokens().to_vec();
    assert_eq!(prefix[0], 1, "BOS first");
    assert_eq!(prefix[1], 3, "then <|im_start|>system");

    let mut dropped = 0;
    for i in 0..12 {
        let mut reply = String::new();
        let r = chat.turn(&format!("question number {i}"), 12, &mut |s| {
            reply.push_str(s);
            true
        });
        let r = r.unwrap();
        dropped += r.dropped_turns;
        let (used, total) = chat.context_used();
        assert!(used <= total);
        assert_eq!(
            &chat.session().tokens()[..prefix.len()],
            &prefix[..],
            "system prompt kept after turn {i}"
        );
        // The last evaluated tokens close the turn: <|im_end|> then "\n" ("▁", "\n").
        let t = chat.session().tokens();
        assert!(
            t.ends_with(&[4, 399, 15]) || r.finish == Finish::ContextFull,
            "turn {i} closed: {:?}",
            &t[t.len() - 3..]
        );
    }
    assert!(dropped > 0, "12 turns cannot fit in {ctx} positions");

    // One turn longer than the context: a clear error, and the chat goes on.
    let long = "a b c d e f g ".repeat(20);
    match chat.turn(&long, 8, &mut |_| true) {
        Err(Error::TurnTooLong { tokens, ctx: room }) => assert!(tokens > room),
        other => panic!("expected TurnTooLong, got {other:?}"),
    }
    assert!(chat.turn("and now?", 4, &mut |_| true).is_ok());

    // Stopping from the callback ends the reply early.
    let r = chat.turn("stop me", 50, &mut |_| false).unwrap();
    assert_eq!(r.finish, Finish::Stopped);
    assert_eq!(r.reply_tokens, 1);

    chat.reset();
    assert_eq!(chat.session().tokens(), &prefix[..]);
}

/// Records the order of a turn's events; stops after `stop_after` reply tokens.
struct Events {
    log: Vec<&'static str>,
    asked: usize,
    stop_after: usize,
}

impl TurnSink for Events {
    fn prompt_done(&mut self) {
        self.log.push("prompt");
    }
    fn go_on(&mut self) -> bool {
        self.asked += 1;
        self.log.push("token");
        self.asked <= self.stop_after
    }
    fn text(&mut self, _: &str) -> bool {
        self.log.push("text");
        true
    }
}

#[test]
fn turn_sink_sees_the_prompt_end_and_each_token() {
    let file = read_reference("ref-tiny-q8_0.gguf");
    let g = Gguf::parse(&file).unwrap();
    let model = Model::load(&g).unwrap();
    let mut table = vec![0u32; Tokenizer::table_len(&g).unwrap()];
    let tok = Tokenizer::build(&g, &mut table).unwrap();
    let ctx = 64;
    let sc = SessionConfig::new(ctx);
    let mut arena = OwnedArena::new(model.arena_bytes_for(&sc).unwrap());
    let session = Session::new(&model, arena.as_mut_slice(), sc).unwrap();
    let sampler = Sampler::new(SamplerConfig::greedy()).unwrap();
    let (mut ids, mut text) = (vec![0u32; ctx], vec![0u8; 128]);
    let mut scratch = vec![0u32; ChatBuffers::scratch_len(text.len())];
    let bufs = ChatBuffers {
        ids: &mut ids,
        text: &mut text,
        scratch: &mut scratch,
    };
    let mut chat = Chat::new(session, &tok, sampler, bufs, None).unwrap();

    // Stopped before the first token: nothing sampled, the turn still closes.
    let mut ev = Events {
        log: Vec::new(),
        asked: 0,
        stop_after: 0,
    };
    let r = chat.turn_with("hi", 8, &mut ev).unwrap();
    assert_eq!(r.finish, Finish::Stopped);
    assert_eq!(r.reply_tokens, 0);
    assert_eq!(ev.log, ["prompt", "token"]);
    assert!(chat.session().tokens().ends_with(&[4, 399, 15]));

    // Three tokens asked for and allowed, the fourth refused.
    let mut ev = Events {
        log: Vec::new(),
        asked: 0,
        stop_after: 3,
    };
    let r = chat.turn_with("hello there", 50, &mut ev).unwrap();
    assert_eq!(ev.log[0], "prompt");
    match r.finish {
        Finish::Stopped => assert_eq!((r.reply_tokens, ev.asked), (3, 4)),
        Finish::EndOfTurn => assert!(r.reply_tokens < 3),
        other => panic!("unexpected finish {other:?}"),
    }
    assert_eq!(ev.log.iter().filter(|&&e| e == "prompt").count(), 1);
}
