//! Fused CPU ops with a backward pass, for training speed: each replaces a chain of
//! primitive ops (and the tensors each of them allocates, forward and backward) by one
//! pass over memory. They compute what the primitive versions in `ops.rs` compute, and
//! tests hold them to it.
//!
//! Reductions run in a fixed order whatever the thread count, so training stays
//! reproducible bit for bit.

use std::sync::{Arc, OnceLock};

use candle_core::{
    bail, CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor,
};
use rayon::prelude::*;

use super::kernels as k;

/// The f32 values of a contiguous input.
fn f32s<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else {
        bail!("{op}: f32 input expected")
    };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => bail!("{op}: contiguous input expected"),
    }
}

fn last_dim(l: &Layout, op: &str) -> Result<usize> {
    match l.dims().last() {
        Some(&d) if d > 0 => Ok(d),
        _ => bail!("{op}: empty last dimension in {:?}", l.dims()),
    }
}

fn same_shape(a: &Layout, b: &Layout, op: &str) -> Result<()> {
    if a.dims() != b.dims() {
        bail!("{op}: shapes {:?} and {:?} differ", a.dims(), b.dims())
    }
    Ok(())
}

fn out(v: Vec<f32>, shape: &Shape) -> (CpuStorage, Shape) {
    (CpuStorage::F32(v), shape.clone())
}

/// Rows per work item of the parallel row loops (fixed, so partial sums are too).
const ROWS: usize = 16;

/// `1 / sqrt(mean(x²) + eps)`.
fn inv_rms(x: &[f32], eps: f32) -> f32 {
    let ms = k::dot(x, x) / x.len() as f32;
    (ms + eps).sqrt().recip()
}

// ---------------------------------------------------------------------------------------
// RMS norm

/// `x / sqrt(mean(x²) + eps) · w` over the last dimension, with gradients for `x` and `w`.
pub fn rms_norm(x: &Tensor, w: &Tensor, eps: f64) -> Result<Tensor> {
    x.contiguous()?
        .apply_op2(&w.contiguous()?, RmsNorm { eps: eps as f32 })
}

struct RmsNorm {
    eps: f32,
}

impl CustomOp2 for RmsNorm {
    fn name(&self) -> &'static str {
        "rms-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, w) = (f32s(s1, l1, self.name())?, f32s(s2, l2, self.name())?);
        let d = last_dim(l1, self.name())?;
        if w.len() != d {
            bail!("rms-norm: weight of {} for rows of {d}", w.len())
        }
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(d)
            .zip(x.par_chunks(d))
            .for_each(|(y, x)| k::norm_row(y, x, w, inv_rms(x, self.eps)));
        Ok(out(y, l1.shape()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let g = grad.contiguous()?;
        let dx = x.apply_op3_no_bwd(w, &g, &RmsNormDx { eps: self.eps })?;
        let dw = x.apply_op2_no_bwd(&g, &RmsNormDw { eps: self.eps })?;
        Ok((Some(dx), Some(dw)))
    }
}

/// dx = inv·(g∘w) − x·inv³·mean(g∘w∘x)
struct RmsNormDx {
    eps: f32,
}

impl CustomOp3 for RmsNormDx {
    fn name(&self) -> &'static str {
        "rms-norm-dx"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let n = self.name();
        let (x, w, g) = (f32s(s1, l1, n)?, f32s(s2, l2, n)?, f32s(s3, l3, n)?);
        same_shape(l1, l3, n)?;
        let d = last_dim(l1, n)?;
        let mut dx = vec![0f32; x.len()];
        dx.par_chunks_mut(d)
            .zip(x.par_chunks(d).zip(g.par_chunks(d)))
            .for_each(|(dx, (x, g))| {
                let inv = inv_rms(x, self.eps);
                let c = inv * inv * inv * k::dot3(g, w, x) / d as f32;
                k::norm_dx_row(dx, x, g, w, inv, c);
            });
        Ok(out(dx, l1.shape()))
    }
}

/// dw = Σ over rows of g∘x·inv
struct RmsNormDw {
    eps: f32,
}

