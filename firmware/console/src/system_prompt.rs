//! The system prompt in force: the board's static one, or one typed with `/system`.

pub(crate) struct SystemPrompt<'a> {
    /// From [`crate::ConsoleConfig::system`].
    fixed: Option<&'static str>,
    /// Holds a typed prompt.
    buf: &'a mut [u8],
    /// Length of the typed prompt, when one replaced the fixed one (0: none at all).
    typed: Option<usize>,
}

impl<'a> SystemPrompt<'a> {
    pub fn new(fixed: Option<&'static str>, buf: &'a mut [u8]) -> Self {
        SystemPrompt {
            fixed,
            buf,
            typed: None,
        }
    }

    pub fn get(&self) -> Option<&str> {
        match self.typed {
            None => self.fixed,
            Some(0) => None,
            // Copied from a `&str` in `set`, so the check never fails.
            Some(n) => core::str::from_utf8(&self.buf[..n]).ok(),
        }
    }

    /// Replace the prompt; `None` or one longer than the buffer (a typed line never is)
    /// leaves none.
    pub fn set(&mut self, text: Option<&str>) {
        let text = text.unwrap_or("");
        let n = match self.buf.get_mut(..text.len()) {
            Some(dst) => {
                dst.copy_from_slice(text.as_bytes());
                text.len()
            }
            None => 0,
        };
        self.typed = Some(n);
    }
}
