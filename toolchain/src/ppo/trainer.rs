//! The PPO loop: each iteration samples one response per prompt of a batch from the current
//! policy, scores it, computes per-token rewards (KL penalty, score at the last token),
//! advantages by GAE, then runs several epochs of clipped updates over minibatches.
//!
//! Everything random is a function of (seed, iteration, …) and the optimizer moments are
//! saved exactly, so a resumed run reproduces an uninterrupted one bit for bit.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use serde::{Deserialize, Serialize};

use super::config::{Critic, PpoConfig};
use super::gae::{gae, whiten};
use super::loss::{policy_loss, token_logprobs, value_loss};
use super::metrics::{explained_variance, IterStats, UpdateStats};
use super::reward::Scorer;
use super::rollout::{Episode, Padded};
use crate::checkpoint::{self, Checkpoint};
use crate::data::{Rng, Sampler};
use crate::error::{Error, Result};
use crate::model::{init_missing, Heads, Llama};
use crate::sample::{Generator, ModelSource, Prompt, SampleConfig};
use crate::train::checkpoints;
use crate::train::grads::Grads;
use crate::train::metrics::MetricsLog;
use crate::train::progress::Progress;
use crate::train::{
    decay_by_default, masked_cross_entropy, named_vars, AdamW, AdamWParams, TokenBatches,
};

pub const POLICY_DIR: &str = "policy";
pub const CRITIC_DIR: &str = "critic";
pub const CRITIC_OPTIMIZER_FILE: &str = "critic_optimizer.safetensors";

const HEADS_SHARED: Heads = Heads {
    lm: true,
    reward: false,
    value: true,
};
const HEADS_VALUE: Heads = Heads {
    lm: false,
    reward: false,
    value: true,
};

/// `trainer_state.json` of a PPO checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PpoState {
    /// Iterations completed.
    pub iteration: u64,
    /// β for the next iteration.
    pub beta: f64,
    pub config: PpoConfig,
}

/// The models and data of a run.
pub struct PpoInputs {
    /// The SFT model: the policy starts as it, and it is the frozen reference.
    pub sft: Checkpoint,
    /// The separate critic's starting point (the reward model: trunk, and its score head as
    /// the value head); `None` starts it from the SFT trunk.
    pub critic_base: Option<Checkpoint>,
    pub scorer: Box<dyn Scorer>,
    pub prompts: Vec<Prompt>,
    pub ptx_data: Option<PathBuf>,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct PpoReport {
    pub iterations: u64,
    pub resumed_from: Option<PathBuf>,
    pub last: Option<IterStats>,
}

impl std::fmt::Display for PpoReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} iterations", self.iterations)?;
        if let Some(d) = &self.resumed_from {
            write!(f, " (resumed from {})", d.display())?;
        }
        if let Some(s) = &self.last {
            write!(f, "; last: {}", s.message())?;
        }
        Ok(())
    }
}

/// A copy of `vm`'s variables (new storage), without the names `drop` selects.
fn copy_vars(vm: &VarMap, drop: impl Fn(&str) -> bool) -> Result<VarMap> {
    let out = VarMap::new();
    {
        let src = vm.data().lock().map_err(|_| poisoned())?;
        let mut dst = out.data().lock().map_err(|_| poisoned())?;
        for (k, v) in src.iter().filter(|(k, _)| !drop(k)) {
            dst.insert(k.clone(), Var::from_tensor(&v.as_tensor().copy()?)?);
        }
    }
    Ok(out)
}

fn poisoned() -> Error {
    Error::TrainConfig("a weights lock is poisoned".into())
}

