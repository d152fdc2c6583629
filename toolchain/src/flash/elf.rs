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
            let at = phoff + i * phentsize;
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
            let at = shoff + i * shentsize;
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
