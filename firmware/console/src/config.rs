//! What a board chooses for its console.

use mote_runtime::KvType;

/// Console settings. Start from [`ConsoleConfig::DEFAULT`] and change what the board needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConsoleConfig {
    /// Positions the KV cache holds.
    pub ctx_len: usize,
    /// Reply tokens per turn at most.
    pub max_reply: usize,
    /// Sampling temperature; 0 is greedy. `/temp` changes it.
    pub temperature: f32,
    /// Nucleus sampling mass in (0, 1].
    pub top_p: f32,
    /// Keep the `top_k` most likely tokens; 0 keeps all.
    pub top_k: usize,
    /// PRNG seed; `/seed` changes it.
    pub seed: u64,
    /// System prompt at start-up; `/system` replaces it.
    pub system: Option<&'static str>,
    /// Size of the model image in flash, shown by `/stats` (0: the weights' size).
    pub model_bytes: usize,
    /// Bytes of one typed line (at most 65535).
    pub line_len: usize,
    /// Bytes of the last reply kept for `/good`, `/bad` and `/better` (at most 65535).
    pub reply_bytes: usize,
    /// Bytes of the feedback ring.
    pub feedback_bytes: usize,
    /// Element type of the KV cache (F16 or Q8 halve or quarter its memory).
    pub kv_type: KvType,
}

impl ConsoleConfig {
    /// A 256-position f32 context, 128-token replies, 256-byte lines, a 1 KiB reply and a
    /// 2 KiB feedback ring.
    pub const DEFAULT: ConsoleConfig = ConsoleConfig {
        ctx_len: 256,
        max_reply: 128,
        temperature: 0.8,
        top_p: 0.95,
        top_k: 40,
        seed: 0,
        system: None,
        model_bytes: 0,
        line_len: 256,
        reply_bytes: 1024,
        feedback_bytes: 2048,
        kv_type: KvType::F32,
    };
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}
