//! What a smaller KV cache costs: logits with an f16 or Q8 cache against the f32 cache,
//! teacher-forced on the same 96-token sequence (the golden ChatML prompt and llama.cpp's
//! greedy continuation). Run with `--nocapture` to see the numbers.

mod common;
use common::reference_dir;

use mote_runtime::{Gguf, KvType, Model, OwnedArena, Session, SessionConfig};
use serde_json::Value;

fn logits(model: &Model<'_>, kv: KvType, seq: &[u32]) -> Vec<Vec<f32>> {
    let sc = SessionConfig::new(seq.len()).with_kv_type(kv);
    let mut arena = OwnedArena::new(model.arena_bytes_for(&sc).unwrap());
    let mut s = Session::new(model, arena.as_mut_slice(), sc).unwrap();
    seq.iter().map(|&t| s.eval(t).unwrap().to_vec()).collect()
}

fn softmax(l: &[f32]) -> Vec<f64> {
    let m = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    let e: Vec<f64> = l.iter().map(|&v| (v as f64 - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

struct Cost {
    max_abs: f32,
    mean_abs: f64,
    top1: f64,
    kl: f64,
}

fn cost(want: &[Vec<f32>], got: &[Vec<f32>]) -> Cost {
    let (mut max_abs, mut sum_abs, mut n, mut same, mut kl) =
        (0.0f32, 0.0f64, 0usize, 0usize, 0.0f64);
    for (w, g) in want.iter().zip(got) {
        for (a, b) in w.iter().zip(g) {
            max_abs = max_abs.max((a - b).abs());
            sum_abs += (a - b).abs() as f64;
            n += 1;
        }
        let arg = |v: &[f32]| {
            v.iter()
                .enumerate()
                .fold((0, f32::MIN), |m, (i, &x)| if x > m.1 { (i, x) } else { m })
                .0
        };
        same += (arg(w) == arg(g)) as usize;
        let (p, q) = (softmax(w), softmax(g));
        kl += p
            .iter()
            .zip(&q)
            .map(|(&p, &q)| if p > 0.0 { p * (p / q).ln() } else { 0.0 })
            .sum::<f64>();
    }
    Cost {
        max_abs,
        mean_abs: sum_abs / n as f64,
        top1: same as f64 / want.len() as f64,
        kl: kl / want.len() as f64,
    }
}

#[test]
fn smaller_kv_caches_cost_little() {
    for stem in ["ref-tiny-f32", "ref-small-tied-f32", "ref-small-tied-q8_0"] {
        let bytes = std::fs::read(reference_dir().join(format!("{stem}.gguf"))).unwrap();
        let g = Gguf::parse(&bytes).unwrap();
        let model = Model::load(&g).unwrap();
        let gold: Value = serde_json::from_slice(
            &std::fs::read(reference_dir().join(format!("{stem}.golden.json"))).unwrap(),
        )
        .unwrap();
        let ids = |k: &str| {
            gold[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect::<Vec<_>>()
        };
        let mut seq = ids("prompt_ids");
        seq.extend(ids("greedy_ids"));
        let base = logits(&model, KvType::F32, &seq);
        for kv in [KvType::F16, KvType::Q8] {
            let c = cost(&base, &logits(&model, kv, &seq));
            eprintln!(
                "{stem} KV {kv:?}: max |Δlogit| {:.4}, mean |Δlogit| {:.5}, top-1 agreement {:.1}%, mean KL {:.2e} nats",
                c.max_abs,
                c.mean_abs,
                100.0 * c.top1,
                c.kl
            );
            // Bounds well above what was measured, well below a broken cache (KL ~1).
            assert!(c.top1 >= 0.9, "{stem} {kv:?}: top-1 agreement {}", c.top1);
            assert!(c.kl < 2e-2, "{stem} {kv:?}: KL {}", c.kl);
            assert!(
                c.mean_abs > 0.0,
                "{stem} {kv:?}: suspiciously identical to f32"
            );
        }
    }
}
