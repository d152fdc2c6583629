//! Kernels for 32-bit Arm with the DSP instructions: Cortex-M4/M7 (Armv7E-M), Cortex-M33
//! and friends (Armv8-M Mainline with the DSP extension), and A/R-profile Arm (Armv6 and
//! later, e.g. a Raspberry Pi running a 32-bit OS).
//!
//! The integer block dots take four int8 values per 32-bit word: `SXTB16` (bytes 0 and 2)
//! and `SXTB16 …, ROR #8` (bytes 1 and 3) widen each word to two pairs of int16, and
//! `SMLAD` multiplies two pairs and adds both products to an accumulator, so four products
//! cost two `SMLAD`s. Every lane is the exact integer the scalar reference sums (the same
//! elements, and integer addition is exact: no partial sum can overflow), and the float
//! part is the scalar one verbatim — the same 8 accumulator lanes, the same fused
//! multiply-adds ([`crate::math::fmaf`]) and the same final reduction — so the results are
//! bit-identical to [`SCALAR`](super::dispatch::SCALAR). Entries without an integer dot
//! (f32, f16, activation quantization) are the scalar functions.
//!
//! # Availability
//!
//! Compiled for `target_arch = "arm"` only, and the table exists only under the
//! `mote_arm_dsp` cfg, which the crate's build script (`runtime/build.rs`) sets when this
//! build's rustc assembles `SXTB16` and `SMLAD` for the target with the build's flags.
//! Stable Rust sets no Arm `target_feature` cfgs (`dsp`, `v7`, `mclass` are nightly-only),
//! and the target name does not decide it, so the compiler is asked directly. Hence:
//!
//! - `thumbv7em-none-eabi{,hf}` (Cortex-M4/M7): yes;
//! - `thumbv8m.main-none-eabi{,hf}` (Cortex-M33/M35P/M55/M85): only with
//!   `-C target-feature=+dsp` or a `-C target-cpu` that has it (`cortex-m33`, …), since the
//!   DSP extension is optional in Armv8-M Mainline;
//! - `armv7-unknown-linux-gnueabihf` and the other Armv7-A/R targets: yes (A/R-profile
//!   has these instructions from Armv6 on, in both the Arm and Thumb-2 sets);
//! - `thumbv6m`, `thumbv7m`, `thumbv8m.base`, Armv5TE: no (no such instructions).
//!
//! A nightly compiler's `target_feature = "dsp"` cfg is honoured as well.

use super::dispatch::Kernels;

/// The DSP table if this build can run it (see the module docs for the gate).
pub fn table() -> Option<&'static Kernels> {
    #[cfg(any(mote_arm_dsp, target_feature = "dsp"))]
    {
        Some(&dsp::ARM_DSP)
    }
    #[cfg(not(any(mote_arm_dsp, target_feature = "dsp")))]
    {
        None
    }
}

#[cfg(any(mote_arm_dsp, target_feature = "dsp"))]
mod dsp {
    use crate::kernels::dispatch::{each_row, Backend, Kernels};
    use crate::math::{f16_le, f16_to_f32, fmaf};
    use crate::quant::scalar::{self, hsum_float_8, LANES};
    use crate::quant::{BlockQ8K, BlockQ8_0};
    use core::arch::asm;

    /// The Arm DSP table: integer block dots with `SXTB16` + `SMLAD`.
    pub static ARM_DSP: Kernels = Kernels {
        backend: Backend::ArmDsp,
        quantize_q8_0: scalar::quantize_row_q8_0,
        quantize_q8_k: scalar::quantize_row_q8_k,
        q4_0: |w, x, out| each_row(w, x, out, vec_dot_q4_0_q8_0),
        q4_0_repacked: |w, x, out| each_row(w, x, out, vec_dot_q4_0_q8_0_repacked),
        q8_0: |w, x, out| each_row(w, x, out, vec_dot_q8_0_q8_0),
        q4_0_repacked_mm: None,
        q4_0_packed: None,
        q8_0_packed: None,
        q8_0_mm: None,
        streaming: None,
        q6_k: |w, x, out| each_row(w, x, out, vec_dot_q6k_q8k),
        f16: |w, x, out| each_row(w, x, out, scalar::vec_dot_f16),
        f32: |w, x, out| each_row(w, x, out, scalar::vec_dot_f32),
    };

    // -----------------------------------------------------------------------------------
    // The instructions
    // -----------------------------------------------------------------------------------

