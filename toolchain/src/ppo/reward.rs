//! Scores of (prompt, response) pairs: the reward model, or any function for tests.

use crate::error::Result;
pub use crate::reward::RewardModel;
use crate::sample::{Completion, Prompt};

/// What PPO maximises: one score per response.
pub trait Scorer {
    fn score(&self, prompts: &[&Prompt], responses: &[&Completion]) -> Result<Vec<f32>>;
}

impl<F> Scorer for F
where
    F: Fn(&[&Prompt], &[&Completion]) -> Result<Vec<f32>>,
{
    fn score(&self, prompts: &[&Prompt], responses: &[&Completion]) -> Result<Vec<f32>> {
        self(prompts, responses)
    }
}

impl Scorer for RewardModel {
    /// The conversation is the prompt's ChatML, the response and the `<|im_end|>` the reward
    /// model reads its score at (also for a response that did not end; the missing end is
    /// penalised separately).
    fn score(&self, prompts: &[&Prompt], responses: &[&Completion]) -> Result<Vec<f32>> {
        let pairs: Vec<(&str, &str)> = prompts
            .iter()
            .zip(responses)
            .map(|(p, c)| (p.chatml.as_str(), c.text.as_str()))
            .collect();
        RewardModel::score(self, &pairs)
    }
}
