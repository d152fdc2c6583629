//! The forward pass against llama.cpp: logits at every prompt position and greedy tokens,
//! for every reference model and weight type (goldens made by llama.cpp, 1 thread, f32 KV).

use mote_runtime::{sampler::argmax, Gguf, Model, OwnedArena, Session, SessionConfig};
use serde_json::Value;
use std::path::PathBuf;

fn reference_dir() -> PathBuf {
    std::env::var("MOTE_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"))
}

struct Golden {
    prompt_ids: Vec<u32>,
    prompt_logits: Vec<Vec<f32>>,
    greedy_ids: Vec<u32>,
    margins: Vec<f32>,
}

fn golden(stem: &str) -> Golden {
    let path = reference_dir().join(format!("{stem}.golden.json"));
    let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let ids = |k: &str| v[k].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
    let floats = |x: &Value| x.as_array().unwrap().iter().map(|f| f.as_f64().unwrap() as f32).collect::<Vec<_>>();
    Golden {
        prompt_ids: ids("prompt_ids"),
        prompt_logits: v["prompt_logits"].as_array().unwrap().iter().map(floats).collect(),
        greedy_ids: ids("greedy_ids"),
        margins: floats(&v["greedy_top1_margins"]),
    }
}

/// Runs the prompt and greedy continuation; returns the worst |Δlogit| over the prompt.
fn check(stem: &str, tol: f32, kv: mote_runtime::KvType) -> f32 {
    let bytes = std::fs::read(reference_dir().join(format!("{stem}.gguf"))).unwrap();
    let g = Gguf::parse(&bytes).unwrap();
    let model = Model::load(&g).unwrap();
    let gold = golden(stem);
    let sc = SessionConfig { ctx_len: model.config.ctx_len, kv_type: kv };
    let mut arena = OwnedArena::new(model.arena_bytes_for(&sc).unwrap());
    let mut s = Session::new(&model, arena.as_mut_slice(), sc).unwrap();

    let mut worst = 0.0f32;
    for (i, (&id, want)) in gold.prompt_ids.iter().zip(&gold.prompt_logits).enumerate() {
        let got = s.eval(id).unwrap();
        assert_eq!(got.len(), want.len());
        let d = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        if std::env::var("GOLDEN_DEBUG").is_ok() { eprintln!("{stem} pos {i}: {d}"); } else { assert!(d <= tol, "{stem}: position {i}: max |Δlogit| = {d} > {tol}"); }
        worst = worst.max(d);
    }
    // Greedy tokens agree up to the first step where llama.cpp's top-1 margin is < 0.01.
    let mut next = argmax(s.logits());
    let mut compared = 0;
    for (step, (&want, &margin)) in gold.greedy_ids.iter().zip(&gold.margins).enumerate() {
        if margin < 0.01 {
            break;
        }
        assert_eq!(next, want, "{stem}: greedy step {step}");
        compared += 1;
        next = argmax(s.eval(next).unwrap());
    }
    assert!(compared >= 8, "{stem}: only {compared} greedy steps were comparable");
    eprintln!("{stem}: max |Δlogit| {worst:.2e}, {compared} greedy tokens equal");
    worst
}

use mote_runtime::KvType::F32 as KV32;

// F32/F16: llama.cpp and mote do the same float ops in a different summation order.
#[test]
fn tiny_f32() {
    check("ref-tiny-f32", 1e-3, KV32);
}
#[test]
fn tiny_f16() {
    check("ref-tiny-f16", 1e-3, KV32);
}
#[test]
fn small_tied_f32() {
    check("ref-small-tied-f32", 1e-3, KV32);
}
#[test]
fn small_tied_f16() {
    check("ref-small-tied-f16", 1e-3, KV32);
}

// Quantized: the integer block sums are exact, so only float rounding differs; but a
// rounding flip in one activation's Q8_0 rounding (x·127/amax landing on .5) changes a
// quant by 1 and moves logits by ~d_w·d_x. 2e-3 covers that with margin on ±20 logits.
const QTOL: f32 = 2e-3;
#[test]
fn tiny_q8_0() {
    check("ref-tiny-q8_0", QTOL, KV32);
}
#[test]
fn tiny_q4_0() {
    check("ref-tiny-q4_0", QTOL, KV32);
}
#[test]
fn tiny_q4_0_pure() {
    check("ref-tiny-q4_0-pure", QTOL, KV32);
}
#[test]
fn small_tied_q8_0() {
    check("ref-small-tied-q8_0", QTOL, KV32);
}
#[test]
fn small_tied_q4_0_with_q6_k_embedding() {
    check("ref-small-tied-q4_0", QTOL, KV32);
}
#[test]
fn small_tied_q4_0_pure() {
    check("ref-small-tied-q4_0-pure", QTOL, KV32);
}

// An f16 KV cache rounds K and V to 11 bits: logits move by up to ~1e-2 here.
#[test]
fn f16_kv_cache_stays_close() {
    let d = check("ref-small-tied-f32", 3e-2, mote_runtime::KvType::F16);
    assert!(d > 0.0, "f16 cache should differ from f32 at least by rounding");
}