    /// `SXTB16 r, x`: bytes 0 and 2 of `x`, sign-extended into the low and high halfwords.
    #[inline(always)]
    fn sxtb16(x: u32) -> u32 {
        let r: u32;
        // SAFETY: SXTB16 reads one register and writes one (no memory, stack or flags), and
        // this module's cfg gate guarantees the target has the instruction.
        unsafe {
            asm!(
                "sxtb16 {r}, {x}",
                x = in(reg) x,
                r = lateout(reg) r,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        r
    }

    /// `SXTB16 r, x, ROR #8`: bytes 1 and 3 of `x`, sign-extended into the two halfwords.
    #[inline(always)]
    fn sxtb16_ror8(x: u32) -> u32 {
        let r: u32;
        // SAFETY: as in `sxtb16`: a register-only instruction the gate guarantees.
        unsafe {
            asm!(
                "sxtb16 {r}, {x}, ror #8",
                x = in(reg) x,
                r = lateout(reg) r,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        r
    }

    /// `SMLAD r, a, b, acc`: `acc + a.lo·b.lo + a.hi·b.hi` over signed halfwords.
    #[inline(always)]
    fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: SMLAD reads three registers and writes one (no memory or stack); it may set
        // the sticky Q flag on overflow, so flags are not declared preserved. The gate
        // guarantees the target has the instruction.
        unsafe {
            asm!(
                "smlad {r}, {a}, {b}, {acc}",
                a = in(reg) a,
                b = in(reg) b,
                acc = in(reg) acc,
                r = lateout(reg) r,
                options(pure, nomem, nostack),
            );
        }
        r
    }

    /// `acc + Σ_{i<4} w.byte(i)·x.byte(i)` over signed bytes. Each product is at most 2^14 in
    /// magnitude, so four of them (and the callers' sums of up to 32) never overflow.
    #[inline(always)]
    fn dot4(w: u32, x: u32, acc: i32) -> i32 {
        smlad(
            sxtb16(w),
            sxtb16(x),
            smlad(sxtb16_ror8(w), sxtb16_ror8(x), acc),
        )
    }

    // -----------------------------------------------------------------------------------
    // Loads: little-endian words from byte slices (weights have no alignment guarantee)
    // -----------------------------------------------------------------------------------

    #[inline(always)]
    fn word(b: &[u8]) -> u32 {
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    #[inline(always)]
    fn word_i8(q: &[i8]) -> u32 {
        u32::from_le_bytes([q[0] as u8, q[1] as u8, q[2] as u8, q[3] as u8])
    }

    // -----------------------------------------------------------------------------------
    // Block dots (each the scalar reference's lanes and float order)
    // -----------------------------------------------------------------------------------

    /// The eight lanes of one Q4_0 block times one Q8_0 block: lane `k < 4` sums the products
    /// of elements `4k..4k+4` (low nibbles of `qs[4k..4k+4]`), lane `4 + k` those of elements
    /// `16+4k..16+4k+4` (their high nibbles).
    ///
    /// A nibble `n` stands for `n − 8`; flipping its top bit makes it the 4-bit two's
    /// complement of `n − 8`, and moved to the top of its byte it reads as the int8
    /// `16·(n − 8)`. The sums of four such products are multiples of 16, shifted back exactly.
    #[inline(always)]
    fn q4_0_lanes(qs: &[u8], x: &[i8; 32]) -> [i32; LANES] {
        let mut lanes = [0i32; LANES];
        for (k, q) in qs.chunks_exact(4).take(4).enumerate() {
            let q = word(q) ^ 0x8888_8888;
            let lo = (q << 4) & 0xf0f0_f0f0; // 16·(element 4k+i − 8) in byte i
            let hi = q & 0xf0f0_f0f0; // 16·(element 16+4k+i − 8) in byte i
            lanes[k] = dot4(lo, word_i8(&x[4 * k..]), 0) >> 4;
            lanes[4 + k] = dot4(hi, word_i8(&x[16 + 4 * k..]), 0) >> 4;
        }
        lanes
    }

    /// [`scalar::vec_dot_q4_0_q8_0`]: per-lane fused accumulation, then [`hsum_float_8`].
    fn vec_dot_q4_0_q8_0(w: &[u8], x: &[BlockQ8_0]) -> f32 {
        let mut acc = [0.0f32; LANES];
        for (wb, xb) in w.chunks_exact(18).zip(x) {
            let d = f16_le(wb) * f16_to_f32(xb.d);
            let lanes = q4_0_lanes(&wb[2..18], &xb.qs);
            for (a, &sumi) in acc.iter_mut().zip(&lanes) {
                *a = fmaf(d, sumi as f32, *a);
            }
        }
        hsum_float_8(&acc)
    }

    /// [`scalar::vec_dot_q4_0_q8_0_repacked`]: one accumulator, the block's whole integer sum
    /// fused in per block.
    fn vec_dot_q4_0_q8_0_repacked(w: &[u8], x: &[BlockQ8_0]) -> f32 {
        let mut acc = 0.0f32;
        for (wb, xb) in w.chunks_exact(18).zip(x) {
            let sumi: i32 = q4_0_lanes(&wb[2..18], &xb.qs).iter().sum();
            acc = fmaf(sumi as f32, f16_le(wb) * f16_to_f32(xb.d), acc);
        }
        acc
    }

    /// The eight lanes of one Q8_0 block times another: lane `l` sums the products of
    /// elements `4l..4l+4`.
    #[inline(always)]
    fn q8_0_lanes(qs: &[u8], x: &[i8; 32]) -> [i32; LANES] {
        let mut lanes = [0i32; LANES];
        for (l, (lane, q)) in lanes.iter_mut().zip(qs.chunks_exact(4)).enumerate() {
            *lane = dot4(word(q), word_i8(&x[4 * l..]), 0);
        }
        lanes
    }

    /// [`scalar::vec_dot_q8_0_q8_0`]: per-lane fused accumulation, then [`hsum_float_8`].
    /// The lanes are computed before any is accumulated, as in the Q4_0 dot, which lets the
    /// compiler unroll the block and keep the accumulators in registers.
    fn vec_dot_q8_0_q8_0(w: &[u8], x: &[BlockQ8_0]) -> f32 {
        let mut acc = [0.0f32; LANES];
        for (wb, xb) in w.chunks_exact(34).zip(x) {
            let d = f16_le(wb) * f16_to_f32(xb.d);
            let lanes = q8_0_lanes(&wb[2..34], &xb.qs);
            for (a, &sumi) in acc.iter_mut().zip(&lanes) {
                *a = fmaf(d, sumi as f32, *a);
            }
        }
        hsum_float_8(&acc)
    }

    /// [`scalar::vec_dot_q6k_q8k`]. The 6-bit quants are assembled four at a time, unsigned
    /// (0..=63), straight from `ql`/`qh` words: in each 128-element half, word `j` of `ql`,
    /// of `ql[32..]` and of `qh` hold elements `4j..4j+4` of the half's four 32-element chunks,
    /// i.e. lane `j` of each chunk. Lane `j` accumulates `scale · dot4` per chunk, then takes
    /// off the −32 offset from the activation's 16-sums exactly as the scalar lane does.
    fn vec_dot_q6k_q8k(w: &[u8], x: &[BlockQ8K]) -> f32 {
        const LO4: u32 = 0x0f0f_0f0f;
        const LO2: u32 = 0x0303_0303;
        let mut acc = [0.0f32; LANES];
        for (wb, xb) in w.chunks_exact(210).zip(x) {
            let (ql, rest) = wb.split_at(128);
            let (qh, rest) = rest.split_at(64);
            let (sc, d16) = rest.split_at(16);
            let sc = |g: usize| sc[g] as i8 as i32;
            let d = xb.d * f16_le(d16);
            let mut lanes = [0i32; LANES];
            for half in 0..2 {
                let (ql, qh) = (&ql[64 * half..], &qh[32 * half..]);
                for (j, lane) in lanes.iter_mut().enumerate() {
                    let q0 = word(&ql[4 * j..]);
                    let q1 = word(&ql[32 + 4 * j..]);
                    let h = word(&qh[4 * j..]);
                    let u = [
                        (q0 & LO4) | ((h & LO2) << 4),
                        (q1 & LO4) | (((h >> 2) & LO2) << 4),
                        ((q0 >> 4) & LO4) | (((h >> 4) & LO2) << 4),
                        ((q1 >> 4) & LO4) | (((h >> 6) & LO2) << 4),
                    ];
                    for (quarter, u) in u.into_iter().enumerate() {
                        let c = 4 * half + quarter;
                        let p = dot4(u, word_i8(&xb.qs[32 * c + 4 * j..]), 0);
                        *lane += sc(2 * c + j / 4) * p;
                    }
                }
            }
            for (l, (a, &sumi)) in acc.iter_mut().zip(&lanes).enumerate() {
                let offset =
                    xb.bsums[2 * l] as i32 * sc(2 * l) + xb.bsums[2 * l + 1] as i32 * sc(2 * l + 1);
                *a = fmaf(d, (sumi - (offset << 5)) as f32, *a);
            }
        }
        hsum_float_8(&acc)
    }
}
