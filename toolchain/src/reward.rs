//! Reward models: the scalar head read at the `<|im_end|>` closing a response, the
//! InstructGPT ranking loss, pairwise accuracy, the affine normalisation of the raw score,
//! and [`RewardModel`], which scores (prompt, response) pairs in batches for PPO and
//! evaluation.

use std::path::Path;

use candle_core::{Device, Tensor};
use tokenizers::Tokenizer;

use crate::checkpoint::Checkpoint;
use crate::data::preferences::{encode_response, ordered_pairs, strict_tiers};
use crate::error::{Error, Result};
use crate::model::{Heads, Llama, RewardNorm};

/// `architectures` of a reward model's `config.json` (transformers' class with a `score`
/// head of one label).
pub const RM_ARCHITECTURE: &str = "LlamaForSequenceClassification";

/// Right-pad `seqs` with `pad` into `[n, longest]` ids and the index of each last token.
pub fn pad_batch(seqs: &[&[u32]], pad: u32, dev: &Device) -> Result<(Tensor, Vec<u32>)> {
    let cols = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
    if seqs.iter().any(|s| s.is_empty()) {
        return Err(Error::TrainConfig("an empty token sequence".into()));
    }
    let mut ids = Vec::with_capacity(seqs.len() * cols);
    for s in seqs {
        ids.extend_from_slice(s);
        ids.extend(std::iter::repeat_n(pad, cols - s.len()));
    }
    let last = seqs.iter().map(|s| s.len() as u32 - 1).collect();
    Ok((Tensor::from_vec(ids, (seqs.len(), cols), dev)?, last))
}

/// Raw rewards `[n]` of `seqs` in one forward pass, each read at its last token. Keeps the
/// graph, for training.
pub fn raw_rewards(model: &Llama, seqs: &[&[u32]], pad: u32) -> Result<Tensor> {
    let (ids, last) = pad_batch(seqs, pad, &Device::Cpu)?;
    Ok(model.rewards(&model.hidden(&ids)?, &last)?)
}

/// Normalised rewards of `seqs` (each ending with the token to read, the `<|im_end|>`
/// closing its response), `batch_size` sequences per forward pass; applies the model's
/// `reward_normalization` when it has one. Sequences longer than the context lose their
/// earliest tokens.
pub fn reward_scores(rm: &Llama, seqs: &[Vec<u32>], batch_size: usize) -> Result<Vec<f32>> {
    let ctx = rm.config().max_position_embeddings;
    let pad = rm.config().eos_token_id;
    let norm = rm.config().reward_normalization;
    let mut out = Vec::with_capacity(seqs.len());
    for chunk in seqs.chunks(batch_size.max(1)) {
        let cut: Vec<&[u32]> = chunk
            .iter()
            .map(|s| &s[s.len().saturating_sub(ctx)..])
            .collect();
        let r = raw_rewards(rm, &cut, pad)?.detach().to_vec1::<f32>()?;
        out.extend(r.into_iter().map(|x| apply_norm(norm, x)));
    }
    Ok(out)
}

/// `gain · raw + bias`, or `raw` without a normalisation.
pub fn apply_norm(norm: Option<RewardNorm>, raw: f32) -> f32 {
    norm.map_or(raw, |n| (n.gain * raw as f64 + n.bias) as f32)
}

/// The normalisation that gives `raw` mean 0 and standard deviation 1.
pub fn normalization(raw: &[f32]) -> Result<RewardNorm> {
    if raw.len() < 2 {
        return Err(Error::TrainConfig(
            "normalising rewards needs at least two scores".into(),
        ));
    }
    let n = raw.len() as f64;
    let mean = raw.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = raw.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    let std = var.sqrt().max(1e-6);
    Ok(RewardNorm {
        gain: 1.0 / std,
        bias: -mean / std,
    })
}

/// The (better, worse) index pairs of consecutive rankings of `sizes[g]` responses each,
/// laid out one after another best first, and each pair's weight: `1 / C(K, 2)` over the
/// number of rankings, so every ranking counts once whatever its K.
pub fn ranking_pairs(sizes: &[usize]) -> (Vec<u32>, Vec<u32>, Vec<f32>) {
    let tiers: Vec<Vec<usize>> = sizes.iter().map(|&k| strict_tiers(k)).collect();
    tied_ranking_pairs(&tiers)
}

