//! `mote ppo`: PPO of an SFT model against a reward model.

use anyhow::Result;
use clap::{Args as ClapArgs, ValueEnum};
use mote_toolchain::ppo::{ppo, Critic, KlControl, PpoConfig, PpoOptions};
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
enum CriticArg {
    Separate,
    Shared,
}

#[derive(ClapArgs)]
pub struct Args {
    /// The SFT checkpoint: the policy starts as it and it is the KL reference.
    #[arg(long)]
    policy: PathBuf,
    /// The reward model checkpoint (llama + score head, normalisation in its config).
    #[arg(long)]
    reward: PathBuf,
    /// Prompts: JSONL of {"prompt"} or {"messages"}.
    #[arg(long)]
    prompts: PathBuf,
    /// Output directory: checkpoints, metrics.jsonl and the final policy.
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// System turn for prompts that have none.
    #[arg(long)]
    system: Option<String>,
    /// Rollout/update iterations.
    #[arg(long, default_value_t = 100)]
    iterations: u64,
    /// Prompts (one response each) per iteration.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Responses per gradient step.
    #[arg(long, default_value_t = 8)]
    minibatch_size: usize,
    /// Passes over each rollout batch.
    #[arg(long, default_value_t = 4)]
    ppo_epochs: usize,
    /// Policy learning rate (constant).
    #[arg(long, default_value_t = 3e-5)]
    lr: f64,
    /// Learning rate of the separate critic.
    #[arg(long, default_value_t = 1e-4)]
    critic_lr: f64,
    /// Sampling temperature (log-probs and KL are taken at it).
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    #[arg(long, default_value_t = 64)]
    max_new_tokens: usize,
    /// Initial KL coefficient β.
    #[arg(long, default_value_t = 0.1)]
    kl_coef: f64,
    /// Target KL (nats per response) of the adaptive controller; 0 keeps β fixed.
    #[arg(long, default_value_t = 3.0)]
    target_kl: f64,
    /// Horizon (responses) of the adaptive controller.
    #[arg(long, default_value_t = 256.0)]
    kl_horizon: f64,
    /// Subtracted from the score of a response that does not end its turn or is too short.
    #[arg(long, default_value_t = 1.0)]
    eot_penalty: f32,
    /// Responses with fewer tokens get the penalty.
    #[arg(long, default_value_t = 2)]
    min_tokens: usize,
    /// Value function: a separate model started from the reward model, or a head on the policy.
    #[arg(long, value_enum, default_value_t = CriticArg::Separate)]
    critic: CriticArg,
    /// PPO-ptx: LM loss mixed into the policy loss, on text (.txt or {"text"} JSONL) or on
    /// the assistant turns of demonstrations ({"messages"} JSONL).
    #[arg(long)]
    ptx_data: Option<PathBuf>,
    /// Weight of the ptx loss (0: off).
    #[arg(long, default_value_t = 0.0)]
    ptx_coef: f64,
    /// Sequences per ptx batch (one batch per gradient step).
    #[arg(long, default_value_t = 4)]
    ptx_batch_size: usize,
    /// Tokens per ptx sequence at most.
    #[arg(long, default_value_t = 128)]
    ptx_seq_len: usize,
    /// Checkpoint every N iterations (and at the end).
    #[arg(long, default_value_t = 10)]
    save_every: u64,
    /// Checkpoints kept (0: all, e.g. to evaluate the over-optimisation curve).
    #[arg(long, default_value_t = 2)]
    keep_checkpoints: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Sampling threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Continue from the last checkpoint in the output directory.
    #[arg(long)]
    resume: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn run(a: Args) -> Result<()> {
    let config = PpoConfig {
        iterations: a.iterations,
        batch_size: a.batch_size,
        minibatch_size: a.minibatch_size,
        ppo_epochs: a.ppo_epochs,
        lr: a.lr,
        critic_lr: a.critic_lr,
        temperature: a.temperature,
        max_new_tokens: a.max_new_tokens,
        kl_coef: a.kl_coef,
        kl_control: if a.target_kl > 0.0 {
            KlControl::Adaptive {
                target: a.target_kl,
                horizon: a.kl_horizon,
            }
        } else {
            KlControl::Fixed
        },
        eot_penalty: a.eot_penalty,
        min_tokens: a.min_tokens,
        critic: match a.critic {
            CriticArg::Separate => Critic::Separate,
            CriticArg::Shared => Critic::Shared,
        },
        ptx_coef: a.ptx_coef,
        ptx_batch_size: a.ptx_batch_size,
        ptx_seq_len: a.ptx_seq_len,
        save_every: a.save_every,
        keep_checkpoints: a.keep_checkpoints,
        seed: a.seed,
        threads: a.threads,
        ..PpoConfig::default()
    };
    let report = ppo(&PpoOptions {
        policy: a.policy,
        reward: a.reward,
        prompts: a.prompts,
        out: a.out.clone(),
        system: a.system,
        ptx_data: a.ptx_data,
        config,
        resume: a.resume,
        progress: !a.quiet,
    })?;
    eprintln!("{report}");
    eprintln!("policy -> {}", a.out.display());
    Ok(())
}
