//! The KL coefficient β: fixed, or adapted towards a target KL (Ziegler et al. 2019).

use serde::{Deserialize, Serialize};

/// How β moves after each rollout batch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum KlControl {
    Fixed,
    /// `e = clip(KL/target − 1, −0.2, 0.2)`, `β ← β·(1 + e·n/horizon)` after `n` episodes.
    Adaptive {
        target: f64,
        horizon: f64,
    },
}

impl KlControl {
    /// The next β after a batch of `episodes` responses whose mean KL was `kl`.
    pub fn update(&self, beta: f64, kl: f64, episodes: usize) -> f64 {
        match *self {
            KlControl::Fixed => beta,
            KlControl::Adaptive { target, horizon } => {
                let e = (kl / target - 1.0).clamp(-0.2, 0.2);
                beta * (1.0 + e * episodes as f64 / horizon)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_moves_beta_towards_target() {
        let c = KlControl::Adaptive {
            target: 4.0,
            horizon: 100.0,
        };
        // KL 5 over target 4: e = 0.25 → clipped 0.2; β·(1 + 0.2·10/100).
        assert!((c.update(0.1, 5.0, 10) - 0.1 * 1.02).abs() < 1e-12);
        // KL 3: e = −0.25 → −0.2.
        assert!((c.update(0.1, 3.0, 10) - 0.1 * 0.98).abs() < 1e-12);
        // KL 4.4: e = 0.1.
        assert!((c.update(0.1, 4.4, 10) - 0.1 * 1.01).abs() < 1e-12);
        assert!(c.update(0.1, 8.0, 10) > 0.1 && c.update(0.1, 1.0, 10) < 0.1);
        assert_eq!(c.update(0.1, 4.0, 10), 0.1);
        assert_eq!(KlControl::Fixed.update(0.1, 50.0, 10), 0.1);
    }
}
