//! Reward-model training: the SFT model plus a scalar head, trained with InstructGPT's
//! ranking loss; all K responses of a prompt go through the same forward pass, and a
//! batch is several prompts. The last `eval_fraction` of the prompts are held out for
//! pairwise accuracy. After training the raw score is normalised to mean 0, std 1 over
//! responses sampled from the SFT model (or over the training responses).

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde_json::{json, Map, Value};

use crate::checkpoint::{self, atomic, Checkpoint};
use crate::data::preferences::{
    encode_preferences, encode_response, held_out, read_preference_files, EncodedPreference,
    Preference, PreferenceEncoding,
};
use crate::data::Sampler;
use crate::error::{Error, Result};
use crate::model::{init_missing, Heads, Llama, RewardNorm};
use crate::reward::{raw_rewards, reward_scores, tied_ranking_loss, PairStats, RM_ARCHITECTURE};
use crate::sample::{Generator, ModelSource, SampleConfig};
use crate::train::{decay_by_default, named_vars, Stage, TrainConfig, TrainReport, Trainer};

/// What the reward's mean-0, std-1 normalisation is computed over.
#[derive(Clone, Debug, PartialEq)]
pub enum NormSource {
    /// One response sampled from the base (SFT) model for each of the first `prompts`
    /// distinct prompts of the data.
    Samples {
        prompts: usize,
        sample: SampleConfig,
        threads: usize,
    },
    /// Every response of the training preferences.
    Data,
}

/// What `mote rm` needs besides the trainer's settings.
#[derive(Clone, Debug)]
pub struct RmOptions {
    /// The SFT checkpoint the reward model starts from.
    pub base: PathBuf,
    pub data: Vec<PathBuf>,
    pub out: PathBuf,
    /// Prompts (rankings) per micro-batch.
    pub batch_size: usize,
    /// Tokens per sequence at most; `None`: the model's context.
    pub max_len: Option<usize>,
    /// System turn for prompts that have none.
    pub system: Option<String>,
    /// Fraction of the prompts (the last ones) held out.
    pub eval_fraction: f64,
    pub norm: NormSource,
    pub train: TrainConfig,
}

/// The outcome of [`train_reward_model`].
#[derive(Clone, Debug)]
pub struct RmReport {
    pub train: TrainReport,
    pub train_prompts: usize,
    /// Held-out pairs: accuracy and mean margin of the raw reward.
    pub eval: PairStats,
    pub eval_prompts: usize,
    pub norm: RewardNorm,
    /// What the normalisation was computed over, and how many responses.
    pub norm_source: &'static str,
    pub norm_count: usize,
}

impl std::fmt::Display for RmReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.train)?;
        writeln!(
            f,
            "held-out pairwise accuracy {:.3} over {} pairs ({} prompts), mean raw margin {:.3}",
            self.eval.accuracy(),
            self.eval.pairs,
            self.eval_prompts,
            self.eval.margin()
        )?;
        write!(
            f,
            "reward = {:.4} · raw + {:.4} (mean 0, std 1 over {} {})",
            self.norm.gain, self.norm.bias, self.norm_count, self.norm_source
        )
    }
}

/// The reward-model [`Stage`].
pub struct RmStage {
    pub ckpt: Checkpoint,
    pub model: Llama,
    pub train: Vec<EncodedPreference>,
    pub eval: Vec<EncodedPreference>,
    sampler: Sampler,
    pub batch_size: usize,
    pub grad_accum: usize,
    /// Training pairs since the last metrics line.
    since_log: PairStats,
    /// The last held-out evaluation, not yet logged / kept for the report.
    pending_eval: Option<PairStats>,
    pub last_eval: Option<PairStats>,
}

impl RmStage {
    /// A reward model over `ckpt` (which must hold `score.weight`).
    pub fn new(
        mut ckpt: Checkpoint,
        train: Vec<EncodedPreference>,
        eval: Vec<EncodedPreference>,
        batch_size: usize,
        grad_accum: usize,
        seed: u64,
    ) -> Result<Self> {
        ckpt.config.architectures = vec![RM_ARCHITECTURE.into()];
        ckpt.config.reward_normalization = None;
        let model = ckpt.model(Heads::REWARD)?;
        if train.is_empty() {
            return Err(Error::TrainConfig("no preferences to train on".into()));
        }
        let sampler = Sampler::new(train.len(), seed);
        Ok(RmStage {
            ckpt,
            model,
            train,
            eval,
            sampler,
            batch_size,
            grad_accum,
            since_log: PairStats::default(),
            pending_eval: None,
            last_eval: None,
        })
    }

    fn pad(&self) -> u32 {
        self.ckpt.config.eos_token_id
    }

