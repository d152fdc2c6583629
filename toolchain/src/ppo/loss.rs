//! PPO's per-token quantities and losses, over padded `[batch, len]` tensors with a 0/1
//! mask selecting response tokens.

use candle_core::{Tensor, D};

use crate::error::{Error, Result};

/// `log p(target)` at temperature `t` for every position: `[B, L, V]` logits and `[B, L]`
/// u32 targets give `[B, L]`. Built from ops with a backward pass.
pub fn token_logprobs(logits: &Tensor, targets: &Tensor, t: f64) -> Result<Tensor> {
    let scaled = (logits / t)?;
    let lp = candle_nn::ops::log_softmax(&scaled, D::Minus1)?;
    Ok(lp.gather(&targets.unsqueeze(2)?, 2)?.squeeze(2)?)
}

/// Mean of `x` over the positions where `mask` is 1.
pub fn masked_mean(x: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let n = mask.sum_all()?.to_scalar::<f32>()?;
    if n == 0.0 {
        return Err(Error::TrainConfig("the mask selects no token".into()));
    }
    Ok(((x * mask)?.sum_all()? / n as f64)?)
}

fn scalar(t: &Tensor) -> Result<f32> {
    Ok(t.to_scalar::<f32>()?)
}

/// The clipped surrogate and what it tells about the update.
pub struct PolicyLoss {
    /// `mean(max(−A·r, −A·clip(r, 1−ε, 1+ε)))`, `r = exp(logp − old)`.
    pub loss: Tensor,
    /// Fraction of tokens where the clipped term was the larger one.
    pub clipfrac: f32,
    /// `mean(½·(logp − old)²)`.
    pub approx_kl: f32,
}

pub fn policy_loss(
    logp: &Tensor,
    old: &Tensor,
    adv: &Tensor,
    mask: &Tensor,
    clip: f64,
) -> Result<PolicyLoss> {
    let log_ratio = (logp - old)?;
    let ratio = log_ratio.exp()?;
    let un = (adv.neg()? * &ratio)?;
    let clipped = (adv.neg()? * ratio.clamp(1.0 - clip, 1.0 + clip)?)?;
    let loss = masked_mean(&un.maximum(&clipped)?, mask)?;
    let was_clipped = clipped.gt(&un)?.to_dtype(candle_core::DType::F32)?;
    let clipfrac = scalar(&masked_mean(&was_clipped, mask)?)?;
    let approx_kl = scalar(&masked_mean(&(log_ratio.detach().sqr()? * 0.5)?, mask)?)?;
    Ok(PolicyLoss {
        loss,
        clipfrac,
        approx_kl,
    })
}

/// The clipped value loss `½·mean(max((V − R)², (V_old + clip(V − V_old, ±ε) − R)²))` and
/// the fraction of tokens where the clipped term was the larger one.
pub fn value_loss(
    values: &Tensor,
    old: &Tensor,
    returns: &Tensor,
    mask: &Tensor,
    clip: f64,
) -> Result<(Tensor, f32)> {
    let un = (values - returns)?.sqr()?;
    let v_clip = (old + (values - old)?.clamp(-clip, clip)?)?;
    let clipped = (v_clip - returns)?.sqr()?;
    let loss = (masked_mean(&un.maximum(&clipped)?, mask)? * 0.5)?;
    let was = clipped.gt(&un)?.to_dtype(candle_core::DType::F32)?;
    Ok((loss, scalar(&masked_mean(&was, mask)?)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn t(v: &[f32]) -> Tensor {
        Tensor::from_slice(v, (1, v.len()), &Device::Cpu).unwrap()
    }

    #[test]
    fn clipped_policy_loss_by_hand() {
        // Ratios e^0.5 ≈ 1.6487 (A = 1: clipped at 1.2), e^−0.5 ≈ 0.6065 (A = 1: not
        // clipped, the unclipped −0.6065 is larger), 1 (A = −2), last position masked.
        let lp = Var::from_tensor(&t(&[0.5, -0.5, 0.0, 3.0])).unwrap();
        let old = t(&[0.0, 0.0, 0.0, 0.0]);
        let adv = t(&[1.0, 1.0, -2.0, 100.0]);
        let mask = t(&[1.0, 1.0, 1.0, 0.0]);
        let p = policy_loss(lp.as_tensor(), &old, &adv, &mask, 0.2).unwrap();
        let r1 = (-0.5f32).exp();
        let expect = (-1.2 - r1 + 2.0) / 3.0;
        let got = p.loss.to_scalar::<f32>().unwrap();
        assert!((got - expect).abs() < 1e-6, "{got} vs {expect}");
        assert!((p.clipfrac - 1.0 / 3.0).abs() < 1e-6);
        assert!((p.approx_kl - 0.25 / 3.0).abs() < 1e-6);
        // The clipped token gets no gradient; the others −A·r/3.
        let g = p.loss.backward().unwrap();
        let g = g.get(lp.as_tensor()).unwrap().to_vec2::<f32>().unwrap();
        assert!(g[0][0].abs() < 1e-7, "{g:?}");
        assert!((g[0][1] + r1 / 3.0).abs() < 1e-6, "{g:?}");
        assert!((g[0][2] - 2.0 / 3.0).abs() < 1e-6, "{g:?}");
        assert_eq!(g[0][3], 0.0);
    }

    #[test]
    fn clipped_value_loss_by_hand() {
        // V − V_old = 0.5 (clipped to 0.2), −0.1, 0.
        let v = t(&[1.5, 0.9, 2.0]);
        let old = t(&[1.0, 1.0, 2.0]);
        let ret = t(&[3.0, 0.0, 1.0]);
        let mask = t(&[1.0, 1.0, 1.0]);
        let (l, frac) = value_loss(&v, &old, &ret, &mask, 0.2).unwrap();
        // Token 0: unclipped (1.5−3)² = 2.25, clipped (1.2−3)² = 3.24 → 3.24.
        // Token 1: (0.9)² = 0.81 either way. Token 2: 1.
        let expect = 0.5 * (3.24 + 0.81 + 1.0) / 3.0;
        assert!((l.to_scalar::<f32>().unwrap() - expect).abs() < 1e-5);
        assert!((frac - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn logprobs_at_temperature() {
        let logits = Tensor::from_slice(&[1f32, 2.0, 3.0], (1, 1, 3), &Device::Cpu).unwrap();
        let tg = Tensor::from_slice(&[2u32], (1, 1), &Device::Cpu).unwrap();
        let lp = token_logprobs(&logits, &tg, 2.0)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let z: f32 = [0.5f32, 1.0, 1.5].iter().map(|x| x.exp()).sum();
        assert!((lp[0][0] - (1.5 - z.ln())).abs() < 1e-6);
    }
}
