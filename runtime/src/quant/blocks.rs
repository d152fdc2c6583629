//! Quantization block layouts, bit-compatible with ggml-common.h.

use half::f16;

/// Elements per Q8_0 / Q4_0 block.
pub const QK8_0: usize = 32;
/// Elements per k-quant super-block.
pub const QK_K: usize = 256;

/// Q8_0: `d · q[i]`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct BlockQ8_0 {
    pub d: f16,
    pub qs: [i8; QK8_0],
}

/// Q4_0: element j is the low nibble of `qs[j]`, element j+16 the high nibble; value `(nib − 8)·d`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct BlockQ4_0 {
    pub d: f16,
    pub qs: [u8; QK8_0 / 2],
}

/// Q6_K: 6-bit quants in 16 groups of 16, each group with an i8 scale, one f16 super-scale.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct BlockQ6K {
    /// Low 4 bits of each quant.
    pub ql: [u8; QK_K / 2],
    /// High 2 bits of each quant.
    pub qh: [u8; QK_K / 4],
    pub scales: [i8; QK_K / 16],
    pub d: f16,
}

/// Q8_K: activation format for k-quant dot products (f32 scale, per-16 sums).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct BlockQ8K {
    pub d: f32,
    pub qs: [i8; QK_K],
    pub bsums: [i16; QK_K / 16],
}

const _: () = assert!(core::mem::size_of::<BlockQ8_0>() == 34);
const _: () = assert!(core::mem::size_of::<BlockQ4_0>() == 18);
const _: () = assert!(core::mem::size_of::<BlockQ6K>() == 210);
const _: () = assert!(core::mem::size_of::<BlockQ8K>() == 292);
const _: () = assert!(core::mem::align_of::<BlockQ8_0>() == 2);
const _: () = assert!(core::mem::align_of::<BlockQ4_0>() == 2);
const _: () = assert!(core::mem::align_of::<BlockQ6K>() == 2);

impl BlockQ8_0 {
    pub const ZERO: Self = BlockQ8_0 {
        d: f16::ZERO,
        qs: [0; QK8_0],
    };
}

impl BlockQ8K {
    pub const ZERO: Self = BlockQ8K {
        d: 0.0,
        qs: [0; QK_K],
        bsums: [0; QK_K / 16],
    };
}
