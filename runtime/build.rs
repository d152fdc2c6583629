//! Build-time facts that `cfg` cannot express on stable Rust.
//!
//! `mote_arm_dsp` is set when compiling for 32-bit Arm and the target, with this build's
//! flags, has the DSP instructions the `ArmDsp` kernels use (`SXTB16`, `SMLAD`). Stable
//! rustc exposes none of Arm's `target_feature` cfgs (`dsp`, `v7`, `mclass`, … are
//! nightly-only), and the target name does not settle it either: `thumbv8m.main` has them
//! only with `-C target-feature=+dsp` or a `target-cpu` that implies it (Cortex-M33/M55/M85).
//! So the compiler is asked directly: it assembles a function using both instructions for
//! `$TARGET` with `$CARGO_ENCODED_RUSTFLAGS`, and LLVM's assembler accepts them exactly
//! when the selected architecture has them (Armv7E-M, Armv8-M Mainline + DSP, Armv6 and
//! later A/R-profile; not Armv6-M, Armv7-M or Armv8-M Baseline).

use std::env;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Both instructions in the forms the kernels use (`SXTB16` with and without rotation).
const PROBE: &str = r#"#![no_std]
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

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mote_arm_dsp)");
    println!("cargo::rerun-if-changed=build.rs");
    if env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("arm") && arm_dsp_assembles() {
        println!("cargo::rustc-cfg=mote_arm_dsp");
    }
}

/// Whether this build's rustc assembles [`PROBE`] for the target (any failure: no).
fn arm_dsp_assembles() -> bool {
    let (Some(out_dir), Ok(target)) = (env::var_os("OUT_DIR"), env::var("TARGET")) else {
        return false;
    };
    let dir = PathBuf::from(out_dir);
    let src = dir.join("arm_dsp_probe.rs");
    if std::fs::write(&src, PROBE).is_err() {
        return false;
    }
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    Command::new(rustc)
        .args(flags.split('\x1f').filter(|f| !f.is_empty()))
        .args(["--target", &target])
        .args([
            "--edition=2021",
            "--crate-type=lib",
            "--crate-name=arm_dsp_probe",
        ])
        .arg("--emit=obj")
        .arg("-o")
        .arg(dir.join("arm_dsp_probe.o"))
        .arg(&src)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
