//! The llama weights of a GGUF file, resolved once and checked against the config.

use crate::arena::ARENA_ALIGN;
use crate::config::{Config, MAX_LAYERS};
use crate::error::{Error, Result, TensorRole};
use crate::gguf::{Gguf, TensorInfo};
use crate::kernels::Kernels;
use crate::quant::{interleaved, GgmlType};

/// A weight matrix: `rows` rows of `cols` contiguous values, borrowed from the file.
#[derive(Debug, Clone, Copy)]
pub struct Matrix<'a> {
    pub ty: GgmlType,
    pub rows: usize,
    pub cols: usize,
    pub data: &'a [u8],
    /// Rows packed sixteen to a group ([`interleaved`]) by [`Model::pack`]: `row`
    /// then no longer gives a row, but a range of whole groups keeps its byte offsets.
    pub packed: bool,
}

impl<'a> Matrix<'a> {
    /// Bytes of one row.
    pub fn row_bytes(&self) -> usize {
        self.data.len() / self.rows
    }

    /// Row `r`'s bytes.
    pub fn row(&self, r: usize) -> &'a [u8] {
        let n = self.row_bytes();
        &self.data[r * n..(r + 1) * n]
    }
}

/// Compact per-layer table: offsets and types (rebuilt into views on use).
#[derive(Debug, Clone, Copy)]
struct LayerTable {
    /// In the file, or in the packed copies where bit `i` of `packed` is set.
    offset: [usize; 9],
    ty: [GgmlType; 9],
    packed: u16,
}

const EMPTY_LAYER: LayerTable = LayerTable {
    offset: [0; 9],
    ty: [GgmlType::F32; 9],
    packed: 0,
};

/// One transformer block's weights.
#[derive(Debug, Clone, Copy)]
pub struct Layer<'a> {
    /// `[dim]` f32.
    pub attn_norm: &'a [u8],
    /// `[dim] ← [dim]`.
    pub wq: Matrix<'a>,
    /// `[kv_dim] ← [dim]`.
    pub wk: Matrix<'a>,
    /// `[kv_dim] ← [dim]`.
    pub wv: Matrix<'a>,
    /// `[dim] ← [dim]`.
    pub wo: Matrix<'a>,
    /// `[dim]` f32.
    pub ffn_norm: &'a [u8],
    /// `[hidden] ← [dim]`.
    pub w_gate: Matrix<'a>,
    /// `[hidden] ← [dim]`.
    pub w_up: Matrix<'a>,
    /// `[dim] ← [hidden]`.
    pub w_down: Matrix<'a>,
}

/// A loaded llama model: config plus views of every weight.
#[derive(Debug, Clone)]
pub struct Model<'a> {
    file: &'a [u8],
    pub config: Config,
    /// `[vocab] × [dim]`, any supported type.
    pub token_embd: Matrix<'a>,
    /// `[vocab] ← [dim]`; the embedding when tied.
    pub output: Matrix<'a>,
    pub tied: bool,
    /// `[dim]` f32.
    pub output_norm: &'a [u8],
    layers: [LayerTable; MAX_LAYERS],
    /// Packed copies of Q4_0 and Q8_0 matrices ([`Model::pack`]); empty if none.
    packed: &'a [u8],
}

fn find<'a>(g: &Gguf<'a>, name: &str, role: TensorRole) -> Result<TensorInfo<'a>> {
    g.tensor(name).ok_or(Error::MissingTensor(role))
}

fn check_matrix<'a>(
    t: &TensorInfo<'a>,
    rows: usize,
    cols: usize,
    role: TensorRole,
) -> Result<Matrix<'a>> {
    if t.ty == GgmlType::Q8K {
        return Err(Error::BadTensorType(role));
    }
    if t.n_dims > 2 || t.dims[0] != cols || t.dims[1] != rows {
        return Err(Error::ShapeMismatch(role));
    }
    Ok(Matrix {
        ty: t.ty,
        rows,
        cols,
        data: t.data,
        packed: false,
    })
}

fn check_norm<'a>(t: &TensorInfo<'a>, dim: usize, role: TensorRole) -> Result<&'a [u8]> {
    if t.ty != GgmlType::F32 {
        return Err(Error::BadTensorType(role));
    }
    if t.n_dims != 1 || t.dims[0] != dim {
        return Err(Error::ShapeMismatch(role));
    }
    Ok(t.data)
}

/// The role of layer `l`'s matrix `i` (as in its table), or the output head for
/// `l == usize::MAX`.
fn role_of(l: usize, i: usize) -> TensorRole {
    let l = l as u16;
    match i {
        _ if l == u16::MAX => TensorRole::Output,
        1 => TensorRole::AttnQ(l),
        2 => TensorRole::AttnK(l),
        3 => TensorRole::AttnV(l),
        4 => TensorRole::AttnOutput(l),
        6 => TensorRole::FfnGate(l),
        7 => TensorRole::FfnUp(l),
        _ => TensorRole::FfnDown(l),
    }
}

