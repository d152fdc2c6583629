//! Any bytes through the whole loading path: `Gguf::parse` → `Model::load` → a small
//! session evaluating one token. Errors are expected; a panic, an out-of-bounds read or a
//! hang is a bug.
//!
//! Seed the corpus with `fuzz/seed.sh`, then `cargo +nightly fuzz run gguf` from the
//! repository root (add `-- -dict=fuzz/gguf.dict` to help the mutator with GGUF names).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mote_runtime::{Gguf, Model, OwnedArena, Session, SessionConfig};

/// Positions in the fuzzed session.
const CTX: usize = 4;
/// Models whose session needs more than this are loaded but not run.
const MAX_ARENA: usize = 64 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(g) = Gguf::parse(data) else { return };

    // The accessors re-walk validated bytes; they must be total as well.
    for (_, value) in g.metadata() {
        if let Some(a) = value.as_array() {
            let _ = a.strings().count();
            let _ = (a.f32(0), a.i32(a.len().saturating_sub(1)));
        }
    }
    for t in g.tensors() {
        let _ = t.n_elements();
    }

    let Ok(model) = Model::load(&g) else { return };
    let sc = SessionConfig::new(CTX);
    let Ok(need) = model.arena_bytes_for(&sc) else {
        return;
    };
    if need > MAX_ARENA {
        return;
    }
    let mut arena = OwnedArena::new(need);
    let Ok(mut session) = Session::new(&model, arena.as_mut_slice(), sc) else {
        return;
    };
    let token = (model.config.vocab - 1).min(1) as u32;
    let _ = session.eval(token);
});
