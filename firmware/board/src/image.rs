//! Finding a model image's length when all the board knows is where it starts.
//!
//! A board that gets its model as a separate image (qemu-virt's "flash" is RAM that QEMU's
//! loader fills) only knows the region the image may occupy. A GGUF file says where its
//! last tensor ends, so the file is its own header: no wrapper format is needed.

use mote_runtime::{Gguf, Result};

/// The length of the GGUF file at the start of `region` (which may extend past it), from
/// its header: the end of the furthest tensor, or of the header if it has no tensors.
pub fn gguf_len(region: &[u8]) -> Result<usize> {
    let g = Gguf::parse(region)?;
    let end = g
        .tensors()
        .map(|t| t.file_offset + t.data.len())
        .fold(g.data_offset(), usize::max);
    Ok(end.min(region.len()))
}

/// The GGUF file at the start of `region`, cut to its own length.
pub fn model_in_region(region: &[u8]) -> Result<&[u8]> {
    Ok(&region[..gguf_len(region)?])
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// A minimal valid GGUF v3 file: one u32 key, one f32 tensor of 8 values.
    fn tiny_gguf() -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(b"GGUF");
        f.extend_from_slice(&3u32.to_le_bytes());
        f.extend_from_slice(&1u64.to_le_bytes()); // tensors
        f.extend_from_slice(&1u64.to_le_bytes()); // metadata keys
        let key = b"general.alignment";
        f.extend_from_slice(&(key.len() as u64).to_le_bytes());
        f.extend_from_slice(key);
        f.extend_from_slice(&4u32.to_le_bytes()); // u32
        f.extend_from_slice(&32u32.to_le_bytes());
        let name = b"t";
        f.extend_from_slice(&(name.len() as u64).to_le_bytes());
        f.extend_from_slice(name);
        f.extend_from_slice(&1u32.to_le_bytes()); // dims
        f.extend_from_slice(&8u64.to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes()); // f32
        f.extend_from_slice(&0u64.to_le_bytes()); // offset in data
        while f.len() % 32 != 0 {
            f.push(0);
        }
        f.extend((0..32u8).map(|b| b.wrapping_mul(7)));
        f
    }

    #[test]
    fn length_comes_from_the_header() {
        let file = tiny_gguf();
        let mut region = file.clone();
        region.resize(file.len() + 4096, 0);
        assert_eq!(gguf_len(&region).unwrap(), file.len());
        assert_eq!(model_in_region(&region).unwrap(), &file[..]);
    }

    #[test]
    fn an_empty_region_is_not_a_model() {
        assert!(gguf_len(&[0u8; 256]).is_err());
    }
}
