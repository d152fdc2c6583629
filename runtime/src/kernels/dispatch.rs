//! Kernel selection: one table of function pointers per instruction set.
//!
//! Every table computes bit for bit what the scalar reference computes (same integer sums,
//! same float lanes and order), so logits do not depend on the table, only speed does.
//! Row kernels take `out.len()` consecutive rows of `w` and write one dot per row.

use crate::error::{Error, Result};
use crate::quant::{scalar, BlockQ8K, BlockQ8_0};
use half::f16;

/// `out[r] = w_row(r) · x` over Q8_0 activations.
pub type RowsQ8_0 = fn(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]);
/// `out[r] = w_row(r) · x` over Q8_K activations.
pub type RowsQ8K = fn(w: &[u8], x: &[BlockQ8K], out: &mut [f32]);
/// `out[r] = w_row(r) · x` over f16 activations.
pub type RowsF16 = fn(w: &[u8], x: &[f16], out: &mut [f32]);
/// `out[r] = w_row(r) · x` over f32 activations.
pub type RowsF32 = fn(w: &[u8], x: &[f32], out: &mut [f32]);
/// Several positions at once: `out[b·rows + r] = w_row(r) · x_b` for positions `b < n`,
/// where `rows = out.len() / n` and `x_b` is `x[b·x_stride..]` cut to a row's blocks.
/// Each output equals, bit for bit, the matching row kernel's for that row and position.
pub type MmQ8_0 = fn(w: &[u8], x: &[BlockQ8_0], x_stride: usize, n: usize, out: &mut [f32]);

/// Kernels over matrices packed sixteen rows to a group
/// ([`interleaved`](crate::quant::interleaved)), for a table that reads them faster than
/// rows in place. The bits are the row kernels' on the unpacked rows.
#[derive(Clone, Copy)]
pub struct Packed {
    /// `out.len()` (a multiple of 16) packed rows.
    pub rows: RowsQ8_0,
    /// `rows` over several positions.
    pub mm: MmQ8_0,
}

/// Weights per token above which a model is taken not to fit in the caches (a large
/// desktop or server L3).
pub const STREAMING_BYTES: usize = 64 << 20;

/// The instruction sets mote has kernels for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Portable reference; runs everywhere.
    Scalar,
    /// x86-64 AVX2 + FMA + F16C.
    Avx2,
    /// x86-64 AVX2 with AVX-512F/BW/VL and AVX-512 VNNI (Zen 4, Ice Lake and later).
    Avx512,
    /// aarch64 NEON without the dot-product extension (Cortex-A72, Raspberry Pi 4).
    Neon,
    /// aarch64 NEON with `sdot` (Cortex-A76, Raspberry Pi 5).
    NeonDotprod,
    /// Armv7E-M / Armv8-M DSP extension (SXTB16 + SMLAD), and A-profile Arm.
    ArmDsp,
}

impl Backend {
    pub const ALL: [Backend; 6] = [
        Backend::Scalar,
        Backend::Avx2,
        Backend::Avx512,
        Backend::Neon,
        Backend::NeonDotprod,
        Backend::ArmDsp,
    ];

