//! Sampling through mote-runtime: deterministic for a seed whatever the thread count, and
//! the log-probabilities recorded while sampling equal those of teacher-forced scoring.

use candle_core::Device;
use mote_toolchain::checkpoint::Checkpoint;
use mote_toolchain::init_random::ModelConfig;
use mote_toolchain::model::LlamaConfig;
use mote_toolchain::recipe::init_checkpoint;
use mote_toolchain::sample::{chatml_prompt, Generator, ModelSource, SampleConfig};
use mote_toolchain::tokenizer::{hf_tokenizer, train};

fn model() -> Checkpoint {
    let texts: Vec<String> = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/data/tiny-corpus.txt"
    ))
    .unwrap()
    .lines()
    .map(String::from)
    .collect();
    let vocab = train(&texts, 400).unwrap();
    let json = hf_tokenizer(&vocab).unwrap().to_string(false).unwrap();
    let cfg = LlamaConfig::from_model_config(&ModelConfig {
        name: "sample-test".into(),
        dim: 32,
        n_layers: 1,
        n_heads: 2,
        n_kv_heads: None,
        hidden: 64,
        vocab: 400,
        ctx: 64,
        tied: true,
        rope_base: 10_000.0,
        rms_eps: 1e-5,
    });
    let ckpt = init_checkpoint(&cfg, json.into_bytes(), 5).unwrap();
    // Spread the logits so that samples differ and some end their turn early.
    for (_, v) in ckpt.weights.data().lock().unwrap().iter() {
        v.set(&(v.as_tensor() * 20.0).unwrap()).unwrap();
    }
    ckpt
}

#[test]
fn sampling_is_seeded_and_logprobs_match_scoring() {
    let ckpt = model();
    let src = ModelSource::from_checkpoint(&ckpt, std::path::Path::new("test")).unwrap();
    let prompts: Vec<String> = [
        "Hello there.",
        "What is the capital of France?",
        "Tell me a story.",
    ]
    .iter()
    .map(|p| chatml_prompt(None, p))
    .collect();
    let cfg = SampleConfig {
        temperature: 0.9,
        max_tokens: 12,
        seed: 42,
    };
    let one = Generator::open(src.gguf(), 1)
        .unwrap()
        .sample(&prompts, 5, &cfg)
        .unwrap();
    let two = Generator::open(src.gguf(), 2)
        .unwrap()
        .sample(&prompts, 5, &cfg)
        .unwrap();
    assert_eq!(one, two, "results depend on the thread count");
    let other = Generator::open(src.gguf(), 2)
        .unwrap()
        .sample(&prompts, 5, &SampleConfig { seed: 43, ..cfg })
        .unwrap();
    assert_ne!(one, other, "the seed changes nothing");
    let distinct: std::collections::HashSet<&Vec<u32>> =
        one.iter().flatten().map(|c| &c.ids).collect();
    assert!(distinct.len() > 5, "samples barely differ: {distinct:?}");

    let given: Vec<Vec<(Vec<u32>, Option<u32>)>> = one
        .iter()
        .map(|cs| cs.iter().map(|c| (c.ids.clone(), c.end_id)).collect())
        .collect();
    let scored = Generator::open(src.gguf(), 2)
        .unwrap()
        .score(&prompts, &given, cfg.temperature)
        .unwrap();
    for (cs, ss) in one.iter().zip(&scored) {
        for (c, s) in cs.iter().zip(ss) {
            assert_eq!(c.logprobs.len(), c.ids.len() + usize::from(c.ended));
            assert_eq!(&c.logprobs, s, "sampled and scored log-probs differ");
            assert!(
                c.logprobs.iter().all(|&l| l <= 1e-6 && l.is_finite()),
                "{:?}",
                c.logprobs
            );
        }
    }
    let _ = Device::Cpu;
}