/// A llama with a value head whose trunk is a copy of `base`'s; its value head is `base`'s
/// score head with the reward normalisation folded in, or freshly initialised.
fn critic_from(base: &Checkpoint, seed: u64) -> Result<Checkpoint> {
    let weights = copy_vars(&base.weights, |n| {
        n == "score.weight" || n == "lm_head.weight" || n.starts_with("value_head.")
    })?;
    let dev = Device::Cpu;
    if let Some(score) = base.tensor("score.weight") {
        let norm = base.config.reward_normalization;
        let (gain, bias) = norm.map_or((1.0, 0.0), |n| (n.gain, n.bias));
        let mut d = weights.data().lock().map_err(|_| poisoned())?;
        d.insert(
            "value_head.weight".into(),
            Var::from_tensor(&(score * gain)?)?,
        );
        let b = Tensor::from_vec(vec![bias as f32], 1, &dev)?;
        d.insert("value_head.bias".into(), Var::from_tensor(&b)?);
    }
    let mut config = base.config.clone();
    config.reward_normalization = None;
    init_missing(&weights, &config, HEADS_VALUE, seed, &dev)?;
    Ok(Checkpoint {
        config,
        weights,
        tokenizer_json: base.tokenizer_json.clone(),
    })
}

fn rows_tensor(rows: &[u32], shape: (usize, usize)) -> Result<Tensor> {
    Ok(Tensor::from_slice(rows, shape, &Device::Cpu)?)
}

/// A PPO run in progress.
pub struct Ppo {
    cfg: PpoConfig,
    out: PathBuf,
    prompts: Vec<Prompt>,
    prompt_ids: Vec<Vec<u32>>,
    sampler: Sampler,
    policy: Checkpoint,
    policy_model: Llama,
    reference: Llama,
    critic: Option<(Checkpoint, Llama)>,
    scorer: Box<dyn Scorer>,
    opt: AdamW,
    critic_opt: Option<AdamW>,
    ptx: Option<Box<dyn TokenBatches>>,
    beta: f64,
    iteration: u64,
    metrics: MetricsLog,
    resumed_from: Option<PathBuf>,
}

impl Ppo {
    /// Set up a run into `out`; with `resume`, continue from its newest checkpoint.
    pub fn new(out: &Path, cfg: PpoConfig, inputs: PpoInputs, resume: bool) -> Result<Self> {
        cfg.validate()?;
        if inputs.prompts.is_empty() {
            return Err(Error::TrainConfig("no prompts".into()));
        }
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        checkpoints::remove_leftovers(out)?;
        let latest = checkpoints::latest(out)?;
        if latest.is_some() && !resume {
            return Err(Error::TrainConfig(format!(
                "{} already holds checkpoints; pass --resume to continue, or choose another directory",
                out.display()
            )));
        }
        let sft = inputs.sft;
        let tokenizer = sft.tokenizer(out)?;
        let bos = sft.config.bos_token_id;
        let ctx = sft.config.max_position_embeddings;
        let mut prompt_ids = Vec::with_capacity(inputs.prompts.len());
        for p in &inputs.prompts {
            let enc = tokenizer
                .encode(p.chatml.as_str(), false)
                .map_err(|e| Error::Tokenizer(e.to_string()))?;
            let mut ids = vec![bos];
            ids.extend_from_slice(enc.get_ids());
            if ids.len() + 1 >= ctx {
                return Err(Error::TrainConfig(format!(
                    "a prompt of {} tokens leaves no room in the context of {ctx}: {:?}",
                    ids.len(),
                    p.user
                )));
            }
            prompt_ids.push(ids);
        }

        let reference = sft.model(Heads::LM)?;
        let policy = Checkpoint {
            config: sft.config.clone(),
            weights: copy_vars(&sft.weights, |n| n.starts_with("value_head."))?,
            tokenizer_json: sft.tokenizer_json.clone(),
        };
        let critic = match cfg.critic {
            Critic::Shared => {
                init_missing(
                    &policy.weights,
                    &policy.config,
                    HEADS_SHARED,
                    cfg.seed,
                    &Device::Cpu,
                )?;
                None
            }
            Critic::Separate => {
                let base = inputs.critic_base.as_ref().unwrap_or(&sft);
                if base.config.vocab_size != sft.config.vocab_size {
                    return Err(Error::TrainConfig(format!(
                        "the critic's base has a vocabulary of {}, the policy {}",
                        base.config.vocab_size, sft.config.vocab_size
                    )));
                }
                let c = critic_from(base, cfg.seed)?;
                let m = c.model(HEADS_VALUE)?;
                Some((c, m))
            }
        };
        let heads = match cfg.critic {
            Critic::Shared => HEADS_SHARED,
            Critic::Separate => Heads::LM,
        };
        let policy_model = policy.model(heads)?;
        let adamw = |wd| AdamWParams {
            weight_decay: wd,
            ..AdamWParams::default()
        };
        let mut opt = AdamW::new(
            named_vars(&policy.weights),
            adamw(cfg.weight_decay),
            decay_by_default,
        )?;
        let mut critic_opt = match &critic {
            Some((c, _)) => Some(AdamW::new(
                named_vars(&c.weights),
                adamw(cfg.weight_decay),
                decay_by_default,
            )?),
            None => None,
        };
        let ptx = match &inputs.ptx_data {
            Some(path) if cfg.ptx_coef > 0.0 => Some(super::ptx::load(
                path,
                &tokenizer,
                cfg.ptx_seq_len.min(ctx),
                bos,
                sft.config.eos_token_id,
                cfg.seed,
            )?),
            _ => None,
        };

        let mut beta = cfg.kl_coef;
        let mut iteration = 0;
        let metrics_path = out.join("metrics.jsonl");
        let metrics;
        if let Some(dir) = &latest {
            let state_path = dir.join(checkpoints::STATE_FILE);
            let text =
                std::fs::read_to_string(&state_path).map_err(|e| Error::io(&state_path, e))?;
            let state: PpoState = serde_json::from_str(&text)
                .map_err(|e| Error::checkpoint(&state_path, e.to_string()))?;
            if let Some(change) = cfg.result_change(&state.config) {
                return Err(Error::TrainConfig(format!("cannot resume: {change}")));
            }
            load_weights(&policy.weights, &dir.join(POLICY_DIR))?;
            opt.load(&dir.join(checkpoints::OPTIMIZER_FILE))?;
            if let (Some((c, _)), Some(o)) = (&critic, &mut critic_opt) {
                load_weights(&c.weights, &dir.join(CRITIC_DIR))?;
                o.load(&dir.join(CRITIC_OPTIMIZER_FILE))?;
            }
            beta = state.beta;
            iteration = state.iteration;
            metrics = MetricsLog::resume(&metrics_path, iteration)?;
        } else {
            metrics = MetricsLog::create(&metrics_path)?;
        }
        Ok(Ppo {
            sampler: Sampler::new(inputs.prompts.len(), cfg.seed),
            cfg,
            out: out.to_path_buf(),
            prompts: inputs.prompts,
            prompt_ids,
            policy,
            policy_model,
            reference,
            critic,
            scorer: inputs.scorer,
            opt,
            critic_opt,
            ptx,
            beta,
            iteration,
            metrics,
            resumed_from: latest,
        })
    }

