//! Learning rate: linear warmup to the peak, then cosine decay to `min_lr` at the last step.

use serde::{Deserialize, Serialize};

/// The schedule over steps `1..=steps`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub lr: f64,
    pub min_lr: f64,
    pub warmup_steps: u64,
    pub steps: u64,
}

impl Schedule {
    /// The learning rate of step `step` (1-based). Warmup reaches `lr` at `warmup_steps`;
    /// the cosine then reaches `min_lr` at `steps` and stays there.
    pub fn lr(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            return self.lr * step as f64 / self.warmup_steps as f64;
        }
        let span = self.steps.saturating_sub(self.warmup_steps).max(1);
        let progress = ((step - self.warmup_steps) as f64 / span as f64).min(1.0);
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        self.min_lr + (self.lr - self.min_lr) * cosine
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_cosine_to_min() {
        let s = Schedule {
            lr: 1e-3,
            min_lr: 1e-4,
            warmup_steps: 10,
            steps: 110,
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(s.lr(1), 1e-4));
        assert!(close(s.lr(5), 5e-4));
        assert!(close(s.lr(10), 1e-3));
        // Half way through the decay: the mean of peak and floor.
        assert!(close(s.lr(60), 5.5e-4));
        assert!(close(s.lr(110), 1e-4));
        assert!(close(s.lr(500), 1e-4));
        // Rising during warmup, falling after it.
        for t in 1..10 {
            assert!(s.lr(t) < s.lr(t + 1));
        }
        for t in 10..110 {
            assert!(s.lr(t) > s.lr(t + 1));
        }
    }

    #[test]
    fn no_warmup() {
        let s = Schedule {
            lr: 2.0,
            min_lr: 0.0,
            warmup_steps: 0,
            steps: 4,
        };
        assert!((s.lr(0) - 2.0).abs() < 1e-12);
        assert!((s.lr(2) - 1.0).abs() < 1e-12);
        assert!(s.lr(4).abs() < 1e-12);
    }
}
