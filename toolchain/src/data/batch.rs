//! A batch of token rows for next-token training: inputs, targets and a loss mask,
//! right-padded to a common length.

use candle_core::{Device, Tensor};

use crate::error::Result;

#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub rows: usize,
    pub cols: usize,
    /// Input token ids, `rows × cols`, row-major; padding after each row's `lengths[r]`.
    pub input: Vec<u32>,
    /// The token each position should predict (`input` shifted by one).
    pub target: Vec<u32>,
    /// 1.0 where the target is trained, 0.0 elsewhere (padding, prompts).
    pub mask: Vec<f32>,
    /// Real (unpadded) input tokens per row.
    pub lengths: Vec<usize>,
}

impl Batch {
    /// Stacks rows of (input, target, mask), padding each to the longest with `pad`.
    pub fn from_rows(rows: &[(&[u32], &[u32], &[f32])], pad: u32) -> Self {
        let cols = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let mut b = Batch {
            rows: rows.len(),
            cols,
            input: Vec::with_capacity(rows.len() * cols),
            target: Vec::with_capacity(rows.len() * cols),
            mask: Vec::with_capacity(rows.len() * cols),
            lengths: Vec::with_capacity(rows.len()),
        };
        for (input, target, mask) in rows {
            debug_assert!(input.len() == target.len() && input.len() == mask.len());
            let fill = cols - input.len();
            b.input.extend_from_slice(input);
            b.input.extend(std::iter::repeat_n(pad, fill));
            b.target.extend_from_slice(target);
            b.target.extend(std::iter::repeat_n(pad, fill));
            b.mask.extend_from_slice(mask);
            b.mask.extend(std::iter::repeat_n(0.0, fill));
            b.lengths.push(input.len());
        }
        b
    }

    /// Trained target tokens.
    pub fn tokens(&self) -> usize {
        self.mask.iter().filter(|&&m| m != 0.0).count()
    }

    /// (input u32 (B, T), target u32 (B, T), mask f32 (B, T)) on `device`.
    pub fn tensors(&self, device: &Device) -> Result<(Tensor, Tensor, Tensor)> {
        let shape = (self.rows, self.cols);
        Ok((
            Tensor::from_slice(&self.input, shape, device)?,
            Tensor::from_slice(&self.target, shape, device)?,
            Tensor::from_slice(&self.mask, shape, device)?,
        ))
    }
}
