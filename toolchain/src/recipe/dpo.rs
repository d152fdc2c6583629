//! Direct preference optimisation: the policy (a copy of the SFT model) is trained on the
//! reward model's preference data with
//! `−log σ(β·[(log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l))])`, the
//! log-probabilities summed over the response tokens and the `<|im_end|>` closing them.
//! The reference is the starting policy, frozen, so its log-probabilities are computed
//! once per pair before training.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor, D};
use serde_json::{json, Map, Value};

use super::lm::Lm;
use super::reward::load_preferences;
use crate::checkpoint::{self, Checkpoint};
use crate::data::preferences::EncodedPreference;
use crate::data::Sampler;
use crate::error::{Error, Result};
use crate::model::Llama;
use crate::reward::neg_log_sigmoid;
use crate::train::{decay_by_default, named_vars, Stage, TrainConfig, TrainReport, Trainer};

/// Which (chosen, rejected) pairs a ranking of K gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpoPairs {
    /// All C(K, 2) pairs (but ties).
    All,
    /// The best response against each of the others (K − 1 pairs).
    BestVsRest,
}

/// What `mote dpo` needs besides the trainer's settings.
#[derive(Clone, Debug)]
pub struct DpoOptions {
    /// The SFT checkpoint: the starting policy and the frozen reference.
    pub policy: PathBuf,
    pub data: Vec<PathBuf>,
    pub out: PathBuf,
    /// Pairs per micro-batch.
    pub batch_size: usize,
    pub max_len: Option<usize>,
    pub system: Option<String>,
    /// Fraction of the prompts (the last ones) held out.
    pub eval_fraction: f64,
    pub beta: f64,
    pub pairs: DpoPairs,
    pub train: TrainConfig,
}

/// One preference pair with the reference's log-probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct DpoPair {
    pub chosen: Vec<u32>,
    pub chosen_prompt: usize,
    pub rejected: Vec<u32>,
    pub rejected_prompt: usize,
    pub ref_chosen: f32,
    pub ref_rejected: f32,
}

impl DpoPair {
    fn response_tokens(&self) -> usize {
        self.chosen.len() - self.chosen_prompt + self.rejected.len() - self.rejected_prompt
    }
}

/// The pairs of encoded preferences (reference log-probabilities still zero).
pub fn expand_pairs(prefs: &[EncodedPreference], which: DpoPairs) -> Vec<DpoPair> {
    let mut out = Vec::new();
    for p in prefs {
        let k = p.seqs.len();
        for i in 0..k {
            for j in i + 1..k {
                // Ties form no pair; "best" is every response tied first.
                if p.tiers[i] == p.tiers[j] || which == DpoPairs::BestVsRest && p.tiers[i] > 0 {
                    continue;
                }
                out.push(DpoPair {
                    chosen: p.seqs[i].clone(),
                    chosen_prompt: p.prompt_lens[i],
                    rejected: p.seqs[j].clone(),
                    rejected_prompt: p.prompt_lens[j],
                    ref_chosen: 0.0,
                    ref_rejected: 0.0,
                });
            }
        }
    }
    out
}

/// `log π(response)` of each sequence `[n]`: the sum of the log-probabilities of its tokens
/// from index `prompt_lens[i]` on. Keeps the graph, for training.
pub fn response_logprobs(
    model: &Llama,
    seqs: &[&[u32]],
    prompt_lens: &[usize],
    pad: u32,
) -> Result<Tensor> {
    let n = seqs.len();
    let cols = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
    if cols < 2 || prompt_lens.len() != n {
        return Err(Error::TrainConfig(
            "response log-probabilities need sequences of two tokens or more".into(),
        ));
    }
    let t = cols - 1;
    let (mut input, mut target, mut mask) = (
        Vec::with_capacity(n * t),
        Vec::with_capacity(n * t),
        Vec::with_capacity(n * t),
    );
    for (s, &p) in seqs.iter().zip(prompt_lens) {
        for i in 0..t {
            input.push(s.get(i).copied().unwrap_or(pad));
            target.push(s.get(i + 1).copied().unwrap_or(pad));
            // Target i + 1 is a response token.
            mask.push(if i + 1 >= p.max(1) && i + 1 < s.len() {
                1f32
            } else {
                0.0
            });
        }
    }
    let dev = Device::Cpu;
    let input = Tensor::from_vec(input, (n, t), &dev)?;
    let target = Tensor::from_vec(target, (n, t, 1), &dev)?;
    let mask = Tensor::from_vec(mask, (n, t), &dev)?;
    let logits = model.forward(&input)?;
    // log-sum-exp with the max held constant: the gradient is the same, the graph smaller.
    let max = logits.max_keepdim(D::Minus1)?.detach();
    let lse = logits
        .broadcast_sub(&max)?
        .exp()?
        .sum_keepdim(D::Minus1)?
        .log()?
        .add(&max)?;
    let picked = logits.gather(&target, D::Minus1)?;
    let lp = (picked - lse)?.squeeze(D::Minus1)?;
    Ok((lp * mask)?.sum(1)?)
}

