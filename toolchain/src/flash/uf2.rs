//! UF2, the USB flashing format of the RP2350 boot ROM (and many other boards): the image in
//! 512-byte blocks, each carrying 256 bytes for one flash address. A board in BOOTSEL mode
//! shows up as a USB drive and flashes any `.uf2` file copied onto it.
//!
//! Block layout (little-endian `u32`s): magic 0, magic 1, flags, target address, payload
//! size, block number, block count, family ID; then 476 data bytes (payload first, zeros
//! after); then the end magic.
//!
//! For the RP2350 the file can start with one extra block, the workaround for erratum
//! RP2350-E10 that picotool and the pico-sdk write: on the A2 boot ROM, drag-and-drop of a
//! UF2 file does not work with a partition table unless the file opens with a single
//! block of the `absolute` family aimed at the end of flash, numbered 0 of 2 (the second
//! never comes). The block also carries the RP2_IGNORE_BLOCK extension tag, by which later
//! boot ROMs skip it. The image's own blocks follow, numbered as if it were not there.

use super::elf::Segment;

const MAGIC_START0: u32 = 0x0A32_4655;
const MAGIC_START1: u32 = 0x9E5D_5157;
const MAGIC_END: u32 = 0x0AB1_6F30;
/// The family-ID field holds a family ID (not a file size).
const FLAG_FAMILY_ID: u32 = 0x0000_2000;
/// Extension tags follow the payload.
const FLAG_EXTENSION_TAGS: u32 = 0x0000_8000;
/// The RP2350 extension tag "ignore this block" (size byte 4, then a 3-byte tag).
const EXTENSION_RP2_IGNORE_BLOCK: u32 = 0x9957_e304;
/// What the E10 block's payload is filled with (picotool's choice).
const E10_FILL: u8 = 0xef;
pub const BLOCK: usize = 512;
/// Bytes of image per block, as the RP2350 boot ROM expects (a flash page).
pub const PAYLOAD: u32 = 256;
const DATA_BYTES: usize = 476;

/// RP2350 Arm code running in secure mode (what `ImageDef::secure_exe` declares).
pub const FAMILY_RP2350_ARM_S: u32 = 0xe48b_ff59;
/// Written to flash as is, regardless of partitions (RP2350 boot ROM).
pub const FAMILY_ABSOLUTE: u32 = 0xe48b_ff57;
/// Where picotool's E10 block points by default: the last page of 16 MiB of flash.
pub const E10_BLOCK_ADDR: u32 = 0x10ff_ff00;

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
/// 256-byte page that no segment covers are written as zeros. With `e10_block` (an
/// address, normally [`E10_BLOCK_ADDR`]) the file starts with the RP2350-E10 block.
pub fn from_segments(
    segments: &[Segment<'_>],
    flash: (u64, u64),
    family: u32,
    e10_block: Option<u32>,
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
    let mut out = Vec::with_capacity((pages.len() + 1) * BLOCK);
    if let Some(addr) = e10_block {
        let mut data = [E10_FILL; PAYLOAD as usize + 4];
        data[PAYLOAD as usize..].copy_from_slice(&EXTENSION_RP2_IGNORE_BLOCK.to_le_bytes());
        let flags = FLAG_FAMILY_ID | FLAG_EXTENSION_TAGS;
        // Block 0 of 2, as the erratum's workaround prescribes.
        push_block(&mut out, flags, addr, 0, 2, FAMILY_ABSOLUTE, &data);
    }
    for (n, (addr, page)) in pages.iter().enumerate() {
        push_block(
            &mut out,
            FLAG_FAMILY_ID,
            *addr as u32,
            n as u32,
            count,
            family,
            page,
        );
    }
    Ok(out)
}

/// One 512-byte block with a 256-byte payload; `data` is the payload and what follows it
/// (extension tags), zero-padded.
fn push_block(
    out: &mut Vec<u8>,
    flags: u32,
    addr: u32,
    n: u32,
    count: u32,
    family: u32,
    data: &[u8],
) {
    debug_assert!(data.len() <= DATA_BYTES);
    let start = out.len();
    for word in [
        MAGIC_START0,
        MAGIC_START1,
        flags,
        addr,
        PAYLOAD,
        n,
        count,
        family,
    ] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(data);
    out.resize(start + BLOCK - 4, 0);
    out.extend_from_slice(&MAGIC_END.to_le_bytes());
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
        let uf2 = from_segments(&segs, FLASH, FAMILY_RP2350_ARM_S, None).unwrap();
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
    fn e10_block_comes_first_and_leaves_the_image_blocks_alone() {
        let a: Vec<u8> = (0..600u32).map(|i| (i * 7) as u8).collect();
        let segs = [Segment {
            paddr: 0x1000_0000,
            data: &a,
        }];
        let plain = from_segments(&segs, FLASH, FAMILY_RP2350_ARM_S, None).unwrap();
        let uf2 = from_segments(&segs, FLASH, FAMILY_RP2350_ARM_S, Some(E10_BLOCK_ADDR)).unwrap();
        assert_eq!(uf2.len(), plain.len() + BLOCK);

        let e10 = &uf2[..BLOCK];
        assert_eq!(word(e10, 0), 0x0A32_4655);
        assert_eq!(word(e10, 1), 0x9E5D_5157);
        assert_eq!(word(e10, 2), 0x0000_2000 | 0x0000_8000);
        assert_eq!(word(e10, 3), 0x10ff_ff00);
        assert_eq!(word(e10, 4), 256);
        assert_eq!(word(e10, 5), 0, "block number");
        assert_eq!(word(e10, 6), 2, "block count");
        assert_eq!(word(e10, 7), 0xe48b_ff57, "family: absolute");
        assert!(e10[32..32 + 256].iter().all(|&x| x == 0xef));
        assert_eq!(
            &e10[288..292],
            &[0x04, 0xe3, 0x57, 0x99],
            "RP2_IGNORE_BLOCK tag"
        );
        assert!(e10[292..508].iter().all(|&x| x == 0));
        assert_eq!(word(e10, 127), 0x0AB1_6F30);

        // The image's blocks follow unchanged: numbered from 0, counting only themselves.
        assert_eq!(&uf2[BLOCK..], &plain[..]);
        let blocks: Vec<&[u8]> = uf2[BLOCK..].chunks(BLOCK).collect();
        assert_eq!(blocks.len(), 3);
        for (n, blk) in blocks.iter().enumerate() {
            assert_eq!(word(blk, 3), 0x1000_0000 + 256 * n as u32);
            assert_eq!(word(blk, 5), n as u32);
            assert_eq!(word(blk, 6), 3);
            assert_eq!(word(blk, 7), FAMILY_RP2350_ARM_S);
        }
    }

    #[test]
    fn segments_outside_flash_are_refused() {
        let d = [1u8; 4];
        let ram = [Segment {
            paddr: 0x2000_0000,
            data: &d,
        }];
        assert!(matches!(
            from_segments(&ram, FLASH, FAMILY_RP2350_ARM_S, None),
            Err(Uf2Error::OutsideFlash { .. })
        ));
        let tail = [Segment {
            paddr: FLASH.0 + FLASH.1 - 2,
            data: &d,
        }];
        assert!(from_segments(&tail, FLASH, 0, None).is_err());
        assert_eq!(from_segments(&[], FLASH, 0, None), Err(Uf2Error::Empty));
        assert_eq!(
            from_segments(&[], FLASH, 0, Some(E10_BLOCK_ADDR)),
            Err(Uf2Error::Empty)
        );
    }
}
