//! Build-time facts that `cfg` cannot express on stable Rust.
//!
//! Stable rustc exposes none of Arm's `target_feature` cfgs (`dsp`, `vfp4`, `v7`, `mclass`,
//! … are nightly-only), and the target name does not settle them either, so for 32-bit Arm
//! the compiler is asked directly: it compiles a small probe using the instructions for
//! `$TARGET` with `$CARGO_ENCODED_RUSTFLAGS`, and LLVM's assembler accepts them exactly when
//! the selected architecture and FPU have them.
//!
//! - `mote_arm_dsp`: `SXTB16` and `SMLAD` for the `ArmDsp` kernels (Armv7E-M, Armv8-M
//!   Mainline + DSP, Armv6 and later A/R-profile; not Armv6-M, Armv7-M or Armv8-M
//!   Baseline). `thumbv8m.main` has them only with `-C target-feature=+dsp` or a
//!   `target-cpu` that implies it (Cortex-M33/M55/M85).
//! - `mote_arm_vfma`: `VFMA.F32`, the FPU's fused multiply-add, for `math::fmaf` (FPv4-SP
//!   and FPv5 on Cortex-M4F/M7/M33, VFPv4 on Cortex-A7/A15 and later; not VFPv3, which
//!   `armv7-unknown-linux-gnueabihf` assumes unless the flags say more).
//! - `mote_arm_vfma_sreg`: on top of that, rustc lets `asm!` take `f32` operands in `s`
//!   registers. It requires its `vfp2` feature, which it derives only for a double-precision
//!   FPU (e.g. `-C target-cpu=cortex-m7`, or VFPv4 on A-profile); with a single-precision
//!   one (Cortex-M4F, M33, plain `thumbv7em-none-eabihf`) the operands go through core
//!   registers instead.
//! - `mote_arm_f16cvt`: `VCVTB.F32.F16` and `VCVTB.F16.F32`, the FPU's half-precision
//!   conversions, for `math::f16_to_f32` / `math::f32_to_f16` (every FPU with the FP16
//!   extension: FPv4-SP, FPv5, VFPv4, VFPv3 with `+fp16`; not plain VFPv3 or no FPU).
//! - `mote_arm_f16cvt_sreg`: on top of that, `asm!` takes their operands in `s` registers
//!   (the same condition as `mote_arm_vfma_sreg`, probed on its own since an FPU may have
//!   one instruction and not the other).

use std::env;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Both DSP instructions in the forms the kernels use (`SXTB16` with and without rotation).
const DSP_PROBE: &str = r#"#![no_std]
#[no_mangle]
pub extern "C" fn mote_arm_dsp_probe(a: u32, b: u32, c: i32) -> i32 {
    let (t, u, r): (u32, u32, i32);
    // SAFETY: register-only instructions.
    unsafe {
        core::arch::asm!(
            "sxtb16 {t}, {a}",
            "sxtb16 {u}, {a}, ror #8",
            "smlad {r}, {t}, {b}, {c}",
            "smlad {r}, {u}, {b}, {r}",
            a = in(reg) a, b = in(reg) b, c = in(reg) c,
            t = out(reg) t, u = out(reg) u, r = out(reg) r,
            options(pure, nomem, nostack),
        );
    }
    r
}
"#;

/// `VFMA.F32` with operands moved through core registers, as `math::fmaf` does without
/// `s`-register operands.
const VFMA_PROBE: &str = r#"#![no_std]
#[no_mangle]
pub extern "C" fn mote_arm_vfma_probe(a: u32, b: u32, c: u32) -> u32 {
    let r: u32;
    // SAFETY: register-only instructions.
    unsafe {
        core::arch::asm!(
            "vmov s0, s1, {a}, {b}",
            "vmov s2, {c}",
            "vfma.f32 s2, s0, s1",
            "vmov {r}, s2",
            a = in(reg) a, b = in(reg) b, c = in(reg) c, r = lateout(reg) r,
            out("s0") _, out("s1") _, out("s2") _,
            options(pure, nomem, nostack),
        );
    }
    r
}
"#;

