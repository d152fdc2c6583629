//! Measuring models: perplexity of checkpoints (candle) and GGUF files (mote-runtime).

pub mod ppl;

pub use ppl::{
    ppl_candle, ppl_runtime, read_docs, token_windows, tokenize_hf, tokenize_runtime, Perplexity,
};
pub mod world;

pub use world::{eval_world, WorldEvalConfig, WorldReport};
