//! `mote flash`: build a board image with a model, print its flash and RAM use, and boot it
//! (QEMU boards) or flash it (probe-rs, else a UF2 file to copy onto the board).

use super::loaded::KvArg;
use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use mote_toolchain::flash::{self, Board, BuildOptions, Image, Serial};
use std::path::PathBuf;
use std::process::Command;

#[derive(ClapArgs)]
pub struct Args {
    /// qemu-virt, mps2-an500 or rp2350.
    #[arg(long)]
    board: Board,
    /// GGUF model to put on the board.
    #[arg(long)]
    model: PathBuf,
    /// Serial port of a QEMU board: stdio, pty or tcp:PORT.
    #[arg(long, default_value = "stdio")]
    serial: Serial,
    /// Run QEMU with `-icount shift=0`: `/stats` counts instructions, deterministically.
    #[arg(long)]
    icount: bool,
    /// Build and size the image (and write the UF2 file for rp2350), do not run it.
    #[arg(long)]
    build_only: bool,
    /// Positions of the KV cache.
    #[arg(long, default_value_t = 256)]
    ctx: usize,
    /// KV cache type [default: f32 on qemu-virt, f16 on the microcontrollers].
    #[arg(long, value_enum)]
    kv: Option<KvArg>,
    /// Reply tokens per turn at most.
    #[arg(long, default_value_t = 128)]
    max_reply: usize,
    /// Sampling temperature (0: greedy).
    #[arg(long, default_value_t = 0.8)]
    temp: f32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Use the scalar reference kernels instead of the board's SIMD ones.
    #[arg(long)]
    scalar: bool,
    /// Arena bytes [default: exactly what the model and settings need].
    #[arg(long)]
    arena: Option<usize>,
    /// Where the UF2 file goes (rp2350) [default: beside the ELF, `.uf2`].
    #[arg(long)]
    uf2: Option<PathBuf>,
    /// Leave out the block that starts the UF2 file to work around the RP2350 boot ROM's
    /// erratum E10 (what picotool writes with `uf2 convert --abs-block`).
    #[arg(long)]
    no_abs_block: bool,
    /// The firmware/ directory with the board crates [default: the source tree's].
    #[arg(long)]
    firmware: Option<PathBuf>,
}

pub fn run(a: Args) -> Result<()> {
    let mut opts = BuildOptions::new(a.board, &a.model);
    if let Some(dir) = a.firmware {
        opts.firmware_dir = dir;
    }
    opts.ctx_len = a.ctx;
    opts.kv_type = a.kv.map(KvArg::kv_type);
    opts.max_reply = a.max_reply;
    opts.temperature = a.temp;
    opts.seed = a.seed;
    opts.scalar = a.scalar;
    opts.icount = a.icount;
    opts.arena_bytes = a.arena;
    eprintln!("building {} with {}", a.board, a.model.display());
    let image = flash::build(&opts)?;
    print_usage(&image);
    if !image.usage.fits() {
        bail!("the image does not fit {}", a.board);
    }
    match a.board {
        Board::Rp2350 => flash_rp2350(&image, a.uf2, !a.no_abs_block, a.build_only),
        _ if a.build_only => Ok(()),
        _ => {
            let mut qemu = flash::qemu_command(&image, a.serial, a.icount)?;
            eprintln!("booting: {}", shown(&qemu));
            let status = run_tool(&mut qemu)?;
            if !status.success() {
                bail!("QEMU exited with {status}");
            }
            Ok(())
        }
    }
}

fn kib(n: u64) -> String {
    format!("{:.1} KiB", n as f64 / 1024.0)
}

fn print_usage(image: &Image) {
    let u = &image.usage;
    eprintln!("image  {}", image.elf.display());
    match u.flash_budget {
        Some(budget) => eprintln!(
            "flash  {} of {} ({:.1}%): model {}, code and data {}",
            kib(u.stored),
            kib(budget),
            100.0 * u.stored as f64 / budget as f64,
            kib(u.model_bytes),
            kib(u.stored.saturating_sub(u.model_bytes)),
        ),
        None => eprintln!(
            "model  {} as a separate image (QEMU loads it)",
            kib(u.model_bytes)
        ),
    }
    eprintln!(
        "RAM    {} of {} ({:.1}%): data+bss {} (arena {}), stack {}{}",
        kib(u.ram_used()),
        kib(u.ram_budget),
        100.0 * u.ram_used() as f64 / u.ram_budget as f64,
        kib(u.ram),
        kib(image.arena_bytes as u64),
        kib(u.stack),
        if u.flash_budget.is_none() {
            format!(", code {}", kib(u.stored))
        } else {
            String::new()
        },
    );
}

/// probe-rs when it is installed (flashes and starts the board), else a UF2 file.
fn flash_rp2350(
    image: &Image,
    uf2: Option<PathBuf>,
    e10_block: bool,
    build_only: bool,
) -> Result<()> {
    let uf2 = uf2.unwrap_or_else(|| image.elf.with_extension("uf2"));
    flash::write_uf2(image, &uf2, e10_block)?;
    eprintln!("uf2    {}", uf2.display());
    if build_only {
        return Ok(());
    }
    if !on_path("probe-rs") {
        eprintln!(
            "probe-rs is not installed: hold BOOTSEL while plugging in the Pico 2 and copy \
             {} onto the RP2350 drive; the console is on UART0 (GPIO0 TX, GPIO1 RX, 115200 8N1)",
            uf2.display()
        );
        return Ok(());
    }
    let mut probe = Command::new("probe-rs");
    probe.args(["download", "--chip", "RP235x"]).arg(&image.elf);
    let status = run_tool(&mut probe)?;
    if !status.success() {
        bail!("probe-rs exited with {status}");
    }
    let status = run_tool(Command::new("probe-rs").args(["reset", "--chip", "RP235x"]))?;
    if !status.success() {
        bail!("probe-rs exited with {status}");
    }
    eprintln!("flashed; the console is on UART0 (GPIO0 TX, GPIO1 RX, 115200 8N1)");
    Ok(())
}

fn run_tool(cmd: &mut Command) -> Result<std::process::ExitStatus> {
    cmd.status()
        .with_context(|| format!("could not run {}", cmd.get_program().to_string_lossy()))
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

fn shown(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
