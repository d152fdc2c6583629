//! Zero-copy, validated GGUF v2/v3 reader.
//!
//! `Gguf::parse` walks the whole header once and checks every count, length, offset and
//! dimension against the file; after that, accessors only re-walk validated bytes. Nothing
//! is copied: keys, strings, arrays and tensor data borrow the input (an mmap or flash).

mod cursor;
mod value;

pub use cursor::MAX_STRING;
pub use value::{Array, StringIter, Value, ValueType, MAX_ARRAY};

use crate::error::{Error, Result, Section};
use crate::quant::GgmlType;
use cursor::Cursor;
use value::read_value;

const MAGIC: &[u8; 4] = b"GGUF";
/// Data alignment when `general.alignment` is absent (candle's v2 writer omits it).
pub const DEFAULT_ALIGNMENT: usize = 32;
/// Caps on counts read from the file; real llama files are far below them.
pub const MAX_KV: u64 = 1024;
pub const MAX_TENSORS: u64 = 8192;
pub const MAX_DIMS: usize = 4;
/// Cap on one tensor's data (1 TiB): far above any real weight; keeps sizes exact in `usize`.
pub const MAX_TENSOR_BYTES: u64 = 1 << 40;

/// A parsed GGUF file borrowing its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Gguf<'a> {
    data: &'a [u8],
    version: u32,
    n_kv: usize,
    kv_start: usize,
    n_tensors: usize,
    tensors_start: usize,
    data_start: usize,
    alignment: usize,
}

/// One tensor's header and its data.
#[derive(Clone, Copy, Debug)]
pub struct TensorInfo<'a> {
    pub name: &'a str,
    pub n_dims: usize,
    /// `ne[0]` is the contiguous dimension; unused dims are 1.
    pub dims: [usize; MAX_DIMS],
    pub ty: GgmlType,
    /// Offset of the data within the file.
    pub file_offset: usize,
    pub data: &'a [u8],
}

impl TensorInfo<'_> {
    pub fn n_elements(&self) -> usize {
        self.dims.iter().product()
    }
}

struct RawTensor<'a> {
    name: &'a str,
    n_dims: usize,
    dims: [usize; MAX_DIMS],
    ty: GgmlType,
    offset: u64,
    nbytes: usize,
}

fn read_tensor_info<'a>(cur: &mut Cursor<'a>) -> Result<RawTensor<'a>> {
    const S: Section = Section::TensorInfo;
    let name = cur.str(S)?;
    let n_dims = cur.u32(S)? as usize;
    if n_dims == 0 || n_dims > MAX_DIMS {
        return Err(Error::BadDimensions);
    }
    let mut dims = [1usize; MAX_DIMS];
    let mut n: u64 = 1;
    for d in dims.iter_mut().take(n_dims) {
        let v = cur.u64(S)?;
        if v == 0 {
            return Err(Error::BadDimensions);
        }
        n = n.checked_mul(v).ok_or(Error::TooLarge(S))?;
        // Element counts beyond 2^48 cannot be in any file we could map.
        if n > 1 << 48 {
            return Err(Error::TooLarge(S));
        }
        *d = usize::try_from(v).map_err(|_| Error::TooLarge(S))?;
    }
    let ty = GgmlType::from_id(cur.u32(S)?)?;
    let offset = cur.u64(S)?;
    if dims[0] % ty.block_size() != 0 {
        return Err(Error::RaggedBlocks);
    }
    // n <= 2^48 and type sizes are small: the product cannot overflow u64.
    let nbytes = n / ty.block_size() as u64 * ty.type_size() as u64;
    if nbytes > MAX_TENSOR_BYTES {
        return Err(Error::TooLarge(S));
    }
    let nbytes = usize::try_from(nbytes).map_err(|_| Error::TooLarge(S))?;
    Ok(RawTensor {
        name,
        n_dims,
        dims,
        ty,
        offset,
        nbytes,
    })
}

impl<'a> Gguf<'a> {
    /// Parse and validate a whole GGUF file.
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut cur = Cursor::new(data, 0);
        if cur.bytes(4, Section::Header)? != MAGIC {
            return Err(Error::BadMagic);
        }
        let version = cur.u32(Section::Header)?;
        if version != 2 && version != 3 {
            return Err(Error::UnsupportedVersion(version));
        }
        let n_tensors = cur.u64(Section::Header)?;
        let n_kv = cur.u64(Section::Header)?;
        if n_tensors > MAX_TENSORS || n_kv > MAX_KV {
            return Err(Error::TooLarge(Section::Header));
        }

        // Metadata: validate every key and value, find the alignment, reject duplicates.
        let kv_start = cur.pos;
        let mut alignment = DEFAULT_ALIGNMENT;
        for i in 0..n_kv {
            let key = cur.str(Section::MetadataKey)?;
            let ty = ValueType::from_id(cur.u32(Section::MetadataValue)?)?;
            let value = read_value(&mut cur, ty)?;
            if key == "general.alignment" {
                alignment = match value {
                    Value::U32(a) if a.is_power_of_two() && a <= 1 << 20 => a as usize,
                    _ => return Err(Error::BadAlignment),
                };
            }
            let earlier = Self::kv_iter(data, kv_start, i as usize);
            if earlier.into_iter().any(|(k, _)| k == key) {
                return Err(Error::DuplicateName);
            }
        }

