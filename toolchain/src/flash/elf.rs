//! Just enough of ELF to size and convert a firmware image: section headers (name, type,
//! flags, address, size) and loadable segments (physical address, file bytes), for 32- and
//! 64-bit little-endian files. Every offset and count is checked against the file.

/// Why a file is not an ELF image this reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    #[error("not an ELF file")]
    BadMagic,
    #[error("not a little-endian 32- or 64-bit ELF file")]
    Unsupported,
    #[error("{0} lies outside the file")]
    OutOfBounds(&'static str),
}

const SHT_NOBITS: u32 = 8;
const SHF_WRITE: u64 = 0x1;
const SHF_ALLOC: u64 = 0x2;
const PT_LOAD: u32 = 1;

/// One section header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub kind: u32,
    pub flags: u64,
    pub addr: u64,
    pub size: u64,
}

impl Section {
    /// Occupies memory at run time.
    pub fn is_alloc(&self) -> bool {
        self.flags & SHF_ALLOC != 0
    }

    /// Has bytes in the file (code, read-only data, initialised data), as opposed to .bss.
    pub fn has_contents(&self) -> bool {
        self.kind != SHT_NOBITS
    }

    pub fn is_writable(&self) -> bool {
        self.flags & SHF_WRITE != 0
    }
}

/// One loadable segment: `data` goes to physical address `paddr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment<'a> {
    pub paddr: u64,
    pub data: &'a [u8],
}

/// A parsed ELF file.
#[derive(Debug)]
pub struct Elf<'a> {
    pub sections: Vec<Section>,
    pub segments: Vec<Segment<'a>>,
}

/// Little-endian field reader over the whole file, 32- or 64-bit layout.
struct Reader<'a> {
    data: &'a [u8],
    wide: bool,
}

impl<'a> Reader<'a> {
    fn bytes(&self, at: u64, n: u64, what: &'static str) -> Result<&'a [u8], ElfError> {
        let end = at.checked_add(n).ok_or(ElfError::OutOfBounds(what))?;
        if end > self.data.len() as u64 {
            return Err(ElfError::OutOfBounds(what));
        }
        Ok(&self.data[at as usize..end as usize])
    }

    fn u16(&self, at: u64, what: &'static str) -> Result<u64, ElfError> {
        let b = self.bytes(at, 2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]) as u64)
    }

    fn u32(&self, at: u64, what: &'static str) -> Result<u64, ElfError> {
        let b = self.bytes(at, 4, what)?;
        Ok(u32::from_le_bytes(b.try_into().unwrap()) as u64)
    }

    fn u64(&self, at: u64, what: &'static str) -> Result<u64, ElfError> {
        let b = self.bytes(at, 8, what)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap()))
    }

    /// An address-sized field (`Elf32_Addr`/`Elf64_Addr`, `Off`, `Xword` sizes).
    fn word(&self, at: u64, what: &'static str) -> Result<u64, ElfError> {
        if self.wide {
            self.u64(at, what)
        } else {
            self.u32(at, what)
        }
    }
}

