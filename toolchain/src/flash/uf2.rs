//! UF2, the USB flashing format of the RP2350 boot ROM (and many other boards): the image in
//! 512-byte blocks, each carrying 256 bytes for one flash address. A board in BOOTSEL mode
//! shows up as a USB drive and flashes any `.uf2` file copied onto it.
//!
//! Block layout (little-endian `u32`s): magic 0, magic 1, flags, target address, payload
//! size, block number, block count, family ID; then 476 data bytes (payload first, zeros
//! after); then the end magic.

use super::elf::Segment;

const MAGIC_START0: u32 = 0x0A32_4655;
const MAGIC_START1: u32 = 0x9E5D_5157;
const MAGIC_END: u32 = 0x0AB1_6F30;
/// The family-ID field holds a family ID (not a file size).
const FLAG_FAMILY_ID: u32 = 0x0000_2000;
pub const BLOCK: usize = 512;
/// Bytes of image per block, as the RP2350 boot ROM expects (a flash page).
pub const PAYLOAD: u32 = 256;
const DATA_BYTES: usize = 476;

/// RP2350 Arm code running in secure mode (what `ImageDef::secure_exe` declares).
pub const FAMILY_RP2350_ARM_S: u32 = 0xe48b_ff59;

/// Why an image cannot become a UF2 file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Uf2Error {
    #[error("segment at {addr:#x}..{end:#x} lies outside flash {start:#x}..{limit:#x}")]
    OutsideFlash {
        addr: u64,
        end: u64,
        start: u64,
        limit: u64,
    },
    #[error("the image has nothing to flash")]
    Empty,
}

/// The UF2 file for `segments`, which must all lie in `flash` (start, length). Bytes of a
/// 256-byte page that no segment covers are written as zeros.
pub fn from_segments(
    segments: &[Segment<'_>],
    flash: (u64, u64),
    family: u32,
) -> Result<Vec<u8>, Uf2Error> {
    let (start, len) = flash;
    let limit = start + len;
    // Page address → page bytes, in address order.
    let mut pages: std::collections::BTreeMap<u64, [u8; PAYLOAD as usize]> = Default::default();
    for s in segments {
        let end = s.paddr + s.data.len() as u64;
        if s.paddr < start || end > limit {
            return Err(Uf2Error::OutsideFlash {
                addr: s.paddr,
                end,
                start,
                limit,
            });
        }
        for (i, &b) in s.data.iter().enumerate() {
            let a = s.paddr + i as u64;
            let page = a & !(PAYLOAD as u64 - 1);
            pages.entry(page).or_insert([0; PAYLOAD as usize])[(a - page) as usize] = b;
        }
    }
    if pages.is_empty() {
        return Err(Uf2Error::Empty);
    }
    let count = pages.len() as u32;
    let mut out = Vec::with_capacity(pages.len() * BLOCK);
    for (n, (addr, page)) in pages.iter().enumerate() {
        for word in [
            MAGIC_START0,
            MAGIC_START1,
            FLAG_FAMILY_ID,
            *addr as u32,
            PAYLOAD,
            n as u32,
            count,
            family,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(page);
        out.resize(out.len() + DATA_BYTES - PAYLOAD as usize, 0);
        out.extend_from_slice(&MAGIC_END.to_le_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(block: &[u8], i: usize) -> u32 {
        u32::from_le_bytes(block[i * 4..i * 4 + 4].try_into().unwrap())
    }

    const FLASH: (u64, u64) = (0x1000_0000, 4 << 20);

    #[test]
    fn blocks_carry_pages_in_order() {
        let a: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        let b = [0xAB; 10];
        // `b` lands in the middle of a page of its own, after a gap.
        let segs = [
            Segment {
                paddr: 0x1000_0000,
                data: &a,
            },
            Segment {
                paddr: 0x1000_1010,
                data: &b,
            },
        ];
        let uf2 = from_segments(&segs, FLASH, FAMILY_RP2350_ARM_S).unwrap();
        assert_eq!(uf2.len(), 3 * BLOCK);
        let blocks: Vec<&[u8]> = uf2.chunks(BLOCK).collect();
        let addrs: Vec<u32> = blocks.iter().map(|b| word(b, 3)).collect();
        assert_eq!(addrs, [0x1000_0000, 0x1000_0100, 0x1000_1000]);
        for (n, blk) in blocks.iter().enumerate() {
            assert_eq!(word(blk, 0), MAGIC_START0);
            assert_eq!(word(blk, 1), MAGIC_START1);
            assert_eq!(word(blk, 2), FLAG_FAMILY_ID);
            assert_eq!(word(blk, 4), 256);
            assert_eq!(word(blk, 5), n as u32);
            assert_eq!(word(blk, 6), 3);
            assert_eq!(word(blk, 7), FAMILY_RP2350_ARM_S);
            assert_eq!(word(blk, 127), MAGIC_END);
            assert!(blk[32 + 256..508].iter().all(|&x| x == 0));
        }
        assert_eq!(&blocks[0][32..32 + 256], &a[..256]);
        assert_eq!(&blocks[1][32..32 + 44], &a[256..]);
        assert!(blocks[1][32 + 44..32 + 256].iter().all(|&x| x == 0));
        assert_eq!(&blocks[2][32 + 0x10..32 + 0x1a], &b);
    }

    #[test]
    fn segments_outside_flash_are_refused() {
        let d = [1u8; 4];
        let ram = [Segment {
            paddr: 0x2000_0000,
            data: &d,
        }];
        assert!(matches!(
            from_segments(&ram, FLASH, FAMILY_RP2350_ARM_S),
            Err(Uf2Error::OutsideFlash { .. })
        ));
        let tail = [Segment {
            paddr: FLASH.0 + FLASH.1 - 2,
            data: &d,
        }];
        assert!(from_segments(&tail, FLASH, 0).is_err());
        assert_eq!(from_segments(&[], FLASH, 0), Err(Uf2Error::Empty));
    }
}
