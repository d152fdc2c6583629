//! Sampling responses from a model through mote-runtime: ChatML prompts, K completions per
//! prompt with their log-probabilities, and teacher-forced scoring of given completions.
//!
//! Checkpoints are exported to a temporary f32 GGUF first; the runtime computes the same
//! function as the candle model (to 1e-5) and is much faster at generating.

mod generate;
mod prompts;
mod source;

pub use generate::{chatml_prompt, Completion, Generator, SampleConfig};
pub use prompts::{read_prompts, Prompt};
pub use source::ModelSource;