impl CustomOp2 for RmsNormDw {
    fn name(&self) -> &'static str {
        "rms-norm-dw"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let n = self.name();
        let (x, g) = (f32s(s1, l1, n)?, f32s(s2, l2, n)?);
        same_shape(l1, l2, n)?;
        let d = last_dim(l1, n)?;
        let partial: Vec<Vec<f32>> = x
            .par_chunks(d * ROWS)
            .zip(g.par_chunks(d * ROWS))
            .map(|(x, g)| {
                let mut acc = vec![0f32; d];
                for (x, g) in x.chunks_exact(d).zip(g.chunks_exact(d)) {
                    k::norm_dw_row(&mut acc, x, g, inv_rms(x, self.eps));
                }
                acc
            })
            .collect();
        let mut dw = vec![0f32; d];
        for p in &partial {
            dw.iter_mut().zip(p).for_each(|(a, p)| *a += p);
        }
        Ok(out(dw, &Shape::from(d)))
    }
}

// ---------------------------------------------------------------------------------------
// Causal softmax

/// `softmax(scale · s + causal mask)` over the last dimension of attention scores
/// `[.., t_q, t_k]`: query `i` sees keys `0..=i + t_k − t_q`; the others get 0.
pub fn causal_softmax(scores: &Tensor, scale: f64) -> Result<Tensor> {
    scores.contiguous()?.apply_op1(CausalSoftmax {
        scale: scale as f32,
    })
}

struct CausalSoftmax {
    scale: f32,
}

fn query_len(l: &Layout, op: &str) -> Result<(usize, usize)> {
    let dims = l.dims();
    if dims.len() < 2 || dims[dims.len() - 2] > dims[dims.len() - 1] {
        bail!("{op}: scores [.., t_q, t_k] with t_q ≤ t_k expected, got {dims:?}")
    }
    Ok((dims[dims.len() - 2], dims[dims.len() - 1]))
}

impl CustomOp1 for CausalSoftmax {
    fn name(&self) -> &'static str {
        "causal-softmax"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32s(s, l, self.name())?;
        let (tq, tk) = query_len(l, self.name())?;
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(tk)
            .zip(x.par_chunks(tk))
            .enumerate()
            .for_each(|(r, (y, x))| {
                let seen = r % tq + tk - tq + 1;
                let (y, x) = (&mut y[..seen], &x[..seen]);
                // max(x)·scale = max(x·scale): attention's scale is positive.
                let max = k::max(x) * self.scale;
                let sum = k::exp_sum(y, x, self.scale, max);
                k::scale(y, sum.recip());
            });
        Ok(out(y, l.shape()))
    }

    fn bwd(&self, _arg: &Tensor, res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let g = grad.contiguous()?;
        Ok(Some(res.apply_op2_no_bwd(
            &g,
            &SoftmaxGrad { scale: self.scale },
        )?))
    }
}

/// ds = scale · y ∘ (g − Σ g∘y)
struct SoftmaxGrad {
    scale: f32,
}

impl CustomOp2 for SoftmaxGrad {
    fn name(&self) -> &'static str {
        "softmax-grad"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let n = self.name();
        let (y, g) = (f32s(s1, l1, n)?, f32s(s2, l2, n)?);
        same_shape(l1, l2, n)?;
        let d = last_dim(l1, n)?;
        let mut ds = vec![0f32; y.len()];
        ds.par_chunks_mut(d)
            .zip(y.par_chunks(d).zip(g.par_chunks(d)))
            .for_each(|(ds, (y, g))| {
                k::softmax_grad_row(ds, y, g, self.scale, k::dot(y, g));
            });
        Ok(out(ds, l1.shape()))
    }
}

// ---------------------------------------------------------------------------------------
// Rotary embedding

/// Rotate-half RoPE tables (`[max_pos, head_dim]`, each half repeated) on the host.
#[derive(Debug, Clone)]
pub struct RopeTables {
    pub cos: Arc<Vec<f32>>,
    pub sin: Arc<Vec<f32>>,
    pub head_dim: usize,
}

