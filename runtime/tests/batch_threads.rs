//! Batched prompts and worker threads change speed, never results: the logits of a prompt
//! evaluated in batches on N threads equal, bit for bit, those of one token at a time on one.

mod common;
use common::read_reference;

use mote_runtime::parallel::Parallel;
use mote_runtime::sampler::argmax;
use mote_runtime::thread_pool::ThreadPool;
use mote_runtime::{Gguf, KvType, Model, OwnedArena, Session, SessionConfig};

/// Prompt logits, then 12 greedy steps: every logit vector, as bits.
fn run(
    model: &Model<'_>,
    sc: SessionConfig,
    par: Option<&dyn Parallel>,
    prompt: &[u32],
    batched: bool,
) -> Vec<Vec<u32>> {
    let mut arena = OwnedArena::new(model.arena_bytes_for(&sc).unwrap());
    let mut s = match par {
        Some(p) => Session::with_parallel(model, arena.as_mut_slice(), sc, p).unwrap(),
        None => Session::new(model, arena.as_mut_slice(), sc).unwrap(),
    };
    let bits = |l: &[f32]| l.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let mut out = Vec::new();
    if batched {
        out.push(bits(s.eval_batch(prompt).unwrap()));
    } else {
        let mut last = Vec::new();
        for &t in prompt {
            last = bits(s.eval(t).unwrap());
        }
        out.push(last);
    }
    for _ in 0..12 {
        let next = argmax(s.logits());
        out.push(bits(s.eval(next).unwrap()));
    }
    out
}

#[test]
fn batches_and_threads_do_not_change_logits() {
    let pool2 = ThreadPool::new(2).unwrap();
    let pool3 = ThreadPool::new(3).unwrap();
    let prompt: Vec<u32> = (0..45).map(|i| (i * 37 + 11) % 500 + 5).collect();
    for file in [
        "ref-tiny-q4_0.gguf",
        "ref-small-tied-q4_0.gguf",
        "ref-small-tied-f16.gguf",
        "ref-tiny-q8_0.gguf",
    ] {
        let data = read_reference(file);
        let g = Gguf::parse(&data).unwrap();
        let model = Model::load(&g).unwrap();
        for kv in [KvType::F32, KvType::F16] {
            let sc = SessionConfig::new(128).with_kv_type(kv);
            let want = run(&model, sc, None, &prompt, false);
            // Q4_0 packed at load for the table that reads it so (threads split it at
            // whole groups of rows) gives the same bits too.
            let mut buf = OwnedArena::new(model.packed_bytes(sc.kernels));
            let packed = model.pack(sc.kernels, buf.as_mut_slice(), |_| {}).unwrap();
            for m in [&model, &packed] {
                for (batch, par) in [
                    (1, Some(&pool2 as &dyn Parallel)),
                    (8, None),
                    (7, Some(&pool3)),
                    (64, Some(&pool2)),
                ] {
                    let got = run(m, sc.with_batch(batch), par, &prompt, true);
                    let threads = par.map_or(1, |p| p.threads());
                    let p = m.output.packed;
                    assert!(
                        got == want,
                        "{file} {kv:?}: batch {batch} on {threads} threads (packed {p}) \
                         changed the logits"
                    );
                }
            }
        }
    }
}

#[test]
fn a_batch_that_does_not_fit_changes_nothing() {
    let data = read_reference("ref-tiny-q8_0.gguf");
    let g = Gguf::parse(&data).unwrap();
    let model = Model::load(&g).unwrap();
    let sc = SessionConfig::new(16).with_batch(4);
    let mut arena = OwnedArena::new(model.arena_bytes_for(&sc).unwrap());
    let mut s = Session::new(&model, arena.as_mut_slice(), sc).unwrap();
    s.eval_batch(&[1, 2, 3, 4, 5, 6]).unwrap();
    assert_eq!(
        s.eval_batch(&[7; 11]).err(),
        Some(mote_runtime::Error::ContextFull)
    );
    assert_eq!(
        s.eval_batch(&[7, 9999]).err(),
        Some(mote_runtime::Error::BadToken(9999))
    );
    assert_eq!(s.pos(), 6);
    assert_eq!(s.tokens(), &[1, 2, 3, 4, 5, 6]);
}

#[test]
fn packing_needs_its_bytes() {
    let data = read_reference("ref-tiny-q4_0-pure.gguf");
    let g = Gguf::parse(&data).unwrap();
    let model = Model::load(&g).unwrap();
    for k in mote_runtime::kernels::Kernels::available() {
        let need = model.packed_bytes(k);
        if need == 0 {
            assert!(
                k.q4_0_packed.is_none(),
                "{k:?} packs nothing of a Q4_0 model"
            );
            continue;
        }
        let mut short = vec![0u8; need - 1];
        assert_eq!(
            model.pack(k, &mut short, |_| {}).err(),
            Some(mote_runtime::Error::ArenaTooSmall {
                needed: need,
                got: need - 1
            })
        );
        // Every layer matrix and the head are Q4_0 with rows a multiple of 16.
        let mut dropped = 0;
        let mut buf = OwnedArena::new(need);
        let packed = model.pack(k, buf.as_mut_slice(), |_| dropped += 1).unwrap();
        assert_eq!(dropped, 7 * model.config.n_layers + 1);
        assert!(packed.output.packed && packed.layer(1).w_down.packed);
        assert!(!packed.token_embd.packed);
        // Packing twice packs nothing more.
        assert_eq!(packed.packed_bytes(k), 0);
    }
}