/// `blk.{layer}.{suffix}.weight` in a stack buffer.
struct NameBuf {
    buf: [u8; 48],
    len: usize,
}

impl core::fmt::Write for NameBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn role_name(role: TensorRole, out: &mut NameBuf) -> &str {
    use core::fmt::Write;
    out.len = 0;
    // Names are at most "blk.65535.attn_output.weight" (28 bytes): the buffer always fits.
    let _ = write!(out, "{role}");
    core::str::from_utf8(&out.buf[..out.len]).unwrap_or("")
}

impl<'a> Model<'a> {
    /// Resolve and check every llama tensor of a parsed file.
    pub fn load(g: &Gguf<'a>) -> Result<Self> {
        let mut name = NameBuf {
            buf: [0; 48],
            len: 0,
        };
        let embd_role = TensorRole::TokenEmbedding;
        let embd = find(g, role_name(embd_role, &mut name), embd_role)?;
        if embd.n_dims != 2 {
            return Err(Error::ShapeMismatch(embd_role));
        }
        let vocab = embd.dims[1];
        let config = Config::from_gguf(g, vocab)?;
        let c = &config;
        let token_embd = check_matrix(&embd, vocab, c.dim, embd_role)?;
        let (output, tied) = match g.tensor("output.weight") {
            Some(t) => (check_matrix(&t, vocab, c.dim, TensorRole::Output)?, false),
            None => (token_embd, true),
        };
        let on = TensorRole::OutputNorm;
        let output_norm = check_norm(&find(g, role_name(on, &mut name), on)?, c.dim, on)?;

        let mut layers = [EMPTY_LAYER; MAX_LAYERS];
        for (l, table) in layers.iter_mut().enumerate().take(c.n_layers) {
            let l = l as u16;
            let kv = c.kv_dim();
            let roles: [(TensorRole, usize, usize); 9] = [
                (TensorRole::AttnNorm(l), 1, c.dim),
                (TensorRole::AttnQ(l), c.dim, c.dim),
                (TensorRole::AttnK(l), kv, c.dim),
                (TensorRole::AttnV(l), kv, c.dim),
                (TensorRole::AttnOutput(l), c.dim, c.dim),
                (TensorRole::FfnNorm(l), 1, c.dim),
                (TensorRole::FfnGate(l), c.hidden, c.dim),
                (TensorRole::FfnUp(l), c.hidden, c.dim),
                (TensorRole::FfnDown(l), c.dim, c.hidden),
            ];
            for (i, (role, rows, cols)) in roles.into_iter().enumerate() {
                let t = find(g, role_name(role, &mut name), role)?;
                if i == 0 || i == 5 {
                    check_norm(&t, cols, role)?;
                } else {
                    check_matrix(&t, rows, cols, role)?;
                }
                table.offset[i] = t.file_offset;
                table.ty[i] = t.ty;
            }
        }
        Ok(Model {
            file: g.bytes(),
            config,
            token_embd,
            output,
            tied,
            output_norm,
            layers,
            packed: &[],
        })
    }

