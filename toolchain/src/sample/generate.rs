//! Generation and scoring with mote-runtime sessions, one per worker thread.

use std::path::Path;

use mote_runtime::{KvType, Model, OwnedArena, Session, SessionConfig, Tokenizer};

use crate::data::Rng;
use crate::error::{Error, Result};
use crate::model_file::ModelFile;

/// The ChatML text that asks the model for an assistant turn (BOS is added at encoding).
pub fn chatml_prompt(system: Option<&str>, user: &str) -> String {
    let mut s = String::new();
    if let Some(sys) = system {
        s.push_str(&format!("<|im_start|>system\n{sys}<|im_end|>\n"));
    }
    s.push_str(&format!(
        "<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
    ));
    s
}

/// How to sample. Pure temperature sampling (no top-k/top-p), so that the recorded
/// log-probabilities are exactly the policy's at that temperature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleConfig {
    pub temperature: f32,
    /// Most tokens in a completion.
    pub max_tokens: usize,
    pub seed: u64,
}

impl Default for SampleConfig {
    fn default() -> Self {
        SampleConfig {
            temperature: 1.0,
            max_tokens: 64,
            seed: 0,
        }
    }
}

/// One sampled (or scored) completion.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub text: String,
    /// Completion token ids, without the end-of-turn token.
    pub ids: Vec<u32>,
    /// log p(token) at the sampling temperature, one per id, plus one for the end-of-turn
    /// token when `ended`.
    pub logprobs: Vec<f32>,
    /// Entropy (nats) of each sampled step's distribution.
    pub entropies: Vec<f32>,
    /// The model ended its turn (`<|im_end|>` or EOS) within `max_tokens`.
    pub ended: bool,
    /// The token that ended it.
    pub end_id: Option<u32>,
}

/// A GGUF model ready to generate from several threads.
pub struct Generator {
    file: ModelFile,
    threads: usize,
}

/// Log-softmax of `logits / t` at `i`, and the entropy, in f64 for stability.
fn log_softmax_at(logits: &[f32], t: f32, probs: &mut Vec<f64>) -> (f64, f64) {
    let inv = 1.0 / f64::from(t.max(1e-6));
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)) as f64 * inv;
    probs.clear();
    probs.extend(logits.iter().map(|&x| (x as f64 * inv - max).exp()));
    let z: f64 = probs.iter().sum();
    let log_z = z.ln() + max;
    let mut h = 0.0;
    for p in probs.iter_mut() {
        *p /= z;
        if *p > 0.0 {
            h -= *p * p.ln();
        }
    }
    (log_z, h)
}

struct Worker<'m> {
    tok: &'m Tokenizer<'m>,
    session: Session<'m, 'm>,
    stop: Vec<u32>,
    /// `<|im_start|>`: a reply that opens a new turn is cut there, without ending its own.
    cut: Option<u32>,
    probs: Vec<f64>,
}

impl<'m> Worker<'m> {
    fn prefill(&mut self, prompt: &str) -> Result<usize> {
        let ids = self.tok.encode_vec(prompt, true, true)?;
        self.session.truncate(0);
        self.session.eval_batch(&ids)?;
        Ok(ids.len())
    }

    fn sample(
        &mut self,
        prompt_len: usize,
        cfg: &SampleConfig,
        rng: &mut Rng,
    ) -> Result<Completion> {
        self.session.truncate(prompt_len);
        // The prompt's last logits are recomputed: truncation keeps the KV cache only.
        let last = self.session.tokens()[prompt_len - 1];
        self.session.truncate(prompt_len - 1);
        let mut logits = self.session.eval(last)?.to_vec();
        let mut c = Completion {
            text: String::new(),
            ids: Vec::new(),
            logprobs: Vec::new(),
            entropies: Vec::new(),
            ended: false,
            end_id: None,
        };
        for _ in 0..=cfg.max_tokens {
            let (log_z, h) = log_softmax_at(&logits, cfg.temperature, &mut self.probs);
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let mut acc = 0.0;
            let mut next = self.probs.len() - 1;
            for (i, &p) in self.probs.iter().enumerate() {
                acc += p;
                if u < acc {
                    next = i;
                    break;
                }
            }
            let lp = logits[next] as f64 / f64::from(cfg.temperature.max(1e-6)) - log_z;
            if self.stop.contains(&(next as u32)) {
                c.logprobs.push(lp as f32);
                c.entropies.push(h as f32);
                c.ended = true;
                c.end_id = Some(next as u32);
                break;
            }
            if self.cut == Some(next as u32)
                || c.ids.len() == cfg.max_tokens
                || self.session.pos() >= self.session.ctx_len()
            {
                break;
            }
            c.ids.push(next as u32);
            c.logprobs.push(lp as f32);
            c.entropies.push(h as f32);
            logits.clear();
            logits.extend_from_slice(self.session.eval(next as u32)?);
        }
        c.text = self.detokenize(&c.ids)?;
        Ok(c)
    }