    /// The policy's weights (with the value head when the critic is shared).
    pub fn policy(&self) -> &Checkpoint {
        &self.policy
    }

    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// Run the remaining iterations, checkpointing as configured, then write the final
    /// policy into the output directory.
    pub fn run(&mut self, progress: bool) -> Result<PpoReport> {
        self.run_until(self.cfg.iterations, progress)
    }

    /// Run up to iteration `stop` (a test stands in for a kill this way); the final policy
    /// is written only when the run is complete.
    pub fn run_until(&mut self, stop: u64, progress: bool) -> Result<PpoReport> {
        let stop = stop.min(self.cfg.iterations);
        let bar = Progress::new(self.iteration, self.cfg.iterations, progress);
        let mut last = None;
        while self.iteration < stop {
            let it = self.iteration + 1;
            let stats = self.iterate(it)?;
            bar.show(it, stats.message());
            self.metrics.write(&stats.record())?;
            self.iteration = it;
            if it.is_multiple_of(self.cfg.save_every.max(1)) || it == self.cfg.iterations {
                self.save_checkpoint()?;
            }
            last = Some(stats);
        }
        bar.finish();
        if self.iteration == self.cfg.iterations {
            self.publish()?;
        }
        Ok(PpoReport {
            iterations: self.iteration,
            resumed_from: self.resumed_from.clone(),
            last,
        })
    }

