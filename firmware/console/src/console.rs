//! The console itself: reads lines, runs commands and chat turns, writes replies.

use embedded_io::{Read, ReadReady, Write};
use mote_runtime::chat::{Chat, Finish};
use mote_runtime::{Error, Model, Sampler, SamplerConfig, Session, Tokenizer};

use crate::clock::Clock;
use crate::commands::{self, Command};
use crate::config::ConsoleConfig;
use crate::error::ConsoleError;
use crate::export;
use crate::feedback::{FeedbackRing, TooLarge, Verdict};
use crate::input::Input;
use crate::last_turn::LastTurn;
use crate::line_editor::{Edit, LineEditor};
use crate::memory::{session_config, Layout};
use crate::reply_stream::ReplyStream;
use crate::stack::StackGauge;
use crate::stats::{Phase, TurnStats};
use crate::system_prompt::SystemPrompt;
use crate::term::{say, write_text};

const PROMPT: &[u8] = b"> ";
const CHATML: [&[u8]; 2] = [b"<|im_start|>", b"<|im_end|>"];

/// A chat console over one model, with all its memory borrowed from the caller.
pub struct Console<'a, C: Clock> {
    chat: Chat<'a>,
    clock: C,
    cfg: ConsoleConfig,
    arena_bytes: usize,
    mem_bytes: usize,
    line: LineEditor<'a>,
    last: LastTurn<'a>,
    system: SystemPrompt<'a>,
    feedback: FeedbackRing<'a>,
    stats: Option<TurnStats>,
    stack: Option<&'a dyn StackGauge>,
    input: Input,
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
        let mem_bytes = layout.total().ok_or(ConsoleError::BadConfig("ctx_len"))?;
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
            arena_bytes: layout.arena,
            mem_bytes,
            line: LineEditor::new(parts.line),
            last: LastTurn::new(parts.prompt, parts.reply),
            system: SystemPrompt::new(cfg.system, parts.system),
            feedback: FeedbackRing::new(parts.feedback),
            stats: None,
            stack: None,
            input: Input::new(),
        })
    }

    /// Have `/stats` report the board's stack use, as `gauge` measures it.
    pub fn with_stack(mut self, gauge: &'a dyn StackGauge) -> Self {
        self.stack = Some(gauge);
        self
    }

    /// Bytes of `mem` needed for a config (so boards can size static buffers and linker
    /// budgets), including slack for any alignment of `mem`.
    pub fn memory_needed(model: &Model<'_>, cfg: &ConsoleConfig) -> Result<usize, ConsoleError> {
        Layout::new(model, cfg)?
            .total()
            .ok_or(ConsoleError::BadConfig("ctx_len"))
    }

    /// Serve until Ctrl-D at an empty line or the end of input (returns `Ok`), or a serial
    /// error. `ReadReady` lets Ctrl-C stop a reply between tokens.
    pub fn run<S: Read + Write + ReadReady>(&mut self, port: &mut S) -> Result<(), S::Error> {
        port.write_all(b"mote console: /help lists the commands\r\n")?;
        port.write_all(PROMPT)?;
        port.flush()?;
        while let Some(b) = self.input.next(port)? {
            match self.line.feed(b) {
                Edit::Nothing => continue,
                Edit::Echo => port.write_all(&[b])?,
                Edit::Erase => port.write_all(b"\x08 \x08")?,
                Edit::Cancel => {
                    port.write_all(b"^C\r\n")?;
                    port.write_all(PROMPT)?;
                }
                Edit::EndOfInput => break,
                Edit::Overflow => say(
                    port,
                    format_args!(
                        "\n(line too long: {} bytes at most; the rest of it is ignored)\n",
                        self.line.capacity()
                    ),
                )?,
                Edit::DiscardEnd => port.write_all(PROMPT)?,
                Edit::Submit => {
                    port.write_all(b"\r\n")?;
                    let (buf, len) = self.line.take_line();
                    let done = self.handle_line(port, &buf[..len]);
                    self.line.restore(buf);
                    done?;
                    port.write_all(PROMPT)?;
                }
            }
            port.flush()?;
        }
        port.write_all(b"\r\n")?;
        port.flush()
    }

    fn handle_line<S: Read + Write + ReadReady>(
        &mut self,
        port: &mut S,
        line: &[u8],
    ) -> Result<(), S::Error> {
        let Ok(text) = core::str::from_utf8(line) else {
            return say(port, format_args!("(not UTF-8: line ignored)\n"));
        };
        let text = text.trim();
        if text.is_empty() {
            Ok(())
        } else if text.starts_with('/') {
            self.command(port, commands::parse(text))
        } else {
            self.chat_turn(port, text)
        }
    }

    fn chat_turn<S: Read + Write + ReadReady>(
        &mut self,
        port: &mut S,
        text: &str,
    ) -> Result<(), S::Error> {
        self.last.begin(text);
        let start = self.clock.now();
        let mut sink = ReplyStream {
            port: &mut *port,
            clock: &self.clock,
            input: &mut self.input,
            last: &mut self.last,
            prompt_done_at: None,
            interrupted: false,
            error: None,
        };
        let result = self.chat.turn_with(text, self.cfg.max_reply, &mut sink);
        let end = self.clock.now();
        let prompt_done = sink.prompt_done_at.unwrap_or(end);
        if let Some(e) = sink.error.take() {
            return Err(e);
        }
        match result {
            Ok(r) => {
                self.stats = Some(TurnStats {
                    prompt_tokens: r.prompt_tokens,
                    prompt_ticks: prompt_done.saturating_sub(start),
                    reply_tokens: r.reply_tokens,
                    reply_ticks: end.saturating_sub(prompt_done),
                    dropped_turns: r.dropped_turns,
                });
                self.last.finish();
                port.write_all(b"\r\n")?;
                match r.finish {
                    Finish::EndOfTurn => Ok(()),
                    Finish::Stopped => say(port, format_args!("(stopped)\n")),
                    Finish::Length => say(
                        port,
                        format_args!("(reply cut at {} tokens)\n", self.cfg.max_reply),
                    ),
                    Finish::ContextFull => say(
                        port,
                        format_args!("(context full: the reply was cut; /reset starts over)\n"),
                    ),
                }
            }
            Err(Error::TurnTooLong { tokens, ctx }) => say(
                port,
                format_args!(
                    "(message too long: {tokens} tokens, the context has room for {ctx}; not sent)\n"
                ),
            ),
            Err(e) => {
                self.chat.reset();
                say(port, format_args!("(error: {e}; conversation reset)\n"))
            }
        }
    }

    fn command<S: Write>(&mut self, port: &mut S, cmd: Command<'_>) -> Result<(), S::Error> {
        match cmd {
            Command::Help => write_text(port, commands::HELP.as_bytes()),
            Command::Reset => {
                self.chat.reset();
                say(port, format_args!("(conversation reset)\n"))
            }
            Command::Temp(arg) => {
                if !arg.is_empty() {
                    let t = arg.parse::<f32>().map_err(|_| Error::BadParameter);
                    if t.and_then(|t| self.chat.sampler.set_temperature(t))
                        .is_err()
                    {
                        return say(port, format_args!("(usage: /temp X, a number >= 0)\n"));
                    }
                }
                let t = self.chat.sampler.config().temperature;
                say(port, format_args!("(temperature {t})\n"))
            }
            Command::Seed(arg) => {
                if !arg.is_empty() {
                    match arg.parse::<u64>() {
                        Ok(seed) => self.chat.sampler.reseed(seed),
                        Err(_) => return say(port, format_args!("(usage: /seed N)\n")),
                    }
                }
                let seed = self.chat.sampler.config().seed;
                say(port, format_args!("(seed {seed})\n"))
            }
            Command::Stats => self.stats(port),
            Command::System(text) => self.set_system(port, text),
            Command::Good => self.rate(port, Verdict::Good, ""),
            Command::Bad => self.rate(port, Verdict::Bad, ""),
            Command::Better(text) => self.rate(port, Verdict::Better, text),
            Command::Export => {
                if self.feedback.len() == 0 {
                    return say(port, format_args!("(no feedback to export)\n"));
                }
                let lines = export::export(port, &self.feedback)?;
                say(
                    port,
                    format_args!(
                        "--- end of export: {lines} records from {} ---\n",
                        Entries(self.feedback.len())
                    ),
                )
            }
            Command::Unknown(name) => say(
                port,
                format_args!("(unknown command {name}; /help lists the commands)\n"),
            ),
        }
    }

    fn stats<S: Write>(&self, port: &mut S) -> Result<(), S::Error> {
        let (tpu, unit) = (self.clock.ticks_per_second(), self.clock.unit());
        match self.stats {
            Some(s) => {
                let phase = |tokens, ticks| Phase {
                    tokens,
                    ticks,
                    ticks_per_unit: tpu,
                    unit,
                };
                say(
                    port,
                    format_args!(
                        "prompt: {}\nreply: {}\n",
                        phase(s.prompt_tokens, s.prompt_ticks),
                        phase(s.reply_tokens, s.reply_ticks)
                    ),
                )?;
                if s.dropped_turns > 0 {
                    say(
                        port,
                        format_args!("old turns dropped: {}\n", s.dropped_turns),
                    )?;
                }
            }
            None => say(port, format_args!("no turn yet\n"))?,
        }
        let (used, total) = self.chat.context_used();
        let model = self.chat.session().model();
        let model_bytes = match self.cfg.model_bytes {
            0 => model.weight_bytes(),
            n => n,
        };
        say(
            port,
            format_args!(
                "context: {used}/{total} positions\n\
                 memory: arena {} bytes, console {} bytes in all, model {model_bytes} bytes\n\
                 feedback: {}, {}/{} bytes\n",
                self.arena_bytes,
                self.mem_bytes,
                Entries(self.feedback.len()),
                self.feedback.used(),
                self.feedback.capacity()
            ),
        )?;
        match self.stack {
            Some(g) => say(
                port,
                format_args!(
                    "stack: {} of {} bytes used at most
",
                    g.used(),
                    g.size()
                ),
            ),
            None => Ok(()),
        }
    }

    fn set_system<S: Write>(&mut self, port: &mut S, text: &str) -> Result<(), S::Error> {
        let new = (!text.is_empty()).then_some(text);
        match self.chat.set_system(new) {
            Ok(()) => {
                self.system.set(new);
                self.last.forget();
                let what = if new.is_some() { "set" } else { "cleared" };
                say(
                    port,
                    format_args!("(system prompt {what}; conversation reset)\n"),
                )
            }
            Err(e) => {
                // Put the old prompt back; it fitted before, so this cannot fail for size.
                let restored = self.chat.set_system(self.system.get());
                self.last.forget();
                say(port, format_args!("(system prompt not changed: {e})\n"))?;
                if restored.is_err() {
                    self.chat.reset();
                }
                Ok(())
            }
        }
    }

    fn rate<S: Write>(
        &mut self,
        port: &mut S,
        verdict: Verdict,
        better: &str,
    ) -> Result<(), S::Error> {
        if !self.last.is_rateable() {
            return say(port, format_args!("(no reply to rate yet)\n"));
        }
        if self.last.reply_cut() {
            return say(
                port,
                format_args!(
                    "(the last reply was longer than the {} bytes kept; not recorded)\n",
                    self.last.reply_capacity()
                ),
            );
        }
        if verdict == Verdict::Better && better.is_empty() {
            return say(port, format_args!("(usage: /better TEXT)\n"));
        }
        let system = self.system.get().unwrap_or("").as_bytes();
        let fields = [
            system,
            self.last.prompt(),
            self.last.reply(),
            better.as_bytes(),
        ];
        if fields.iter().any(|f| CHATML.iter().any(|d| contains(f, d))) {
            return say(
                port,
                format_args!("(not recorded: the text holds a ChatML delimiter)\n"),
            );
        }
        match self.feedback.push(verdict, fields) {
            Ok(dropped) => {
                if dropped > 0 {
                    say(
                        port,
                        format_args!(
                            "(feedback ring full: dropped the oldest {})\n",
                            Entries(dropped)
                        ),
                    )?;
                }
                say(
                    port,
                    format_args!(
                        "(kept; feedback: {}, {}/{} bytes)\n",
                        Entries(self.feedback.len()),
                        self.feedback.used(),
                        self.feedback.capacity()
                    ),
                )
            }
            Err(TooLarge) => say(
                port,
                format_args!(
                    "(too large for the {}-byte feedback ring; not recorded)\n",
                    self.feedback.capacity()
                ),
            ),
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// "1 entry", "2 entries".
struct Entries(usize);

impl core::fmt::Display for Entries {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = if self.0 == 1 { "entry" } else { "entries" };
        write!(f, "{} {s}", self.0)
    }
}