/// DPO statistics over pairs: implicit rewards `β·(log π − log π_ref)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DpoStats {
    pub pairs: usize,
    pub loss_sum: f64,
    /// Pairs whose chosen response has the higher implicit reward (ties half).
    pub correct: f64,
    pub chosen_sum: f64,
    pub rejected_sum: f64,
}

impl DpoStats {
    fn add(&mut self, chosen: &[f32], rejected: &[f32], losses: &[f32]) {
        for ((&c, &r), &l) in chosen.iter().zip(rejected).zip(losses) {
            self.pairs += 1;
            self.loss_sum += l as f64;
            self.chosen_sum += c as f64;
            self.rejected_sum += r as f64;
            self.correct += match c.partial_cmp(&r) {
                Some(std::cmp::Ordering::Greater) => 1.0,
                Some(std::cmp::Ordering::Equal) => 0.5,
                _ => 0.0,
            };
        }
    }

    fn mean(&self, x: f64) -> f64 {
        x / self.pairs.max(1) as f64
    }

    pub fn loss(&self) -> f64 {
        self.mean(self.loss_sum)
    }
    pub fn accuracy(&self) -> f64 {
        self.mean(self.correct)
    }
    pub fn chosen_reward(&self) -> f64 {
        self.mean(self.chosen_sum)
    }
    pub fn rejected_reward(&self) -> f64 {
        self.mean(self.rejected_sum)
    }
    /// Mean of `β·[(log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l))]`.
    pub fn margin(&self) -> f64 {
        self.mean(self.chosen_sum - self.rejected_sum)
    }

    fn fields(&self, prefix: &str, m: &mut Map<String, Value>) {
        m.insert(format!("{prefix}accuracy"), json!(self.accuracy()));
        m.insert(
            format!("{prefix}chosen_reward"),
            json!(self.chosen_reward()),
        );
        m.insert(
            format!("{prefix}rejected_reward"),
            json!(self.rejected_reward()),
        );
        m.insert(format!("{prefix}margin"), json!(self.margin()));
    }
}

/// The DPO [`Stage`].
pub struct DpoStage {
    pub lm: Lm,
    pub train: Vec<DpoPair>,
    pub eval: Vec<DpoPair>,
    sampler: Sampler,
    pub beta: f64,
    pub batch_size: usize,
    pub grad_accum: usize,
    since_log: DpoStats,
    pending_eval: Option<DpoStats>,
    pub last_eval: Option<DpoStats>,
}

impl DpoStage {
    /// The stage over `lm`; fills in the reference log-probabilities with `lm` as it is now.
    pub fn new(
        lm: Lm,
        mut train: Vec<DpoPair>,
        mut eval: Vec<DpoPair>,
        beta: f64,
        batch_size: usize,
        grad_accum: usize,
        seed: u64,
    ) -> Result<Self> {
        if train.is_empty() {
            return Err(Error::TrainConfig("no preference pairs to train on".into()));
        }
        let pad = lm.ckpt.config.eos_token_id;
        for chunk in train
            .chunks_mut(batch_size.max(1))
            .chain(eval.chunks_mut(batch_size.max(1)))
        {
            let refs: Vec<&DpoPair> = chunk.iter().collect();
            let (c, r) = pair_logprobs(&lm.model, &refs, pad)?;
            let (c, r) = (c.detach().to_vec1::<f32>()?, r.detach().to_vec1::<f32>()?);
            for ((p, c), r) in chunk.iter_mut().zip(c).zip(r) {
                p.ref_chosen = c;
                p.ref_rejected = r;
            }
        }
        let sampler = Sampler::new(train.len(), seed);
        Ok(DpoStage {
            lm,
            train,
            eval,
            sampler,
            beta,
            batch_size,
            grad_accum,
            since_log: DpoStats::default(),
            pending_eval: None,
            last_eval: None,
        })
    }

