//! The reward model: the ranking loss by hand, batched rewards equal one-at-a-time ones,
//! a planted preference is learnt, the normalisation, and resume through the RM stage.

mod prefs;

use std::path::Path;

use candle_core::{Device, Tensor};
use mote_toolchain::data::preferences::encode_response;
use mote_toolchain::recipe::reward::load_preferences;
use mote_toolchain::recipe::{train_reward_model, NormSource, RmOptions, RmRun};
use mote_toolchain::reward::{ranking_loss, raw_rewards, RewardModel, RM_ARCHITECTURE};
use mote_toolchain::sample::{chatml_prompt, SampleConfig};
use mote_toolchain::train::{Stage, TrainConfig};
use mote_toolchain::{Error, Result};

fn options(dir: &Path, data: Vec<std::path::PathBuf>, out: &str, train: TrainConfig) -> RmOptions {
    RmOptions {
        base: dir.join("base"),
        data,
        out: dir.join(out),
        batch_size: 8,
        max_len: None,
        system: None,
        eval_fraction: 0.2,
        norm: NormSource::Data,
        train,
    }
}

#[test]
fn ranking_loss_matches_a_hand_computed_value() {
    // Rewards of a 3-way ranking, best first: pairs (0,1), (0,2), (1,2) have margins
    // 0.5, 2.0, 1.5; −log σ(m) = ln(1 + e^−m) = 0.474077, 0.126928, 0.201413.
    let r = Tensor::new(&[1.0f32, 0.5, -1.0], &Device::Cpu).unwrap();
    let loss = ranking_loss(&r, &[3]).unwrap().to_scalar::<f32>().unwrap();
    assert!((loss - 0.267_473).abs() < 1e-5, "{loss}");
    // A second ranking (a pair with margin −1: ln(1 + e) = 1.313262) counts as much as the
    // first, whatever its K.
    let r = Tensor::new(&[1.0f32, 0.5, -1.0, 0.0, 1.0], &Device::Cpu).unwrap();
    let loss = ranking_loss(&r, &[3, 2])
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(
        (loss - (0.267_473 + 1.313_262) / 2.0).abs() < 1e-5,
        "{loss}"
    );
}

#[test]
fn batched_rewards_equal_single_ones_and_the_stage_loss_is_the_ranking_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    prefs::base(dir);
    let data = prefs::planted(dir, "r.jsonl", 4, true, 1);
    let o = options(dir, vec![data], "rm", prefs::train_config(1, 1e-3));
    let run = RmRun::prepare(&o).unwrap();
    let stage = &run.stage;
    let p = &stage.train[0];
    assert_eq!(p.seqs.len(), 3);
    // Every sequence is BOS + ChatML and ends with the <|im_end|> closing the response.
    let tok = stage.ckpt.tokenizer(&o.base).unwrap();
    let im_end = tok.token_to_id("<|im_end|>").unwrap();
    let pref = &run.prefs[0];
    for (seq, resp) in p.seqs.iter().zip(&pref.responses) {
        assert_eq!(*seq.last().unwrap(), im_end);
        assert_eq!(seq[0], stage.ckpt.config.bos_token_id);
        let (ids, _) = encode_response(
            &tok,
            Some(stage.ckpt.config.bos_token_id),
            &chatml_prompt(None, &pref.context[0].content),
            resp,
        )
        .unwrap();
        assert_eq!(&ids, seq);
    }
    let single: Vec<f32> = p
        .seqs
        .iter()
        .map(|s| {
            raw_rewards(&stage.model, &[s.as_slice()], 0)
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()[0]
        })
        .collect();
    let (loss, batched, _) = stage.batch(&[p]).unwrap();
    for (a, b) in single.iter().zip(&batched) {
        assert!((a - b).abs() < 1e-5, "{single:?} vs {batched:?}");
    }
    let nls = |m: f32| (1.0 + (-m).exp()).ln();
    let (r0, r1, r2) = (single[0], single[1], single[2]);
    let want = (nls(r0 - r1) + nls(r0 - r2) + nls(r1 - r2)) / 3.0;
    let loss = loss.to_scalar::<f32>().unwrap();
    assert!((loss - want).abs() < 1e-5, "{loss} vs {want}");
}

