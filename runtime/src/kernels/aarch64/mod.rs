//! aarch64 kernel tables: [`NEON`] for every aarch64 CPU (the Raspberry Pi 4's Cortex-A72
//! has no dot-product instructions) and [`NEON_DOTPROD`] for CPUs with `SDOT` (FEAT_DotProd:
//! Cortex-A76 in the Raspberry Pi 5, Cortex-A55, Apple M1 and later, Neoverse).
//!
//! Both compute bit for bit what the scalar reference computes (see [`crate::kernels`]):
//! the x86 8-lane f32 registers become pairs of `float32x4_t`, FMAs stay fused (`FMLA`),
//! the horizontal sums use the reference's pairing, integer block sums are exact and grouped
//! into the same lanes, and activations are quantized with the same float operations. The
//! dotprod table differs from the plain one only in the integer dot products
//! ([`quants::dotprod`]); quantization and the float kernels are shared.
//!
//! Availability: NEON is part of every hard-float little-endian aarch64 target (on others
//! neither table exists). With `std`, dotprod is detected at run time; without it (bare
//! metal), it is available when the build enables it (`-C target-feature=+dotprod` or a
//! `target-cpu` that has it).

#[cfg(all(target_feature = "neon", target_endian = "little"))]
mod float;
#[cfg(all(target_feature = "neon", target_endian = "little"))]
mod quantize;
#[cfg(all(target_feature = "neon", target_endian = "little"))]
mod quants;
#[cfg(all(target_feature = "neon", target_endian = "little"))]
mod simd;

#[cfg(all(target_feature = "neon", target_endian = "little"))]
pub use tables::{NEON, NEON_DOTPROD};

use super::dispatch::Kernels;

/// The plain NEON table, if this build has NEON.
pub fn neon() -> Option<&'static Kernels> {
    #[cfg(all(target_feature = "neon", target_endian = "little"))]
    return Some(&NEON);
    #[cfg(not(all(target_feature = "neon", target_endian = "little")))]
    return None;
}

/// The dotprod table, if this CPU (or, without `std`, this build) has the dot-product
/// instructions.
pub fn neon_dotprod() -> Option<&'static Kernels> {
    #[cfg(all(target_feature = "neon", target_endian = "little"))]
    return has_dotprod().then_some(&NEON_DOTPROD);
    #[cfg(not(all(target_feature = "neon", target_endian = "little")))]
    return None;
}

/// Whether `SDOT` may be executed.
#[inline]
pub fn has_dotprod() -> bool {
    #[cfg(feature = "std")]
    return std::arch::is_aarch64_feature_detected!("dotprod");
    #[cfg(not(feature = "std"))]
    return cfg!(target_feature = "dotprod");
}

#[cfg(all(target_feature = "neon", target_endian = "little"))]
mod tables {
    use super::{float, has_dotprod, quantize, quants};
    use crate::kernels::dispatch::{Backend, Kernels};
    use crate::quant::{BlockQ8K, BlockQ8_0};
    use half::f16;

    /// aarch64 NEON without the dot-product extension.
    pub static NEON: Kernels = Kernels {
        backend: Backend::Neon,
        quantize_q8_0,
        quantize_q8_k,
        q4_0,
        q4_0_repacked,
        q8_0,
        q4_0_repacked_mm: None,
        q4_0_packed: None,
        q8_0_packed: None,
        q8_0_mm: None,
        streaming: None,
        q6_k,
        f16: f16_rows,
        f32: f32_rows,
    };

    /// aarch64 NEON with `SDOT`. Its entries check [`has_dotprod`] on every call (a cached
    /// flag) and fall back to the plain kernels, which give the same results, so the table
    /// is safe to call anywhere; select it through [`Kernels::get`], which offers it only
    /// where `SDOT` exists.
    pub static NEON_DOTPROD: Kernels = Kernels {
        backend: Backend::NeonDotprod,
        quantize_q8_0,
        quantize_q8_k,
        q4_0: q4_0_dotprod,
        q4_0_repacked: q4_0_repacked_dotprod,
        q8_0: q8_0_dotprod,
        q4_0_repacked_mm: None,
        q4_0_packed: None,
        q8_0_packed: None,
        q8_0_mm: None,
        streaming: None,
        q6_k: q6_k_dotprod,
        f16: f16_rows,
        f32: f32_rows,
    };

    // Safe entry points. The kernels are `#[target_feature(enable = "neon")]` functions so
    // that the intrinsics are safe to call inside them; this module is compiled only where
    // the target has NEON, so calling them is sound.

    fn quantize_q8_0(x: &[f32], y: &mut [BlockQ8_0]) {
        // SAFETY: this build's target has NEON (module cfg).
        unsafe { quantize::q8_0(x, y) }
    }

    fn quantize_q8_k(x: &[f32], y: &mut [BlockQ8K]) {
        // SAFETY: this build's target has NEON (module cfg).
        unsafe { quantize::q8_k(x, y) }
    }

    fn q4_0(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
        // SAFETY: this build's target has NEON (module cfg).
        unsafe { quants::neon::q4_0(w, x, out) }
    }

    fn q4_0_repacked(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
        // SAFETY: this build's target has NEON (module cfg).
        unsafe { quants::neon::q4_0_repacked(w, x, out) }
    }

    fn q8_0(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
        // SAFETY: this build's target has NEON (module cfg).
        unsafe { quants::neon::q8_0(w, x, out) }
    }

    fn q6_k(w: &[u8], x: &[BlockQ8K], out: &mut [f32]) {
        // SAFETY: this build's target has NEON (module cfg).
        unsafe { quants::neon::q6_k(w, x, out) }
    }

    fn f16_rows(w: &[u8], x: &[f16], out: &mut [f32]) {
        // SAFETY: this build's target has NEON (module cfg).
        unsafe { float::f16_rows(w, x, out) }
    }

    fn f32_rows(w: &[u8], x: &[f32], out: &mut [f32]) {
        // SAFETY: this build's target has NEON (module cfg).
        unsafe { float::f32_rows(w, x, out) }
    }

    fn q4_0_dotprod(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
        if !has_dotprod() {
            return q4_0(w, x, out);
        }
        // SAFETY: NEON (module cfg) and dotprod (checked above) are present.
        unsafe { quants::dotprod::q4_0(w, x, out) }
    }

    fn q4_0_repacked_dotprod(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
        if !has_dotprod() {
            return q4_0_repacked(w, x, out);
        }
        // SAFETY: NEON (module cfg) and dotprod (checked above) are present.
        unsafe { quants::dotprod::q4_0_repacked(w, x, out) }
    }

    fn q8_0_dotprod(w: &[u8], x: &[BlockQ8_0], out: &mut [f32]) {
        if !has_dotprod() {
            return q8_0(w, x, out);
        }
        // SAFETY: NEON (module cfg) and dotprod (checked above) are present.
        unsafe { quants::dotprod::q8_0(w, x, out) }
    }

    fn q6_k_dotprod(w: &[u8], x: &[BlockQ8K], out: &mut [f32]) {
        if !has_dotprod() {
            return q6_k(w, x, out);
        }
        // SAFETY: NEON (module cfg) and dotprod (checked above) are present.
        unsafe { quants::dotprod::q6_k(w, x, out) }
    }
}
