//! PPO against a reward model, KL-regularised to the SFT reference (DESIGN §5).
//!
//! Output directory:
//!
//! ```text
//! OUT/
//!   checkpoint-NNNNNN/              after iteration N
//!     policy/                       config.json, model.safetensors (+ value head when shared), tokenizer.json
//!     critic/                       the separate critic (llama + value_head)
//!     optimizer.safetensors         the policy's AdamW moments
//!     critic_optimizer.safetensors  the critic's
//!     trainer_state.json            iteration, β, config
//!   latest  metrics.jsonl
//!   config.json  model.safetensors  tokenizer.json   the final policy
//! ```

pub mod config;
pub mod gae;
pub mod kl_control;
pub mod loss;
pub mod metrics;
pub mod ptx;
pub mod reward;
pub mod rollout;
pub mod trainer;

use std::path::PathBuf;

use candle_core::Device;

pub use config::{Critic, PpoConfig};
pub use kl_control::KlControl;
pub use reward::{RewardModel, Scorer};
pub use trainer::{Ppo, PpoInputs, PpoReport, PpoState};

use crate::checkpoint::Checkpoint;
use crate::error::Result;
use crate::sample::read_prompts;

/// `mote ppo`'s inputs.
pub struct PpoOptions {
    pub policy: PathBuf,
    pub reward: PathBuf,
    pub prompts: PathBuf,
    pub out: PathBuf,
    pub system: Option<String>,
    pub ptx_data: Option<PathBuf>,
    pub config: PpoConfig,
    pub resume: bool,
    pub progress: bool,
}

/// Load the SFT model, the reward model and the prompts, and run PPO.
pub fn ppo(o: &PpoOptions) -> Result<PpoReport> {
    let dev = Device::Cpu;
    let sft = Checkpoint::load(&o.policy, &dev)?;
    let rm = Checkpoint::load(&o.reward, &dev)?;
    let scorer = RewardModel::from_checkpoint(&rm, &o.reward)?;
    let prompts = read_prompts(&o.prompts, o.system.as_deref())?;
    let inputs = PpoInputs {
        sft,
        critic_base: Some(rm),
        scorer: Box::new(scorer),
        prompts,
        ptx_data: o.ptx_data.clone(),
    };
    Ppo::new(&o.out, o.config.clone(), inputs, o.resume)?.run(o.progress)
}
