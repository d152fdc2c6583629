//! AdamW with decoupled weight decay, its moments kept as plain `f32` vectors so a
//! checkpoint can save and restore them exactly.
//!
//! One step, for a parameter θ with gradient g at update t (1-based):
//!
//! ```text
//! m ← β1·m + (1−β1)·g          v ← β2·v + (1−β2)·g²
//! m̂ = m / (1−β1^t)             v̂ = v / (1−β2^t)
//! θ ← θ·(1 − lr·wd) − lr · m̂ / (√v̂ + ε)        (wd = 0 for excluded parameters)
//! ```

use std::path::Path;

use candle_core::{DType, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// AdamW hyper-parameters (the learning rate comes from the schedule at each step).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamWParams {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWParams {
    fn default() -> Self {
        AdamWParams {
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.1,
        }
    }
}

/// The usual exclusion: norm weights and biases are not decayed.
pub fn decay_by_default(name: &str) -> bool {
    !(name.contains("norm") || name.ends_with(".bias") || name.ends_with("_bias"))
}

/// One trainable parameter and its moments.
struct Slot {
    name: String,
    var: Var,
    decay: bool,
    m: Vec<f32>,
    v: Vec<f32>,
}

/// AdamW over named `f32` variables, in a fixed (name-sorted) order.
pub struct AdamW {
    params: AdamWParams,
    slots: Vec<Slot>,
    /// Updates applied so far.
    t: u64,
}

