//! Next-token cross-entropy over a mask, as one fused op with a backward pass.

use candle_core::{DType, Tensor};

use crate::error::{Error, Result};
use crate::model::fused::weighted_cross_entropy;

/// Mean of `−log p(target)` over the positions where `mask` is 1.
///
/// `logits`: (B, T, V) f32; `targets`: (B, T) u32; `mask`: (B, T) f32 of 0/1.
pub fn masked_cross_entropy(logits: &Tensor, targets: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let (b, t, _) = logits.dims3()?;
    if targets.dims() != [b, t] || mask.dims() != [b, t] {
        return Err(Error::TrainConfig(format!(
            "logits {:?}, targets {:?} and mask {:?} disagree",
            logits.dims(),
            targets.dims(),
            mask.dims()
        )));
    }
    let mask = mask.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    let count: f32 = mask.iter().sum();
    if count == 0.0 {
        return Err(Error::TrainConfig("loss mask selects no position".into()));
    }
    let weights = mask.iter().map(|m| m * (1.0 / count)).collect();
    let targets = targets
        .to_dtype(DType::U32)?
        .flatten_all()?
        .to_vec1::<u32>()?;
    Ok(weighted_cross_entropy(logits, targets, weights)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn equals_cross_entropy_on_unmasked_positions_and_has_gradients() {
        let dev = Device::Cpu;
        let data: Vec<f32> = (0..2 * 3 * 5)
            .map(|i| ((i * 7) % 11) as f32 * 0.3 - 1.0)
            .collect();
        let logits = Var::from_tensor(&Tensor::from_vec(data, (2, 3, 5), &dev).unwrap()).unwrap();
        let targets = Tensor::new(&[[1u32, 4, 0], [2, 2, 3]], &dev).unwrap();
        let mask = Tensor::new(&[[1f32, 0.0, 1.0], [0.0, 1.0, 1.0]], &dev).unwrap();
        let loss = masked_cross_entropy(&logits, &targets, &mask).unwrap();

        // The same four positions through candle_nn's cross_entropy.
        let flat = logits.as_tensor().reshape((6, 5)).unwrap();
        let keep = Tensor::new(&[0u32, 2, 4, 5], &dev).unwrap();
        let reference = candle_nn::loss::cross_entropy(
            &flat.index_select(&keep, 0).unwrap(),
            &Tensor::new(&[1u32, 0, 2, 3], &dev).unwrap(),
        )
        .unwrap();
        let (a, b) = (
            loss.to_scalar::<f32>().unwrap(),
            reference.to_scalar::<f32>().unwrap(),
        );
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");

        let g = loss.backward().unwrap();
        let g = g.get(logits.as_tensor()).unwrap().to_vec3::<f32>().unwrap();
        // Masked positions get no gradient; kept ones do.
        assert!(g[0][1].iter().all(|&x| x == 0.0));
        assert!(g[0][0].iter().any(|&x| x != 0.0));
    }
}
