//! Throughput measurement as llama-bench does it: random tokens, prompt processing (`ppN`)
//! as one batched evaluation, generation (`tgN`) one token at a time without sampling;
//! and running llama-bench itself for a side-by-side comparison.

use crate::error::{Error, Result};
use mote_runtime::parallel::Parallel;
use mote_runtime::sampler::Rng;
use mote_runtime::{Model, OwnedArena, Session, SessionConfig};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// One test: `n_prompt` prompt tokens or `n_gen` generated tokens (llama-bench's pp/tg).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Test {
    pub n_prompt: usize,
    pub n_gen: usize,
    pub threads: usize,
}

impl Test {
    /// llama-bench's name for it: `pp512`, `tg128`.
    pub fn name(&self) -> String {
        if self.n_prompt > 0 {
            format!("pp{}", self.n_prompt)
        } else {
            format!("tg{}", self.n_gen)
        }
    }

    pub fn tokens(&self) -> usize {
        self.n_prompt + self.n_gen
    }
}

/// Tokens per second of each repetition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples(pub Vec<f64>);

impl Samples {
    fn sorted(&self) -> Vec<f64> {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    pub fn median(&self) -> f64 {
        let v = self.sorted();
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }

    pub fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }

    pub fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }

    pub fn mean(&self) -> f64 {
        self.0.iter().sum::<f64>() / self.0.len() as f64
    }

    pub fn stddev(&self) -> f64 {
        let n = self.0.len();
        if n < 2 {
            return 0.0;
        }
        let m = self.mean();
        (self.0.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64).sqrt()
    }
}

/// A model loaded for benchmarking: one session reused across repetitions.
pub struct MoteBench<'m, 'w> {
    session: Session<'m, 'w>,
    rng: Rng,
}

impl<'m, 'w> MoteBench<'m, 'w> {
    /// A session for `test` in `arena` (sized with [`MoteBench::arena_bytes`]).
    pub fn new(
        model: &'m Model<'w>,
        sc: SessionConfig,
        par: &'m dyn Parallel,
        arena: &'m mut OwnedArena,
    ) -> Result<Self> {
        let session = Session::with_parallel(model, arena.as_mut_slice(), sc, par)?;
        Ok(MoteBench {
            session,
            rng: Rng::new(1234),
        })
    }

    /// The session configuration a test needs: context for its tokens.
    pub fn config(base: SessionConfig, test: &Test) -> SessionConfig {
        SessionConfig {
            ctx_len: test.tokens().max(1),
            ..base
        }
    }

    fn token(&mut self) -> u32 {
        self.rng.next_u32() % self.session.model().config.vocab as u32
    }

    /// One repetition of `test`; returns tokens per second.
    pub fn run(&mut self, test: &Test) -> Result<f64> {
        self.session.truncate(0);
        if test.n_prompt > 0 {
            let mut prompt = Vec::with_capacity(test.n_prompt);
            prompt.push(1);
            while prompt.len() < test.n_prompt {
                prompt.push(self.token());
            }
            let t = Instant::now();
            self.session.eval_batch(&prompt)?;
            return Ok(test.n_prompt as f64 / t.elapsed().as_secs_f64());
        }
        let mut token = 1;
        let t = Instant::now();
        for _ in 0..test.n_gen {
            self.session.eval(token)?;
            token = self.token();
        }
        Ok(test.n_gen as f64 / t.elapsed().as_secs_f64())
    }
}

/// One llama-bench repetition of `test` on `model` (`repack`: llama.cpp's `--repack`);
/// returns its tokens per second.
pub fn llama_bench(
    bin: &Path,
    model: &Path,
    test: &Test,
    kv_type: &str,
    repack: bool,
) -> Result<f64> {
    let out = Command::new(bin)
        .arg("-m")
        .arg(model)
        .args([
            "-p",
            &test.n_prompt.to_string(),
            "-n",
            &test.n_gen.to_string(),
        ])
        .args(["-t", &test.threads.to_string(), "-r", "1", "-o", "jsonl"])
        .args(["-ctk", kv_type, "-ctv", kv_type])
        .args(["--repack", if repack { "1" } else { "0" }])
        .output()
        .map_err(|e| Error::io(bin, e))?;
    if !out.status.success() {
        return Err(Error::format(
            bin,
            0,
            format!(
                "llama-bench failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| Error::format(bin, 0, format!("bad JSON from llama-bench: {e}")))?;
        let (p, n) = (v["n_prompt"].as_u64(), v["n_gen"].as_u64());
        if p == Some(test.n_prompt as u64) && n == Some(test.n_gen as u64) {
            return v["avg_ts"]
                .as_f64()
                .ok_or_else(|| Error::format(bin, 0, "llama-bench printed no avg_ts"));
        }
    }
    Err(Error::format(
        bin,
        0,
        format!("llama-bench printed no result for {}", test.name()),
    ))
}
