//! Differentiable building blocks. candle's fused `rms_norm`, `rope` and `sdpa` have no
//! backward pass (and raise no error), so training uses these primitive-op versions.

use std::sync::Arc;

use candle_core::{DType, Device, Result, Tensor, D};

use super::fused::RopeTables;

/// `x / sqrt(mean(x²) + eps) · w` over the last dimension.
pub fn rms_norm(x: &Tensor, w: &Tensor, eps: f64) -> Result<Tensor> {
    let ms = x.sqr()?.mean_keepdim(D::Minus1)?;
    let inv = (ms + eps)?.sqrt()?.recip()?;
    x.broadcast_mul(&inv)?.broadcast_mul(w)
}

/// Rotary position embedding in Hugging Face's rotate-half layout: a head's first half
/// pairs with its second half. (GGUF files pair adjacent values; the converters permute
/// q/k rows between the two.)
#[derive(Debug, Clone)]
pub struct Rope {
    cos: Tensor,
    sin: Tensor,
    tables: RopeTables,
}

impl Rope {
    /// Tables for positions `0..max_pos` and heads of `head_dim` values. The angles are
    /// computed as ggml and mote-runtime do (a running product of f32 frequencies), so the
    /// trained model and the exported file rotate by the same angles.
    pub fn new(head_dim: usize, max_pos: usize, theta: f64, dev: &Device) -> Result<Self> {
        let half = head_dim / 2;
        let scale = (theta as f32).powf(-2.0 / head_dim as f32);
        let mut cos = vec![0f32; max_pos * head_dim];
        let mut sin = vec![0f32; max_pos * head_dim];
        for p in 0..max_pos {
            let row = p * head_dim;
            let mut a = p as f32;
            for i in 0..half {
                let (c, s) = (a.cos(), a.sin());
                cos[row + i] = c;
                cos[row + half + i] = c;
                sin[row + i] = s;
                sin[row + half + i] = s;
                a *= scale;
            }
        }
        Ok(Rope {
            cos: Tensor::from_slice(&cos, (max_pos, head_dim), dev)?,
            sin: Tensor::from_slice(&sin, (max_pos, head_dim), dev)?,
            tables: RopeTables {
                cos: Arc::new(cos),
                sin: Arc::new(sin),
                head_dim,
            },
        })
    }

    /// Rotate `x` of shape `[batch, heads, seq, head_dim]` for positions `start..start+seq`.
    pub fn apply(&self, x: &Tensor, start: usize) -> Result<Tensor> {
        let (_, _, t, hd) = x.dims4()?;
        let cos = self.cos.narrow(0, start, t)?;
        let sin = self.sin.narrow(0, start, t)?;
        let half = hd / 2;
        let x1 = x.narrow(D::Minus1, 0, half)?;
        let x2 = x.narrow(D::Minus1, half, half)?;
        let rotated = Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)?;
        x.broadcast_mul(&cos)?.add(&rotated.broadcast_mul(&sin)?)
    }

    /// The same tables on the host, for [`super::fused::rope_heads`].
    pub fn tables(&self) -> &RopeTables {
        &self.tables
    }

    pub fn max_positions(&self) -> usize {
        self.cos.dim(0).unwrap_or(0)
    }
}

/// `[t, t]` additive mask: 0 on and below the diagonal, −∞ above.
pub fn causal_mask(t: usize, dev: &Device) -> Result<Tensor> {
    let v: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(v, (t, t), dev)?.to_dtype(DType::F32)
}