/// Splits a projection's output `[b·t, heads·head_dim]` into heads for attention:
/// `[b, heads, t, head_dim]`, or `[b, heads, head_dim, t]` when `transposed` (keys, ready to
/// multiply). With `rope` the heads are rotated for positions `0..t` on the way.
pub fn split_heads(
    x: &Tensor,
    b: usize,
    heads: usize,
    rope: Option<&RopeTables>,
    transposed: bool,
) -> Result<Tensor> {
    let (rows, width) = x.dims2()?;
    if b == 0 || heads == 0 || rows % b != 0 || width % heads != 0 {
        bail!("split-heads: [{rows}, {width}] is not {b} sequences of {heads} heads")
    }
    let (t, hd) = (rows / b, width / heads);
    if let Some(r) = rope {
        if hd != r.head_dim || t * hd > r.cos.len() {
            bail!(
                "rope: heads of {hd} × {t} positions do not fit tables of {} × {}",
                r.head_dim,
                r.cos.len() / r.head_dim.max(1)
            )
        }
    }
    x.contiguous()?.apply_op1(Heads {
        dims: (b, t, heads, hd),
        rope: rope.map(|r| (r.clone(), 1.0)),
        transposed,
        merge: false,
    })
}

/// Joins attention's output heads `[b, heads, t, head_dim]` into `[b·t, heads·head_dim]`.
pub fn merge_heads(x: &Tensor) -> Result<Tensor> {
    let (b, h, t, hd) = x.dims4()?;
    x.contiguous()?.apply_op1(Heads {
        dims: (b, t, h, hd),
        rope: None,
        transposed: false,
        merge: true,
    })
}

/// Moves rows of `head_dim` between `[b·t, h·hd]` and the head layouts, rotating them
/// (RoPE with the sign given: −1 undoes the rotation) on the way. Its gradient is the same
/// op in the other direction with the opposite sign.
struct Heads {
    /// (b, t, h, hd)
    dims: (usize, usize, usize, usize),
    rope: Option<(RopeTables, f32)>,
    transposed: bool,
    /// true: head layout → rows; false: rows → head layout.
    merge: bool,
}

impl Heads {
    fn head_shape(&self) -> Shape {
        let (b, t, h, hd) = self.dims;
        if self.transposed {
            Shape::from((b, h, hd, t))
        } else {
            Shape::from((b, h, t, hd))
        }
    }

    /// One row (ti, hi) of `hd` values from `src` to `dst`, rotated if asked.
    fn row(&self, dst: &mut [f32], src: &[f32], ti: usize) {
        match &self.rope {
            Some((r, sign)) => {
                let hd = r.head_dim;
                let (c, s) = (&r.cos[ti * hd..][..hd], &r.sin[ti * hd..][..hd]);
                k::rope_row(dst, src, c, s, *sign);
            }
            None => dst.copy_from_slice(src),
        }
    }
}

impl CustomOp1 for Heads {
    fn name(&self) -> &'static str {
        "heads"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32s(s, l, self.name())?;
        let (b, t, h, hd) = self.dims;
        let (rows_shape, heads_shape) = (Shape::from((b * t, h * hd)), self.head_shape());
        let expect = if self.merge {
            &heads_shape
        } else {
            &rows_shape
        };
        if l.shape() != expect {
            bail!("heads: input {:?}, expected {:?}", l.dims(), expect.dims())
        }
        let block = t * h * hd;
        let mut y = vec![0f32; x.len()];
        // Sequences are contiguous blocks in both layouts.
        y.par_chunks_mut(block)
            .zip(x.par_chunks(block))
            .for_each(|(y, x)| {
                let mut tmp = vec![0f32; hd];
                for ti in 0..t {
                    for hi in 0..h {
                        let row = (ti * h + hi) * hd;
                        match (self.merge, self.transposed) {
                            (false, false) => {
                                let dst = &mut y[(hi * t + ti) * hd..][..hd];
                                self.row(dst, &x[row..row + hd], ti);
                            }
                            (false, true) => {
                                self.row(&mut tmp, &x[row..row + hd], ti);
                                for (j, &v) in tmp.iter().enumerate() {
                                    y[(hi * hd + j) * t + ti] = v;
                                }
                            }
                            (true, false) => {
                                let src = &x[(hi * t + ti) * hd..][..hd];
                                self.row(&mut y[row..row + hd], src, ti);
                            }
                            (true, true) => {
                                for (j, v) in tmp.iter_mut().enumerate() {
                                    *v = x[(hi * hd + j) * t + ti];
                                }
                                self.row(&mut y[row..row + hd], &tmp, ti);
                            }
                        }
                    }
                }
            });
        Ok(out(
            y,
            if self.merge {
                &rows_shape
            } else {
                &heads_shape
            },
        ))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let g = grad.contiguous()?;
        Ok(Some(g.apply_op1_no_bwd(&Heads {
            dims: self.dims,
            rope: self.rope.as_ref().map(|(r, sign)| (r.clone(), -sign)),
            transposed: self.transposed,
            merge: !self.merge,
        })?))
    }
}

