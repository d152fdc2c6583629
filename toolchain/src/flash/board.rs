//! What `mote flash` knows about each board: where its crate is, what it builds for, its
//! memory budgets and how to boot it. Budgets mirror the board's linker script.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Board {
    /// QEMU `virt`, Cortex-A72, NEON (model loaded as a separate image).
    QemuVirt,
    /// QEMU `mps2-an500`, Cortex-M7, Arm DSP (model in flash).
    Mps2An500,
    /// Raspberry Pi Pico 2, RP2350, Cortex-M33, Arm DSP (model in flash).
    Rp2350,
}

/// Where the model goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelPlace {
    /// Built into the flash image (`include_bytes!`).
    Flash,
    /// A separate image QEMU loads at this address.
    Loaded { addr: u64, max: u64 },
}

impl Board {
    pub const ALL: [Board; 3] = [Board::QemuVirt, Board::Mps2An500, Board::Rp2350];

    /// Directory under `firmware/`, also the CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Board::QemuVirt => "qemu-virt",
            Board::Mps2An500 => "mps2-an500",
            Board::Rp2350 => "rp2350",
        }
    }

    /// The crate's binary name.
    pub fn bin(self) -> &'static str {
        match self {
            Board::QemuVirt => "mote-qemu-virt",
            Board::Mps2An500 => "mote-mps2-an500",
            Board::Rp2350 => "mote-rp2350",
        }
    }

    pub fn target(self) -> &'static str {
        match self {
            Board::QemuVirt => "aarch64-unknown-none",
            Board::Mps2An500 => "thumbv7em-none-eabihf",
            Board::Rp2350 => "thumbv8m.main-none-eabihf",
        }
    }

    pub fn model_place(self) -> ModelPlace {
        match self {
            // link.x: MODEL region.
            Board::QemuVirt => ModelPlace::Loaded {
                addr: 0x4400_0000,
                max: 64 << 20,
            },
            _ => ModelPlace::Flash,
        }
    }

    /// Flash start and size (memory.x), for boards with flash.
    pub fn flash(self) -> Option<(u64, u64)> {
        match self {
            Board::QemuVirt => None,
            Board::Mps2An500 => Some((0, 2 << 20)),
            Board::Rp2350 => Some((0x1000_0000, 4 << 20)),
        }
    }

    /// RAM the image may use, and the part of it memory.x reserves for the stack outside any
    /// section (qemu-virt's stack is a section of its own).
    pub fn ram(self) -> (u64, u64) {
        match self {
            // link.x: code, data, .bss and stack all in RAM below the model region.
            Board::QemuVirt => (0x0400_0000 - 0x8_0000, 0),
            Board::Mps2An500 => (512 << 10, 32 << 10),
            Board::Rp2350 => (520 << 10, 32 << 10),
        }
    }

    /// The QEMU system emulator and machine arguments, for boards QEMU emulates.
    pub fn qemu(self) -> Option<(&'static str, &'static [&'static str])> {
        match self {
            Board::QemuVirt => Some((
                "qemu-system-aarch64",
                &[
                    "-M",
                    "virt",
                    "-cpu",
                    "cortex-a72",
                    "-m",
                    "128M",
                    "-nic",
                    "none",
                ],
            )),
            Board::Mps2An500 => Some(("qemu-system-arm", &["-M", "mps2-an500", "-semihosting"])),
            Board::Rp2350 => None,
        }
    }

    /// The kernel table the board's build selects (unless `scalar` is forced).
    pub fn simd_kernels(self) -> &'static str {
        match self {
            Board::QemuVirt => "neon",
            _ => "arm-dsp",
        }
    }
}

impl fmt::Display for Board {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A board name `mote flash` does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown board `{0}` (qemu-virt, mps2-an500 or rp2350)")]
pub struct UnknownBoard(pub String);

impl std::str::FromStr for Board {
    type Err = UnknownBoard;

    fn from_str(s: &str) -> Result<Self, UnknownBoard> {
        Board::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| UnknownBoard(s.to_string()))
    }
}
