//! `mote label`: a local web page where people rank sampled answers, write ideal answers,
//! correct answers and critique them; and the statistics of what they wrote.
//!
//! - [`items`]: the samples file (`mote sample` output, or `{"prompt","completions"}`)
//!   read into items with stable content ids;
//! - [`labeler`]: labeler names, the only user input that becomes a path;
//! - [`journal`]: append-only JSONL files, fsynced per record, with an atomic undo;
//! - [`records`]: the lines written, in the formats `mote rm` and `mote sft` read;
//! - [`store`]: each labeler's files and progress, rebuilt from them on start;
//! - [`server`] and [`guard`]: the HTTP API and page, and what protects them;
//! - [`stats`]: counts per labeler and inter-annotator agreement.

pub mod error;
pub mod guard;
pub mod items;
pub mod journal;
pub mod labeler;
pub mod records;
pub mod server;
pub mod stats;
pub mod store;

pub use error::{LabelError, LabelResult};
pub use server::{serve, ServeOptions};
pub use stats::{label_stats, LabelStats};
