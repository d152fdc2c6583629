//! `mote flash`'s library side: build a board crate under `firmware/` with a model, size
//! the image against the board's budgets, and boot it (QEMU), or turn it into a UF2 file.
//!
//! A board build is `cargo build --release` in the board's directory (its own workspace,
//! with its target and linker script in `.cargo/config.toml`), configured through
//! environment variables its `build.rs` reads: `MOTE_MODEL`, `MOTE_CTX`, `MOTE_KV`,
//! `MOTE_ARENA_BYTES`, `MOTE_MAX_REPLY`, `MOTE_TEMP`, `MOTE_SEED`, `MOTE_ICOUNT`.

pub mod board;
pub mod elf;
pub mod uf2;

pub use board::{Board, ModelPlace, UnknownBoard};

use mote_runtime::KvType;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Everything `mote flash` can fail with.
#[derive(Debug, thiserror::Error)]
pub enum FlashError {
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("{}: {error}", path.display())]
    Elf { path: PathBuf, error: elf::ElfError },
    #[error("{}: {error}", path.display())]
    Uf2 { path: PathBuf, error: uf2::Uf2Error },
    /// The model cannot run on a board (not a llama GGUF, a bad context length, …).
    #[error("{}: {what}", path.display())]
    Model { path: PathBuf, what: String },
    #[error("could not run `{tool}`: {error}")]
    Tool { tool: String, error: io::Error },
    #[error("building {board} failed ({status})")]
    Build {
        board: Board,
        status: std::process::ExitStatus,
        /// The end of cargo's output (it was also shown as it came).
        log: String,
    },
    #[error("{board} is not emulated by QEMU")]
    NotEmulated { board: Board },
}

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub board: Board,
    pub model: PathBuf,
    /// The `firmware/` directory holding the board crates.
    pub firmware_dir: PathBuf,
    pub ctx_len: usize,
    /// `None`: the board's default (f32 on qemu-virt, f16 on the microcontrollers).
    pub kv_type: Option<KvType>,
    pub max_reply: usize,
    pub temperature: f32,
    pub seed: u64,
    /// Pin the scalar reference kernels (the `scalar` feature).
    pub scalar: bool,
    /// Report `/stats` time in instructions (for `qemu -icount shift=0`).
    pub icount: bool,
    /// Arena bytes; `None`: exactly what the model and settings need.
    pub arena_bytes: Option<usize>,
}

impl BuildOptions {
    pub fn new(board: Board, model: impl Into<PathBuf>) -> Self {
        BuildOptions {
            board,
            model: model.into(),
            firmware_dir: default_firmware_dir(),
            ctx_len: 256,
            kv_type: None,
            max_reply: 128,
            temperature: 0.8,
            seed: 1,
            scalar: false,
            icount: false,
            arena_bytes: None,
        }
    }

    fn kv(&self) -> KvType {
        self.kv_type.unwrap_or(match self.board {
            Board::QemuVirt => KvType::F32,
            _ => KvType::F16,
        })
    }

    /// The configuration the board's `build.rs` makes from the variables [`build`] sets
    /// (kept in step with `firmware/board/build_support.rs`).
    fn board_config(&self) -> mote_board::BoardConfig {
        mote_board::BoardConfig {
            board: self.board.name(),
            console: mote_board::ConsoleConfig {
                ctx_len: self.ctx_len,
                kv_type: self.kv(),
                max_reply: self.max_reply,
                temperature: self.temperature,
                seed: self.seed,
                ..mote_board::ConsoleConfig::DEFAULT
            },
        }
    }
}

/// `firmware/` of the source tree this `mote` was built from.
pub fn default_firmware_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware");
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

/// Flash and RAM use of a built image, against the board's budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Bytes the image stores: code, read-only data (the model, on flash boards) and
    /// .data's initial values.
    pub stored: u64,
    /// Writable memory in sections other than the stack: .data and .bss (the arena).
    pub ram: u64,
    /// The stack: memory.x's STACK region, or qemu-virt's `.stack` section.
    pub stack: u64,
    pub model_bytes: u64,
    /// Where the model lives outside the image (qemu-virt's loaded region).
    pub model_separate: bool,
    pub flash_budget: Option<u64>,
    pub ram_budget: u64,
}

impl Usage {
    /// RAM in use: .data, .bss and the stack, and on qemu-virt (which runs from RAM) the
    /// code and read-only data too.
    pub fn ram_used(&self) -> u64 {
        let code = if self.flash_budget.is_some() {
            0
        } else {
            self.stored
        };
        code + self.ram + self.stack
    }

