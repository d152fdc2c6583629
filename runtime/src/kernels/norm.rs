//! Element-wise and reduction ops, in ggml's order of operations.

use crate::math::{cosf, expf, powf, sinf, sqrtf};

/// `out = (x · 1/sqrt(mean(x²) + eps)) · w`, the sum of squares in f64 as ggml does.
pub fn rmsnorm(out: &mut [f32], x: &[f32], w: &[u8], eps: f32) {
    let sum: f64 = x.iter().map(|&v| (v * v) as f64).sum();
    let mean = (sum / x.len() as f64) as f32;
    let scale = 1.0 / sqrtf(mean + eps);
    for ((o, &v), c) in out.iter_mut().zip(x).zip(w.chunks_exact(4)) {
        *o = (v * scale) * f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
}

/// RoPE, NORM convention: rotate adjacent pairs `(x[2i], x[2i+1])` of each head's first
/// `rope_dims` values by `pos · base^(−2i/rope_dims)`; the angle advances by repeated
/// multiplication, as ggml's rope cache does.
pub fn rope(x: &mut [f32], head_dim: usize, rope_dims: usize, pos: usize, base: f32) {
    let theta_scale = powf(base, -2.0 / rope_dims as f32);
    let mut theta = pos as f32;
    for i in (0..rope_dims).step_by(2) {
        let (c, s) = (cosf(theta), sinf(theta));
        for head in x.chunks_exact_mut(head_dim) {
            let (x0, x1) = (head[i], head[i + 1]);
            head[i] = x0 * c - x1 * s;
            head[i + 1] = x0 * s + x1 * c;
        }
        theta *= theta_scale;
    }
}

/// In-place softmax; the normaliser summed in f64.
pub fn softmax(x: &mut [f32]) {
    let max = x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0f64;
    for v in x.iter_mut() {
        *v = expf(*v - max);
        sum += *v as f64;
    }
    let inv = (1.0 / sum) as f32;
    x.iter_mut().for_each(|v| *v *= inv);
}

/// SwiGLU: `gate = silu(gate) · up`.
pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    for (g, &u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + expf(-*g)) * u;
    }
}