    /// Views of layer `l`'s weights (validated at load; cheap to rebuild per token).
    pub fn layer(&self, l: usize) -> Layer<'a> {
        let c = &self.config;
        let t = &self.layers[l];
        let f = self.file;
        let mat = |i: usize, rows: usize, cols: usize| {
            let ty = t.ty[i];
            let n = rows * ty.row_bytes(cols).unwrap_or(0);
            let packed = t.packed & 1 << i != 0;
            let src = if packed { self.packed } else { f };
            Matrix {
                ty,
                rows,
                cols,
                data: &src[t.offset[i]..t.offset[i] + n],
                packed,
            }
        };
        let norm = |i: usize| &f[t.offset[i]..t.offset[i] + 4 * c.dim];
        Layer {
            attn_norm: norm(0),
            wq: mat(1, c.dim, c.dim),
            wk: mat(2, c.kv_dim(), c.dim),
            wv: mat(3, c.kv_dim(), c.dim),
            wo: mat(4, c.dim, c.dim),
            ffn_norm: norm(5),
            w_gate: mat(6, c.hidden, c.dim),
            w_up: mat(7, c.hidden, c.dim),
            w_down: mat(8, c.dim, c.hidden),
        }
    }

    /// The matrices [`Model::pack`] packs for `k`: those of a type `k` reads packed (Q4_0,
    /// Q8_0) with a multiple of 16 rows, not packed yet: the output head as
    /// `(usize::MAX, 0)`, then layer `l`'s matrix `i` (as in its table).
    fn packable<'s>(
        &'s self,
        k: &Kernels,
    ) -> impl Iterator<Item = ((usize, usize), Matrix<'a>)> + 's {
        let q4 = k.q4_0_packed.is_some();
        let q8 = k.q8_0_packed.is_some();
        let want = move |m: &Matrix<'_>| {
            let ty = (m.ty == GgmlType::Q4_0 && q4) || (m.ty == GgmlType::Q8_0 && q8);
            ty && interleaved::packable(m.rows) && !m.packed
        };
        let layers = (0..self.config.n_layers).flat_map(move |l| {
            let x = self.layer(l);
            [
                (1, x.wq),
                (2, x.wk),
                (3, x.wv),
                (4, x.wo),
                (6, x.w_gate),
                (7, x.w_up),
                (8, x.w_down),
            ]
            .into_iter()
            .map(move |(i, m)| ((l, i), m))
        });
        // The head first: it is the largest matrix, so while it is copied little else of
        // the packed copies is resident yet.
        core::iter::once(((usize::MAX, 0), self.output))
            .chain(layers)
            .filter(move |(_, m)| want(m))
    }

    /// Bytes [`Model::pack`] needs for kernel table `k` (0: `k` reads every matrix in place).
    pub fn packed_bytes(&self, k: &Kernels) -> usize {
        self.packable(k)
            .map(|(_, m)| m.data.len().next_multiple_of(ARENA_ALIGN))
            .sum()
    }

    /// This model with its Q4_0 and Q8_0 matrices packed into `buf` for the kernels of `k`
    /// (same logits, faster), as llama.cpp repacks Q4_0 at load. A tied output head gets
    /// its own packed copy, which then serves the embedding lookup too. `done` gets each
    /// source matrix once it is copied, so a host may drop those pages. `buf` needs
    /// [`Model::packed_bytes`] bytes and should start on a 64-byte boundary.
    pub fn pack<'b>(
        &self,
        k: &Kernels,
        buf: &'b mut [u8],
        mut done: impl FnMut(&[u8]),
    ) -> Result<Model<'b>>
    where
        'a: 'b,
    {
        let need = self.packed_bytes(k);
        if buf.len() < need {
            return Err(Error::ArenaTooSmall {
                needed: need,
                got: buf.len(),
            });
        }
        let mut out = self.clone();
        let mut at = 0;
        let mut head = None;
        for ((l, i), m) in self.packable(k) {
            let n = m.data.len();
            let nb = m.cols / crate::quant::QK8_0;
            let pack = match m.ty {
                GgmlType::Q8_0 => interleaved::pack_q8_0,
                _ => interleaved::pack_q4_0,
            };
            if !pack(m.data, m.rows, nb, &mut buf[at..at + n]) {
                return Err(Error::ShapeMismatch(role_of(l, i)));
            }
            if l == usize::MAX {
                head = Some(at..at + n);
            } else {
                out.layers[l].offset[i] = at;
                out.layers[l].packed |= 1 << i;
            }
            done(m.data);
            at += n.next_multiple_of(ARENA_ALIGN);
        }
        let buf: &'b [u8] = buf;
        out.packed = buf;
        if let Some(r) = head {
            out.output.data = &buf[r];
            out.output.packed = true;
        }
        Ok(out)
    }

    /// Every weight type the forward pass will meet (to size activation scratch).
    pub fn weight_types(&self) -> impl Iterator<Item = GgmlType> + '_ {
        let layers = self.layers[..self.config.n_layers]
            .iter()
            .flat_map(|t| t.ty);
        [self.token_embd.ty, self.output.ty]
            .into_iter()
            .chain(layers)
    }

    /// Bytes of weights one position's forward pass reads: every layer matrix and the output
    /// head (norms and the one embedding row are left out).
    pub fn bytes_per_token(&self) -> usize {
        let l: usize = (0..self.config.n_layers)
            .map(|i| {
                let x = self.layer(i);
                [x.wq, x.wk, x.wv, x.wo, x.w_gate, x.w_up, x.w_down]
                    .iter()
                    .map(|m| m.data.len())
                    .sum::<usize>()
            })
            .sum();
        l + self.output.data.len()
    }

    /// Bytes of weights the model maps.
    pub fn weight_bytes(&self) -> usize {
        let l: usize = (0..self.config.n_layers)
            .map(|i| {
                let x = self.layer(i);
                [x.wq, x.wk, x.wv, x.wo, x.w_gate, x.w_up, x.w_down]
                    .iter()
                    .map(|m| m.data.len())
                    .sum::<usize>()
                    + x.attn_norm.len()
                    + x.ffn_norm.len()
            })
            .sum();
        l + self.token_embd.data.len()
            + if self.tied { 0 } else { self.output.data.len() }
            + self.output_norm.len()
    }
}