// ---------------------------------------------------------------------------------------
// SwiGLU

/// `silu(gate) ∘ up`, with gradients for both.
pub fn swiglu(gate: &Tensor, up: &Tensor) -> Result<Tensor> {
    gate.contiguous()?.apply_op2(&up.contiguous()?, SwiGlu)
}

/// silu(g) ∘ u. With the incoming gradient for `u` it is also d/d up.
struct SwiGlu;

/// Elements per work item of the parallel element-wise loops.
const CHUNK: usize = 4096;

impl CustomOp2 for SwiGlu {
    fn name(&self) -> &'static str {
        "swiglu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let n = self.name();
        let (g, u) = (f32s(s1, l1, n)?, f32s(s2, l2, n)?);
        same_shape(l1, l2, n)?;
        let mut y = vec![0f32; g.len()];
        y.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK).zip(u.par_chunks(CHUNK)))
            .for_each(|(y, (g, u))| k::swiglu(y, g, u));
        Ok(out(y, l1.shape()))
    }

    fn bwd(
        &self,
        gate: &Tensor,
        up: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dy = grad.contiguous()?;
        let dg = gate.apply_op3_no_bwd(up, &dy, &SwiGluDGate)?;
        let du = gate.apply_op2_no_bwd(&dy, &SwiGlu)?;
        Ok((Some(dg), Some(du)))
    }
}

/// d/d gate = dy ∘ up ∘ σ(g)·(1 + g·(1 − σ(g)))
struct SwiGluDGate;

impl CustomOp3 for SwiGluDGate {
    fn name(&self) -> &'static str {
        "swiglu-dgate"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let n = self.name();
        let (g, u, dy) = (f32s(s1, l1, n)?, f32s(s2, l2, n)?, f32s(s3, l3, n)?);
        same_shape(l1, l2, n)?;
        same_shape(l1, l3, n)?;
        let mut dg = vec![0f32; g.len()];
        dg.par_chunks_mut(CHUNK)
            .zip(
                g.par_chunks(CHUNK)
                    .zip(u.par_chunks(CHUNK).zip(dy.par_chunks(CHUNK))),
            )
            .for_each(|(dg, (g, (u, dy)))| k::swiglu_dgate(dg, g, u, dy));
        Ok(out(dg, l1.shape()))
    }
}

// ---------------------------------------------------------------------------------------
// Masked cross-entropy

/// `Σ_r weight[r] · (logsumexp(logits[r]) − logits[r][target[r]])` over the rows of
/// `logits` `[.., vocab]` (n rows in all), as a scalar; rows of weight 0 are skipped (and
/// get no gradient).
pub fn weighted_cross_entropy(
    logits: &Tensor,
    targets: Vec<u32>,
    weights: Vec<f32>,
) -> Result<Tensor> {
    let v = logits.dims().last().copied().unwrap_or(0);
    let n = logits.elem_count() / v.max(1);
    if targets.len() != n || weights.len() != n {
        bail!(
            "cross-entropy: {n} rows, {} targets, {} weights",
            targets.len(),
            weights.len()
        )
    }
    if let Some(t) = targets.iter().find(|&&t| t as usize >= v) {
        bail!("cross-entropy: target {t} outside a vocabulary of {v}")
    }
    logits.contiguous()?.apply_op1(CrossEntropy {
        targets: Arc::new(targets),
        weights: Arc::new(weights),
        lse: Arc::new(OnceLock::new()),
    })
}

struct CrossEntropy {
    targets: Arc<Vec<u32>>,
    weights: Arc<Vec<f32>>,
    /// Each row's log-sum-exp, from the forward pass, for the backward.
    lse: Arc<OnceLock<Vec<f32>>>,
}