impl AdamW {
    /// `vars` must be `f32` and uniquely named; `decay(name)` says whether weight decay applies.
    pub fn new(
        mut vars: Vec<(String, Var)>,
        params: AdamWParams,
        decay: impl Fn(&str) -> bool,
    ) -> Result<Self> {
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = vars.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::TrainConfig(format!(
                "parameter `{}` given twice",
                w[0].0
            )));
        }
        let mut slots = Vec::with_capacity(vars.len());
        for (name, var) in vars {
            if var.dtype() != DType::F32 {
                return Err(Error::TrainConfig(format!(
                    "parameter `{name}` is {:?}; training needs f32",
                    var.dtype()
                )));
            }
            let n = var.elem_count();
            slots.push(Slot {
                decay: decay(&name),
                name,
                var,
                m: vec![0.0; n],
                v: vec![0.0; n],
            });
        }
        Ok(AdamW {
            params,
            slots,
            t: 0,
        })
    }

    /// Parameter names in the optimizer's order, the order of [`AdamW::step`]'s gradients.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.slots.iter().map(|s| s.name.as_str())
    }

    /// The variables, in the optimizer's order.
    pub fn vars(&self) -> impl Iterator<Item = &Var> {
        self.slots.iter().map(|s| &s.var)
    }

    /// Whether weight decay applies to each parameter, in the optimizer's order.
    pub fn decays(&self) -> impl Iterator<Item = bool> + '_ {
        self.slots.iter().map(|s| s.decay)
    }

    /// Updates applied so far.
    pub fn updates(&self) -> u64 {
        self.t
    }

    /// Applies one update. `grads[i]` belongs to the i-th parameter; `None` (no gradient
    /// reached it) leaves that parameter and its moments untouched.
    pub fn step(&mut self, grads: &[Option<Vec<f32>>], lr: f64) -> Result<()> {
        assert_eq!(
            grads.len(),
            self.slots.len(),
            "one gradient slot per parameter"
        );
        self.t += 1;
        let p = self.params;
        let (b1, b2) = (p.beta1 as f32, p.beta2 as f32);
        let bc1 = (1.0 - p.beta1.powf(self.t as f64)) as f32;
        let bc2 = (1.0 - p.beta2.powf(self.t as f64)) as f32;
        let (lr32, eps) = (lr as f32, p.eps as f32);
        for (slot, g) in self.slots.iter_mut().zip(grads) {
            let Some(g) = g else { continue };
            let shrink = if slot.decay {
                (1.0 - lr * p.weight_decay) as f32
            } else {
                1.0
            };
            let t = slot.var.as_tensor();
            let mut theta = t.flatten_all()?.to_vec1::<f32>()?;
            // Iterators rather than indices: no bounds checks, so the loop vectorises.
            let moments = slot.m.iter_mut().zip(slot.v.iter_mut());
            for ((theta, (m, v)), &g) in theta.iter_mut().zip(moments).zip(g) {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                let update = (*m / bc1) / ((*v / bc2).sqrt() + eps);
                *theta = *theta * shrink - lr32 * update;
            }
            let new = Tensor::from_vec(theta, t.shape(), t.device())?;
            slot.var.set(&new)?;
        }
        Ok(())
    }

    /// Writes the moments (exact `f32`) and the update count to a safetensors file:
    /// tensors `exp_avg.NAME` and `exp_avg_sq.NAME`, metadata `step`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = self
            .slots
            .iter()
            .flat_map(|s| {
                let shape = s.var.dims().to_vec();
                [
                    (format!("exp_avg.{}", s.name), shape.clone(), le_bytes(&s.m)),
                    (format!("exp_avg_sq.{}", s.name), shape, le_bytes(&s.v)),
                ]
            })
            .collect();
        let views = bytes
            .iter()
            .map(|(name, shape, data)| {
                let view = safetensors::tensor::TensorView::new(
                    safetensors::Dtype::F32,
                    shape.clone(),
                    data,
                )
                .map_err(|e| Error::checkpoint(path, e.to_string()))?;
                Ok((name.clone(), view))
            })
            .collect::<Result<Vec<_>>>()?;
        let meta = [("step".to_string(), self.t.to_string())]
            .into_iter()
            .collect();
        safetensors::serialize_to_file(views, Some(meta), path)
            .map_err(|e| Error::checkpoint(path, e.to_string()))
    }

    /// Restores what [`AdamW::save`] wrote. Every parameter must be present with its shape.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bad = |what: String| Error::checkpoint(path, what);
        let (_, header) = safetensors::SafeTensors::read_metadata(&data)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let t = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get("step"))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| bad("no `step` in the metadata".into()))?;
        let st = safetensors::SafeTensors::deserialize(&data)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let expected = 2 * self.slots.len();
        if st.len() != expected {
            return Err(bad(format!(
                "{} tensors; the optimizer has {} parameters, so {expected} moments",
                st.len(),
                self.slots.len()
            )));
        }
        for slot in &mut self.slots {
            for (prefix, dst) in [("exp_avg", &mut slot.m), ("exp_avg_sq", &mut slot.v)] {
                let name = format!("{prefix}.{}", slot.name);
                let view = st
                    .tensor(&name)
                    .map_err(|_| bad(format!("no tensor `{name}`")))?;
                if view.dtype() != safetensors::Dtype::F32 || view.shape() != slot.var.dims() {
                    return Err(bad(format!(
                        "`{name}` is {:?} {:?}, expected F32 {:?}",
                        view.dtype(),
                        view.shape(),
                        slot.var.dims()
                    )));
                }
                *dst = view
                    .data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
            }
        }
        self.t = t;
        Ok(())
    }
}