#[test]
fn learns_a_planted_preference() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    prefs::base(dir);
    let rankings = prefs::planted(dir, "rankings.jsonl", 60, true, 1);
    let pairs = prefs::planted(dir, "pairs.jsonl", 20, false, 2);
    let mut o = options(
        dir,
        vec![pairs, rankings],
        "rm",
        prefs::train_config(40, 3e-3),
    );
    o.norm = NormSource::Samples {
        prompts: 16,
        sample: SampleConfig {
            temperature: 1.0,
            max_tokens: 12,
            seed: 0,
        },
        threads: 1,
    };
    let report = train_reward_model(&o).unwrap();
    eprintln!("{report}");
    // 16 held-out rankings: 48 pairs.
    assert_eq!((report.eval_prompts, report.eval.pairs), (16, 48));
    assert!(report.eval.accuracy() > 0.9, "{report}");
    assert!(report.eval.margin() > 0.5, "{report}");
    assert_eq!(report.norm_count, 16);

    // Metrics carry the training and held-out accuracy.
    let metrics = std::fs::read_to_string(o.out.join("metrics.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(metrics.lines().last().unwrap()).unwrap();
    assert!(last["eval_accuracy"].as_f64().unwrap() > 0.9, "{last}");
    assert!(last["accuracy"].is_number() && last["eval_margin"].is_number());

    // The saved model: a full llama with a score head, its normalisation in config.json.
    let rm = RewardModel::load(&o.out).unwrap();
    let cfg = rm.model().config();
    assert_eq!(cfg.architectures, [RM_ARCHITECTURE]);
    assert_eq!(cfg.reward_normalization, Some(report.norm));
    let prompt = chatml_prompt(None, "the cat ran?");
    let scores = rm
        .score(&[
            (&prompt, "a dog sat on the mat !"),
            (&prompt, "a dog sat on the mat ?"),
            (&prompt, "a dog sat on the mat."),
        ])
        .unwrap();
    assert!(scores[0] > scores[1] && scores[1] > scores[2], "{scores:?}");
}

/// The RM stage, failing at one step as an interrupted run would.
struct StopAt<'a>(&'a mut mote_toolchain::recipe::reward::RmStage, u64);

impl Stage for StopAt<'_> {
    fn loss(&mut self, step: u64, micro: usize) -> Result<(Tensor, usize)> {
        if step == self.1 {
            return Err(Error::TrainConfig("interrupted".into()));
        }
        self.0.loss(step, micro)
    }
    fn eval_loss(&mut self) -> Result<Option<f32>> {
        self.0.eval_loss()
    }
    fn save_model(&mut self, dir: &Path) -> Result<()> {
        self.0.save_model(dir)
    }
    fn log_fields(&mut self) -> serde_json::Map<String, serde_json::Value> {
        self.0.log_fields()
    }
}

#[test]
fn resumed_run_equals_an_uninterrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    prefs::base(dir);
    let data = prefs::planted(dir, "r.jsonl", 20, true, 4);
    let mut cfg = prefs::train_config(6, 3e-3);
    cfg.save_every = 3;
    cfg.eval_every = 2;
    let whole = options(dir, vec![data.clone()], "whole", cfg.clone());
    let whole_report = train_reward_model(&whole).unwrap();

    let split = options(dir, vec![data], "split", cfg.clone());
    let mut run = RmRun::prepare(&split).unwrap();
    let err = run.trainer.run(&mut StopAt(&mut run.stage, 5)).unwrap_err();
    assert!(err.to_string().contains("interrupted"), "{err}");
    let mut resumed = split.clone();
    resumed.train.resume = true;
    let report = train_reward_model(&resumed).unwrap();
    assert_eq!(report.eval, whole_report.eval);
    for f in ["model.safetensors", "config.json"] {
        assert!(
            std::fs::read(whole.out.join(f)).unwrap() == std::fs::read(split.out.join(f)).unwrap(),
            "{f} differs"
        );
    }
}

#[test]
fn sequences_longer_than_max_len_lose_their_earliest_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base = prefs::base(dir);
    let data = prefs::planted(dir, "r.jsonl", 5, true, 1);
    let ckpt = mote_toolchain::checkpoint::Checkpoint::load(&base, &Device::Cpu).unwrap();
    let (_, full, _) =
        load_preferences(&ckpt, &base, std::slice::from_ref(&data), None, None, 0.0).unwrap();
    let (_, cut, _) = load_preferences(&ckpt, &base, &[data], Some(24), None, 0.0).unwrap();
    for (f, c) in full.iter().zip(&cut) {
        for (fs, cs) in f.seqs.iter().zip(&c.seqs) {
            assert!(cs.len() <= 24 && fs.ends_with(cs));
        }
    }
    assert!(cut.iter().any(|p| p.truncated > 0));
}