/// As [`ranking_pairs`] for rankings that may hold ties: ranking `g` has
/// `tiers[g].len()` responses, best first, with tiers as [`Preference::tiers`]. Tied
/// responses form no pair; a ranking's weight is spread over its untied pairs, and a
/// ranking without any counts for nothing.
///
/// [`Preference::tiers`]: crate::data::Preference::tiers
pub fn tied_ranking_pairs(tiers: &[Vec<usize>]) -> (Vec<u32>, Vec<u32>, Vec<f32>) {
    let pairs: Vec<Vec<(usize, usize)>> = tiers.iter().map(|t| ordered_pairs(t)).collect();
    let rankings = pairs.iter().filter(|p| !p.is_empty()).count();
    let (mut better, mut worse, mut weight) = (Vec::new(), Vec::new(), Vec::new());
    let mut base = 0u32;
    for (t, ps) in tiers.iter().zip(&pairs) {
        for &(i, j) in ps {
            better.push(base + i as u32);
            worse.push(base + j as u32);
            weight.push(1.0 / (ps.len() as f32 * rankings as f32));
        }
        base += t.len() as u32;
    }
    (better, worse, weight)
}

/// `−log σ(x)`, stable for large |x|, from ops that have a backward pass.
pub fn neg_log_sigmoid(x: &Tensor) -> Result<Tensor> {
    let tail = (x.abs()?.neg()?.exp()? + 1.0)?.log()?;
    Ok((x.neg()?.relu()? + tail)?)
}

/// InstructGPT's loss: for each ranking (responses best first, `sizes[g]` of them, laid
/// out one after another in `rewards`), the mean of `−log σ(r_better − r_worse)` over its
/// C(K, 2) pairs; then the mean over rankings.
pub fn ranking_loss(rewards: &Tensor, sizes: &[usize]) -> Result<Tensor> {
    let tiers: Vec<Vec<usize>> = sizes.iter().map(|&k| strict_tiers(k)).collect();
    tied_ranking_loss(rewards, &tiers)
}

/// [`ranking_loss`] over rankings that may hold ties (see [`tied_ranking_pairs`]): the
/// mean over each ranking's untied pairs, then over the rankings that have any.
pub fn tied_ranking_loss(rewards: &Tensor, tiers: &[Vec<usize>]) -> Result<Tensor> {
    let n: usize = tiers.iter().map(Vec::len).sum();
    if rewards.dims() != [n] || tiers.iter().any(|t| t.len() < 2) {
        let sizes: Vec<usize> = tiers.iter().map(Vec::len).collect();
        return Err(Error::TrainConfig(format!(
            "{:?} rewards for rankings of {sizes:?} responses",
            rewards.dims()
        )));
    }
    let dev = rewards.device();
    let (better, worse, weight) = tied_ranking_pairs(tiers);
    let m = better.len();
    if m == 0 {
        return Err(Error::TrainConfig(
            "rankings with every response tied: no pair to learn from".into(),
        ));
    }
    let b = rewards.index_select(&Tensor::from_vec(better, m, dev)?, 0)?;
    let w = rewards.index_select(&Tensor::from_vec(worse, m, dev)?, 0)?;
    let per_pair = neg_log_sigmoid(&(b - w)?)?;
    Ok((per_pair * Tensor::from_vec(weight, m, dev)?)?.sum_all()?)
}

/// Pairwise statistics of rankings: how often the better response scores higher (a tie
/// counts half) and by how much on average.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PairStats {
    pub pairs: usize,
    /// Correctly ordered pairs, ties counting half.
    pub correct: f64,
    /// Sum of `r_better − r_worse`.
    pub margin_sum: f64,
}

impl PairStats {
    /// Add the pairs of rankings laid out as in [`ranking_loss`].
    pub fn add(&mut self, rewards: &[f32], sizes: &[usize]) {
        let tiers: Vec<Vec<usize>> = sizes.iter().map(|&k| strict_tiers(k)).collect();
        self.add_tied(rewards, &tiers);
    }

    /// Add the untied pairs of rankings laid out as in [`tied_ranking_loss`].
    pub fn add_tied(&mut self, rewards: &[f32], tiers: &[Vec<usize>]) {
        let (better, worse, _) = tied_ranking_pairs(tiers);
        for (b, w) in better.into_iter().zip(worse) {
            let d = rewards[b as usize] as f64 - rewards[w as usize] as f64;
            self.pairs += 1;
            self.correct += if d > 0.0 {
                1.0
            } else if d == 0.0 {
                0.5
            } else {
                0.0
            };
            self.margin_sum += d;
        }
    }

    pub fn accuracy(&self) -> f64 {
        self.correct / self.pairs.max(1) as f64
    }

