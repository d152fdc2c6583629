//! `mote run`: plain text generation through mote-runtime from the mapped file.

use super::loaded::{self, SamplingArgs};
use anyhow::{bail, Result};
use clap::Args as ClapArgs;
use mote_runtime::tokenizer::{Decoder, Tokenizer};
use mote_runtime::{Sampler, Session};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(ClapArgs)]
pub struct Args {
    /// GGUF model to run.
    model: PathBuf,
    /// Prompt text (control tokens such as `<|im_start|>` are parsed). Without it, generation
    /// starts from BOS alone.
    #[arg(long, short = 'p')]
    prompt: Option<String>,
    /// Positions to run, counting BOS and the prompt (as llama2.c's `-n`): generates
    /// `N − prompt tokens` tokens at most. 0 means the whole context.
    #[arg(short = 'n', long = "steps", default_value_t = 256)]
    steps: usize,
    /// Print `{"prompt_ids", "ids", "text"}` as JSON instead of streaming text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sampling: SamplingArgs,
}

pub fn run(a: Args) -> Result<()> {
    loaded::with_session(&a.model, &a.sampling, |tok, session, sampler| {
        generate(&a, tok, session, sampler)
    })
}

fn generate(
    a: &Args,
    tok: &Tokenizer<'_>,
    mut session: Session<'_, '_>,
    mut sampler: Sampler,
) -> Result<()> {
    let sc_ctx = session.ctx_len();
    let prompt_ids = match &a.prompt {
        Some(p) => tok.encode_vec(p, true, true)?,
        None => vec![tok.bos().unwrap_or(1)],
    };
    let steps = if a.steps == 0 {
        sc_ctx
    } else {
        a.steps.min(sc_ctx)
    };
    if prompt_ids.len() > sc_ctx {
        bail!(
            "the prompt has {} tokens but the context holds {}",
            prompt_ids.len(),
            sc_ctx
        );
    }

    let t0 = Instant::now();
    session.eval_batch(&prompt_ids)?;
    let t_prompt = t0.elapsed();

    let mut out = std::io::stdout().lock();
    // Pieces as llama2.c prints them: the first one after a lone BOS loses its space.
    let mut decoder = Decoder::pieces(false);
    if prompt_ids.len() == 1 && Some(prompt_ids[0]) == tok.bos() {
        decoder.strip_next_space();
    }
    let mut ids = Vec::new();
    let mut text = String::new();
    let t1 = Instant::now();
    while session.pos() < steps {
        let next = session.sample(&mut sampler)?;
        if tok.is_eog(next) || Some(next) == tok.bos() || tok.is_control(next) {
            break;
        }
        ids.push(next);
        let mut piece = String::new();
        decoder.push(tok, next, |s| piece.push_str(s))?;
        if a.json {
            text.push_str(&piece);
        } else {
            out.write_all(piece.as_bytes())?;
            out.flush()?;
        }
        // llama2.c prints the token for the last position without evaluating it.
        if session.pos() + 1 >= steps {
            break;
        }
        session.eval(next)?;
    }
    let mut tail = String::new();
    decoder.finish(|s| tail.push_str(s));
    let t_gen = t1.elapsed();
    if a.json {
        text.push_str(&tail);
        let v = serde_json::json!({ "prompt_ids": prompt_ids, "ids": ids, "text": text });
        writeln!(out, "{v}")?;
    } else {
        writeln!(out, "{tail}")?;
    }
    let rate = |n: usize, d: std::time::Duration| n as f64 / d.as_secs_f64().max(1e-9);
    eprintln!(
        "prompt: {} tokens, {:.1} tok/s | generated: {} tokens, {:.1} tok/s",
        prompt_ids.len(),
        rate(prompt_ids.len(), t_prompt),
        ids.len(),
        rate(ids.len(), t_gen)
    );
    Ok(())
}
