//! One rollout batch: sampled responses as token sequences, and their per-token numbers
//! laid out as padded `[batch, len]` tensors.

use candle_core::{Device, Tensor};

use crate::error::Result;

/// One prompt and its sampled response.
#[derive(Debug, Clone, Default)]
pub struct Episode {
    /// Index of the prompt in the prompt set.
    pub prompt: usize,
    /// BOS, prompt, response and (when it ended) the end-of-turn token.
    pub ids: Vec<u32>,
    pub prompt_len: usize,
    pub ended: bool,
    /// Response tokens without the end-of-turn token.
    pub content_len: usize,
    /// The scorer's value, before any penalty.
    pub score: f32,
    /// Sampling log-probs from the runtime (for a consistency check).
    pub sampled_logprobs: Vec<f32>,
    pub entropies: Vec<f32>,
    // One value per response token (the end-of-turn token included):
    pub logprobs: Vec<f32>,
    pub ref_logprobs: Vec<f32>,
    pub values: Vec<f32>,
    pub rewards: Vec<f32>,
    pub advantages: Vec<f32>,
    pub returns: Vec<f32>,
}

impl Episode {
    /// Response tokens, the end-of-turn token included: the actions.
    pub fn actions(&self) -> usize {
        self.ids.len() - self.prompt_len
    }
}

/// Episodes padded into model inputs: position `p` of row `r` predicts `ids[p + 1]`;
/// action `j` of an episode sits at position `prompt_len − 1 + j`.
pub struct Padded {
    pub input: Tensor,
    pub target: Tensor,
    /// 1 at action positions.
    pub mask: Tensor,
    width: usize,
    spans: Vec<(usize, usize)>,
}

impl Padded {
    pub fn new(eps: &[&Episode], dev: &Device) -> Result<Self> {
        let width = eps.iter().map(|e| e.ids.len() - 1).max().unwrap_or(1);
        let (b, mut input, mut target) = (eps.len(), Vec::new(), Vec::new());
        let mut spans = Vec::with_capacity(b);
        for e in eps {
            let n = e.ids.len() - 1;
            input.extend(
                e.ids[..n]
                    .iter()
                    .copied()
                    .chain(std::iter::repeat(0))
                    .take(width),
            );
            target.extend(
                e.ids[1..]
                    .iter()
                    .copied()
                    .chain(std::iter::repeat(0))
                    .take(width),
            );
            spans.push((e.prompt_len - 1, e.actions()));
        }
        let mut p = Padded {
            input: Tensor::from_vec(input, (b, width), dev)?,
            target: Tensor::from_vec(target, (b, width), dev)?,
            mask: Tensor::zeros((b, width), candle_core::DType::F32, dev)?,
            width,
            spans,
        };
        let ones: Vec<Vec<f32>> = eps.iter().map(|e| vec![1.0; e.actions()]).collect();
        p.mask = p.scatter(&ones, dev)?;
        Ok(p)
    }

    /// Per-action values of each row placed at their positions, zero elsewhere.
    pub fn scatter(&self, rows: &[Vec<f32>], dev: &Device) -> Result<Tensor> {
        let mut flat = vec![0f32; self.spans.len() * self.width];
        for (r, ((start, n), vals)) in self.spans.iter().zip(rows).enumerate() {
            flat[r * self.width + start..r * self.width + start + n].copy_from_slice(&vals[..*n]);
        }
        Ok(Tensor::from_vec(flat, (self.spans.len(), self.width), dev)?)
    }

    /// The per-action values of each row of a `[batch, len]` tensor.
    pub fn gather(&self, t: &Tensor) -> Result<Vec<Vec<f32>>> {
        let all = t.to_vec2::<f32>()?;
        Ok(all
            .iter()
            .zip(&self.spans)
            .map(|(row, &(s, n))| row[s..s + n].to_vec())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_of_actions() {
        let a = Episode {
            ids: vec![1, 5, 6, 7, 2],
            prompt_len: 3,
            ..Default::default()
        };
        let b = Episode {
            ids: vec![1, 5, 9],
            prompt_len: 2,
            ..Default::default()
        };
        let p = Padded::new(&[&a, &b], &Device::Cpu).unwrap();
        assert_eq!(
            p.input.to_vec2::<u32>().unwrap(),
            [[1, 5, 6, 7], [1, 5, 0, 0]]
        );
        assert_eq!(
            p.target.to_vec2::<u32>().unwrap(),
            [[5, 6, 7, 2], [5, 9, 0, 0]]
        );
        assert_eq!(
            p.mask.to_vec2::<f32>().unwrap(),
            [[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.0]]
        );
        let t = p
            .scatter(&[vec![3.0, 4.0], vec![8.0]], &Device::Cpu)
            .unwrap();
        assert_eq!(p.gather(&t).unwrap(), [vec![3.0, 4.0], vec![8.0]]);
    }
}