    /// The name used by `MOTE_KERNELS` and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Scalar => "scalar",
            Backend::Avx2 => "avx2",
            Backend::Avx512 => "avx512",
            Backend::Neon => "neon",
            Backend::NeonDotprod => "neon-dotprod",
            Backend::ArmDsp => "arm-dsp",
        }
    }

    pub fn parse(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// One instruction set's kernels.
pub struct Kernels {
    pub backend: Backend,
    pub quantize_q8_0: fn(&[f32], &mut [BlockQ8_0]),
    pub quantize_q8_k: fn(&[f32], &mut [BlockQ8K]),
    /// Q4_0 rows in `ggml_vec_dot_q4_0_q8_0`'s lanes (matrices whose rows % 8 != 0).
    pub q4_0: RowsQ8_0,
    /// Q4_0 rows in the repacked-GEMV order (matrices whose rows % 8 == 0).
    pub q4_0_repacked: RowsQ8_0,
    pub q8_0: RowsQ8_0,
    /// `q4_0_repacked` over several positions, where the table has such a kernel.
    pub q4_0_repacked_mm: Option<MmQ8_0>,
    /// `q8_0` over several positions, where the table has such a kernel.
    pub q8_0_mm: Option<MmQ8_0>,
    /// Set if this table wants Q4_0 matrices packed at load (see [`Packed`]).
    pub q4_0_packed: Option<Packed>,
    /// Set if this table wants Q8_0 matrices packed at load.
    pub q8_0_packed: Option<Packed>,
    /// The table to use instead when the weights stream from memory (a model larger than
    /// the caches), where another mix of kernels is faster there (same bits).
    pub streaming: Option<&'static Kernels>,
    pub q6_k: RowsQ8K,
    pub f16: RowsF16,
    pub f32: RowsF32,
}

/// Apply a per-row dot to `out.len()` consecutive rows of `w`.
#[inline(always)]
pub fn each_row<X: ?Sized>(w: &[u8], x: &X, out: &mut [f32], dot: impl Fn(&[u8], &X) -> f32) {
    if out.is_empty() {
        return;
    }
    let rb = w.len() / out.len();
    for (r, o) in w.chunks_exact(rb).zip(out.iter_mut()) {
        *o = dot(r, x);
    }
}

/// The scalar reference table.
pub static SCALAR: Kernels = Kernels {
    backend: Backend::Scalar,
    quantize_q8_0: scalar::quantize_row_q8_0,
    quantize_q8_k: scalar::quantize_row_q8_k,
    q4_0: |w, x, out| each_row(w, x, out, scalar::vec_dot_q4_0_q8_0),
    q4_0_repacked: |w, x, out| each_row(w, x, out, scalar::vec_dot_q4_0_q8_0_repacked),
    q8_0: |w, x, out| each_row(w, x, out, scalar::vec_dot_q8_0_q8_0),
    q4_0_repacked_mm: None,
    q8_0_mm: None,
    q4_0_packed: None,
    q8_0_packed: None,
    streaming: None,
    q6_k: |w, x, out| each_row(w, x, out, scalar::vec_dot_q6k_q8k),
    f16: |w, x, out| each_row(w, x, out, scalar::vec_dot_f16),
    f32: |w, x, out| each_row(w, x, out, scalar::vec_dot_f32),
};

impl Kernels {
    /// The table for `backend`, if this CPU (and build) can run it.
    pub fn get(backend: Backend) -> Option<&'static Kernels> {
        match backend {
            Backend::Scalar => Some(&SCALAR),
            // Native tables register here.
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => super::x86::available().then_some(&super::x86::AVX2),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => super::x86::available_avx512().then_some(&super::x86::AVX512),
            #[cfg(target_arch = "aarch64")]
            Backend::Neon => super::aarch64::neon(),
            #[cfg(target_arch = "aarch64")]
            Backend::NeonDotprod => super::aarch64::neon_dotprod(),
            #[cfg(target_arch = "arm")]
            Backend::ArmDsp => super::arm_dsp::table(),
            _ => None,
        }
    }

    /// This table, or its variant for weights that stream from memory when a token reads
    /// `weight_bytes` (more than [`STREAMING_BYTES`]).
    pub fn for_weights(&'static self, weight_bytes: usize) -> &'static Kernels {
        match self.streaming {
            Some(s) if weight_bytes > STREAMING_BYTES => s,
            _ => self,
        }
    }

    /// The fastest table this CPU runs (the scalar one when built with `force-scalar`).
    pub fn best() -> &'static Kernels {
        if cfg!(feature = "force-scalar") {
            return &SCALAR;
        }
        [
            Backend::Avx512,
            Backend::Avx2,
            Backend::NeonDotprod,
            Backend::Neon,
            Backend::ArmDsp,
        ]
        .into_iter()
        .find_map(Kernels::get)
        .unwrap_or(&SCALAR)
    }

    /// `None` → [`Kernels::best`]; a name → that table, or an error if unknown or
    /// unsupported here.
    pub fn select(name: Option<&str>) -> Result<&'static Kernels> {
        match name {
            None | Some("") | Some("auto") => Ok(Kernels::best()),
            Some(n) => Backend::parse(n)
                .and_then(Kernels::get)
                .ok_or(Error::BadParameter),
        }
    }

    /// The table named by the `MOTE_KERNELS` environment variable (e.g. `scalar` to force
    /// the reference), else the best one.
    #[cfg(feature = "std")]
    pub fn from_env() -> Result<&'static Kernels> {
        let v = std::env::var("MOTE_KERNELS").ok();
        Kernels::select(v.as_deref())
    }

    /// Every table this CPU runs (for tests and benchmarks).
    pub fn available() -> impl Iterator<Item = &'static Kernels> {
        Backend::ALL.into_iter().filter_map(Kernels::get)
    }
}

impl core::fmt::Debug for Kernels {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.backend.name())
    }
}

impl PartialEq for Kernels {
    fn eq(&self, other: &Self) -> bool {
        self.backend == other.backend
    }
}

impl Eq for Kernels {}
