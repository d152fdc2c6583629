//! The tensor type table, as ggml's `type_traits`: block geometry per type.

use crate::error::{Error, Result};

/// Tensor element types this runtime runs. Discriminants are ggml's type ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum GgmlType {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
    Q6K = 14,
    Q8K = 15,
}

/// Block geometry of one type.
#[derive(Debug, Clone, Copy)]
pub struct TypeTraits {
    pub name: &'static str,
    /// Elements per block.
    pub block_size: usize,
    /// Bytes per block.
    pub type_size: usize,
    /// The type activations are converted to before a dot product with this type.
    pub vec_dot_type: GgmlType,
}

impl GgmlType {
    pub fn from_id(id: u32) -> Result<Self> {
        Ok(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            8 => GgmlType::Q8_0,
            14 => GgmlType::Q6K,
            15 => GgmlType::Q8K,
            _ => return Err(Error::UnknownTensorType(id)),
        })
    }

    pub const fn traits(self) -> TypeTraits {
        use super::blocks::{BlockQ4_0, BlockQ6K, BlockQ8K, BlockQ8_0, QK8_0, QK_K};
        match self {
            GgmlType::F32 => TypeTraits {
                name: "f32",
                block_size: 1,
                type_size: 4,
                vec_dot_type: GgmlType::F32,
            },
            GgmlType::F16 => TypeTraits {
                name: "f16",
                block_size: 1,
                type_size: 2,
                vec_dot_type: GgmlType::F16,
            },
            GgmlType::Q4_0 => TypeTraits {
                name: "q4_0",
                block_size: QK8_0,
                type_size: core::mem::size_of::<BlockQ4_0>(),
                vec_dot_type: GgmlType::Q8_0,
            },
            GgmlType::Q8_0 => TypeTraits {
                name: "q8_0",
                block_size: QK8_0,
                type_size: core::mem::size_of::<BlockQ8_0>(),
                vec_dot_type: GgmlType::Q8_0,
            },
            GgmlType::Q6K => TypeTraits {
                name: "q6_K",
                block_size: QK_K,
                type_size: core::mem::size_of::<BlockQ6K>(),
                vec_dot_type: GgmlType::Q8K,
            },
            GgmlType::Q8K => TypeTraits {
                name: "q8_K",
                block_size: QK_K,
                type_size: core::mem::size_of::<BlockQ8K>(),
                vec_dot_type: GgmlType::Q8K,
            },
        }
    }

    pub const fn block_size(self) -> usize {
        self.traits().block_size
    }

    pub const fn type_size(self) -> usize {
        self.traits().type_size
    }

    /// Bytes of one row of `n` elements, `None` if `n` is not whole blocks or overflows.
    pub fn row_bytes(self, n: usize) -> Option<usize> {
        let t = self.traits();
        if !n.is_multiple_of(t.block_size) {
            return None;
        }
        (n / t.block_size).checked_mul(t.type_size)
    }

    pub fn is_quantized(self) -> bool {
        !matches!(self, GgmlType::F32 | GgmlType::F16)
    }
}
