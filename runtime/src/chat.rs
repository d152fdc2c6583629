//! A ChatML conversation on top of a [`Session`]:
//! `<|im_start|>role\ncontent<|im_end|>\n`, replies streamed token by token.
//!
//! Context policy (llama.cpp's n_keep + discard idea): the BOS and system prompt are kept
//! forever; when a new turn or a reply does not fit, the oldest whole turns are dropped and
//! the rest is re-evaluated at its new positions. A single turn longer than the context is
//! an error, [`Error::TurnTooLong`].

use crate::error::{Error, Result};
use crate::sampler::Sampler;
use crate::session::Session;
use crate::tokenizer::{Decoder, Tokenizer};

/// How many turn boundaries are remembered; older turns are merged pairwise beyond it.
pub const MAX_TURNS: usize = 64;

/// Why a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The model ended its turn (`<|im_end|>` or EOS).
    EndOfTurn,
    /// The reply reached the token limit given to [`Chat::turn`].
    Length,
    /// This turn alone filled the context.
    ContextFull,
    /// The output callback asked to stop (e.g. Ctrl-C).
    Stopped,
}

/// What one turn did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnReport {
    pub prompt_tokens: usize,
    pub reply_tokens: usize,
    /// Old turns dropped to make room.
    pub dropped_turns: usize,
    pub finish: Finish,
}

/// What [`Chat::turn_with`] reports while a turn runs.
pub trait TurnSink {
    /// The prompt has been evaluated; the reply starts.
    fn prompt_done(&mut self) {}
    /// Asked before each reply token is sampled; `false` stops the reply.
    fn go_on(&mut self) -> bool {
        true
    }
    /// Reply text as it is decoded; `false` stops the reply.
    fn text(&mut self, text: &str) -> bool;
}

/// [`Chat::turn`]'s callback as a sink.
struct TextOnly<'f>(&'f mut dyn FnMut(&str) -> bool);

impl TurnSink for TextOnly<'_> {
    fn text(&mut self, text: &str) -> bool {
        (self.0)(text)
    }
}

/// Working memory a chat needs besides the session arena.
pub struct ChatBuffers<'a> {
    /// Token scratch for one turn: at least the session's context length (a longer one lets
    /// [`Error::TurnTooLong`] report the exact length of an overlong message).
    pub ids: &'a mut [u32],
    /// Text scratch to render `role\ncontent`: the longest message plus 16 bytes.
    pub text: &'a mut [u8],
    /// Tokenizer working memory: [`ChatBuffers::scratch_len`] of the text scratch's length.
    pub scratch: &'a mut [u32],
}

impl ChatBuffers<'_> {
    /// Words of tokenizer scratch for a text buffer of `text_len` bytes.
    pub const fn scratch_len(text_len: usize) -> usize {
        Tokenizer::scratch_len(text_len)
    }
}

/// A ChatML conversation.
pub struct Chat<'a> {
    session: Session<'a, 'a>,
    tok: &'a Tokenizer<'a>,
    pub sampler: Sampler,
    buf: ChatBuffers<'a>,
    im_start: u32,
    im_end: u32,
    /// Positions `0..keep` (BOS and the system turn) are never dropped.
    keep: usize,
    /// Start position of each turn after `keep`, oldest first.
    turns: [usize; MAX_TURNS],
    n_turns: usize,
}

impl<'a> Chat<'a> {
    /// Start a conversation, evaluating BOS and the optional system prompt.
    pub fn new(
        session: Session<'a, 'a>,
        tok: &'a Tokenizer<'a>,
        sampler: Sampler,
        buf: ChatBuffers<'a>,
        system: Option<&str>,
    ) -> Result<Self> {
        let im_start = tok.token_id(b"<|im_start|>").ok_or(Error::BadVocab)?;
        let im_end = tok.token_id(b"<|im_end|>").ok_or(Error::BadVocab)?;
        if buf.ids.len() < session.ctx_len() {
            return Err(Error::BufferTooSmall {
                needed: session.ctx_len(),
                got: buf.ids.len(),
            });
        }
        let mut chat = Chat {
            session,
            tok,
            sampler,
            buf,
            im_start,
            im_end,
            keep: 0,
            turns: [0; MAX_TURNS],
            n_turns: 0,
        };
        chat.set_system(system)?;
        Ok(chat)
    }

