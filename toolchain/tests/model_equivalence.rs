//! The candle model (training) and mote-runtime (inference) compute the same function, and
//! checkpoints survive GGUF export and import.

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use mote_runtime::{KvType, OwnedArena, Session, SessionConfig};
use mote_toolchain::checkpoint::Checkpoint;
use mote_toolchain::export::export_gguf;
use mote_toolchain::import::gguf::import_gguf;
use mote_toolchain::init_random::{synthetic_vocab, ModelConfig};
use mote_toolchain::model::{init_weights, Heads, Llama, LlamaConfig};
use mote_toolchain::model_file::ModelFile;
use mote_toolchain::quantize::Quant;

fn config(tied: bool, kv: usize) -> LlamaConfig {
    LlamaConfig::from_model_config(&ModelConfig {
        name: "equiv".into(),
        dim: 64,
        n_layers: 2,
        n_heads: 4,
        n_kv_heads: Some(kv),
        hidden: 96,
        vocab: 300,
        ctx: 48,
        tied,
        rope_base: 10_000.0,
        rms_eps: 1e-5,
    })
}

/// Weights large enough that the logits spread over several units (a fresh init gives
/// logits near 0, which would hide errors): matrices std 0.15, norms around 1.
fn checkpoint(cfg: &LlamaConfig, seed: u64) -> Checkpoint {
    let dev = Device::Cpu;
    let vm = init_weights(cfg, Heads::LM, seed, &dev).unwrap();
    for (name, var) in vm.data().lock().unwrap().iter() {
        let t = var.as_tensor();
        let scaled = if name.contains("norm") {
            (t.randn_like(0.0, 0.2).unwrap() + 1.0).unwrap()
        } else {
            (t * 7.5).unwrap()
        };
        var.set(&scaled).unwrap();
    }
    Checkpoint {
        config: cfg.clone(),
        weights: vm,
        tokenizer_json: None,
    }
}

/// Logits of every prefix of `ids` from mote-runtime, evaluating one token at a time.
fn runtime_logits(path: &std::path::Path, ids: &[u32]) -> Vec<Vec<f32>> {
    let file = ModelFile::open(path).unwrap();
    let model = file.model().unwrap();
    let sc = SessionConfig::new(ids.len()).with_kv_type(KvType::F32);
    let mut arena = OwnedArena::new(model.arena_bytes_for(&sc).unwrap());
    let mut s = Session::new(&model, arena.as_mut_slice(), sc).unwrap();
    ids.iter().map(|&t| s.eval(t).unwrap().to_vec()).collect()
}

fn candle_logits(ckpt: &Checkpoint, ids: &[u32]) -> Vec<Vec<f32>> {
    let model = ckpt.model(Heads::LM).unwrap();
    let t = Tensor::new(ids, &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    model
        .forward(&t)
        .unwrap()
        .squeeze(0)
        .unwrap()
        .to_vec2()
        .unwrap()
}

fn ids(n: usize, vocab: u32) -> Vec<u32> {
    let mut x = 12345u32;
    (0..n)
        .map(|i| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if i == 0 {
                1
            } else {
                (x >> 8) % vocab
            }
        })
        .collect()
}

#[test]
fn candle_logits_equal_runtime_on_exported_f32() {
    let dir = tempfile::tempdir().unwrap();
    for (tied, kv) in [(false, 2), (true, 4), (true, 1)] {
        let cfg = config(tied, kv);
        let ckpt = checkpoint(&cfg, 7);
        let path = dir.path().join(format!("m-{tied}-{kv}.gguf"));
        let vocab = synthetic_vocab(cfg.vocab_size);
        export_gguf(&ckpt, &vocab, Quant::F32, &path).unwrap();
        let seq = ids(cfg.max_position_embeddings, cfg.vocab_size as u32);
        let a = candle_logits(&ckpt, &seq);
        let b = runtime_logits(&path, &seq);
        let mut max = 0f32;
        let mut spread = 0f32;
        for (ra, rb) in a.iter().zip(&b) {
            for (x, y) in ra.iter().zip(rb) {
                max = max.max((x - y).abs());
                spread = spread.max(x.abs());
            }
        }
        eprintln!("tied {tied}, kv heads {kv}: max |Δlogit| {max:e}, max |logit| {spread}");
        assert!(spread > 2.0, "logits too flat ({spread}) to test anything");
        assert!(max <= 1e-4, "candle and runtime differ by {max}");
    }
}