    /// log p of `ids` (then of the end-of-turn token `end`, if any) after the prompt, at `t`.
    fn score(
        &mut self,
        prompt_len: usize,
        ids: &[u32],
        end: Option<u32>,
        t: f32,
    ) -> Result<Vec<f32>> {
        let last = self.session.tokens()[prompt_len - 1];
        self.session.truncate(prompt_len - 1);
        let mut logits = self.session.eval(last)?.to_vec();
        let mut out = Vec::with_capacity(ids.len() + 1);
        let ended = end.is_some();
        for (i, &id) in ids.iter().chain(end.as_ref()).enumerate() {
            let (log_z, _) = log_softmax_at(&logits, t, &mut self.probs);
            out.push((logits[id as usize] as f64 / f64::from(t.max(1e-6)) - log_z) as f32);
            if i < ids.len() && i + 1 < ids.len() + usize::from(ended) {
                logits.clear();
                logits.extend_from_slice(self.session.eval(id)?);
            }
        }
        Ok(out)
    }

    /// The reply's text without control tokens, so it can go back into ChatML data.
    fn detokenize(&self, ids: &[u32]) -> Result<String> {
        let mut text = String::new();
        let mut dec = mote_runtime::Decoder::pieces(false);
        for &id in ids {
            dec.push(self.tok, id, |s| text.push_str(s))?;
        }
        dec.finish(|s| text.push_str(s));
        Ok(text)
    }
}

impl Generator {
    pub fn open(gguf: &Path, threads: usize) -> Result<Self> {
        let file = ModelFile::open(gguf)?;
        file.model()?;
        Ok(Generator {
            file,
            threads: threads.max(1),
        })
    }

    /// Run `job(worker, index)` for every index in `0..n` over the worker threads; results
    /// come back in index order and do not depend on the thread count.
    fn for_each<T: Send>(
        &self,
        n: usize,
        job: impl Fn(&mut Worker<'_>, usize) -> Result<T> + Sync,
    ) -> Result<Vec<T>> {
        let file = &self.file;
        let g = file.gguf()?;
        let mut packed = crate::model_file::PackedStore::default();
        let model: Model<'_> = file.model_for(SessionConfig::new(1).kernels, &mut packed)?;
        let table_len = Tokenizer::table_len(&g).map_err(|e| file.model_error(e))?;
        let threads = self.threads.min(n.max(1));
        let results: Vec<Result<Vec<(usize, T)>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|w| {
                    let (g, model, job) = (&g, &model, &job);
                    s.spawn(move || -> Result<Vec<(usize, T)>> {
                        let mut table = vec![0u32; table_len];
                        let tok =
                            Tokenizer::build(g, &mut table).map_err(|e| file.model_error(e))?;
                        let sc = SessionConfig::new(model.config.ctx_len)
                            .with_kv_type(KvType::F32)
                            .with_batch(32);
                        let mut arena = OwnedArena::new(model.arena_bytes_for(&sc)?);
                        let session = Session::new(model, arena.as_mut_slice(), sc)?;
                        let stop: Vec<u32> = [tok.token_id(b"<|im_end|>"), tok.eos()]
                            .into_iter()
                            .flatten()
                            .collect();
                        if stop.is_empty() {
                            return Err(Error::Tokenizer(
                                "the model has no <|im_end|> or EOS".into(),
                            ));
                        }
                        let mut worker = Worker {
                            tok: &tok,
                            session,
                            stop,
                            cut: tok.token_id(b"<|im_start|>"),
                            probs: Vec::new(),
                        };
                        let mut out = Vec::new();
                        for i in (w..n).step_by(threads) {
                            out.push((i, job(&mut worker, i)?));
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::Tokenizer("a sampling thread panicked".into()))
                    })
                })
                .collect()
        });
        let mut all: Vec<(usize, T)> = Vec::with_capacity(n);
        for r in results {
            all.extend(r?);
        }
        all.sort_by_key(|(i, _)| *i);
        Ok(all.into_iter().map(|(_, t)| t).collect())
    }

    /// `k` completions for each prompt text (already in ChatML). Seeds depend on the prompt
    /// index and the sample index only.
    pub fn sample(
        &self,
        prompts: &[String],
        k: usize,
        cfg: &SampleConfig,
    ) -> Result<Vec<Vec<Completion>>> {
        self.for_each(prompts.len(), |w, i| {
            let n = w.prefill(&prompts[i])?;
            (0..k)
                .map(|j| {
                    let mut rng = Rng::new(&[cfg.seed, i as u64, j as u64]);
                    w.sample(n, cfg, &mut rng)
                })
                .collect()
        })
    }

    /// Log-probabilities of given completions (ids, end-of-turn token) after each prompt,
    /// at `t`.
    pub fn score(
        &self,
        prompts: &[String],
        completions: &[Vec<(Vec<u32>, Option<u32>)>],
        t: f32,
    ) -> Result<Vec<Vec<Vec<f32>>>> {
        self.for_each(prompts.len(), |w, i| {
            let n = w.prefill(&prompts[i])?;
            completions[i]
                .iter()
                .map(|(ids, end)| w.score(n, ids, *end, t))
                .collect()
        })
    }
}
