//! Rotary position embedding, NORM convention (llama: adjacent pairs).

use crate::math::{cosf, fmaf, powf, sinf};

/// Rotate adjacent pairs `(x[2i], x[2i+1])` of each head's first `rope_dims` values by
/// `pos · base^(−2i/rope_dims)`, as ggml's `rope` (no scaling, `ext_factor` 0).
///
/// The angle advances by repeated f32 multiplication from `pos`, as ggml's rope cache does.
/// The rotation is what llama.cpp's build of `rotate_pairs` computes for llama's in-place
/// rope (the compiler contracted it into FMAs):
/// `x0' = x0·cos − round(x1·sin)` and `x1' = sin·x0 + round(cos·x1)`, each with one rounding
/// at the end.
pub fn rope(x: &mut [f32], head_dim: usize, rope_dims: usize, pos: usize, base: f32) {
    if head_dim == 0 {
        return;
    }
    let mut angles = Angles::new(rope_dims, pos, base);
    for i in (0..pairs(head_dim, rope_dims)).map(|p| 2 * p) {
        let (c, s) = angles.next_pair();
        for head in x.chunks_exact_mut(head_dim) {
            rotate(head, i, c, s);
        }
    }
}

/// Number of rotated pairs per head.
pub fn pairs(head_dim: usize, rope_dims: usize) -> usize {
    rope_dims.min(head_dim) / 2
}

/// The cos and sin of every rotated pair's angle at `pos` into `cs` (`2 ·`
/// [`pairs`] values: `cos, sin` per pair), for [`rope_rotate`]. One table serves the
/// queries and keys of every layer at that position.
pub fn rope_angles(cs: &mut [f32], head_dim: usize, rope_dims: usize, pos: usize, base: f32) {
    let mut angles = Angles::new(rope_dims, pos, base);
    for pair in cs.chunks_exact_mut(2).take(pairs(head_dim, rope_dims)) {
        let (c, s) = angles.next_pair();
        pair[0] = c;
        pair[1] = s;
    }
}

/// [`rope`] with the angles from [`rope_angles`]: the same bits. (Kernel tables compile it
/// for their instruction set: [`super::AttnKernels::rope_rotate`].)
#[inline(always)]
pub fn rope_rotate(x: &mut [f32], head_dim: usize, cs: &[f32]) {
    if head_dim == 0 {
        return;
    }
    let pairs = cs.chunks_exact(2).take(head_dim / 2);
    for head in x.chunks_exact_mut(head_dim) {
        for (p, pair) in pairs.clone().enumerate() {
            rotate(head, 2 * p, pair[0], pair[1]);
        }
    }
}

#[inline(always)]
fn rotate(head: &mut [f32], i: usize, c: f32, s: f32) {
    let (x0, x1) = (head[i], head[i + 1]);
    head[i] = fmaf(x0, c, -(x1 * s));
    head[i + 1] = fmaf(s, x0, c * x1);
}

/// The angle sequence of one position: ggml's rope cache advances it by repeated f32
/// multiplication.
struct Angles {
    theta: f32,
    scale: f32,
}

impl Angles {
    fn new(rope_dims: usize, pos: usize, base: f32) -> Self {
        Angles {
            theta: pos as f32,
            scale: powf(base, -2.0 / rope_dims as f32),
        }
    }

    fn next_pair(&mut self) -> (f32, f32) {
        let cs = (cosf(self.theta), sinf(self.theta));
        self.theta *= self.scale;
        cs
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use std::{vec, vec::Vec};

    #[test]
    fn matches_llama_cpp_rope() {
        // Head 0 of ref-tiny-f16's layer-0 query at position 2 (head_dim 16, base 10000),
        // before and after llama.cpp's rope; 4 of the 8 pairs differ if the rotation is not
        // fused the way llama.cpp's build fuses it. (cos/sin/pow come from the platform libm,
        // as in llama.cpp, hence `std`.)
        let x: [u32; 16] = [
            0x406d9a2e, 0x3ec906f8, 0xc03dcfb6, 0xbfb7ddae, 0x400fb1f2, 0xc057f193, 0x3f5f63fc,
            0x3e44107a, 0xbf201690, 0xbd7987e8, 0x3fa8285c, 0x4040b1db, 0xbf82e191, 0x3d827828,
            0xbf4291f0, 0x3eb0d91c,
        ];
        let want: [u32; 16] = [
            0xbff37408, 0x404d9812, 0xbfc581e2, 0xc03a5a92, 0x4037bb6e, 0xc0371763, 0x3f5bd890,
            0x3e7c2607, 0xbf1fbe86, 0xbd965a57, 0x3fa5b786, 0x404138ff, 0xbf82e5ac, 0x3d7c8fd3,
            0xbf42a03f, 0x3eb09a19,
        ];
        let mut v = x.map(f32::from_bits);
        rope(&mut v, 16, 16, 2, 10000.0);
        assert_eq!(v.map(f32::to_bits), want);
    }

    #[test]
    fn the_angle_table_gives_the_same_bits() {
        let mut seed = 0x9e37_79b9u32;
        for (hd, rd, pos) in [
            (16, 16, 0),
            (48, 48, 7),
            (32, 24, 100),
            (6, 4, 3),
            (5, 9, 1),
        ] {
            let x: Vec<f32> = (0..hd * 3)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 8) as f32 / (1u32 << 23) as f32 - 1.0
                })
                .collect();
            let (mut a, mut b) = (x.clone(), x);
            rope(&mut a, hd, rd, pos, 10000.0);
            let mut cs = vec![0.0; 2 * pairs(hd, rd)];
            rope_angles(&mut cs, hd, rd, pos, 10000.0);
            rope_rotate(&mut b, hd, &cs);
            assert_eq!(
                a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                b.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "head_dim {hd}, rope_dims {rd}, pos {pos}"
            );
        }
    }

    #[test]
    fn partial_rotation_and_odd_sizes_do_not_panic() {
        let mut v = [1.0f32; 12];
        rope(&mut v, 6, 4, 3, 10000.0); // last pair of each head untouched
        assert_eq!(v[4..6], [1.0, 1.0]);
        rope(&mut v, 5, 9, 1, 10000.0);
        rope(&mut v, 12, 0, 1, 10000.0);
        rope(&mut v, 0, 2, 1, 10000.0);
    }
}