impl<'a> Elf<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Self, ElfError> {
        if data.len() < 16 || &data[..4] != b"\x7fELF" {
            return Err(ElfError::BadMagic);
        }
        let wide = match (data[4], data[5]) {
            (1, 1) => false,
            (2, 1) => true,
            _ => return Err(ElfError::Unsupported),
        };
        let r = Reader { data, wide };
        // ELF header fields after e_entry, whose offsets depend on the word size.
        let (phoff, shoff, rest) = if wide {
            (r.u64(0x20, "header")?, r.u64(0x28, "header")?, 0x34)
        } else {
            (r.u32(0x1c, "header")?, r.u32(0x20, "header")?, 0x28)
        };
        let phentsize = r.u16(rest + 2, "header")?;
        let phnum = r.u16(rest + 4, "header")?;
        let shentsize = r.u16(rest + 6, "header")?;
        let shnum = r.u16(rest + 8, "header")?;
        let shstrndx = r.u16(rest + 10, "header")?;

        let mut segments = Vec::new();
        for i in 0..phnum {
            let at = phoff
                .checked_add(i * phentsize)
                .ok_or(ElfError::OutOfBounds("program header"))?;
            r.bytes(at, phentsize, "program header")?;
            let kind = r.u32(at, "program header")?;
            // Elf64_Phdr puts p_flags second; Elf32_Phdr puts it after p_memsz.
            let (offset, paddr, filesz) = if wide {
                (
                    r.u64(at + 8, "program header")?,
                    r.u64(at + 24, "program header")?,
                    r.u64(at + 32, "program header")?,
                )
            } else {
                (
                    r.u32(at + 4, "program header")?,
                    r.u32(at + 12, "program header")?,
                    r.u32(at + 16, "program header")?,
                )
            };
            if kind == PT_LOAD as u64 && filesz > 0 {
                segments.push(Segment {
                    paddr,
                    data: r.bytes(offset, filesz, "segment")?,
                });
            }
        }

        let mut raw = Vec::new();
        for i in 0..shnum {
            let at = shoff
                .checked_add(i * shentsize)
                .ok_or(ElfError::OutOfBounds("section header"))?;
            r.bytes(at, shentsize, "section header")?;
            let w = if wide { 8 } else { 4 };
            // sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size
            let name = r.u32(at, "section header")?;
            let kind = r.u32(at + 4, "section header")? as u32;
            let flags = r.word(at + 8, "section header")?;
            let addr = r.word(at + 8 + w, "section header")?;
            let offset = r.word(at + 8 + 2 * w, "section header")?;
            let size = r.word(at + 8 + 3 * w, "section header")?;
            raw.push((name, kind, flags, addr, offset, size));
        }
        let names = match raw.get(shstrndx as usize) {
            Some(&(_, _, _, _, off, size)) => r.bytes(off, size, "section names")?,
            None if shnum == 0 => &[][..],
            None => return Err(ElfError::OutOfBounds("section names")),
        };
        let sections = raw
            .into_iter()
            .map(|(name, kind, flags, addr, _, size)| {
                let tail = names.get(name as usize..).unwrap_or(&[]);
                let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
                Section {
                    name: String::from_utf8_lossy(&tail[..end]).into_owned(),
                    kind,
                    flags,
                    addr,
                    size,
                }
            })
            .collect();
        Ok(Elf { sections, segments })
    }

    /// Bytes the image stores (code, read-only data, initial values of .data): what goes
    /// to flash on a microcontroller.
    pub fn stored_bytes(&self) -> u64 {
        self.sections
            .iter()
            .filter(|s| s.is_alloc() && s.has_contents())
            .map(|s| s.size)
            .sum()
    }

    /// Bytes of writable memory the image occupies (.data, .bss and any other writable
    /// allocated section, a linker-reserved stack included).
    pub fn ram_bytes(&self) -> u64 {
        self.sections
            .iter()
            .filter(|s| s.is_alloc() && s.is_writable())
            .map(|s| s.size)
            .sum()
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 32-bit image: one loadable segment, and sections null, .text (code),
    /// .bss (zeroed, writable) and .shstrtab.
    fn elf32() -> Vec<u8> {
        let names = b"\0.text\0.bss\0.shstrtab\0";
        let code = [0xAAu8; 16];
        let (ph, code_at, names_at) = (52u32, 84u32, 100u32);
        let sh = names_at + names.len() as u32;
        let mut f = vec![0u8; 52];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 1; // 32-bit
        f[5] = 1; // little-endian
        f[0x1c..0x20].copy_from_slice(&ph.to_le_bytes());
        f[0x20..0x24].copy_from_slice(&sh.to_le_bytes());
        for (at, v) in [(0x2a, 32u16), (0x2c, 1), (0x2e, 40), (0x30, 4), (0x32, 3)] {
            f[at..at + 2].copy_from_slice(&v.to_le_bytes());
        }
        // Program header: PT_LOAD, offset, vaddr, paddr, filesz, memsz, flags, align.
        for v in [PT_LOAD, code_at, 0x2000_0000, 0x1000_0000, 16, 16, 5, 4] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f.extend_from_slice(&code);
        f.extend_from_slice(names);
        // Section headers: name, type, flags, addr, offset, size, link, info, align, entsize.
        let shdr = |name: u32, kind: u32, flags: u32, addr: u32, off: u32, size: u32| {
            [name, kind, flags, addr, off, size, 0, 0, 4, 0]
        };
        for h in [
            shdr(0, 0, 0, 0, 0, 0),
            shdr(1, 1, 0x6, 0x1000_0000, code_at, 16),
            shdr(7, SHT_NOBITS, 0x3, 0x2000_0000, 0, 4096),
            shdr(12, 3, 0, 0, names_at, names.len() as u32),
        ] {
            for v in h {
                f.extend_from_slice(&v.to_le_bytes());
            }
        }
        f
    }

    #[test]
    fn a_32_bit_image_sizes_and_segments() {
        let f = elf32();
        let e = Elf::parse(&f).unwrap();
        let names: Vec<&str> = e.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["", ".text", ".bss", ".shstrtab"]);
        assert_eq!(e.stored_bytes(), 16);
        assert_eq!(e.ram_bytes(), 4096);
        assert_eq!(e.section(".bss").unwrap().addr, 0x2000_0000);
        assert_eq!(
            e.segments,
            [Segment {
                paddr: 0x1000_0000,
                data: &[0xAA; 16][..]
            }]
        );
    }

    #[test]
    fn truncated_and_foreign_files_are_refused() {
        let f = elf32();
        assert_eq!(
            Elf::parse(b"MZ\0\0\0\0\0\0\0\0\0\0\0\0\0\0").unwrap_err(),
            ElfError::BadMagic
        );
        assert!(matches!(
            Elf::parse(&f[..f.len() - 8]),
            Err(ElfError::OutOfBounds(_))
        ));
        let mut big_endian = f.clone();
        big_endian[5] = 2;
        assert_eq!(Elf::parse(&big_endian).unwrap_err(), ElfError::Unsupported);
    }

    #[test]
    fn this_test_binary_parses_as_64_bit() {
        let bytes = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let e = Elf::parse(&bytes).unwrap();
        assert!(e
            .section(".text")
            .is_some_and(|s| s.is_alloc() && s.size > 0));
        assert!(!e.segments.is_empty());
    }
}