    fn save_checkpoint(&self) -> Result<()> {
        let state = PpoState {
            iteration: self.iteration,
            beta: self.beta,
            config: self.cfg.clone(),
        };
        checkpoints::commit(&self.out, self.iteration, |dir| {
            self.policy.save(&dir.join(POLICY_DIR))?;
            self.opt.save(&dir.join(checkpoints::OPTIMIZER_FILE))?;
            if let (Some((c, _)), Some(o)) = (&self.critic, &self.critic_opt) {
                c.save(&dir.join(CRITIC_DIR))?;
                o.save(&dir.join(CRITIC_OPTIMIZER_FILE))?;
            }
            let json = serde_json::to_string_pretty(&state)
                .map_err(|e| Error::checkpoint(dir, e.to_string()))?;
            let p = dir.join(checkpoints::STATE_FILE);
            std::fs::write(&p, json).map_err(|e| Error::io(&p, e))
        })?;
        checkpoints::prune(&self.out, self.cfg.keep_checkpoints)
    }

    /// The policy as a plain language model (no value head) into the output directory.
    fn publish(&self) -> Result<()> {
        let lm = copy_vars(&self.policy.weights, |n| n.starts_with("value_head."))?;
        checkpoints::publish(&self.out, |dir| {
            checkpoint::save_files(
                dir,
                &self.policy.config,
                &lm,
                self.policy.tokenizer_json.as_deref(),
            )
        })
    }

    /// Log-probs of the policy and the reference, and values, per action of `eps`.
    #[allow(clippy::type_complexity)]
    fn evaluate(&self, eps: &[&Episode]) -> Result<(Vec<Vec<f32>>, Vec<Vec<f32>>, Vec<Vec<f32>>)> {
        let t = f64::from(self.cfg.temperature);
        let pad = Padded::new(eps, &Device::Cpu)?;
        let h = self.policy_model.hidden(&pad.input)?;
        let lp = token_logprobs(&self.policy_model.logits(&h)?, &pad.target, t)?;
        let ref_lp = token_logprobs(&self.reference.forward(&pad.input)?, &pad.target, t)?;
        let values = match &self.critic {
            None => self.policy_model.values(&h)?,
            Some((_, m)) => m.values(&m.hidden(&pad.input)?)?,
        };
        Ok((
            pad.gather(&lp.detach())?,
            pad.gather(&ref_lp.detach())?,
            pad.gather(&values.detach())?,
        ))
    }

    /// Sample and score a batch of episodes with the current policy.
    fn rollout(&mut self, it: u64) -> Result<Vec<Episode>> {
        let picks = self.sampler.batch(it, 0, 1, self.cfg.batch_size);
        let texts: Vec<String> = picks
            .iter()
            .map(|&i| self.prompts[i].chatml.clone())
            .collect();
        let src = ModelSource::from_checkpoint(&self.policy, &self.out)?;
        let generator = Generator::open(src.gguf(), self.cfg.threads)?;
        let sc = SampleConfig {
            temperature: self.cfg.temperature,
            max_tokens: self.cfg.max_new_tokens,
            seed: Rng::new(&[self.cfg.seed, it, 1]).next_u64(),
        };
        let completions: Vec<_> = generator
            .sample(&texts, 1, &sc)?
            .into_iter()
            .map(|mut v| v.remove(0))
            .collect();
        let prompts: Vec<&Prompt> = picks.iter().map(|&i| &self.prompts[i]).collect();
        let refs: Vec<_> = completions.iter().collect();
        let scores = self.scorer.score(&prompts, &refs)?;
        let mut eps = Vec::with_capacity(picks.len());
        for ((&p, c), score) in picks.iter().zip(completions).zip(scores) {
            let mut ids = self.prompt_ids[p].clone();
            let prompt_len = ids.len();
            ids.extend_from_slice(&c.ids);
            ids.extend(c.end_id);
            if ids.len() == prompt_len {
                continue; // the context was full before the first token
            }
            eps.push(Episode {
                prompt: p,
                ids,
                prompt_len,
                ended: c.ended,
                content_len: c.ids.len(),
                score,
                sampled_logprobs: c.logprobs,
                entropies: c.entropies,
                ..Episode::default()
            });
        }
        if eps.is_empty() {
            return Err(Error::TrainConfig(
                "no prompt left room for a response".into(),
            ));
        }
        Ok(eps)
    }

