//! Per-iteration numbers: a metrics line and the progress bar's message.

use serde_json::{json, Map, Value};

/// Sums over minibatches, averaged on output.
#[derive(Debug, Default, Clone)]
pub struct UpdateStats {
    pub steps: usize,
    pub policy_loss: f64,
    pub value_loss: f64,
    pub clipfrac: f64,
    pub value_clipfrac: f64,
    pub approx_kl: f64,
    pub grad_norm: f64,
    pub ptx_loss: f64,
}

/// What one iteration did.
#[derive(Debug, Default, Clone)]
pub struct IterStats {
    pub iteration: u64,
    /// Mean score of the reward model (normalised), before penalties.
    pub reward: f64,
    /// Mean score after the end-of-turn/length penalty.
    pub score: f64,
    /// Mean over responses of Σ (log π − log π_ref) at the sampling temperature.
    pub kl: f64,
    /// β used for this batch's rewards.
    pub beta: f64,
    /// Mean per-token entropy of the sampling distribution.
    pub entropy: f64,
    pub response_len: f64,
    pub eot_rate: f64,
    pub explained_variance: f64,
    /// Largest |runtime log-prob − candle log-prob| over the batch.
    pub logprob_diff: f64,
    pub seconds: f64,
    pub update: UpdateStats,
}

impl IterStats {
    pub fn record(&self) -> Map<String, Value> {
        let n = self.update.steps.max(1) as f64;
        let u = &self.update;
        let v = json!({
            "step": self.iteration,
            "reward": self.reward,
            "score": self.score,
            "kl": self.kl,
            "beta": self.beta,
            "entropy": self.entropy,
            "response_len": self.response_len,
            "eot_rate": self.eot_rate,
            "explained_variance": self.explained_variance,
            "policy_loss": u.policy_loss / n,
            "value_loss": u.value_loss / n,
            "clipfrac": u.clipfrac / n,
            "value_clipfrac": u.value_clipfrac / n,
            "approx_kl": u.approx_kl / n,
            "grad_norm": u.grad_norm / n,
            "ptx_loss": u.ptx_loss / n,
            "logprob_diff": self.logprob_diff,
            "seconds": self.seconds,
        });
        match v {
            Value::Object(m) => m,
            _ => unreachable!("a JSON object"),
        }
    }

    pub fn message(&self) -> String {
        format!(
            "reward {:.3} kl {:.2} β {:.4} len {:.1} eot {:.2}",
            self.reward, self.kl, self.beta, self.response_len, self.eot_rate
        )
    }
}

/// `1 − Var(returns − values) / Var(returns)` over every token.
pub fn explained_variance(values: &[f32], returns: &[f32]) -> f64 {
    let n = returns.len().max(1) as f64;
    let var = |xs: &mut dyn Iterator<Item = f64>| {
        let v: Vec<f64> = xs.collect();
        let m = v.iter().sum::<f64>() / n;
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n
    };
    let vr = var(&mut returns.iter().map(|&x| x as f64));
    let vd = var(&mut returns.iter().zip(values).map(|(&r, &v)| (r - v) as f64));
    if vr == 0.0 {
        0.0
    } else {
        1.0 - vd / vr
    }
}