    /// The mean DPO loss of `pairs` and its statistics.
    pub fn batch(&self, pairs: &[&DpoPair]) -> Result<(Tensor, DpoStats)> {
        let pad = self.lm.ckpt.config.eos_token_id;
        let (c, r) = pair_logprobs(&self.lm.model, pairs, pad)?;
        let dev = Device::Cpu;
        let n = pairs.len();
        let ref_c = Tensor::from_vec(pairs.iter().map(|p| p.ref_chosen).collect(), n, &dev)?;
        let ref_r = Tensor::from_vec(pairs.iter().map(|p| p.ref_rejected).collect(), n, &dev)?;
        let chosen = ((c - ref_c)? * self.beta)?;
        let rejected = ((r - ref_r)? * self.beta)?;
        let losses = neg_log_sigmoid(&(&chosen - &rejected)?)?;
        let mut stats = DpoStats::default();
        stats.add(
            &chosen.detach().to_vec1::<f32>()?,
            &rejected.detach().to_vec1::<f32>()?,
            &losses.detach().to_vec1::<f32>()?,
        );
        Ok((losses.mean_all()?, stats))
    }

    /// Statistics over the held-out pairs.
    pub fn evaluate(&self) -> Result<Option<DpoStats>> {
        if self.eval.is_empty() {
            return Ok(None);
        }
        let mut all = DpoStats::default();
        let refs: Vec<&DpoPair> = self.eval.iter().collect();
        for chunk in refs.chunks(self.batch_size.max(1)) {
            let (_, s) = self.batch(chunk)?;
            all.pairs += s.pairs;
            all.loss_sum += s.loss_sum;
            all.correct += s.correct;
            all.chosen_sum += s.chosen_sum;
            all.rejected_sum += s.rejected_sum;
        }
        Ok(Some(all))
    }
}

/// `log π` of the chosen and of the rejected responses of `pairs`, in one forward pass.
fn pair_logprobs(model: &Llama, pairs: &[&DpoPair], pad: u32) -> Result<(Tensor, Tensor)> {
    let n = pairs.len();
    let seqs: Vec<&[u32]> = pairs
        .iter()
        .map(|p| p.chosen.as_slice())
        .chain(pairs.iter().map(|p| p.rejected.as_slice()))
        .collect();
    let plens: Vec<usize> = pairs
        .iter()
        .map(|p| p.chosen_prompt)
        .chain(pairs.iter().map(|p| p.rejected_prompt))
        .collect();
    let lp = response_logprobs(model, &seqs, &plens, pad)?;
    Ok((lp.narrow(0, 0, n)?, lp.narrow(0, n, n)?))
}

impl Stage for DpoStage {
    fn loss(&mut self, step: u64, micro: usize) -> Result<(Tensor, usize)> {
        let picked = self
            .sampler
            .batch(step, micro, self.grad_accum, self.batch_size);
        let pairs: Vec<&DpoPair> = picked.iter().map(|&i| &self.train[i]).collect();
        let (loss, s) = self.batch(&pairs)?;
        let l = &mut self.since_log;
        l.pairs += s.pairs;
        l.loss_sum += s.loss_sum;
        l.correct += s.correct;
        l.chosen_sum += s.chosen_sum;
        l.rejected_sum += s.rejected_sum;
        Ok((loss, pairs.iter().map(|p| p.response_tokens()).sum()))
    }

    fn eval_loss(&mut self) -> Result<Option<f32>> {
        let s = self.evaluate()?;
        self.pending_eval = s;
        if s.is_some() {
            self.last_eval = s;
        }
        Ok(s.map(|s| s.loss() as f32))
    }

    fn save_model(&mut self, dir: &Path) -> Result<()> {
        self.lm.ckpt.save(dir)
    }