    fn iterate(&mut self, it: u64) -> Result<IterStats> {
        let start = Instant::now();
        let cfg = self.cfg.clone();
        let mut eps = self.rollout(it)?;
        // Recompute the old log-probs in candle: the update's ratios start at exactly 1.
        let mut logprob_diff = 0f64;
        for chunk in (0..eps.len())
            .collect::<Vec<_>>()
            .chunks(cfg.minibatch_size)
        {
            let (lp, rlp, v) = {
                let refs: Vec<&Episode> = chunk.iter().map(|&i| &eps[i]).collect();
                self.evaluate(&refs)?
            };
            for (((&i, lp), rlp), v) in chunk.iter().zip(lp).zip(rlp).zip(v) {
                let e = &mut eps[i];
                for (a, b) in e.sampled_logprobs.iter().zip(&lp) {
                    logprob_diff = logprob_diff.max(f64::from((a - b).abs()));
                }
                e.logprobs = lp;
                e.ref_logprobs = rlp;
                e.values = v;
            }
        }
        let beta = self.beta;
        let mut kl_sum = 0f64;
        for e in &mut eps {
            let kl: Vec<f32> = e
                .logprobs
                .iter()
                .zip(&e.ref_logprobs)
                .map(|(a, b)| a - b)
                .collect();
            kl_sum += kl.iter().map(|&x| f64::from(x)).sum::<f64>();
            e.rewards = kl.iter().map(|k| (-beta * f64::from(*k)) as f32).collect();
            let mut score = e.score;
            if !e.ended || e.content_len < cfg.min_tokens {
                score -= cfg.eot_penalty;
            }
            *e.rewards.last_mut().expect("an episode has an action") += score;
            let (a, r) = gae(&e.rewards, &e.values, cfg.gamma, cfg.lambda);
            e.advantages = a;
            e.returns = r;
        }
        let mut adv: Vec<Vec<f32>> = eps
            .iter_mut()
            .map(|e| std::mem::take(&mut e.advantages))
            .collect();
        whiten(&mut adv);
        for (e, a) in eps.iter_mut().zip(adv) {
            e.advantages = a;
        }

        let n = eps.len() as f64;
        let tokens: usize = eps.iter().map(|e| e.entropies.len()).sum();
        let all_v: Vec<f32> = eps.iter().flat_map(|e| e.values.iter().copied()).collect();
        let all_r: Vec<f32> = eps.iter().flat_map(|e| e.returns.iter().copied()).collect();
        let mut stats = IterStats {
            iteration: it,
            reward: eps.iter().map(|e| f64::from(e.score)).sum::<f64>() / n,
            score: eps
                .iter()
                .map(|e| {
                    let bad = !e.ended || e.content_len < cfg.min_tokens;
                    f64::from(e.score - if bad { cfg.eot_penalty } else { 0.0 })
                })
                .sum::<f64>()
                / n,
            kl: kl_sum / n,
            beta,
            entropy: eps
                .iter()
                .flat_map(|e| e.entropies.iter().map(|&h| f64::from(h)))
                .sum::<f64>()
                / tokens.max(1) as f64,
            response_len: eps.iter().map(|e| e.content_len as f64).sum::<f64>() / n,
            eot_rate: eps.iter().filter(|e| e.ended).count() as f64 / n,
            explained_variance: explained_variance(&all_v, &all_r),
            logprob_diff,
            ..IterStats::default()
        };

        for epoch in 0..cfg.ppo_epochs {
            let mut order: Vec<usize> = (0..eps.len()).collect();
            let mut rng = Rng::new(&[cfg.seed, it, 2, epoch as u64]);
            for k in (1..order.len()).rev() {
                order.swap(k, rng.below(k + 1));
            }
            for mb in order.chunks(cfg.minibatch_size) {
                let refs: Vec<&Episode> = mb.iter().map(|&i| &eps[i]).collect();
                self.update(&refs, it, &mut stats.update)?;
            }
        }
        self.beta = cfg.kl_control.update(beta, stats.kl, eps.len());
        stats.seconds = start.elapsed().as_secs_f64();
        Ok(stats)
    }

