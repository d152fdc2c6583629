//! Options shared by the verbs that run a model, and the loaded model they produce.

use anyhow::{Context, Result};
use clap::{Args as ClapArgs, ValueEnum};
use mote_runtime::kernels::Kernels;
use mote_runtime::thread_pool::ThreadPool;
use mote_runtime::tokenizer::Tokenizer;
use mote_runtime::{KvType, Model, OwnedArena, Sampler, SamplerConfig, Session, SessionConfig};
use mote_toolchain::model_file::ModelFile;
use std::path::Path;

#[derive(Clone, Copy, ValueEnum)]
pub enum KvArg {
    F32,
    F16,
    /// 8-bit values with a scale per 32 (about a quarter of f32's memory).
    Q8,
}

impl KvArg {
    pub fn kv_type(self) -> KvType {
        match self {
            KvArg::F32 => KvType::F32,
            KvArg::F16 => KvType::F16,
            KvArg::Q8 => KvType::Q8,
        }
    }
}

/// Sampling and session options.
#[derive(ClapArgs, Clone)]
pub struct SamplingArgs {
    /// Sampling temperature; 0 is greedy (exact argmax).
    #[arg(long, visible_alias = "temp", default_value_t = 0.8)]
    pub temperature: f32,
    /// Keep only the K most likely tokens (0 = off).
    #[arg(long, default_value_t = 40)]
    pub top_k: usize,
    /// Nucleus sampling threshold (1 = off).
    #[arg(long, default_value_t = 0.95)]
    pub top_p: f32,
    /// Penalty for recently seen tokens (1 = off).
    #[arg(long, default_value_t = 1.0)]
    pub repeat_penalty: f32,
    /// How many recent tokens the repeat penalty considers.
    #[arg(long, default_value_t = 64)]
    pub repeat_last_n: usize,
    /// PRNG seed (sampling is deterministic for a seed).
    #[arg(long, short = 's', default_value_t = 0)]
    pub seed: u64,
    /// Context length of the session (default: the model's).
    #[arg(long, short = 'c')]
    pub ctx: Option<usize>,
    /// Worker threads (default: every core).
    #[arg(long, short = 't')]
    pub threads: Option<usize>,
    /// Prompt positions evaluated per pass over the weights.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// KV cache element type.
    #[arg(long, value_enum, default_value_t = KvArg::F32)]
    pub kv_type: KvArg,
    /// Read every weight in place from the mapped file instead of packing Q4_0/Q8_0 matrices
    /// for the kernels at load (less memory, slower on CPUs whose kernels pack).
    #[arg(long)]
    pub no_repack: bool,
}

impl SamplingArgs {
    pub fn sampler(&self) -> SamplerConfig {
        SamplerConfig {
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            repeat_penalty: self.repeat_penalty,
            repeat_last_n: self.repeat_last_n,
            seed: self.seed,
        }
    }

    /// The session to run; `MOTE_KERNELS` (e.g. `scalar`) forces a kernel table.
    pub fn session(&self, model: &Model<'_>) -> Result<SessionConfig> {
        let kernels = Kernels::from_env().map_err(|_| {
            anyhow::anyhow!(
                "MOTE_KERNELS names no kernel table this CPU runs (available: {})",
                Kernels::available()
                    .map(|k| k.backend.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let kv_type = self.kv_type.kv_type();
        let ctx = self.ctx.unwrap_or(model.config.ctx_len);
        Ok(SessionConfig::new(ctx)
            .with_kv_type(kv_type)
            .with_kernels(kernels)
            .with_batch(self.batch))
    }

    /// The worker pool to run on.
    pub fn pool(&self) -> Result<ThreadPool> {
        let n = self
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Ok(ThreadPool::new(n.max(1))?)
    }
}

/// Map a model file.
pub fn open(path: &Path) -> Result<ModelFile> {
    Ok(ModelFile::open(path)?)
}

/// Build the tokenizer tables for a mapped model.
pub fn tokenizer_table(file: &ModelFile) -> Result<Vec<u32>> {
    let g = file.gguf()?;
    let n = Tokenizer::table_len(&g)
        .map_err(|e| file.model_error(e))
        .context("tokenizer")?;
    Ok(vec![0u32; n])
}

/// Map `path`, build its tokenizer and a session as `args` asks, and hand them to `f`.
pub fn with_session<R>(
    path: &Path,
    args: &SamplingArgs,
    f: impl for<'a> FnOnce(&'a Tokenizer<'a>, Session<'a, 'a>, Sampler) -> Result<R>,
) -> Result<R> {
    let file = open(path)?;
    let g = file.gguf()?;
    let sc = args.session(&file.model()?)?;
    let mut packed = mote_toolchain::model_file::PackedStore::default();
    let model = if args.no_repack {
        file.model()?
    } else {
        file.model_for(sc.kernels, &mut packed)?
    };
    let mut table = tokenizer_table(&file)?;
    let tok = Tokenizer::build(&g, &mut table).map_err(|e| file.model_error(e))?;
    let pool = args.pool()?;
    let mut arena = OwnedArena::new(model.arena_bytes_for(&sc)?);
    let session = Session::with_parallel(&model, arena.as_mut_slice(), sc, &pool)?;
    let sampler = Sampler::new(args.sampler())?;
    f(&tok, session, sampler)
}