/// `VFMA.F32` on `s`-register operands.
const VFMA_SREG_PROBE: &str = r#"#![no_std]
#[no_mangle]
pub extern "C" fn mote_arm_vfma_sreg_probe(a: f32, b: f32, c: f32) -> f32 {
    let mut r = c;
    // SAFETY: a register-only instruction.
    unsafe {
        core::arch::asm!(
            "vfma.f32 {r}, {a}, {b}",
            a = in(sreg) a, b = in(sreg) b, r = inout(sreg) r,
            options(pure, nomem, nostack),
        );
    }
    r
}
"#;

/// Both `VCVTB` directions with operands moved through core registers.
const F16CVT_PROBE: &str = r#"#![no_std]
#[no_mangle]
pub extern "C" fn mote_arm_f16cvt_probe(h: u32, x: u32) -> u32 {
    let (a, b): (u32, u32);
    // SAFETY: register-only instructions.
    unsafe {
        core::arch::asm!(
            "vmov s0, {h}",
            "vcvtb.f32.f16 s0, s0",
            "vmov {a}, s0",
            "vmov s0, {x}",
            "vcvtb.f16.f32 s0, s0",
            "vmov {b}, s0",
            h = in(reg) h, x = in(reg) x, a = out(reg) a, b = lateout(reg) b,
            out("s0") _,
            options(pure, nomem, nostack),
        );
    }
    a ^ b
}
"#;

/// Both `VCVTB` directions on `s`-register operands.
const F16CVT_SREG_PROBE: &str = r#"#![no_std]
#[no_mangle]
pub extern "C" fn mote_arm_f16cvt_sreg_probe(h: f32, x: f32) -> f32 {
    let (a, b): (f32, f32);
    // SAFETY: register-only instructions.
    unsafe {
        core::arch::asm!(
            "vcvtb.f32.f16 {a}, {h}",
            "vcvtb.f16.f32 {b}, {x}",
            h = in(sreg) h, x = in(sreg) x, a = out(sreg) a, b = out(sreg) b,
            options(pure, nomem, nostack),
        );
    }
    a + b
}
"#;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mote_arm_dsp)");
    println!("cargo::rustc-check-cfg=cfg(mote_arm_vfma)");
    println!("cargo::rustc-check-cfg=cfg(mote_arm_vfma_sreg)");
    println!("cargo::rustc-check-cfg=cfg(mote_arm_f16cvt)");
    println!("cargo::rustc-check-cfg=cfg(mote_arm_f16cvt_sreg)");
    println!("cargo::rerun-if-changed=build.rs");
    if env::var("CARGO_CFG_TARGET_ARCH").as_deref() != Ok("arm") {
        return;
    }
    if assembles("arm_dsp_probe", DSP_PROBE) {
        println!("cargo::rustc-cfg=mote_arm_dsp");
    }
    if assembles("arm_vfma_probe", VFMA_PROBE) {
        println!("cargo::rustc-cfg=mote_arm_vfma");
        if assembles("arm_vfma_sreg_probe", VFMA_SREG_PROBE) {
            println!("cargo::rustc-cfg=mote_arm_vfma_sreg");
        }
    }
    if assembles("arm_f16cvt_probe", F16CVT_PROBE) {
        println!("cargo::rustc-cfg=mote_arm_f16cvt");
        if assembles("arm_f16cvt_sreg_probe", F16CVT_SREG_PROBE) {
            println!("cargo::rustc-cfg=mote_arm_f16cvt_sreg");
        }
    }
}

/// Whether this build's rustc compiles `src` (crate `name`) for the target with the build's
/// flags (any failure: no).
fn assembles(name: &str, src: &str) -> bool {
    let (Some(out_dir), Ok(target)) = (env::var_os("OUT_DIR"), env::var("TARGET")) else {
        return false;
    };
    let dir = PathBuf::from(out_dir);
    let path = dir.join(format!("{name}.rs"));
    if std::fs::write(&path, src).is_err() {
        return false;
    }
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    Command::new(rustc)
        .args(flags.split('\x1f').filter(|f| !f.is_empty()))
        .args(["--target", &target])
        .args(["--edition=2021", "--crate-type=lib"])
        .arg(format!("--crate-name={name}"))
        .arg("--emit=obj")
        .arg("-o")
        .arg(dir.join(format!("{name}.o")))
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