    /// Whether everything fits its budget (the linker already refuses what does not).
    pub fn fits(&self) -> bool {
        self.flash_budget.is_none_or(|f| self.stored <= f) && self.ram_used() <= self.ram_budget
    }
}

/// A built board image.
#[derive(Debug, Clone)]
pub struct Image {
    pub board: Board,
    pub elf: PathBuf,
    pub model: PathBuf,
    pub arena_bytes: usize,
    pub usage: Usage,
}

/// Arena bytes the board needs for `opts`' model and settings.
pub fn arena_needed(opts: &BuildOptions) -> Result<usize, FlashError> {
    let bytes = read(&opts.model)?;
    mote_board::arena_needed(&bytes, &opts.board_config()).map_err(|e| FlashError::Model {
        path: opts.model.clone(),
        what: e.to_string(),
    })
}

fn read(path: &Path) -> Result<Vec<u8>, FlashError> {
    std::fs::read(path).map_err(|error| FlashError::Io {
        path: path.to_path_buf(),
        error,
    })
}

/// Build the board image for `opts` with `cargo build --release` in the board's crate.
pub fn build(opts: &BuildOptions) -> Result<Image, FlashError> {
    let board = opts.board;
    let model = std::fs::canonicalize(&opts.model).map_err(|error| FlashError::Io {
        path: opts.model.clone(),
        error,
    })?;
    let arena_bytes = match opts.arena_bytes {
        Some(n) => n,
        None => arena_needed(opts)?.next_multiple_of(64),
    };
    let dir = opts.firmware_dir.join(board.name());
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    // The board's .cargo/config.toml is found from the working directory.
    cmd.current_dir(&dir)
        .args(["build", "--release", "--quiet"])
        // Its own target directory: the calling cargo (e.g. `cargo test`) may hold the lock
        // of the workspace's, and flags meant for the host must not reach the board.
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env("MOTE_MODEL", &model)
        .env("MOTE_CTX", opts.ctx_len.to_string())
        .env("MOTE_KV", kv_name(opts.kv()))
        .env("MOTE_ARENA_BYTES", arena_bytes.to_string())
        .env("MOTE_MAX_REPLY", opts.max_reply.to_string())
        .env("MOTE_TEMP", format!("{:?}", opts.temperature))
        .env("MOTE_SEED", opts.seed.to_string())
        .env("MOTE_ICOUNT", if opts.icount { "1" } else { "0" });
    if opts.scalar {
        cmd.args(["--features", "scalar"]);
    }
    let (status, log) = run_teeing_stderr(&mut cmd).map_err(|error| FlashError::Tool {
        tool: cargo.to_string_lossy().into_owned(),
        error,
    })?;
    if !status.success() {
        return Err(FlashError::Build { board, status, log });
    }
    let elf = dir
        .join("target")
        .join(board.target())
        .join("release")
        .join(board.bin());
    let model_bytes = std::fs::metadata(&model)
        .map_err(|error| FlashError::Io {
            path: model.clone(),
            error,
        })?
        .len();
    let usage = usage(board, &elf, model_bytes)?;
    Ok(Image {
        board,
        elf,
        model,
        arena_bytes,
        usage,
    })
}