    /// The ranking loss of `prefs` (one forward pass over all their responses), the raw
    /// rewards and the tokens scored.
    pub fn batch(&self, prefs: &[&EncodedPreference]) -> Result<(Tensor, Vec<f32>, usize)> {
        let seqs: Vec<&[u32]> = prefs
            .iter()
            .flat_map(|p| p.seqs.iter().map(Vec::as_slice))
            .collect();
        let tiers: Vec<Vec<usize>> = prefs.iter().map(|p| p.tiers.clone()).collect();
        let rewards = raw_rewards(&self.model, &seqs, self.pad())?;
        let loss = tied_ranking_loss(&rewards, &tiers)?;
        let values = rewards.detach().to_vec1::<f32>()?;
        Ok((loss, values, seqs.iter().map(|s| s.len()).sum()))
    }

    /// Held-out loss (mean over prompts) and pairwise statistics.
    pub fn evaluate(&self) -> Result<Option<(f32, PairStats)>> {
        if self.eval.is_empty() {
            return Ok(None);
        }
        let (mut sum, mut stats) = (0f64, PairStats::default());
        let all: Vec<&EncodedPreference> = self.eval.iter().collect();
        for chunk in all.chunks(self.batch_size.max(1)) {
            let (loss, rewards, _) = self.batch(chunk)?;
            sum += loss.to_scalar::<f32>()? as f64 * chunk.len() as f64;
            let tiers: Vec<Vec<usize>> = chunk.iter().map(|p| p.tiers.clone()).collect();
            stats.add_tied(&rewards, &tiers);
        }
        Ok(Some(((sum / all.len() as f64) as f32, stats)))
    }
}

impl Stage for RmStage {
    fn loss(&mut self, step: u64, micro: usize) -> Result<(Tensor, usize)> {
        let picked = self
            .sampler
            .batch(step, micro, self.grad_accum, self.batch_size);
        let prefs: Vec<&EncodedPreference> = picked.iter().map(|&i| &self.train[i]).collect();
        let (loss, rewards, tokens) = self.batch(&prefs)?;
        let tiers: Vec<Vec<usize>> = prefs.iter().map(|p| p.tiers.clone()).collect();
        self.since_log.add_tied(&rewards, &tiers);
        Ok((loss, tokens))
    }

    fn eval_loss(&mut self) -> Result<Option<f32>> {
        let Some((loss, stats)) = self.evaluate()? else {
            return Ok(None);
        };
        self.pending_eval = Some(stats);
        self.last_eval = Some(stats);
        Ok(Some(loss))
    }

    fn save_model(&mut self, dir: &Path) -> Result<()> {
        self.ckpt.save(dir)
    }

    fn log_fields(&mut self) -> Map<String, Value> {
        let mut m = Map::new();
        let s = std::mem::take(&mut self.since_log);
        m.insert("accuracy".into(), json!(s.accuracy()));
        m.insert("margin".into(), json!(s.margin()));
        if let Some(e) = self.pending_eval.take() {
            m.insert("eval_accuracy".into(), json!(e.accuracy()));
            m.insert("eval_margin".into(), json!(e.margin()));
            m.insert("eval_pairs".into(), json!(e.pairs));
        }
        let truncated = self
            .train
            .iter()
            .chain(&self.eval)
            .filter(|p| p.truncated > 0)
            .count();
        m.insert("truncated_examples".into(), json!(truncated));
        m
    }
}

/// The base checkpoint with a reward head added (kept if it already has one).
pub fn init_reward_checkpoint(base: &Path, seed: u64) -> Result<Checkpoint> {
    let ckpt = Checkpoint::load(base, &Device::Cpu)?;
    init_missing(
        &ckpt.weights,
        &ckpt.config,
        Heads::REWARD,
        seed,
        &Device::Cpu,
    )?;
    Ok(ckpt)
}

/// Read, encode and split preference files for a model with `ckpt`'s tokenizer.
pub fn load_preferences(
    ckpt: &Checkpoint,
    dir: &Path,
    paths: &[PathBuf],
    max_len: Option<usize>,
    system: Option<String>,
    eval_fraction: f64,
) -> Result<(Vec<Preference>, Vec<EncodedPreference>, usize)> {
    let tok = ckpt.tokenizer(dir)?;
    let c = &ckpt.config;
    let enc = PreferenceEncoding {
        max_len: max_len
            .unwrap_or(c.max_position_embeddings)
            .min(c.max_position_embeddings),
        system,
        bos: Some(c.bos_token_id),
    };
    let prefs = read_preference_files(paths)?;
    let encoded = encode_preferences(&tok, &prefs, &enc)?;
    let n_eval = held_out(encoded.len(), eval_fraction)?;
    Ok((prefs, encoded, n_eval))
}