    pub fn margin(&self) -> f64 {
        self.margin_sum / self.pairs.max(1) as f64
    }
}

/// A trained reward model with its tokenizer: scores (prompt, response) pairs, normalised.
pub struct RewardModel {
    model: Llama,
    tokenizer: Tokenizer,
    bos: u32,
    /// Sequences per forward pass.
    pub batch_size: usize,
}

impl RewardModel {
    /// Load a reward-model checkpoint directory.
    pub fn load(dir: &Path) -> Result<Self> {
        Self::from_checkpoint(&Checkpoint::load(dir, &Device::Cpu)?, dir)
    }

    /// From a checkpoint in memory (`dir` names it in errors).
    pub fn from_checkpoint(ckpt: &Checkpoint, dir: &Path) -> Result<Self> {
        Ok(RewardModel {
            model: ckpt.model(Heads::REWARD)?,
            tokenizer: ckpt.tokenizer(dir)?,
            bos: ckpt.config.bos_token_id,
            batch_size: 16,
        })
    }

    pub fn model(&self) -> &Llama {
        &self.model
    }

    pub fn normalization(&self) -> Option<RewardNorm> {
        self.model.config().reward_normalization
    }

    /// The ids the model scores: `[bos] + tokens(prompt_chatml + response + <|im_end|>)`,
    /// where `prompt_chatml` ends with `<|im_start|>assistant\n` (as
    /// [`crate::sample::chatml_prompt`] renders it).
    pub fn encode(&self, prompt_chatml: &str, response: &str) -> Result<Vec<u32>> {
        Ok(encode_response(&self.tokenizer, Some(self.bos), prompt_chatml, response)?.0)
    }

    /// Normalised rewards of token sequences, each ending with the `<|im_end|>` closing its
    /// response (e.g. a prompt's ids, the sampled ids and the end-of-turn token).
    pub fn score_ids(&self, seqs: &[Vec<u32>]) -> Result<Vec<f32>> {
        reward_scores(&self.model, seqs, self.batch_size)
    }

    /// Normalised rewards of `(prompt_chatml, response)` pairs.
    pub fn score(&self, pairs: &[(&str, &str)]) -> Result<Vec<f32>> {
        let seqs = pairs
            .iter()
            .map(|(p, r)| self.encode(p, r))
            .collect::<Result<Vec<_>>>()?;
        self.score_ids(&seqs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neg_log_sigmoid_is_stable() {
        let x = Tensor::new(&[-100f32, -1.0, 0.0, 2.0, 100.0], &Device::Cpu).unwrap();
        let y = neg_log_sigmoid(&x).unwrap().to_vec1::<f32>().unwrap();
        let want = [100.0, 1.313_261_7, std::f32::consts::LN_2, 0.126_928, 0.0];
        for (a, b) in y.iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "{y:?}");
        }
    }

    #[test]
    fn ties_form_no_pair_and_each_ranking_counts_once() {
        // Ranking 0: a > {b, c}; ranking 1: strict x > y.
        let tiers = [vec![0, 1, 1], vec![0, 1]];
        let (b, w, wt) = tied_ranking_pairs(&tiers);
        assert_eq!((b, w), (vec![0, 0, 3], vec![1, 2, 4]));
        assert_eq!(wt, [0.25, 0.25, 0.5]);
        let r = Tensor::new(&[1f32, 0.0, -1.0, 2.0, 2.0], &Device::Cpu).unwrap();
        let loss = tied_ranking_loss(&r, &tiers)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let nls = |x: f32| (1.0 + (-x).exp()).ln();
        let want = 0.25 * nls(1.0) + 0.25 * nls(2.0) + 0.5 * nls(0.0);
        assert!((loss - want).abs() < 1e-6, "{loss} vs {want}");
        // Strict tiers give the plain loss.
        let strict = ranking_loss(&r, &[3, 2])
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let same = tied_ranking_loss(&r, &[vec![0, 1, 2], vec![0, 1]])
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert_eq!(strict, same);
        assert!(tied_ranking_loss(&r.narrow(0, 0, 2).unwrap(), &[vec![0, 0]]).is_err());
    }

    #[test]
    fn normalization_standardises() {
        let raw = [1.0f32, 2.0, 3.0, 6.0];
        let n = normalization(&raw).unwrap();
        let z: Vec<f32> = raw.iter().map(|&x| apply_norm(Some(n), x)).collect();
        let mean = z.iter().sum::<f32>() / 4.0;
        let var = z.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{z:?}");
    }
}