fn log_sum_exp(x: &[f32]) -> f32 {
    let max = k::max(x);
    max + k::exp_sum_only(x, max).ln()
}

impl CustomOp1 for CrossEntropy {
    fn name(&self) -> &'static str {
        "cross-entropy"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32s(s, l, self.name())?;
        let v = last_dim(l, self.name())?;
        let lse: Vec<f32> = x
            .par_chunks(v)
            .zip(self.weights.par_iter())
            .map(|(x, &w)| if w == 0.0 { 0.0 } else { log_sum_exp(x) })
            .collect();
        // In row order, in f64: the same sum on any thread count.
        let mut loss = 0f64;
        for (r, (&w, &t)) in self.weights.iter().zip(self.targets.iter()).enumerate() {
            if w != 0.0 {
                loss += w as f64 * (lse[r] - x[r * v + t as usize]) as f64;
            }
        }
        let _ = self.lse.set(lse);
        Ok((CpuStorage::F32(vec![loss as f32]), Shape::from(())))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let scale = grad.to_scalar::<f32>()?;
        let Some(lse) = self.lse.get() else {
            bail!("cross-entropy: backward before forward")
        };
        Ok(Some(arg.apply_op1_no_bwd(&CrossEntropyGrad {
            targets: &self.targets,
            weights: &self.weights,
            lse,
            scale,
        })?))
    }
}

/// d/d logits = scale · weight · (softmax − one_hot(target))
struct CrossEntropyGrad<'a> {
    targets: &'a [u32],
    weights: &'a [f32],
    lse: &'a [f32],
    scale: f32,
}

