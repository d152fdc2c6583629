//! RMSNorm, as ggml's `rms_norm` followed by `mul` with the norm weight.

use crate::math::sqrtf;

/// `out = (x · 1/sqrt(mean(x²) + eps)) · w`: the squares rounded to f32 and summed in f64
/// in order, the mean rounded to f32, then two separate multiplies (ggml's `rms_norm` then
/// `mul`, or their fused form, which rounds the same way).
pub fn rmsnorm(out: &mut [f32], x: &[f32], w: &[u8], eps: f32) {
    let sum: f64 = x.iter().map(|&v| (v * v) as f64).sum();
    let mean = (sum / x.len() as f64) as f32;
    let scale = 1.0 / sqrtf(mean + eps);
    for ((o, &v), c) in out.iter_mut().zip(x).zip(w.chunks_exact(4)) {
        *o = (v * scale) * f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
}