fn le_bytes(xs: &[f32]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn var(name: &str, values: &[f32]) -> (String, Var) {
        let t = Tensor::from_slice(values, values.len(), &Device::Cpu).unwrap();
        (name.to_string(), Var::from_tensor(&t).unwrap())
    }

    fn values(opt: &AdamW, i: usize) -> Vec<f32> {
        opt.slots[i].var.as_tensor().to_vec1::<f32>().unwrap()
    }

    /// Two steps worked by hand in f64 (β1 0.9, β2 0.999, ε 1e-8, lr 0.1, wd 0.5).
    #[test]
    fn matches_hand_computed_steps() {
        let params = AdamWParams {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.5,
        };
        let mut opt = AdamW::new(
            vec![var("w", &[1.0, -2.0]), var("norm.weight", &[1.0])],
            params,
            decay_by_default,
        )
        .unwrap();
        // Sorted order: norm.weight, w.
        assert_eq!(opt.names().collect::<Vec<_>>(), ["norm.weight", "w"]);
        opt.step(&[Some(vec![0.5]), Some(vec![0.2, -0.4])], 0.1)
            .unwrap();
        // Step 1: m̂ = g, v̂ = g², so the update is sign(g) (up to ε).
        // w: θ·(1 − 0.1·0.5) − 0.1·sign(g) = [0.95 − 0.1, −1.9 + 0.1].
        let w = values(&opt, 1);
        assert!(
            (w[0] - 0.85).abs() < 1e-6 && (w[1] + 1.8).abs() < 1e-6,
            "{w:?}"
        );
        // norm.weight: no decay, 1 − 0.1.
        assert!((values(&opt, 0)[0] - 0.9).abs() < 1e-6);

        opt.step(&[None, Some(vec![0.1, 0.3])], 0.1).unwrap();
        // Step 2 for w[0]: m = 0.9·0.02 + 0.1·0.1 = 0.028 → m̂ = 0.028/0.19
        // v = 0.999·0.00004 + 0.001·0.01 = 0.00004996 → v̂ = 0.00004996/0.001999
        let mh = 0.028 / 0.19;
        let vh = 0.00004996f64 / (1.0 - 0.999f64.powi(2));
        let expect0 = 0.85 * 0.95 - 0.1 * mh / (vh.sqrt() + 1e-8);
        // w[1]: m = 0.9·(−0.04) + 0.1·0.3 = −0.006; v = 0.999·0.00016 + 0.001·0.09
        let mh1 = -0.006 / 0.19;
        let vh1 = (0.999 * 0.00016 + 0.001 * 0.09) / (1.0 - 0.999f64.powi(2));
        let expect1 = -1.8 * 0.95 - 0.1 * mh1 / (vh1.sqrt() + 1e-8);
        let w = values(&opt, 1);
        assert!(
            (w[0] as f64 - expect0).abs() < 1e-5,
            "{} vs {expect0}",
            w[0]
        );
        assert!(
            (w[1] as f64 - expect1).abs() < 1e-5,
            "{} vs {expect1}",
            w[1]
        );
        // No gradient: untouched, not even decayed.
        assert!((values(&opt, 0)[0] - 0.9).abs() < 1e-6);
        assert_eq!(opt.updates(), 2);
    }

    #[test]
    fn save_and_load_restore_moments_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("optimizer.safetensors");
        let mk = || {
            AdamW::new(
                vec![var("a", &[0.3, 0.7, -1.1])],
                AdamWParams::default(),
                |_| true,
            )
        };
        let mut a = mk().unwrap();
        a.step(&[Some(vec![0.1, -0.25, 3.0])], 1e-2).unwrap();
        a.save(&path).unwrap();
        let mut b = mk().unwrap();
        b.slots[0].var.set(a.slots[0].var.as_tensor()).unwrap();
        b.load(&path).unwrap();
        assert_eq!(b.updates(), 1);
        assert_eq!(a.slots[0].m, b.slots[0].m);
        assert_eq!(a.slots[0].v, b.slots[0].v);
        let g = [Some(vec![-0.5, 0.5, 0.125])];
        a.step(&g, 1e-2).unwrap();
        b.step(&g, 1e-2).unwrap();
        assert_eq!(values(&a, 0), values(&b, 0));

        let mut other =
            AdamW::new(vec![var("b", &[0.0])], AdamWParams::default(), |_| true).unwrap();
        let e = other.load(&path).unwrap_err().to_string();
        assert!(
            e.contains("optimizer.safetensors") && e.contains("exp_avg.b"),
            "{e}"
        );
    }
}
