//! q/k row order. Hugging Face llama rotates a head's first half against its second half;
//! GGUF (ggml's "normal" RoPE) rotates adjacent pairs. Converting a q or k matrix between the
//! two permutes its rows within each head: GGUF row `2i + s` is HF row `s·hd/2 + i`.

/// The HF row index of GGUF row `r` of a q/k matrix with heads of `head_dim` rows.
pub fn hf_row_of_gguf(r: usize, head_dim: usize) -> usize {
    let (head, j) = (r / head_dim, r % head_dim);
    let (i, s) = (j / 2, j % 2);
    head * head_dim + s * (head_dim / 2) + i
}

/// Reorder the rows (`cols` values each) of an HF q/k matrix into GGUF order.
pub fn hf_to_gguf(w: &[f32], cols: usize, head_dim: usize) -> Vec<f32> {
    let rows = w.len() / cols;
    let mut out = Vec::with_capacity(w.len());
    for r in 0..rows {
        let src = hf_row_of_gguf(r, head_dim) * cols;
        out.extend_from_slice(&w[src..src + cols]);
    }
    out
}

/// Reorder the rows of a GGUF q/k matrix into HF order (the inverse of [`hf_to_gguf`]).
pub fn gguf_to_hf(w: &[f32], cols: usize, head_dim: usize) -> Vec<f32> {
    let mut out = vec![0.0; w.len()];
    let rows = w.len() / cols;
    for r in 0..rows {
        let dst = hf_row_of_gguf(r, head_dim) * cols;
        out[dst..dst + cols].copy_from_slice(&w[r * cols..(r + 1) * cols]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_known_order() {
        // Two heads of width 4, one column: HF rows [0 1 | 2 3] pair (0,2), (1,3).
        let hf: Vec<f32> = (0..8).map(|x| x as f32).collect();
        let g = hf_to_gguf(&hf, 1, 4);
        assert_eq!(g, [0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]);
        assert_eq!(gguf_to_hf(&g, 1, 4), hf);
    }
}