/// Run `cmd`, passing its stderr on line by line (through `eprintln!`, so a test harness
/// captures it) and keeping the last lines, which say why a build failed.
fn run_teeing_stderr(cmd: &mut Command) -> io::Result<(std::process::ExitStatus, String)> {
    use std::io::BufRead;
    const KEEP: usize = 40;
    let mut child = cmd.stderr(std::process::Stdio::piped()).spawn()?;
    let mut tail = std::collections::VecDeque::with_capacity(KEEP);
    if let Some(err) = child.stderr.take() {
        for line in io::BufReader::new(err).lines() {
            let line = line?;
            eprintln!("{line}");
            if tail.len() == KEEP {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
    let status = child.wait()?;
    Ok((status, Vec::from(tail).join("\n")))
}

fn kv_name(kv: KvType) -> &'static str {
    match kv {
        KvType::F32 => "f32",
        KvType::F16 => "f16",
        KvType::Q8 => "q8",
    }
}

/// Size the ELF at `path` against `board`'s budgets.
pub fn usage(board: Board, path: &Path, model_bytes: u64) -> Result<Usage, FlashError> {
    let bytes = read(path)?;
    let e = elf::Elf::parse(&bytes).map_err(|error| FlashError::Elf {
        path: path.to_path_buf(),
        error,
    })?;
    let (ram_budget, reserve) = board.ram();
    // qemu-virt's linker script reserves the stack as a section.
    let stack_section = e.section(".stack").map_or(0, |s| s.size);
    Ok(Usage {
        stored: e.stored_bytes(),
        ram: e.ram_bytes() - stack_section,
        stack: reserve + stack_section,
        model_bytes,
        model_separate: matches!(board.model_place(), ModelPlace::Loaded { .. }),
        flash_budget: board.flash().map(|(_, len)| len),
        ram_budget,
    })
}

/// How QEMU connects the board's serial port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serial {
    /// This terminal (raw mode; Ctrl-C goes to the board, Ctrl-A X quits QEMU).
    Stdio,
    /// A new pseudo-terminal; QEMU prints its path.
    Pty,
    /// A TCP server on this port of 127.0.0.1; the board boots when a client connects.
    Tcp(u16),
}

impl std::str::FromStr for Serial {
    type Err = UnknownSerial;

    fn from_str(s: &str) -> Result<Self, UnknownSerial> {
        match s {
            "stdio" => Ok(Serial::Stdio),
            "pty" => Ok(Serial::Pty),
            _ => s
                .strip_prefix("tcp:")
                .and_then(|p| p.parse().ok())
                .map(Serial::Tcp)
                .ok_or_else(|| UnknownSerial(s.to_string())),
        }
    }
}

/// A `--serial` value that is none of `stdio`, `pty`, `tcp:PORT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown serial `{0}` (stdio, pty or tcp:PORT)")]
pub struct UnknownSerial(pub String);

/// The QEMU command that boots `image`, its serial port connected as `serial`; with
/// `icount`, virtual time advances one nanosecond per instruction (`-icount shift=0`).
pub fn qemu_command(image: &Image, serial: Serial, icount: bool) -> Result<Command, FlashError> {
    let board = image.board;
    let (qemu, machine) = board.qemu().ok_or(FlashError::NotEmulated { board })?;
    let mut cmd = Command::new(qemu);
    cmd.args(machine).args(["-display", "none"]);
    match serial {
        // Multiplexed with QEMU's monitor, as `-nographic` does: Ctrl-A X quits QEMU if
        // the board hangs, Ctrl-A Ctrl-A sends a Ctrl-A; Ctrl-C goes to the board.
        Serial::Stdio => cmd.args([
            "-chardev",
            "stdio,id=uart,mux=on,signal=off",
            "-serial",
            "chardev:uart",
            "-mon",
            "chardev=uart,mode=readline",
        ]),
        Serial::Pty => cmd.args(["-monitor", "none", "-serial", "pty"]),
        // Loopback only: whoever connects can type to the board and read its feedback.
        Serial::Tcp(port) => cmd.args([
            "-monitor",
            "none",
            "-serial",
            &format!("tcp:127.0.0.1:{port},server=on,wait=on"),
        ]),
    };
    if icount {
        cmd.args(["-icount", "shift=0"]);
    }
    if let ModelPlace::Loaded { addr, .. } = board.model_place() {
        let mut arg = std::ffi::OsString::from("loader,file=");
        arg.push(&image.model);
        arg.push(format!(",addr={addr:#x},force-raw=on"));
        cmd.arg("-device").arg(arg);
    }
    cmd.arg("-kernel").arg(&image.elf);
    Ok(cmd)
}

/// Write `image` as a UF2 file at `out` (RP2350 boards); with `e10_block`, the file starts
/// with the RP2350-E10 workaround block, as picotool's `--abs-block` writes it.
pub fn write_uf2(image: &Image, out: &Path, e10_block: bool) -> Result<(), FlashError> {
    let bytes = read(&image.elf)?;
    let e = elf::Elf::parse(&bytes).map_err(|error| FlashError::Elf {
        path: image.elf.clone(),
        error,
    })?;
    let flash = image.board.flash().ok_or(FlashError::Uf2 {
        path: image.elf.clone(),
        error: uf2::Uf2Error::Empty,
    })?;
    let e10 = e10_block.then_some(uf2::E10_BLOCK_ADDR);
    let data =
        uf2::from_segments(&e.segments, flash, uf2::FAMILY_RP2350_ARM_S, e10).map_err(|error| {
            FlashError::Uf2 {
                path: image.elf.clone(),
                error,
            }
        })?;
    std::fs::write(out, data).map_err(|error| FlashError::Io {
        path: out.to_path_buf(),
        error,
    })
}
