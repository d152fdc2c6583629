//! Writing GGUF files on the host: a typed, streaming GGUF v3 writer and the llama key set.
//!
//! Reading is the runtime's job ([`mote_runtime::gguf::Gguf::parse`]); everything written
//! here is read back by it and by the `gguf` Python package in the tests.

pub mod llama;
mod value;
mod writer;

#[cfg(test)]
mod tests;

pub use mote_runtime::quant::GgmlType;
pub use value::{MetaArray, MetaValue};
pub use writer::{
    GgufWriter, StreamFn, TensorData, WriteError, ALIGNMENT_KEY, MAX_ALIGNMENT, MAX_ELEMENTS,
    MAX_KEY, MAX_TENSOR_NAME,
};