/// A reward-model run set up: the trainer (restored when resuming), the stage over the
/// base model plus a reward head (or the resumed weights), and the preferences read.
pub struct RmRun {
    pub trainer: Trainer,
    pub stage: RmStage,
    pub prefs: Vec<Preference>,
}

impl RmRun {
    pub fn prepare(o: &RmOptions) -> Result<Self> {
        let mut ckpt = init_reward_checkpoint(&o.base, o.train.seed)?;
        let (prefs, mut train, n_eval) = load_preferences(
            &ckpt,
            &o.base,
            &o.data,
            o.max_len,
            o.system.clone(),
            o.eval_fraction,
        )?;
        let eval = train.split_off(train.len() - n_eval);
        // The LM head (when untied) is kept as it was: the reward never reads it.
        let vars: Vec<_> = named_vars(&ckpt.weights)
            .into_iter()
            .filter(|(n, _)| n != "lm_head.weight")
            .collect();
        let trainer = Trainer::new(&o.out, o.train.clone(), vars, decay_by_default)?;
        if let Some(dir) = trainer.resumed_from() {
            let w = dir.join(checkpoint::WEIGHTS_FILE);
            ckpt.weights
                .load(&w)
                .map_err(|e| Error::checkpoint(&w, e.to_string()))?;
        }
        let stage = RmStage::new(
            ckpt,
            train,
            eval,
            o.batch_size,
            o.train.grad_accum,
            o.train.seed,
        )?;
        Ok(RmRun {
            trainer,
            stage,
            prefs,
        })
    }

    /// Train, then measure the held-out pairs and write the normalisation into
    /// `o.out/config.json`.
    pub fn run(mut self, o: &RmOptions) -> Result<RmReport> {
        let report = self.trainer.run(&mut self.stage)?;
        let stage = &mut self.stage;
        let eval_stats = match stage.last_eval {
            Some(s) => s,
            None => stage.evaluate()?.map(|(_, s)| s).unwrap_or_default(),
        };
        let (raw, norm_source) = match &o.norm {
            NormSource::Data => {
                let seqs: Vec<Vec<u32>> = stage
                    .train
                    .iter()
                    .flat_map(|p| p.seqs.iter().cloned())
                    .collect();
                (
                    reward_scores(&stage.model, &seqs, o.batch_size.max(8))?,
                    "training responses",
                )
            }
            NormSource::Samples {
                prompts,
                sample,
                threads,
            } => (
                sampled_raw_rewards(stage, &self.prefs, *prompts, sample, *threads, o)?,
                "SFT samples",
            ),
        };
        let norm = crate::reward::normalization(&raw)?;
        stage.ckpt.config.reward_normalization = Some(norm);
        let json = serde_json::to_string_pretty(&stage.ckpt.config)
            .map_err(|e| Error::checkpoint(&o.out, e.to_string()))?;
        atomic::write_bytes(&o.out.join(checkpoint::CONFIG_FILE), json.as_bytes())?;
        Ok(RmReport {
            train: report,
            train_prompts: stage.train.len(),
            eval: eval_stats,
            eval_prompts: stage.eval.len(),
            norm,
            norm_source,
            norm_count: raw.len(),
        })
    }
}

/// Train a reward model from `o.base` on `o.data` into `o.out`, then write its
/// normalisation into `o.out/config.json`.
pub fn train_reward_model(o: &RmOptions) -> Result<RmReport> {
    RmRun::prepare(o)?.run(o)
}

/// Raw rewards of one response sampled from the base model for each of the first `n`
/// distinct prompts.
fn sampled_raw_rewards(
    stage: &RmStage,
    prefs: &[Preference],
    n: usize,
    sample: &SampleConfig,
    threads: usize,
    o: &RmOptions,
) -> Result<Vec<f32>> {
    let mut prompts: Vec<String> = Vec::new();
    for p in prefs {
        let text = p.prompt_chatml(o.system.as_deref());
        if !prompts.contains(&text) {
            prompts.push(text);
        }
        if prompts.len() >= n {
            break;
        }
    }
    let base = o.base.as_path();
    let src = ModelSource::open(base)?;
    let generator = Generator::open(src.gguf(), threads)?;
    let samples = generator.sample(&prompts, 1, sample)?;
    let tok = stage.ckpt.tokenizer(base)?;
    let bos = Some(stage.ckpt.config.bos_token_id);
    let mut seqs = Vec::with_capacity(prompts.len());
    for (p, cs) in prompts.iter().zip(&samples) {
        for c in cs {
            seqs.push(encode_response(&tok, bos, p, &c.text)?.0);
        }
    }
    reward_scores(&stage.model, &seqs, o.batch_size.max(8))
}