    fn log_fields(&mut self) -> Map<String, Value> {
        let mut m = Map::new();
        std::mem::take(&mut self.since_log).fields("", &mut m);
        if let Some(e) = self.pending_eval.take() {
            e.fields("eval_", &mut m);
        }
        m
    }
}

/// The outcome of [`dpo`].
#[derive(Clone, Debug)]
pub struct DpoReport {
    pub train: TrainReport,
    pub train_pairs: usize,
    pub eval: Option<DpoStats>,
}

impl std::fmt::Display for DpoReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} pairs)", self.train, self.train_pairs)?;
        if let Some(e) = &self.eval {
            write!(
                f,
                "\nheld-out: {} pairs, loss {:.4}, accuracy {:.3}, implicit rewards chosen {:.3} \
                 rejected {:.3}, margin {:.3}",
                e.pairs,
                e.loss(),
                e.accuracy(),
                e.chosen_reward(),
                e.rejected_reward(),
                e.margin()
            )?;
        }
        Ok(())
    }
}

/// A DPO run set up: trainer, stage (reference log-probabilities computed from the starting
/// policy, then the resumed weights loaded when resuming).
pub struct DpoRun {
    pub trainer: Trainer,
    pub stage: DpoStage,
}

impl DpoRun {
    pub fn prepare(o: &DpoOptions) -> Result<Self> {
        if !(o.beta.is_finite() && o.beta > 0.0) {
            return Err(Error::TrainConfig(format!(
                "beta {} must be a positive number",
                o.beta
            )));
        }
        let lm = Lm::new(Checkpoint::load(&o.policy, &Device::Cpu)?)?;
        let (_, mut prefs, n_eval) = load_preferences(
            &lm.ckpt,
            &o.policy,
            &o.data,
            o.max_len,
            o.system.clone(),
            o.eval_fraction,
        )?;
        let eval = expand_pairs(&prefs.split_off(prefs.len() - n_eval), o.pairs);
        let train = expand_pairs(&prefs, o.pairs);
        let vars = named_vars(&lm.ckpt.weights);
        let mut stage = DpoStage::new(
            lm,
            train,
            eval,
            o.beta,
            o.batch_size,
            o.train.grad_accum,
            o.train.seed,
        )?;
        let trainer = Trainer::new(&o.out, o.train.clone(), vars, decay_by_default)?;
        if let Some(dir) = trainer.resumed_from() {
            let w = dir.join(checkpoint::WEIGHTS_FILE);
            stage
                .lm
                .ckpt
                .weights
                .load(&w)
                .map_err(|e| Error::checkpoint(&w, e.to_string()))?;
        }
        Ok(DpoRun { trainer, stage })
    }

    pub fn run(mut self) -> Result<DpoReport> {
        let train = self.trainer.run(&mut self.stage)?;
        let eval = match self.stage.last_eval {
            Some(s) => Some(s),
            None => self.stage.evaluate()?,
        };
        Ok(DpoReport {
            train,
            train_pairs: self.stage.train.len(),
            eval,
        })
    }
}

/// DPO of the policy at `o.policy` on `o.data` into `o.out`.
pub fn dpo(o: &DpoOptions) -> Result<DpoReport> {
    DpoRun::prepare(o)?.run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tied_responses_make_no_pair() {
        // Four responses best first: a, then b and c tied, then d.
        let p = EncodedPreference {
            seqs: vec![vec![1], vec![2], vec![3], vec![4]],
            prompt_lens: vec![0; 4],
            tiers: vec![0, 1, 1, 2],
            truncated: 0,
            path: std::sync::Arc::from(Path::new("p.jsonl")),
            line: 1,
        };
        let ids = |pairs: Vec<DpoPair>| -> Vec<(u32, u32)> {
            pairs.iter().map(|d| (d.chosen[0], d.rejected[0])).collect()
        };
        let all = ids(expand_pairs(std::slice::from_ref(&p), DpoPairs::All));
        assert_eq!(all, [(1, 2), (1, 3), (1, 4), (2, 4), (3, 4)]);
        let best = ids(expand_pairs(&[p], DpoPairs::BestVsRest));
        assert_eq!(best, [(1, 2), (1, 3), (1, 4)]);
    }
}
