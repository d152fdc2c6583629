//! PPO on a tiny random model with toy rewards: the reward rises while the KL stays
//! bounded, every policy weight is trained, and a resumed run equals an uninterrupted one.

use std::path::{Path, PathBuf};

use candle_core::Device;
use mote_toolchain::checkpoint::Checkpoint;
use mote_toolchain::init_random::ModelConfig;
use mote_toolchain::model::LlamaConfig;
use mote_toolchain::ppo::{ptx, Critic, KlControl, Ppo, PpoConfig, PpoInputs, Scorer};
use mote_toolchain::recipe::init_checkpoint;
use mote_toolchain::sample::{chatml_prompt, Completion, Prompt};
use mote_toolchain::tokenizer::{hf_tokenizer, train};
use mote_toolchain::Result;

fn corpus() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/data/tiny-corpus.txt"
    ))
}

fn model() -> Checkpoint {
    let texts: Vec<String> = std::fs::read_to_string(corpus())
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let vocab = train(&texts, 400).unwrap();
    let json = hf_tokenizer(&vocab).unwrap().to_string(false).unwrap();
    let cfg = LlamaConfig::from_model_config(&ModelConfig {
        name: "ppo-test".into(),
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
    let ckpt = init_checkpoint(&cfg, json.into_bytes(), 3).unwrap();
    // Spread the logits a little so that some responses end early.
    for (_, v) in ckpt.weights.data().lock().unwrap().iter() {
        v.set(&(v.as_tensor() * 4.0).unwrap()).unwrap();
    }
    ckpt
}

fn copy(c: &Checkpoint) -> Checkpoint {
    let dir = tempfile::tempdir().unwrap();
    c.save(dir.path()).unwrap();
    Checkpoint::load(dir.path(), &Device::Cpu).unwrap()
}

fn prompts() -> Vec<Prompt> {
    [
        "Hello there.",
        "What is water?",
        "Tell me about cats.",
        "Why is the sky blue?",
    ]
    .iter()
    .map(|u| Prompt {
        chatml: chatml_prompt(None, u),
        user: u.to_string(),
        fields: Default::default(),
    })
    .collect()
}

/// Five times the fraction of response tokens with an id below 300 (a class the policy must learn to
/// prefer).
fn token_reward() -> Box<dyn Scorer> {
    Box::new(|_: &[&Prompt], cs: &[&Completion]| -> Result<Vec<f32>> {
        Ok(cs
            .iter()
            .map(|c| {
                let hits = c.ids.iter().filter(|&&i| i < 300).count();
                5.0 * hits as f32 / c.ids.len().max(1) as f32
            })
            .collect())
    })
}

fn config() -> PpoConfig {
    PpoConfig {
        iterations: 8,
        batch_size: 16,
        minibatch_size: 8,
        ppo_epochs: 4,
        lr: 1e-3,
        critic_lr: 3e-3,
        max_new_tokens: 12,
        kl_coef: 0.05,
        kl_control: KlControl::Adaptive {
            target: 5.0,
            horizon: 16.0,
        },
        eot_penalty: 0.0,
        min_tokens: 0,
        save_every: 2,
        threads: 1,
        ..PpoConfig::default()
    }
}

fn inputs(sft: &Checkpoint, scorer: Box<dyn Scorer>, ptx: Option<PathBuf>) -> PpoInputs {
    PpoInputs {
        sft: copy(sft),
        critic_base: None,
        scorer,
        prompts: prompts(),
        ptx_data: ptx,
    }
}

fn metric(out: &Path, key: &str) -> Vec<f64> {
    std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()[key]
                .as_f64()
                .unwrap()
        })
        .collect()
}

#[test]
fn ppo_raises_a_toy_reward_with_bounded_kl() {
    let sft = model();
    for critic in [Critic::Separate, Critic::Shared] {
        let out = tempfile::tempdir().unwrap();
        let cfg = PpoConfig { critic, ..config() };
        let mut ppo = Ppo::new(out.path(), cfg, inputs(&sft, token_reward(), None), false).unwrap();
        ppo.run(false).unwrap();
        // Every weight of the policy moved: gradients reach them all.
        let trained = Checkpoint::load(out.path(), &Device::Cpu).unwrap();
        for name in sft.names() {
            let a = sft
                .tensor(&name)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let b = trained
                .tensor(&name)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            assert_ne!(a, b, "{critic:?}: {name} was not trained");
        }
        assert!(trained.tensor("value_head.weight").is_none());
        let reward = metric(out.path(), "reward");
        let kl = metric(out.path(), "kl");
        let diff = metric(out.path(), "logprob_diff");
        eprintln!("{critic:?} reward {reward:?} kl {kl:?}");
        let first = (reward[0] + reward[1]) / 2.0;
        let last = (reward[6] + reward[7]) / 2.0;
        assert!(last > first + 0.25, "{critic:?}: reward {reward:?}");
        assert!(kl.iter().all(|k| k.abs() < 25.0), "{critic:?}: KL {kl:?}");
        assert!(
            diff.iter().all(|d| *d < 1e-3),
            "{critic:?}: runtime vs candle {diff:?}"
        );
    }
}