    /// Forget the conversation and start again with a new system prompt.
    pub fn set_system(&mut self, system: Option<&str>) -> Result<()> {
        self.session.truncate(0);
        self.n_turns = 0;
        self.keep = 0;
        let mut n = 0;
        if let Some(bos) = self.tok.bos() {
            self.buf.ids[0] = bos;
            n = 1;
        }
        if let Some(s) = system {
            n += self.render("system", s, n)?;
        }
        if n > self.session.ctx_len() {
            return Err(Error::TurnTooLong {
                tokens: n,
                ctx: self.session.ctx_len(),
            });
        }
        for i in 0..n {
            self.session.eval(self.buf.ids[i])?;
        }
        self.keep = n;
        Ok(())
    }

    /// Forget every turn, keeping the system prompt.
    pub fn reset(&mut self) {
        self.session.truncate(self.keep);
        self.n_turns = 0;
    }

    pub fn session(&self) -> &Session<'a, 'a> {
        &self.session
    }

    /// Positions in use and the context length.
    pub fn context_used(&self) -> (usize, usize) {
        (self.session.pos(), self.session.ctx_len())
    }

    /// Encode `<|im_start|>role\ncontent<|im_end|>\n` at `ids[at..]`; returns its length.
    fn render(&mut self, role: &str, content: &str, at: usize) -> Result<usize> {
        let need = role.len() + 1 + content.len();
        if self.buf.text.len() < need {
            return Err(Error::BufferTooSmall {
                needed: need,
                got: self.buf.text.len(),
            });
        }
        self.buf.text[..role.len()].copy_from_slice(role.as_bytes());
        self.buf.text[role.len()] = b'\n';
        self.buf.text[role.len() + 1..need].copy_from_slice(content.as_bytes());
        // Built from two &str and '\n': valid UTF-8.
        let text = core::str::from_utf8(&self.buf.text[..need]).map_err(|_| Error::BadParameter)?;
        let scratch = &mut *self.buf.scratch;
        let ids = &mut self.buf.ids[at..];
        let mut n = 0;
        let push = |ids: &mut [u32], id: u32, n: &mut usize| -> Result<()> {
            *ids.get_mut(*n).ok_or(Error::TooManyTokens)? = id;
            *n += 1;
            Ok(())
        };
        push(ids, self.im_start, &mut n)?;
        // Content is never parsed for control tokens: a user cannot forge a turn boundary.
        n += self
            .tok
            .encode_with_scratch(text, false, false, &mut ids[n..], scratch)?;
        push(ids, self.im_end, &mut n)?;
        n += self
            .tok
            .encode_with_scratch("\n", false, false, &mut ids[n..], scratch)?;
        Ok(n)
    }

    /// `<|im_start|>assistant\n` at `ids[at..]`.
    fn render_reply_header(&mut self, at: usize) -> Result<usize> {
        let ids = &mut self.buf.ids[at..];
        *ids.first_mut().ok_or(Error::TooManyTokens)? = self.im_start;
        Ok(1 + self.tok.encode_with_scratch(
            "assistant\n",
            false,
            false,
            &mut ids[1..],
            self.buf.scratch,
        )?)
    }

    /// Drop the oldest remembered turn, re-evaluating what follows it.
    fn drop_oldest(&mut self) -> Result<()> {
        let start = self.turns[0];
        let end = if self.n_turns > 1 {
            self.turns[1]
        } else {
            self.session.pos()
        };
        self.session.discard(start, end - start)?;
        self.turns.copy_within(1..self.n_turns, 0);
        self.n_turns -= 1;
        for t in &mut self.turns[..self.n_turns] {
            *t -= end - start;
        }
        Ok(())
    }

