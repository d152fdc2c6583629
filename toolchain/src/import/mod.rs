//! Importers: models made elsewhere → the mote GGUF contract (DESIGN §4).

pub mod gguf;
pub mod llama2c;

pub use llama2c::{import_llama2c, ImportReport, Llama2cConfig};
