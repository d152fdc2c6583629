//! Next-token training through the shared loop: a bigram model on ChatML demonstrations
//! learns the answers and the end of turn, and nothing the mask excludes.

mod common;

use std::path::Path;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Init, VarMap};
use common::{id, tokenizer, WORDS};
use mote_toolchain::data::{SftConfig, SftData};
use mote_toolchain::train::{
    decay_by_default, named_vars, CausalLm, NextToken, TrainConfig, Trainer,
};
use mote_toolchain::Result;

/// logits(next | token) = row `token` of a V×V table.
struct Bigram {
    varmap: VarMap,
}

impl Bigram {
    fn table(&self) -> Tensor {
        self.varmap.data().lock().unwrap()["lm.weight"]
            .as_tensor()
            .clone()
    }
}

impl CausalLm for Bigram {
    fn logits(&self, input: &Tensor) -> Result<Tensor> {
        let (b, t) = input.dims2()?;
        let rows = self.table().index_select(&input.flatten_all()?, 0)?;
        Ok(rows.reshape((b, t, WORDS.len()))?)
    }

    fn save(&self, dir: &Path) -> Result<()> {
        Ok(self.varmap.save(dir.join("model.safetensors"))?)
    }
}

#[test]
fn sft_trains_answers_and_end_of_turn_only() {
    let dir = tempfile::tempdir().unwrap();
    let demos = dir.path().join("demos.jsonl");
    let line = |p: &str, c: &str| format!("{{\"prompt\": \"{p}\", \"completion\": \"{c}\"}}\n");
    let text: String = (0..20)
        .map(|i| {
            if i % 2 == 0 {
                line("hi", "hello there !")
            } else {
                line("how are you ?", "fine !")
            }
        })
        .collect();
    std::fs::write(&demos, text).unwrap();
    let config = SftConfig {
        eval_fraction: 0.1,
        ..SftConfig::default()
    };
    let data = SftData::load(&[demos], &tokenizer(), &config, 1).unwrap();
    let eval = data.eval_batches(4);

    let v = WORDS.len();
    let varmap = VarMap::new();
    varmap
        .get(
            (v, v),
            "lm.weight",
            Init::Const(0.0),
            DType::F32,
            &Device::Cpu,
        )
        .unwrap();
    let mut stage = NextToken {
        data,
        model: Bigram {
            varmap: varmap.clone(),
        },
        eval,
        batch_size: 4,
        grad_accum: 1,
        device: Device::Cpu,
    };
    let before = stage.model.table().to_vec2::<f32>().unwrap();
    let train = TrainConfig {
        steps: 60,
        lr: 0.5,
        min_lr: 0.01,
        warmup_steps: 2,
        weight_decay: 0.0,
        eval_every: 20,
        save_every: 0,
        log_every: 10,
        seed: 1,
        progress: false,
        ..TrainConfig::default()
    };
    let out = dir.path().join("out");
    let mut trainer = Trainer::new(&out, train, named_vars(&varmap), decay_by_default).unwrap();
    let report = trainer.run(&mut stage).unwrap();
    // Two equally likely answers after "assistant"; everything else is determined.
    let floor = (2f32.ln() * 2.0) / 7.0;
    let eval_loss = report.last_eval_loss.unwrap();
    assert!(eval_loss < floor + 0.15, "{eval_loss} vs floor {floor}");

    let after = stage.model.table();
    let probs = candle_nn::ops::softmax(&after, D::Minus1)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    // The end of turn after "!", and the answers after "assistant".
    assert!(probs[id("!") as usize][id("<|im_end|>") as usize] > 0.9);
    let after_assistant = &probs[id("assistant") as usize];
    assert!(after_assistant[id("hello") as usize] + after_assistant[id("fine") as usize] > 0.9);
    // Rows whose next tokens are never targets received no gradient at all.
    let after = after.to_vec2::<f32>().unwrap();
    for w in ["user", "hi", "how", "are", "you", "<|im_start|>", "?"] {
        assert_eq!(after[id(w) as usize], before[id(w) as usize], "{w}");
    }
    // What follows "<|im_end|>" is the next turn's "<|im_start|>", never a target.
    assert_eq!(
        after[id("<|im_end|>") as usize],
        before[id("<|im_end|>") as usize]
    );

    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert!(
        metrics
            .lines()
            .all(|l| l.contains("\"truncated_examples\":0")),
        "{metrics}"
    );
}
