//! DPO: response log-probabilities by hand, a zero margin before training (the reference
//! is the starting policy), and a margin that grows on a planted preference.

mod prefs;

use candle_core::{Device, Tensor, D};
use mote_toolchain::checkpoint::Checkpoint;
use mote_toolchain::model::Heads;
use mote_toolchain::recipe::dpo::response_logprobs;
use mote_toolchain::recipe::{DpoOptions, DpoPairs, DpoRun};

#[test]
fn response_logprobs_sum_the_response_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let base = prefs::base(tmp.path());
    let model = Checkpoint::load(&base, &Device::Cpu)
        .unwrap()
        .model(Heads::LM)
        .unwrap();
    let (a, b) = ([1u32, 40, 41, 42, 43, 44], [1u32, 50, 51, 52]);
    let got = response_logprobs(&model, &[&a, &b], &[3, 2], 0)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let by_hand = |s: &[u32], p: usize| -> f32 {
        let ids = Tensor::new(&s[..s.len() - 1], &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let lp = candle_nn::ops::log_softmax(&model.forward(&ids).unwrap(), D::Minus1)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        (p..s.len()).map(|i| lp[i - 1][s[i] as usize]).sum()
    };
    assert!((got[0] - by_hand(&a, 3)).abs() < 1e-4, "{got:?}");
    assert!((got[1] - by_hand(&b, 2)).abs() < 1e-4, "{got:?}");
}

#[test]
fn dpo_raises_the_margin_on_a_planted_preference() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let policy = prefs::base(dir);
    let rankings = prefs::planted(dir, "rankings.jsonl", 30, true, 5);
    let pairs = prefs::planted(dir, "pairs.jsonl", 30, false, 6);
    let o = DpoOptions {
        policy,
        data: vec![rankings, pairs],
        out: dir.join("dpo"),
        batch_size: 8,
        max_len: None,
        system: None,
        eval_fraction: 0.2,
        beta: 0.1,
        pairs: DpoPairs::All,
        train: prefs::train_config(30, 3e-3),
    };
    let run = DpoRun::prepare(&o).unwrap();
    // 12 held-out prompts: the last 12 pairs.
    assert_eq!(run.stage.eval.len(), 12);
    assert_eq!(run.stage.train.len(), 30 * 3 + 18);
    let before = run.stage.evaluate().unwrap().unwrap();
    assert!(before.margin().abs() < 1e-4, "{before:?}");
    assert!((before.loss() - std::f64::consts::LN_2).abs() < 1e-4);

    let report = run.run().unwrap();
    eprintln!("{report}");
    let after = report.eval.unwrap();
    assert!(after.margin() > 0.5, "{report}");
    assert!(after.accuracy() > 0.9, "{report}");
    assert!(after.loss() < 0.5, "{report}");

    let metrics = std::fs::read_to_string(o.out.join("metrics.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(metrics.lines().last().unwrap()).unwrap();
    for k in [
        "accuracy",
        "chosen_reward",
        "rejected_reward",
        "margin",
        "eval_loss",
        "eval_margin",
    ] {
        assert!(last[k].is_number(), "{k}: {last}");
    }
    // The result is a language model checkpoint.
    Checkpoint::load(&o.out, &Device::Cpu)
        .unwrap()
        .model(Heads::LM)
        .unwrap();
}
