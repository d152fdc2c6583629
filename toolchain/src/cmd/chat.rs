//! `mote chat`: an interactive ChatML conversation on stdin/stdout.

use super::loaded::{self, SamplingArgs};
use anyhow::Result;
use clap::Args as ClapArgs;
use mote_runtime::chat::{Chat, ChatBuffers, Finish};
use mote_runtime::tokenizer::Tokenizer;
use mote_runtime::{Error, Sampler, Session};
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// Longest message accepted, in bytes.
const MAX_MESSAGE: usize = 64 * 1024;

#[derive(ClapArgs)]
pub struct Args {
    /// GGUF model to chat with.
    model: PathBuf,
    /// System prompt, kept when the context fills.
    #[arg(long)]
    system: Option<String>,
    /// Most tokens in one reply.
    #[arg(long, default_value_t = 512)]
    max_reply: usize,
    #[command(flatten)]
    sampling: SamplingArgs,
}

pub fn run(a: Args) -> Result<()> {
    loaded::with_session(&a.model, &a.sampling, |tok, session, sampler| {
        converse(&a, tok, session, sampler)
    })
}

fn converse<'a>(
    a: &Args,
    tok: &'a Tokenizer<'a>,
    session: Session<'a, 'a>,
    sampler: Sampler,
) -> Result<()> {
    let ctx = session.ctx_len();
    let mut ids = vec![0u32; ctx.max(MAX_MESSAGE + 64)];
    let mut text = vec![0u8; MAX_MESSAGE + 16];
    let mut scratch = vec![0u32; ChatBuffers::scratch_len(text.len())];
    let bufs = ChatBuffers {
        ids: &mut ids,
        text: &mut text,
        scratch: &mut scratch,
    };
    let mut chat = Chat::new(session, tok, sampler, bufs, a.system.as_deref())?;

    eprintln!(
        "chatting with {} — /reset clears the conversation, /exit or end of input quits",
        a.model.display()
    );
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::new();
    let mut out = std::io::stdout().lock();
    loop {
        eprint!("> ");
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            eprintln!();
            return Ok(());
        }
        let msg = String::from_utf8_lossy(&line);
        let msg = msg.trim_end_matches(['\n', '\r']);
        match msg.trim() {
            "" => continue,
            "/exit" | "/quit" => return Ok(()),
            "/reset" => {
                chat.reset();
                eprintln!("[conversation cleared]");
                continue;
            }
            _ => {}
        }
        if msg.len() > MAX_MESSAGE {
            eprintln!(
                "[message too long: {} bytes, at most {MAX_MESSAGE}]",
                msg.len()
            );
            continue;
        }
        let mut write_err = None;
        let result = chat.turn(msg, a.max_reply, &mut |piece| match out
            .write_all(piece.as_bytes())
            .and_then(|_| out.flush())
        {
            Ok(()) => true,
            Err(e) => {
                write_err = Some(e);
                false
            }
        });
        if let Some(e) = write_err {
            return Err(e.into());
        }
        match result {
            Ok(r) => {
                writeln!(out)?;
                if r.dropped_turns > 0 {
                    eprintln!(
                        "[context full: dropped the {} oldest turn(s)]",
                        r.dropped_turns
                    );
                }
                if r.finish == Finish::ContextFull {
                    eprintln!("[reply cut: this exchange filled the whole context]");
                }
            }
            Err(Error::TurnTooLong { tokens, ctx }) => {
                eprintln!("[message too long: {tokens} tokens, but the context has room for {ctx}; send it in parts]");
            }
            Err(e) => return Err(e.into()),
        }
    }
}
