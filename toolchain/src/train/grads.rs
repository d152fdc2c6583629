//! Gradients of one optimizer step: accumulated over micro-batches, measured, clipped.
//!
//! They live on the host as `f32` vectors in the optimizer's parameter order, so summing,
//! norms and clipping happen in one fixed order and a rerun gives the same bits.

use candle_core::{backprop::GradStore, Var};

use crate::error::Result;

/// The summed gradients of one step, one slot per parameter (`None`: no gradient yet).
pub struct Grads {
    slots: Vec<Option<Vec<f32>>>,
}

impl Grads {
    pub fn new(n_params: usize) -> Self {
        Grads {
            slots: vec![None; n_params],
        }
    }

    /// Adds `scale ·` the gradients in `store` of `vars` (in the optimizer's order).
    pub fn accumulate<'a>(
        &mut self,
        vars: impl Iterator<Item = &'a Var>,
        store: &GradStore,
        scale: f32,
    ) -> Result<()> {
        for (slot, var) in self.slots.iter_mut().zip(vars) {
            let Some(g) = store.get(var.as_tensor()) else {
                continue;
            };
            let g = g.flatten_all()?.to_vec1::<f32>()?;
            match slot {
                Some(acc) => acc.iter_mut().zip(&g).for_each(|(a, g)| *a += scale * g),
                None => *slot = Some(g.into_iter().map(|g| scale * g).collect()),
            }
        }
        Ok(())
    }

    /// The global L2 norm over every parameter's gradient.
    pub fn norm(&self) -> f64 {
        let sum: f64 = self
            .slots
            .iter()
            .flatten()
            .map(|g| g.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>())
            .sum();
        sum.sqrt()
    }

    /// Scales the gradients so their global norm is at most `max_norm`, given the norm
    /// measured before. Returns whether they were scaled.
    pub fn clip(&mut self, norm: f64, max_norm: f64) -> bool {
        if !(max_norm > 0.0 && norm > max_norm) {
            return false;
        }
        let scale = (max_norm / (norm + 1e-6)) as f32;
        for g in self.slots.iter_mut().flatten() {
            g.iter_mut().for_each(|x| *x *= scale);
        }
        true
    }

    pub fn slots(&self) -> &[Option<Vec<f32>>] {
        &self.slots
    }
}

/// Names of the variables that `store` gives no gradient or an all-zero one: parameters a
/// loss silently fails to train (e.g. behind an op without a backward pass).
pub fn untrained<'a>(
    vars: impl IntoIterator<Item = (&'a str, &'a Var)>,
    store: &GradStore,
) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for (name, var) in vars {
        let zero = match store.get(var.as_tensor()) {
            None => true,
            Some(g) => g.abs()?.max_all()?.to_scalar::<f32>()? == 0.0,
        };
        if zero {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn accumulate_norm_and_clip() {
        let dev = Device::Cpu;
        let a = Var::from_tensor(&Tensor::new(&[1f32, 2.0], &dev).unwrap()).unwrap();
        let b = Var::from_tensor(&Tensor::new(&[3f32], &dev).unwrap()).unwrap();
        let unused = Var::from_tensor(&Tensor::new(&[0f32], &dev).unwrap()).unwrap();
        let vars = [a.clone(), b.clone(), unused.clone()];
        let mut grads = Grads::new(3);
        // loss = Σa² + 2b: grads 2a and 2. Twice with scale 1/2 sums to the same.
        for _ in 0..2 {
            let loss = (a.as_tensor().sqr().unwrap().sum_all().unwrap()
                + b.as_tensor().affine(2.0, 0.0).unwrap().sum_all().unwrap())
            .unwrap();
            grads
                .accumulate(vars.iter(), &loss.backward().unwrap(), 0.5)
                .unwrap();
        }
        assert_eq!(grads.slots()[0].as_deref(), Some(&[2.0f32, 4.0][..]));
        assert_eq!(grads.slots()[1].as_deref(), Some(&[2.0f32][..]));
        assert!(grads.slots()[2].is_none());
        let norm = grads.norm();
        assert!((norm - 24f64.sqrt()).abs() < 1e-9);
        assert!(!grads.clip(norm, 10.0));
        assert!(grads.clip(norm, 1.0));
        assert!((grads.norm() - 1.0).abs() < 1e-5);

        let loss = a.as_tensor().sum_all().unwrap().affine(0.0, 1.0).unwrap();
        let named = [("a", &a), ("b", &b)];
        let missing = untrained(named, &loss.backward().unwrap()).unwrap();
        assert_eq!(missing, ["a", "b"]);
    }
}
