//! One module per `mote` verb.

pub mod annotate;
pub mod bench;
pub mod chat;
pub mod console;
pub mod data;
pub mod dpo;
pub mod eval;
pub mod export;
pub mod flash;
pub mod import;
pub mod init;
pub mod init_random;
pub mod label;
pub mod loaded;
pub mod pipeline;
pub mod ppo;
pub mod pretrain;
pub mod rm;
pub mod run;
pub mod sample;
pub mod sft;
pub mod tokenize;
pub mod tokenizer;
pub mod train_args;