impl CustomOp1 for CrossEntropyGrad<'_> {
    fn name(&self) -> &'static str {
        "cross-entropy-grad"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32s(s, l, self.name())?;
        let v = last_dim(l, self.name())?;
        let mut d = vec![0f32; x.len()];
        d.par_chunks_mut(v)
            .zip(x.par_chunks(v))
            .enumerate()
            .for_each(|(r, (d, x))| {
                let w = self.weights[r] * self.scale;
                if w == 0.0 {
                    return;
                }
                k::scaled_exp(d, x, w, self.lse[r]);
                d[self.targets[r] as usize] -= w;
            });
        Ok(out(d, l.shape()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ops;
    use candle_core::{DType, Device, Var, D};

    /// Deterministic values in [−range, range).
    fn values(n: usize, seed: u64, range: f32) -> Vec<f32> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * range
            })
            .collect()
    }

    fn var(shape: &[usize], seed: u64, range: f32) -> Var {
        let n = shape.iter().product();
        Var::from_tensor(&Tensor::from_vec(values(n, seed, range), shape, &Device::Cpu).unwrap())
            .unwrap()
    }

    /// Max |a − b| relative to max |b|.
    fn rel_diff(a: &Tensor, b: &Tensor) -> f32 {
        assert_eq!(a.dims(), b.dims());
        let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-30);
        let diff = a
            .iter()
            .zip(&b)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        diff / scale
    }

    /// The fused and the primitive function agree on the value and on the gradient of
    /// `Σ f(inputs) ∘ r` (r fixed and random) for every input.
    fn check(
        inputs: &[Var],
        fused: impl Fn(&[Tensor]) -> Tensor,
        reference: impl Fn(&[Tensor]) -> Tensor,
    ) {
        let ts: Vec<Tensor> = inputs.iter().map(|v| v.as_tensor().clone()).collect();
        let (a, b) = (fused(&ts), reference(&ts));
        assert!(
            rel_diff(&a, &b) < 1e-5,
            "values differ by {}",
            rel_diff(&a, &b)
        );
        let r = Tensor::from_vec(values(b.elem_count(), 99, 1.0), b.shape(), &Device::Cpu).unwrap();
        let ga = (a * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let gb = (b * &r).unwrap().sum_all().unwrap().backward().unwrap();
        for (i, v) in inputs.iter().enumerate() {
            let (ga, gb) = (ga.get(v).unwrap(), gb.get(v).unwrap());
            let d = rel_diff(ga, gb);
            assert!(d < 1e-5, "gradient of input {i} differs by {d}");
        }
    }

    #[test]
    fn rms_norm_matches_primitive_ops() {
        let inputs = [var(&[3, 5, 24], 1, 2.0), var(&[24], 2, 1.5)];
        check(
            &inputs,
            |t| rms_norm(&t[0], &t[1], 1e-5).unwrap(),
            |t| ops::rms_norm(&t[0], &t[1], 1e-5).unwrap(),
        );
    }

    #[test]
    fn causal_softmax_matches_masked_softmax() {
        let inputs = [var(&[2, 3, 7, 7], 3, 4.0)];
        let scale = 0.35;
        check(
            &inputs,
            |t| causal_softmax(&t[0], scale).unwrap(),
            |t| {
                let mask = ops::causal_mask(7, &Device::Cpu).unwrap();
                let s = (&t[0] * scale).unwrap().broadcast_add(&mask).unwrap();
                candle_nn::ops::softmax(&s, D::Minus1).unwrap()
            },
        );
    }

    #[test]
    fn split_and_merge_heads_match_reshape_transpose_and_rope() {
        let (b, t, h, hd) = (2, 9, 3, 8);
        let rope = ops::Rope::new(hd, 16, 10_000.0, &Device::Cpu).unwrap();
        let inputs = [var(&[b * t, h * hd], 4, 1.0)];
        let heads = |x: &Tensor| {
            x.reshape((b, t, h, hd))
                .unwrap()
                .transpose(1, 2)
                .unwrap()
                .contiguous()
                .unwrap()
        };
        for transposed in [false, true] {
            let tr = |x: Tensor| {
                if transposed {
                    x.t().unwrap().contiguous().unwrap()
                } else {
                    x
                }
            };
            check(
                &inputs,
                |x| split_heads(&x[0], b, h, Some(rope.tables()), transposed).unwrap(),
                |x| tr(rope.apply(&heads(&x[0]), 0).unwrap()),
            );
            check(
                &inputs,
                |x| split_heads(&x[0], b, h, None, transposed).unwrap(),
                |x| tr(heads(&x[0])),
            );
        }
        let inputs = [var(&[b, h, t, hd], 5, 1.0)];
        check(
            &inputs,
            |x| merge_heads(&x[0]).unwrap(),
            |x| {
                x[0].transpose(1, 2)
                    .unwrap()
                    .reshape((b * t, h * hd))
                    .unwrap()
            },
        );
    }

    #[test]
    fn swiglu_matches_silu_times_up() {
        let inputs = [var(&[4, 5000], 5, 6.0), var(&[4, 5000], 6, 2.0)];
        check(
            &inputs,
            |t| swiglu(&t[0], &t[1]).unwrap(),
            |t| (t[0].silu().unwrap() * &t[1]).unwrap(),
        );
    }

    #[test]
    fn cross_entropy_matches_log_softmax() {
        let (n, v) = (6, 11);
        let inputs = [var(&[n, v], 7, 5.0)];
        let targets: Vec<u32> = vec![0, 3, 10, 4, 4, 7];
        let weights: Vec<f32> = vec![0.25, 0.0, 0.5, 0.125, 0.0, 1.0];
        check(
            &inputs,
            |t| weighted_cross_entropy(&t[0], targets.clone(), weights.clone()).unwrap(),
            |t| {
                let logp = candle_nn::ops::log_softmax(&t[0], D::Minus1).unwrap();
                let idx = Tensor::from_slice(&targets, (n, 1), &Device::Cpu).unwrap();
                let picked = logp.gather(&idx, 1).unwrap().squeeze(1).unwrap();
                let w = Tensor::from_slice(&weights, n, &Device::Cpu).unwrap();
                (picked * w).unwrap().sum_all().unwrap().neg().unwrap()
            },
        );
        // Rows of weight 0 get no gradient.
        let x = inputs[0].as_tensor();
        let g = weighted_cross_entropy(x, targets, weights)
            .unwrap()
            .backward()
            .unwrap();
        let g = g.get(x).unwrap().to_dtype(DType::F32).unwrap();
        assert!(g
            .get(1)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .all(|&v| v == 0.0));
    }
}
