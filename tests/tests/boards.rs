//! The board images under `firmware/`, built with `mote_toolchain::flash` and a reference
//! model, booted on QEMU with the serial port on a pipe: a scripted session is typed and the
//! transcript checked. Also: the link refuses an arena beyond a real part's RAM, and the
//! Pico 2 image builds, fits and converts to UF2.
//!
//! Needs qemu-system-aarch64, qemu-system-arm and the rust targets (scripts/setup.sh
//! installs them); without them these tests fail, they do not skip.

use mote_tests::reference_dir;
use mote_toolchain::flash::{self, Board, BuildOptions, FlashError, Image, Serial};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A QEMU run longer than this is a hang.
const QEMU_TIMEOUT: Duration = Duration::from_secs(60);

fn model() -> std::path::PathBuf {
    reference_dir().join("ref-tiny-q8_0.gguf")
}

fn require_qemu(board: Board) {
    let (qemu, _) = board.qemu().unwrap();
    let ok = Command::new(qemu)
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "{qemu} is not installed (scripts/setup.sh installs it)");
}

fn build(opts: &BuildOptions) -> Image {
    let image = flash::build(opts).unwrap_or_else(|e| panic!("building {}: {e}", opts.board));
    assert!(image.usage.fits(), "{:?}", image.usage);
    image
}

/// Boot `image` under `-icount shift=0`, type `input`, return everything the board wrote.
fn session(image: &Image, input: &[u8]) -> String {
    require_qemu(image.board);
    let mut qemu = flash::qemu_command(image, Serial::Stdio, true).unwrap();
    let mut child = qemu
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start QEMU");
    // QEMU takes input only as fast as the UART drains it, so the whole script can wait in
    // the pipe; stdin stays open until the board exits (EOF could end QEMU's reading early).
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).unwrap();
        out
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > QEMU_TIMEOUT {
            child.kill().unwrap();
            let out = reader.join().unwrap();
            panic!(
                "{} did not finish in {QEMU_TIMEOUT:?}; output:\n{}",
                image.board,
                String::from_utf8_lossy(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(stdin);
    let out = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        status.success(),
        "{}: QEMU {status}\n{err}\n{out}",
        image.board
    );
    out
}

/// The scripted session: a chat turn, the commands, an overlong line, bytes that are not
/// UTF-8, another turn (the console must still work), Ctrl-D.
fn script() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(b"hello there\r");
    s.extend_from_slice(b"/help\r");
    s.extend_from_slice(b"/stats\r");
    s.extend(std::iter::repeat_n(b'x', 400));
    s.push(b'\r');
    s.extend_from_slice(b"caf\xc3 \xff\xfe\r");
    s.extend_from_slice(b"tell me more\r");
    s.extend_from_slice(b"/stats\r");
    s.push(0x04);
    s
}

fn check_transcript(board: Board, kernels: &str, out: &str) {
    let banner = format!("mote on {board}:");
    assert!(out.contains(&banner), "no banner:\n{out}");
    assert!(
        out.contains(&format!("{kernels} kernels")),
        "kernels:\n{out}"
    );
    assert!(!out.contains("panic"), "{out}");
    assert!(!out.contains("error:"), "{out}");
    assert!(!out.contains("exception"), "{out}");
    assert!(!out.contains("hard fault"), "{out}");
}

fn opts(board: Board) -> BuildOptions {
    let mut o = BuildOptions::new(board, model());
    o.icount = true;
    o.max_reply = 24;
    o
}

#[test]
fn qemu_virt_console_session() {
    let image = build(&opts(Board::QemuVirt));
    let out = session(&image, &script());
    check_transcript(Board::QemuVirt, "neon", &out);
}

#[test]
fn mps2_an500_console_session() {
    let image = build(&opts(Board::Mps2An500));
    assert!(image.usage.stored <= 2 << 20 && image.usage.ram_used() <= 512 << 10);
    let out = session(&image, &script());
    check_transcript(Board::Mps2An500, "arm-dsp", &out);
}

/// The RAM budget is enforced by the link, not just reported: an arena that leaves no room
/// for the stack reserve in 512 KiB fails to build.
#[test]
fn mps2_an500_link_refuses_an_arena_beyond_512_kib() {
    let mut o = opts(Board::Mps2An500);
    o.arena_bytes = Some(500 << 10);
    match flash::build(&o) {
        Err(FlashError::Build { .. }) => {}
        Ok(image) => panic!("linked although RAM is over budget: {:?}", image.usage),
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[test]
fn rp2350_image_builds_fits_and_converts_to_uf2() {
    let image = build(&opts(Board::Rp2350));
    let u = image.usage;
    assert!(u.stored > u.model_bytes && u.stored <= 4 << 20, "{u:?}");
    assert!(u.ram_used() <= 520 << 10, "{u:?}");
    let dir = tempfile::tempdir().unwrap();
    let uf2 = dir.path().join("mote.uf2");
    flash::write_uf2(&image, &uf2).unwrap();
    let bytes = std::fs::read(&uf2).unwrap();
    assert_eq!(bytes.len() % 512, 0);
    let blocks = bytes.len() as u64 / 512;
    // Every stored byte is in some 256-byte page; pages cover at most one more each.
    assert!(
        blocks * 256 >= u.stored,
        "{blocks} blocks for {} bytes",
        u.stored
    );
    // The first block is the start of flash, where the vector table and IMAGE_DEF are.
    assert_eq!(&bytes[12..16], &0x1000_0000u32.to_le_bytes());
}
