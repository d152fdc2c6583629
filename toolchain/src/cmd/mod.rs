//! One module per `mote` verb.

pub mod bench;
pub mod chat;
pub mod import;
pub mod init_random;
pub mod loaded;
pub mod run;
pub mod tokenize;
pub mod tokenizer;