        // Tensor infos: valid, with unique names.
        let tensors_start = cur.pos;
        let mut infos_end = cur.clone();
        for i in 0..n_tensors {
            let t = read_tensor_info(&mut infos_end)?;
            let mut earlier = Cursor::new(data, tensors_start);
            for _ in 0..i {
                if read_tensor_info(&mut earlier)?.name == t.name {
                    return Err(Error::DuplicateName);
                }
            }
        }
        let data_start = infos_end.pos.div_ceil(alignment) * alignment;
        let g = Gguf {
            data,
            version,
            n_kv: n_kv as usize,
            kv_start,
            n_tensors: n_tensors as usize,
            tensors_start,
            data_start,
            alignment,
        };
        // Tensor data: every tensor inside the file (padding after the last may be absent),
        // aligned, and starting exactly where the previous one ended (ggml's rule). A tensor at
        // the right offset that runs past the end means the file itself was cut short.
        let mut cur = Cursor::new(data, tensors_start);
        let mut expected: u64 = 0;
        for _ in 0..n_tensors {
            let t = read_tensor_info(&mut cur)?;
            match g.locate(&t) {
                Err(Error::TensorOutOfBounds) if t.offset == expected => {
                    return Err(Error::Truncated(Section::TensorData));
                }
                r => r?,
            };
            if t.offset % alignment as u64 != 0 {
                return Err(Error::MisalignedTensor);
            }
            if t.offset < expected {
                return Err(Error::OverlappingTensors);
            }
            if t.offset > expected {
                return Err(Error::TensorGap);
            }
            // At most 8192 tensors of at most 2^40 bytes each: no overflow.
            expected += (t.nbytes as u64).div_ceil(alignment as u64) * alignment as u64;
        }
        Ok(g)
    }

    fn kv_iter(data: &'a [u8], kv_start: usize, n: usize) -> KvIter<'a> {
        KvIter {
            cur: Cursor::new(data, kv_start),
            left: n,
        }
    }

    fn locate(&self, t: &RawTensor<'a>) -> Result<TensorInfo<'a>> {
        let start = (self.data_start as u64)
            .checked_add(t.offset)
            .ok_or(Error::TensorOutOfBounds)?;
        let end = start
            .checked_add(t.nbytes as u64)
            .ok_or(Error::TensorOutOfBounds)?;
        if end > self.data.len() as u64 {
            return Err(Error::TensorOutOfBounds);
        }
        Ok(TensorInfo {
            name: t.name,
            n_dims: t.n_dims,
            dims: t.dims,
            ty: t.ty,
            file_offset: start as usize,
            data: &self.data[start as usize..end as usize],
        })
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn alignment(&self) -> usize {
        self.alignment
    }

    /// Offset of the tensor data section within the file.
    pub fn data_offset(&self) -> usize {
        self.data_start
    }

    /// The whole file.
    pub fn bytes(&self) -> &'a [u8] {
        self.data
    }

    pub fn n_kv(&self) -> usize {
        self.n_kv
    }

    pub fn n_tensors(&self) -> usize {
        self.n_tensors
    }

    /// All metadata, in file order.
    pub fn metadata(&self) -> KvIter<'a> {
        Self::kv_iter(self.data, self.kv_start, self.n_kv)
    }

    /// Look a key up (linear scan; called at load time only).
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.metadata().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// All tensors, in file order.
    pub fn tensors(&self) -> TensorIter<'a> {
        TensorIter {
            g: *self,
            cur: Cursor::new(self.data, self.tensors_start),
            left: self.n_tensors,
        }
    }

    /// Look a tensor up by name (linear scan; called at load time only).
    pub fn tensor(&self, name: &str) -> Option<TensorInfo<'a>> {
        self.tensors().find(|t| t.name == name)
    }
}

/// Iterator over `(key, value)` pairs.
pub struct KvIter<'a> {
    cur: Cursor<'a>,
    left: usize,
}

impl<'a> Iterator for KvIter<'a> {
    type Item = (&'a str, Value<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // The bytes were validated by `parse`; errors cannot occur, but stay total.
        let key = self.cur.str(Section::MetadataKey).ok()?;
        let ty = ValueType::from_id(self.cur.u32(Section::MetadataValue).ok()?).ok()?;
        let value = read_value(&mut self.cur, ty).ok()?;
        Some((key, value))
    }
}

/// Iterator over tensor infos.
pub struct TensorIter<'a> {
    g: Gguf<'a>,
    cur: Cursor<'a>,
    left: usize,
}

impl<'a> Iterator for TensorIter<'a> {
    type Item = TensorInfo<'a>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let raw = read_tensor_info(&mut self.cur).ok()?;
        self.g.locate(&raw).ok()
    }
}
