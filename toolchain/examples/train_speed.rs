//! Tokens/s of whole training steps (forward, masked loss, backward, gradients to the host,
//! clipping, AdamW) for a model config, and the fraction of the measured FMA peak.
//! `cargo run --release --example train_speed -- models/configs/X.toml BATCH SEQ STEPS`
//! Threads: `RAYON_NUM_THREADS` (default: all cores).

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use mote_toolchain::flops::{fma_peak, fraction_of_peak};
use mote_toolchain::init_random::ModelConfig;
use mote_toolchain::model::{init_weights, Heads, Llama, LlamaConfig};
use mote_toolchain::train::grads::Grads;
use mote_toolchain::train::{
    decay_by_default, masked_cross_entropy, named_vars, AdamW, AdamWParams,
};

// As the `mote` binary.
#[global_allocator]
static GLOBAL: mote_toolchain::alloc::MiMalloc = mote_toolchain::alloc::MiMalloc;

/// CPU seconds this process has used (user + system), from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    mote_toolchain::alloc::keep_freed_memory();
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 5 {
        eprintln!("usage: train_speed CONFIG.toml BATCH SEQ STEPS");
        std::process::exit(2);
    }
    let mc = ModelConfig::load(a[1].as_ref()).unwrap();
    let (b, t, steps): (usize, usize, usize) = (
        a[2].parse().unwrap(),
        a[3].parse().unwrap(),
        a[4].parse().unwrap(),
    );
    let threads = candle_core::utils::get_num_threads();
    let peaks: Vec<_> = (1..=threads.max(1)).map(|n| fma_peak(n, 5)).collect();
    for p in &peaks {
        println!(
            "FMA peak, {} thread(s): {:.1} GFLOP/s ({})",
            p.threads,
            p.flops / 1e9,
            p.isa
        );
    }
    let peak = peaks.last().expect("at least one thread");

    let cfg = LlamaConfig::from_model_config(&mc);
    let dev = Device::Cpu;
    let vm = init_weights(&cfg, Heads::LM, 1, &dev).unwrap();
    let model = Llama::new(
        &cfg,
        Heads::LM,
        VarBuilder::from_varmap(&vm, DType::F32, &dev),
    )
    .unwrap();
    let mut opt = AdamW::new(named_vars(&vm), AdamWParams::default(), decay_by_default).unwrap();
    let ids: Vec<u32> = (0..b * (t + 1))
        .map(|i| (i * 7919 % cfg.vocab_size) as u32)
        .collect();
    let all = Tensor::from_vec(ids, (b, t + 1), &dev).unwrap();
    let x = all.narrow(1, 0, t).unwrap().contiguous().unwrap();
    let y = all.narrow(1, 1, t).unwrap().contiguous().unwrap();
    let mask = Tensor::ones((b, t), DType::F32, &dev).unwrap();

    let (mut total, mut fwd, mut bwd, mut host, mut upd) = (vec![], vec![], vec![], vec![], vec![]);
    let mut cpu_start = 0.0;
    // One untimed step first: allocations and thread pools warm up.
    for step in 0..=steps {
        if step == 1 {
            cpu_start = cpu_seconds();
        }
        let s = Instant::now();
        let loss = masked_cross_entropy(&model.forward(&x).unwrap(), &y, &mask).unwrap();
        let value = loss.to_scalar::<f32>().unwrap();
        let t1 = Instant::now();
        let store = loss.backward().unwrap();
        let t2 = Instant::now();
        let mut grads = Grads::new(opt.vars().count());
        grads.accumulate(opt.vars(), &store, 1.0).unwrap();
        drop(store);
        let norm = grads.norm();
        grads.clip(norm, 1.0);
        let t3 = Instant::now();
        opt.step(grads.slots(), 1e-3).unwrap();
        let t4 = Instant::now();
        assert!(value.is_finite());
        if step > 0 {
            total.push((t4 - s).as_secs_f64());
            fwd.push((t1 - s).as_secs_f64());
            bwd.push((t2 - t1).as_secs_f64());
            host.push((t3 - t2).as_secs_f64());
            upd.push((t4 - t3).as_secs_f64());
        }
    }
    let cpu_per_step = (cpu_seconds() - cpu_start) / steps as f64;
    let med = median(total);
    let n = cfg.n_params();
    let tps = (b * t) as f64 / med;
    println!(
        "{}: params {:.2}M, {threads} thread(s), {b}x{t}: median {:.1} ms/step \
         (forward+loss {:.1}, backward {:.1}, grads {:.1}, AdamW {:.1}), {:.0} tok/s, \
         {:.1} GFLOP/s (6·N·tok/s), {:.1}% of the {}-thread peak; \
         CPU {:.1} ms/step ({:.0} tok per CPU-second)",
        mc.name,
        n as f64 / 1e6,
        med * 1e3,
        median(fwd) * 1e3,
        median(bwd) * 1e3,
        median(host) * 1e3,
        median(upd) * 1e3,
        tps,
        6.0 * n as f64 * tps / 1e9,
        100.0 * fraction_of_peak(n, tps, peak),
        peak.threads,
        cpu_per_step * 1e3,
        (b * t) as f64 / cpu_per_step,
    );
}