    fn push_turn(&mut self, start: usize) {
        if self.n_turns == MAX_TURNS {
            // Merge the two oldest turns into one unit.
            self.turns.copy_within(2..MAX_TURNS, 1);
            self.n_turns -= 1;
        }
        self.turns[self.n_turns] = start;
        self.n_turns += 1;
    }

    /// One exchange: the user's message, then the reply streamed to `on_text` (which returns
    /// `false` to stop early). At most `max_reply` reply tokens.
    pub fn turn(
        &mut self,
        user: &str,
        max_reply: usize,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<TurnReport> {
        self.turn_with(user, max_reply, &mut TextOnly(on_text))
    }

    /// As [`Chat::turn`], reporting to `sink` when the prompt is evaluated and before each
    /// reply token, so a caller can time the two phases and stop a reply that shows no text.
    pub fn turn_with(
        &mut self,
        user: &str,
        max_reply: usize,
        sink: &mut dyn TurnSink,
    ) -> Result<TurnReport> {
        let ctx = self.session.ctx_len();
        // A message whose ids overflow the buffer is longer than the buffer, so certainly
        // longer than the context when the buffer is the context's length.
        let (cap, room) = (self.buf.ids.len(), ctx - self.keep);
        let too_long = move |e| match e {
            Error::TooManyTokens => Error::TurnTooLong {
                tokens: cap + 1,
                ctx: room,
            },
            e => e,
        };
        let n_msg = self.render("user", user, 0).map_err(too_long)?;
        let n = n_msg + self.render_reply_header(n_msg).map_err(too_long)?;
        if self.keep + n + 1 > ctx {
            return Err(Error::TurnTooLong {
                tokens: n,
                ctx: ctx - self.keep,
            });
        }
        // Room for the prompt and a useful reply: drop whole old turns until it fits.
        let reserve = (ctx / 4).min(max_reply).min(ctx - self.keep - n);
        let mut dropped = 0;
        while self.session.pos() + n + reserve > ctx && self.n_turns > 0 {
            self.drop_oldest()?;
            dropped += 1;
        }
        let start = self.session.pos();
        self.push_turn(start);
        for i in 0..n {
            self.session.eval(self.buf.ids[i])?;
        }

        sink.prompt_done();

        let mut decoder = Decoder::pieces(false);
        let mut go_on = true;
        let mut reply = 0;
        let mut finish = Finish::Length;
        while reply < max_reply {
            if !sink.go_on() {
                finish = Finish::Stopped;
                break;
            }
            let next = self.session.sample(&mut self.sampler)?;
            if next == self.im_end || Some(next) == self.tok.eos() || self.tok.is_control(next) {
                finish = Finish::EndOfTurn;
                break;
            }
            reply += 1;
            decoder.push(self.tok, next, |s| go_on &= sink.text(s))?;
            if !go_on {
                finish = Finish::Stopped;
                break;
            }
            if self.session.pos() == ctx {
                if self.n_turns > 1 {
                    self.drop_oldest()?;
                    dropped += 1;
                } else {
                    finish = Finish::ContextFull;
                    break;
                }
            }
            self.session.eval(next)?;
        }
        decoder.finish(|s| {
            sink.text(s);
        });

        // Close the turn so the next one sees well-formed ChatML.
        let closing = 1 + self.tok.encode_with_scratch(
            "\n",
            false,
            false,
            &mut self.buf.ids[1..],
            self.buf.scratch,
        )?;
        self.buf.ids[0] = self.im_end;
        while self.session.pos() + closing > ctx && self.n_turns > 1 {
            self.drop_oldest()?;
            dropped += 1;
        }
        if self.session.pos() + closing > ctx {
            // This exchange alone fills the context: forget it rather than keep it unclosed.
            self.session.truncate(self.turns[self.n_turns - 1]);
            self.n_turns -= 1;
        } else {
            for i in 0..closing {
                self.session.eval(self.buf.ids[i])?;
            }
        }
        Ok(TurnReport {
            prompt_tokens: n,
            reply_tokens: reply,
            dropped_turns: dropped,
            finish,
        })
    }
}