#[test]
fn resume_equals_an_uninterrupted_run() {
    let sft = model();
    let cfg = PpoConfig {
        iterations: 4,
        batch_size: 4,
        minibatch_size: 2,
        ppo_epochs: 2,
        ptx_coef: 0.1,
        ptx_seq_len: 16,
        ptx_batch_size: 2,
        kl_control: KlControl::Adaptive {
            target: 1.0,
            horizon: 10.0,
        },
        ..config()
    };
    let ptx = Some(corpus());
    let whole = tempfile::tempdir().unwrap();
    Ppo::new(
        whole.path(),
        cfg.clone(),
        inputs(&sft, token_reward(), ptx.clone()),
        false,
    )
    .unwrap()
    .run(false)
    .unwrap();
    let parts = tempfile::tempdir().unwrap();
    let mut first = Ppo::new(
        parts.path(),
        cfg.clone(),
        inputs(&sft, token_reward(), ptx.clone()),
        false,
    )
    .unwrap();
    first.run_until(3, false).unwrap();
    drop(first);
    // Iteration 3 was not checkpointed: it is redone from checkpoint 2.
    let resumed = Ppo::new(
        parts.path(),
        cfg.clone(),
        inputs(&sft, token_reward(), ptx),
        true,
    )
    .unwrap()
    .run(false)
    .unwrap();
    assert!(resumed.resumed_from.unwrap().ends_with("checkpoint-000002"));
    let read = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap();
    assert_eq!(
        read(whole.path(), "model.safetensors"),
        read(parts.path(), "model.safetensors")
    );
    let ck = "checkpoint-000004";
    for f in [
        "critic/model.safetensors",
        "optimizer.safetensors",
        "critic_optimizer.safetensors",
        "trainer_state.json",
    ] {
        assert_eq!(
            read(&whole.path().join(ck), f),
            read(&parts.path().join(ck), f),
            "{f}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(whole.path().join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| l.split("\"seconds\"").next().unwrap().to_string())
            .collect::<Vec<_>>(),
        std::fs::read_to_string(parts.path().join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| l.split("\"seconds\"").next().unwrap().to_string())
            .collect::<Vec<_>>()
    );
    // A fresh run into a directory with checkpoints needs --resume.
    let e = Ppo::new(parts.path(), cfg, inputs(&sft, token_reward(), None), false);
    assert!(e.is_err());
}

/// PPO-ptx on demonstrations: the file is read as conversations, and with a large weight
/// the policy's loss on their assistant turns falls.
#[test]
fn ptx_on_demonstrations_fits_their_assistant_turns() {
    let dir = tempfile::tempdir().unwrap();
    let demos = dir.path().join("demos.jsonl");
    let lines: Vec<String> = (0..8)
        .map(|i| {
            serde_json::json!({"messages": [
                {"role": "user", "content": format!("What is water {i}?")},
                {"role": "assistant", "content": "Water is wet."},
            ]})
            .to_string()
        })
        .collect();
    std::fs::write(&demos, lines.join("\n")).unwrap();
    assert_eq!(ptx::kind(&demos).unwrap(), ptx::PtxKind::Conversations);
    assert_eq!(ptx::kind(&corpus()).unwrap(), ptx::PtxKind::Text);

    let cfg = PpoConfig {
        iterations: 6,
        batch_size: 4,
        minibatch_size: 4,
        ppo_epochs: 2,
        ptx_coef: 5.0,
        ptx_seq_len: 32,
        ptx_batch_size: 4,
        ..config()
    };
    let out = dir.path().join("ppo");
    Ppo::new(
        &out,
        cfg,
        inputs(&model(), token_reward(), Some(demos)),
        false,
    )
    .unwrap()
    .run(false)
    .unwrap();
    let ptx = metric(&out, "ptx_loss");
    assert!(ptx.iter().all(|l| l.is_finite() && *l > 0.0), "{ptx:?}");
    eprintln!("ptx loss per iteration: {ptx:?}");
    assert!(ptx[ptx.len() - 1] < 0.5 * ptx[0], "{ptx:?}");
}
