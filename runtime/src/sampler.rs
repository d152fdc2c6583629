//! Token sampling: greedy, temperature, top-k, top-p, repetition penalty, seeded PRNG.
//!
//! Order of operations (as Hugging Face's logits warpers and llama2.c apply them):
//! repetition penalty → temperature → top-k → top-p → draw. Temperature 0 is exact argmax.

use crate::error::{Error, Result};
use crate::math::expf;

/// A (logit or probability, token) pair in the sampler's scratch.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Candidate {
    pub value: f32,
    pub id: u32,
}

/// Sampling parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplerConfig {
    /// 0 means greedy.
    pub temperature: f32,
    /// Keep the `top_k` most likely tokens; 0 keeps all.
    pub top_k: usize,
    /// Keep the smallest set whose probability reaches `top_p`; 1 keeps all.
    pub top_p: f32,
    /// Divide positive (multiply negative) logits of recent tokens; 1 is off.
    pub repeat_penalty: f32,
    /// How many recent tokens the penalty looks at.
    pub repeat_last_n: usize,
    pub seed: u64,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            temperature: 0.8,
            top_k: 40,
            top_p: 0.95,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            seed: 0,
        }
    }
}

impl SamplerConfig {
    /// Exact argmax, no penalty.
    pub fn greedy() -> Self {
        SamplerConfig {
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            repeat_penalty: 1.0,
            ..Default::default()
        }
    }
}

/// xorshift64*: small, fast, good enough for sampling, identical on every target.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // SplitMix64 step so that nearby seeds give unrelated streams, and 0 is allowed.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    /// Uniform in [0, 1).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 / 16_777_216.0
    }
}

/// A sampler owns its configuration and PRNG state.
#[derive(Debug, Clone)]
pub struct Sampler {
    cfg: SamplerConfig,
    rng: Rng,
}

impl Sampler {
    pub fn new(cfg: SamplerConfig) -> Result<Self> {
        let ok = cfg.temperature.is_finite()
            && cfg.temperature >= 0.0
            && cfg.top_p.is_finite()
            && cfg.top_p > 0.0
            && cfg.top_p <= 1.0
            && cfg.repeat_penalty.is_finite()
            && cfg.repeat_penalty > 0.0;
        if !ok {
            return Err(Error::BadParameter);
        }
        Ok(Sampler {
            cfg,
            rng: Rng::new(cfg.seed),
        })
    }

    pub fn config(&self) -> &SamplerConfig {
        &self.cfg
    }

    /// Change the temperature, keeping the PRNG stream.
    pub fn set_temperature(&mut self, t: f32) -> Result<()> {
        if !t.is_finite() || t < 0.0 {
            return Err(Error::BadParameter);
        }
        self.cfg.temperature = t;
        Ok(())
    }

    /// Restart the PRNG stream from `seed`.
    pub fn reseed(&mut self, seed: u64) {
        self.cfg.seed = seed;
        self.rng = Rng::new(seed);
    }

    /// Pick the next token. `logits` is modified (penalty); `history` holds the tokens so
    /// far; `scratch` needs one entry per vocabulary token.
    pub fn sample(
        &mut self,
        logits: &mut [f32],
        history: &[u32],
        scratch: &mut [Candidate],
    ) -> Result<u32> {
        let n = logits.len();
        if n == 0 || scratch.len() < n {
            return Err(Error::BufferTooSmall {
                needed: n.max(1),
                got: scratch.len(),
            });
        }
        self.apply_penalty(logits, history);
        if self.cfg.temperature == 0.0 {
            return Ok(argmax(logits));
        }
        let cands = &mut scratch[..n];
        let inv_t = 1.0 / self.cfg.temperature;
        for (i, (c, &l)) in cands.iter_mut().zip(logits.iter()).enumerate() {
            let v = l * inv_t;
            *c = Candidate {
                value: if v.is_nan() { f32::NEG_INFINITY } else { v },
                id: i as u32,
            };
        }
        let desc = |a: &Candidate, b: &Candidate| b.value.total_cmp(&a.value);
        let mut cands = &mut cands[..];
        if self.cfg.top_k > 0 && self.cfg.top_k < n {
            cands.select_nth_unstable_by(self.cfg.top_k - 1, desc);
            cands = &mut cands[..self.cfg.top_k];
        }
        // Softmax over the survivors, max first for stability.
        let max = cands.iter().fold(f32::NEG_INFINITY, |m, c| m.max(c.value));
        let mut sum = 0.0f32;
        for c in cands.iter_mut() {
            c.value = expf(c.value - max);
            sum += c.value;
        }
        cands.iter_mut().for_each(|c| c.value /= sum);
        if self.cfg.top_p < 1.0 {
            // Tokens below (1 − p)/(n − 1) can never be in the nucleus: drop before sorting.
            let cutoff = (1.0 - self.cfg.top_p) / (cands.len().max(2) - 1) as f32;
            let mut kept = 0;
            for i in 0..cands.len() {
                if cands[i].value >= cutoff {
                    cands.swap(kept, i);
                    kept += 1;
                }
            }
            let cands_kept = &mut cands[..kept.max(1)];
            cands_kept.sort_unstable_by(desc);
            let mut cum = 0.0;
            let mut last = cands_kept.len() - 1;
            for (i, c) in cands_kept.iter().enumerate() {
                cum += c.value;
                if cum >= self.cfg.top_p {
                    last = i;
                    break;
                }
            }
            let cands_kept = &cands_kept[..=last];
            let total: f32 = cands_kept.iter().map(|c| c.value).sum();
            return Ok(draw(cands_kept, self.rng.next_f32() * total));
        }
        Ok(draw(cands, self.rng.next_f32()))
    }

