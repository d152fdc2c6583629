// Shared by the board crates' build scripts (`#[path = "../board/build_support.rs"] mod
// support;`): turns the `MOTE_*` build variables into constants the board's `main` includes.
// A build script is host code, so this file uses std; it is not part of the mote-board crate.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

/// Defaults a board picks for the variables left unset.
pub struct Defaults {
    pub board: &'static str,
    pub ctx_len: usize,
    pub kv: &'static str,
    pub arena_bytes: usize,
    pub max_reply: usize,
}

/// Read a variable, telling cargo to rebuild when it changes.
pub fn var(name: &str) -> Option<String> {
    println!("cargo::rerun-if-env-changed={name}");
    env::var(name).ok().filter(|v| !v.is_empty())
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match var(name) {
        None => default,
        Some(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
    }
}

/// Write `$OUT_DIR/board_config.rs` with `CONFIG`, `ARENA_BYTES` and `ICOUNT`.
pub fn write_config(d: &Defaults) {
    let kv = var("MOTE_KV").unwrap_or_else(|| d.kv.to_string());
    let kv_type = match kv.as_str() {
        "f32" => "F32",
        "f16" => "F16",
        "q8" => "Q8",
        other => panic!("MOTE_KV={other}: expected f32, f16 or q8"),
    };
    let ctx_len: usize = number("MOTE_CTX", d.ctx_len);
    let arena: usize = number("MOTE_ARENA_BYTES", d.arena_bytes);
    let max_reply: usize = number("MOTE_MAX_REPLY", d.max_reply);
    let temperature: f32 = number("MOTE_TEMP", 0.8);
    let seed: u64 = number("MOTE_SEED", 1);
    // Under `qemu -icount shift=0` virtual time advances 1 ns per instruction, so the clock
    // can report instructions; on real hardware (or plain QEMU) it reports seconds.
    let icount = var("MOTE_ICOUNT").is_some_and(|v| v != "0");
    let mut s = String::new();
    writeln!(
        s,
        "/// Build-time settings (from the `MOTE_*` variables).\n\
         pub const CONFIG: mote_board::BoardConfig = mote_board::BoardConfig {{\n    \
         board: {:?},\n    console: mote_board::ConsoleConfig {{\n        \
         ctx_len: {ctx_len},\n        kv_type: mote_runtime::KvType::{kv_type},\n        \
         max_reply: {max_reply},\n        temperature: {temperature:?},\n        \
         seed: {seed},\n        ..mote_board::ConsoleConfig::DEFAULT\n    }},\n}};\n\
         /// Bytes of the static arena (tokenizer tables, KV cache, activations, console).\n\
         pub const ARENA_BYTES: usize = {arena};\n\
         /// Whether the clock counts instructions (`qemu -icount shift=0`).\n\
         pub const ICOUNT: bool = {icount};",
        d.board
    )
    .unwrap();
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap()).join("board_config.rs");
    fs::write(out, s).unwrap();
}

/// Link with script `name`, searched in the crate directory (where a board's own script
/// or its `memory.x` for cortex-m-rt's `link.x` is) and the usual places.
pub fn link_script(name: &str) {
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo::rustc-link-search={}", dir.display());
    println!("cargo::rustc-link-arg-bins=-T{name}");
    for local in [name, "memory.x"] {
        if dir.join(local).exists() {
            println!("cargo::rerun-if-changed={local}");
        }
    }
    println!("cargo::rerun-if-changed=../board/build_support.rs");
}

/// The model to put in flash: `MOTE_MODEL`, made absolute, for `include_bytes!`.
#[allow(dead_code)] // boards whose model is a separate image do not call it
pub fn model_path() -> PathBuf {
    let Some(p) = var("MOTE_MODEL") else {
        panic!("set MOTE_MODEL=path/to/model.gguf: the model is built into the flash image");
    };
    let p = fs::canonicalize(&p).unwrap_or_else(|e| panic!("MOTE_MODEL={p}: {e}"));
    println!("cargo::rerun-if-changed={}", p.display());
    println!("cargo::rustc-env=MOTE_MODEL_FILE={}", p.display());
    p
}
