//! The last exchange (user message and reply), kept for `/good`, `/bad` and `/better`.

pub(crate) struct LastTurn<'a> {
    prompt: &'a mut [u8],
    prompt_len: usize,
    reply: &'a mut [u8],
    reply_len: usize,
    /// The reply was longer than its buffer.
    reply_cut: bool,
    /// There is a finished reply to rate.
    valid: bool,
}

impl<'a> LastTurn<'a> {
    pub fn new(prompt: &'a mut [u8], reply: &'a mut [u8]) -> Self {
        LastTurn {
            prompt,
            prompt_len: 0,
            reply,
            reply_len: 0,
            reply_cut: false,
            valid: false,
        }
    }

    /// Start a turn with the user's message (cut to the buffer, which holds a whole line).
    pub fn begin(&mut self, prompt: &str) {
        let n = prompt.len().min(self.prompt.len());
        self.prompt[..n].copy_from_slice(&prompt.as_bytes()[..n]);
        self.prompt_len = n;
        self.reply_len = 0;
        self.reply_cut = false;
        self.valid = false;
    }

    pub fn push_reply(&mut self, text: &str) {
        let end = self.reply_len + text.len();
        match self.reply.get_mut(self.reply_len..end) {
            Some(dst) => {
                dst.copy_from_slice(text.as_bytes());
                self.reply_len = end;
            }
            None => self.reply_cut = true,
        }
    }

    /// The reply is complete and may be rated.
    pub fn finish(&mut self) {
        self.valid = true;
    }

    /// Nothing to rate any more (e.g. the system prompt changed).
    pub fn forget(&mut self) {
        self.valid = false;
    }

    pub fn is_rateable(&self) -> bool {
        self.valid
    }

    pub fn reply_cut(&self) -> bool {
        self.reply_cut
    }

    pub fn reply_capacity(&self) -> usize {
        self.reply.len()
    }

    pub fn prompt(&self) -> &[u8] {
        &self.prompt[..self.prompt_len]
    }

    pub fn reply(&self) -> &[u8] {
        &self.reply[..self.reply_len]
    }
}
