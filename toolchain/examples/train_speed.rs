//! Forward + backward tokens/s of the candle model for a config (a profiling aid).
//! `cargo run --release --example train_speed -- models/configs/X.toml BATCH SEQ STEPS`

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use mote_toolchain::init_random::ModelConfig;
use mote_toolchain::model::{init_weights, Heads, Llama, LlamaConfig};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let mc = ModelConfig::load(a[1].as_ref()).unwrap();
    let (b, t, steps): (usize, usize, usize) = (
        a[2].parse().unwrap(),
        a[3].parse().unwrap(),
        a[4].parse().unwrap(),
    );
    let cfg = LlamaConfig::from_model_config(&mc);
    let dev = Device::Cpu;
    let vm = init_weights(&cfg, Heads::LM, 1, &dev).unwrap();
    let model = Llama::new(
        &cfg,
        Heads::LM,
        VarBuilder::from_varmap(&vm, DType::F32, &dev),
    )
    .unwrap();
    let ids: Vec<u32> = (0..b * (t + 1))
        .map(|i| (i * 7919 % cfg.vocab_size) as u32)
        .collect();
    let all = Tensor::from_vec(ids, (b, t + 1), &dev).unwrap();
    let x = all.narrow(1, 0, t).unwrap();
    let y = all.narrow(1, 1, t).unwrap().flatten_all().unwrap();
    let mut times = vec![];
    for _ in 0..steps {
        let s = Instant::now();
        let logits = model.forward(&x).unwrap();
        let loss = candle_nn::loss::cross_entropy(&logits.flatten_to(1).unwrap(), &y).unwrap();
        let _g = loss.backward().unwrap();
        times.push(s.elapsed().as_secs_f64());
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let med = times[times.len() / 2];
    let n = cfg.n_params() as f64;
    let tps = (b * t) as f64 / med;
    println!(
        "params {:.2}M, {b}x{t}: median {:.1} ms/step, {:.0} tok/s, {:.1} GFLOP/s (6·N·tok/s)",
        n / 1e6,
        med * 1e3,
        tps,
        6.0 * n * tps / 1e9
    );
}