    /// One gradient step of the policy (and the critic) on a minibatch.
    fn update(&mut self, eps: &[&Episode], it: u64, st: &mut UpdateStats) -> Result<()> {
        let cfg = &self.cfg;
        let dev = Device::Cpu;
        let pad = Padded::new(eps, &dev)?;
        let col = |f: fn(&Episode) -> &Vec<f32>| -> Result<Tensor> {
            let rows: Vec<Vec<f32>> = eps.iter().map(|e| f(e).clone()).collect();
            pad.scatter(&rows, &dev)
        };
        let old_lp = col(|e| &e.logprobs)?;
        let adv = col(|e| &e.advantages)?;
        let ret = col(|e| &e.returns)?;
        let old_v = col(|e| &e.values)?;

        let h = self.policy_model.hidden(&pad.input)?;
        let lp = token_logprobs(
            &self.policy_model.logits(&h)?,
            &pad.target,
            f64::from(cfg.temperature),
        )?;
        let pl = policy_loss(&lp, &old_lp, &adv, &pad.mask, cfg.clip)?;
        let mut loss = pl.loss.clone();
        if let Some(data) = &mut self.ptx {
            let b = data.batch(self.opt.updates() + 1, 0, 1, cfg.ptx_batch_size);
            let input = rows_tensor(&b.input, (b.rows, b.cols))?;
            let target = rows_tensor(&b.target, (b.rows, b.cols))?;
            let mask = Tensor::from_slice(&b.mask, (b.rows, b.cols), &dev)?;
            let ptx = masked_cross_entropy(&self.policy_model.forward(&input)?, &target, &mask)?;
            st.ptx_loss += f64::from(ptx.to_scalar::<f32>()?);
            loss = (loss + (ptx * cfg.ptx_coef)?)?;
        }
        let values = match &self.critic {
            None => self.policy_model.values(&h)?,
            Some((_, m)) => m.values(&m.hidden(&pad.input)?)?,
        };
        let (vl, vclip) = value_loss(&values, &old_v, &ret, &pad.mask, cfg.value_clip)?;
        st.policy_loss += f64::from(pl.loss.to_scalar::<f32>()?);
        st.value_loss += f64::from(vl.to_scalar::<f32>()?);
        st.clipfrac += f64::from(pl.clipfrac);
        st.value_clipfrac += f64::from(vclip);
        st.approx_kl += f64::from(pl.approx_kl);
        st.steps += 1;
        let (max_norm, lr, critic_lr) = (cfg.max_grad_norm, cfg.lr, cfg.critic_lr);
        match &mut self.critic_opt {
            None => {
                let loss = (loss + (vl * cfg.vf_coef)?)?;
                st.grad_norm += step(&mut self.opt, &loss, max_norm, lr, it, &self.out)?;
            }
            Some(copt) => {
                st.grad_norm += step(&mut self.opt, &loss, max_norm, lr, it, &self.out)?;
                step(copt, &vl, max_norm, critic_lr, it, &self.out)?;
            }
        }
        Ok(())
    }
}

/// Backward, clip, AdamW step; the gradient norm before clipping.
fn step(
    opt: &mut AdamW,
    loss: &Tensor,
    max_norm: f64,
    lr: f64,
    it: u64,
    out: &Path,
) -> Result<f64> {
    let value = f64::from(loss.to_dtype(DType::F32)?.to_scalar::<f32>()?);
    let store = loss.backward()?;
    let mut grads = Grads::new(opt.names().count());
    grads.accumulate(opt.vars(), &store, 1.0)?;
    let norm = grads.norm();
    for (what, v) in [("loss", value), ("gradient norm", norm)] {
        if !v.is_finite() {
            return Err(Error::NonFinite {
                step: it,
                what,
                value: v,
                checkpoint: checkpoints::latest(out)?,
            });
        }
    }
    grads.clip(norm, max_norm);
    opt.step(grads.slots(), lr)?;
    Ok(norm)
}

/// Set the variables of `vm` from `dir/model.safetensors`.
fn load_weights(vm: &VarMap, dir: &Path) -> Result<()> {
    let path = dir.join(checkpoint::WEIGHTS_FILE);
    let mut vm = vm.clone();
    vm.load(&path)
        .map_err(|e| Error::checkpoint(&path, e.to_string()))
}