    fn apply_penalty(&self, logits: &mut [f32], history: &[u32]) {
        let p = self.cfg.repeat_penalty;
        if p == 1.0 || self.cfg.repeat_last_n == 0 {
            return;
        }
        let recent = &history[history.len().saturating_sub(self.cfg.repeat_last_n)..];
        for (i, &t) in recent.iter().enumerate() {
            // Penalise each distinct token once.
            if recent[..i].contains(&t) {
                continue;
            }
            if let Some(l) = logits.get_mut(t as usize) {
                *l = if *l > 0.0 { *l / p } else { *l * p };
            }
        }
    }
}

/// Index of the largest logit (the first on ties; NaN never wins).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    let mut best_v = f32::NEG_INFINITY;
    for (i, &v) in logits.iter().enumerate() {
        if v > best_v {
            best = i;
            best_v = v;
        }
    }
    best as u32
}

fn draw(cands: &[Candidate], r: f32) -> u32 {
    let mut cum = 0.0;
    for c in cands {
        cum += c.value;
        if r < cum {
            return c.id;
        }
    }
    cands.last().map_or(0, |c| c.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cfg: SamplerConfig, logits: &[f32], draws: usize) -> [usize; 4] {
        let mut s = Sampler::new(cfg).unwrap();
        let mut counts = [0; 4];
        let mut scratch = [Candidate { value: 0.0, id: 0 }; 4];
        for _ in 0..draws {
            let mut l = [0.0; 4];
            l.copy_from_slice(logits);
            counts[s.sample(&mut l, &[], &mut scratch).unwrap() as usize] += 1;
        }
        counts
    }

    #[test]
    fn greedy_is_argmax_first_on_ties() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, f32::NAN]), 1);
        assert_eq!(
            run(SamplerConfig::greedy(), &[0.0, 0.5, 2.0, 1.0], 10),
            [0, 0, 10, 0]
        );
    }

    #[test]
    fn top_k_one_is_greedy() {
        let cfg = SamplerConfig {
            temperature: 1.0,
            top_k: 1,
            top_p: 1.0,
            ..Default::default()
        };
        assert_eq!(run(cfg, &[0.0, 0.5, 2.0, 1.0], 50), [0, 0, 50, 0]);
    }

    #[test]
    fn top_p_drops_the_tail() {
        // probabilities ≈ [0.01, 0.01, 0.72, 0.26]: p = 0.9 keeps tokens 2 and 3 only.
        let logits = [-2.0, -2.0, 2.3, 1.28];
        let cfg = SamplerConfig {
            temperature: 1.0,
            top_k: 0,
            top_p: 0.9,
            ..Default::default()
        };
        let c = run(cfg, &logits, 2000);
        assert_eq!(c[0] + c[1], 0);
        assert!(c[2] > c[3] && c[3] > 300, "{c:?}");
    }

    #[test]
    fn temperature_sampling_follows_the_distribution() {
        let cfg = SamplerConfig {
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            seed: 7,
            ..Default::default()
        };
        let c = run(cfg, &[0.0, 0.0, 0.0, (3.0f32).ln()], 6000);
        // expected [1000, 1000, 1000, 3000]
        assert!((c[3] as i32 - 3000).abs() < 200, "{c:?}");
        assert!(
            c[..3].iter().all(|&n| (n as i32 - 1000).abs() < 150),
            "{c:?}"
        );
    }

    #[test]
    fn same_seed_same_stream() {
        let cfg = SamplerConfig {
            temperature: 1.0,
            seed: 42,
            ..Default::default()
        };
        assert_eq!(
            run(cfg, &[0.1, 0.2, 0.3, 0.4], 100),
            run(cfg, &[0.1, 0.2, 0.3, 0.4], 100)
        );
    }

    #[test]
    fn repetition_penalty_shifts_argmax() {
        let mut s = Sampler::new(SamplerConfig {
            repeat_penalty: 2.0,
            ..SamplerConfig::greedy()
        })
        .unwrap();
        let mut l = [1.0, 1.5, -1.0, 0.0];
        let mut scratch = [Candidate { value: 0.0, id: 0 }; 4];
        assert_eq!(s.sample(&mut l, &[1, 1, 2], &mut scratch).unwrap(), 0);
        assert_eq!(l, [1.0, 0.75, -2.0, 0.0]);
    }

    #[test]
    fn bad_parameters_are_rejected() {
        for cfg in [
            SamplerConfig {
                temperature: -1.0,
                ..Default::default()
            },
            SamplerConfig {
                top_p: 0.0,
                ..Default::default()
            },
            SamplerConfig {
                temperature: f32::NAN,
                ..Default::default()
            },
            SamplerConfig {
                repeat_penalty: 0.0,
                ..Default::default()
            },
        ] {
            assert_eq!(Sampler::new(cfg).err(), Some(Error::BadParameter));
        }
    }

    #[test]
    fn nan_logits_do_not_panic() {
        let cfg = SamplerConfig {
            temperature: 1.0,
            ..Default::default()
        };
        let c = run(cfg, &[f32::NAN, 1.0, f32::NAN, 0.0], 20);
        assert_eq!(c[0] + c[2], 0);
    }
}