#[test]
fn every_weight_gets_a_gradient() {
    let cfg = config(false, 2);
    let dev = Device::Cpu;
    let vm: VarMap = init_weights(&cfg, Heads::LM, 3, &dev).unwrap();
    let model = Llama::new(
        &cfg,
        Heads::LM,
        VarBuilder::from_varmap(&vm, DType::F32, &dev),
    )
    .unwrap();
    let seq = ids(17, cfg.vocab_size as u32);
    let x = Tensor::new(&seq[..16], &dev).unwrap().unsqueeze(0).unwrap();
    let y = Tensor::new(&seq[1..], &dev).unwrap();
    let logits = model.forward(&x).unwrap().squeeze(0).unwrap();
    let loss = candle_nn::loss::cross_entropy(&logits, &y).unwrap();
    let grads = loss.backward().unwrap();
    let data = vm.data().lock().unwrap();
    assert_eq!(data.len(), 2 + 9 * cfg.num_hidden_layers + 1);
    for (name, var) in data.iter() {
        let g = grads
            .get(var.as_tensor())
            .unwrap_or_else(|| panic!("{name} has no gradient"));
        let s: f32 = g.abs().unwrap().sum_all().unwrap().to_scalar().unwrap();
        assert!(s > 0.0 && s.is_finite(), "{name}: gradient sum {s}");
    }
}

#[test]
fn export_import_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Device::Cpu;
    for tied in [false, true] {
        let cfg = config(tied, 2);
        let ckpt = checkpoint(&cfg, 11);
        let vocab = synthetic_vocab(cfg.vocab_size);
        // F32: every weight comes back bit-identical, q/k permutation included.
        let f32_path = dir.path().join("rt.gguf");
        export_gguf(&ckpt, &vocab, Quant::F32, &f32_path).unwrap();
        let back = import_gguf(&f32_path, &dev).unwrap();
        assert_eq!(back.config.hidden_size, cfg.hidden_size);
        assert_eq!(back.config.tie_word_embeddings, tied);
        let mut names = ckpt.names();
        names.sort();
        let mut back_names = back.names();
        back_names.sort();
        assert_eq!(names, back_names);
        for n in &names {
            let a: Vec<f32> = ckpt
                .tensor(n)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let b: Vec<f32> = back
                .tensor(n)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            assert!(a == b, "{n} changed in the round trip");
        }
        // Saved and reloaded as an HF directory: the same.
        let ck_dir = dir.path().join("ckpt");
        back.save(&ck_dir).unwrap();
        let again = Checkpoint::load(&ck_dir, &dev).unwrap();
        assert_eq!(again.config, back.config);
        for n in &names {
            let a: Vec<f32> = back
                .tensor(n)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let b: Vec<f32> = again
                .tensor(n)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            assert!(a == b, "{n} changed through safetensors");
        }
        // Q8_0 and Q4_0: exporting the imported model again gives the same file.
        for q in [Quant::Q8_0, Quant::Q4_0] {
            let p1 = dir.path().join(format!("a-{q}.gguf"));
            let p2 = dir.path().join(format!("b-{q}.gguf"));
            export_gguf(&ckpt, &vocab, q, &p1).unwrap();
            export_gguf(&import_gguf(&p1, &dev).unwrap(), &vocab, q, &p2).unwrap();
            assert!(
                std::fs::read(&p1).unwrap() == std::fs::read(&p2).unwrap(),
                "{q}: re-export differs"
            );
        }
    }
}
