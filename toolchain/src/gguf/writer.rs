//! Assemble a GGUF v3 file: metadata first, tensor data streamed at write time.
//!
//! The file is: header (`GGUF`, version, tensor count, metadata count), the metadata
//! key/value pairs, the tensor infos (name, dims with `ne[0]` contiguous, type id, offset),
//! zero padding up to `general.alignment`, then each tensor's data padded to the alignment.
//! Offsets are relative to the data section, and each tensor starts where the previous one's
//! padded data ended, as ggml requires.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use mote_runtime::gguf::{DEFAULT_ALIGNMENT, MAX_DIMS, MAX_STRING};
use mote_runtime::quant::GgmlType;

use super::value::{encode_str, MetaArray, MetaValue};
use crate::error::{Error, Result};

/// The key that sets the data alignment.
pub const ALIGNMENT_KEY: &str = "general.alignment";
/// Largest alignment the runtime's reader accepts.
pub const MAX_ALIGNMENT: u32 = 1 << 20;
/// Tensor names must fit ggml's `GGML_MAX_NAME` (64) with its terminating NUL.
pub const MAX_TENSOR_NAME: usize = 63;
/// Elements in one tensor; the runtime's reader refuses more (and so no size sum overflows).
pub const MAX_ELEMENTS: u64 = 1 << 48;
/// GGUF keys are at most 65535 bytes of ASCII.
pub const MAX_KEY: usize = 65535;

const VERSION: u32 = 3;
/// Copy buffer and output buffer size.
const CHUNK: usize = 1 << 20;

/// Why a GGUF file cannot be assembled as asked.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("metadata key {0:?} is empty, not ASCII, or longer than 65535 bytes")]
    BadKey(String),
    #[error("metadata key {0:?} is added twice")]
    DuplicateKey(String),
    #[error("general.alignment must be a power of two no larger than 2^20, got {0}")]
    BadAlignment(u64),
    #[error("general.alignment must be a u32")]
    AlignmentNotU32,
    #[error("a string in {context} is {len} bytes, over the {MAX_STRING}-byte limit")]
    StringTooLong { context: String, len: usize },
    #[error("tensor name {0:?} is empty or longer than 63 bytes")]
    BadTensorName(String),
    #[error("tensor {0:?} is added twice")]
    DuplicateTensor(String),
    #[error("tensor {name:?}: bad dimensions {dims:?} (1 to 4, none zero, at most 2^48 elements)")]
    BadDims { name: String, dims: Vec<u64> },
    #[error("tensor {name:?}: ne[0] = {ne0} is not a multiple of {ty}'s block size {block}")]
    RaggedBlocks {
        name: String,
        ne0: u64,
        ty: &'static str,
        block: usize,
    },
    #[error("tensor {name:?}: {ty} data of shape {dims:?} is {expected} bytes, got {got}")]
    DataSize {
        name: String,
        ty: &'static str,
        dims: Vec<u64>,
        expected: u64,
        got: u64,
    },
    #[error("tensor {name:?}: producing its data failed: {error}")]
    Source { name: String, error: io::Error },
    #[error("tokenizer vocabulary: {0}")]
    Vocab(&'static str),
}

/// Writes a tensor's bytes into the file being written.
pub type StreamFn<'a> = Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + 'a>;

/// Where a tensor's bytes come from. They are only read when the file is written, so a
/// model larger than memory streams through.
pub enum TensorData<'a> {
    /// Bytes already in memory, owned or borrowed (e.g. from a memory map).
    Bytes(Cow<'a, [u8]>),
    /// The tensor's bytes lie in `path` starting at byte `offset`; they are copied in chunks.
    File { path: PathBuf, offset: u64 },
    /// A closure that writes exactly the tensor's bytes when called (once).
    Stream(StreamFn<'a>),
}

impl From<Vec<u8>> for TensorData<'_> {
    fn from(v: Vec<u8>) -> Self {
        TensorData::Bytes(Cow::Owned(v))
    }
}

impl<'a> From<&'a [u8]> for TensorData<'a> {
    fn from(v: &'a [u8]) -> Self {
        TensorData::Bytes(Cow::Borrowed(v))
    }
}

impl std::fmt::Debug for TensorData<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TensorData::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            TensorData::File { path, offset } => {
                write!(f, "File({}, offset {offset})", path.display())
            }
            TensorData::Stream(_) => f.write_str("Stream"),
        }
    }
}

#[derive(Debug)]
struct PendingTensor<'a> {
    name: String,
    dims: Vec<u64>,
    ty: GgmlType,
    nbytes: u64,
    data: TensorData<'a>,
}

/// A GGUF v3 file being assembled. Metadata and tensors are written in the order added.
///
/// ```no_run
/// # use mote_toolchain::gguf::{GgufWriter, GgmlType};
/// # fn main() -> mote_toolchain::Result<()> {
/// let mut w = GgufWriter::new();
/// w.add_string("general.architecture", "llama")?;
/// w.add_u32("llama.block_count", 2)?;
/// w.add_f32_tensor("output_norm.weight", &[4], &[1.0; 4])?;
/// w.write(std::path::Path::new("model.gguf"))?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct GgufWriter<'a> {
    alignment: u32,
    kv: Vec<(String, MetaValue)>,
    tensors: Vec<PendingTensor<'a>>,
    tensor_names: HashSet<String>,
}

impl Default for GgufWriter<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// Round `n` up to a multiple of `align` (a power of two).
fn pad_to(n: u64, align: u64) -> u64 {
    n.div_ceil(align) * align
}

macro_rules! typed_adders {
    ($($fn:ident($t:ty) => $v:ident;)*) => {$(
        #[doc = concat!("Add a `", stringify!($t), "` metadata value.")]
        pub fn $fn(&mut self, key: &str, value: $t) -> Result<()> {
            self.add_value(key, MetaValue::$v(value))
        }
    )*};
}

impl<'a> GgufWriter<'a> {
    pub fn new() -> Self {
        GgufWriter {
            alignment: DEFAULT_ALIGNMENT as u32,
            kv: Vec::new(),
            tensors: Vec::new(),
            tensor_names: HashSet::new(),
        }
    }

    /// The data alignment in bytes (32 unless set).
    pub fn alignment(&self) -> u32 {
        self.alignment
    }

    /// Set `general.alignment`. The key is written only once set; readers assume 32 without it.
    pub fn set_alignment(&mut self, alignment: u32) -> Result<()> {
        if !alignment.is_power_of_two() || alignment > MAX_ALIGNMENT {
            return Err(WriteError::BadAlignment(alignment.into()).into());
        }
        self.alignment = alignment;
        match self.kv.iter_mut().find(|(k, _)| k == ALIGNMENT_KEY) {
            Some((_, v)) => *v = MetaValue::U32(alignment),
            None => self
                .kv
                .push((ALIGNMENT_KEY.to_owned(), MetaValue::U32(alignment))),
        }
        Ok(())
    }

    /// Add a metadata value of any type. `general.alignment` must be a `U32` power of two.
    pub fn add_value(&mut self, key: &str, value: MetaValue) -> Result<()> {
        if key.is_empty() || key.len() > MAX_KEY || !key.is_ascii() {
            return Err(WriteError::BadKey(key.to_owned()).into());
        }
        if self.kv.iter().any(|(k, _)| k == key) {
            return Err(WriteError::DuplicateKey(key.to_owned()).into());
        }
        if let Some(len) = value
            .strings()
            .map(str::len)
            .find(|&l| l as u64 > MAX_STRING)
        {
            let context = format!("metadata key {key:?}");
            return Err(WriteError::StringTooLong { context, len }.into());
        }
        if key == ALIGNMENT_KEY {
            return match value {
                MetaValue::U32(a) => self.set_alignment(a),
                _ => Err(WriteError::AlignmentNotU32.into()),
            };
        }
        self.kv.push((key.to_owned(), value));
        Ok(())
    }

    typed_adders! {
        add_u8(u8) => U8;
        add_i8(i8) => I8;
        add_u16(u16) => U16;
        add_i16(i16) => I16;
        add_u32(u32) => U32;
        add_i32(i32) => I32;
        add_f32(f32) => F32;
        add_bool(bool) => Bool;
        add_u64(u64) => U64;
        add_i64(i64) => I64;
        add_f64(f64) => F64;
    }

    /// Add a string metadata value.
    pub fn add_string(&mut self, key: &str, value: impl Into<String>) -> Result<()> {
        self.add_value(key, MetaValue::String(value.into()))
    }

    /// Add an array metadata value, e.g. `add_array("k", vec![1.0f32, 2.0])`.
    pub fn add_array(&mut self, key: &str, value: impl Into<MetaArray>) -> Result<()> {
        self.add_value(key, MetaValue::Array(value.into()))
    }

    /// Add a tensor. `dims` lists `ne[0]` (the contiguous dimension) first; the data must be
    /// exactly the bytes of that many elements of `ty`.
    pub fn add_tensor(
        &mut self,
        name: &str,
        dims: &[u64],
        ty: GgmlType,
        data: impl Into<TensorData<'a>>,
    ) -> Result<()> {
        let data = data.into();
        if name.is_empty() || name.len() > MAX_TENSOR_NAME {
            return Err(WriteError::BadTensorName(name.to_owned()).into());
        }
        if self.tensor_names.contains(name) {
            return Err(WriteError::DuplicateTensor(name.to_owned()).into());
        }
        let bad_dims = || WriteError::BadDims {
            name: name.to_owned(),
            dims: dims.to_vec(),
        };
        if dims.is_empty() || dims.len() > MAX_DIMS || dims.contains(&0) {
            return Err(bad_dims().into());
        }
        let n = dims
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .filter(|&n| n <= MAX_ELEMENTS)
            .ok_or_else(bad_dims)?;
        let block = ty.block_size() as u64;
        if !dims[0].is_multiple_of(block) {
            return Err(WriteError::RaggedBlocks {
                name: name.to_owned(),
                ne0: dims[0],
                ty: ty.traits().name,
                block: ty.block_size(),
            }
            .into());
        }
        let nbytes = (n / block)
            .checked_mul(ty.type_size() as u64)
            .ok_or_else(bad_dims)?;
        if let TensorData::Bytes(b) = &data {
            if b.len() as u64 != nbytes {
                return Err(WriteError::DataSize {
                    name: name.to_owned(),
                    ty: ty.traits().name,
                    dims: dims.to_vec(),
                    expected: nbytes,
                    got: b.len() as u64,
                }
                .into());
            }
        }
        self.tensor_names.insert(name.to_owned());
        self.tensors.push(PendingTensor {
            name: name.to_owned(),
            dims: dims.to_vec(),
            ty,
            nbytes,
            data,
        });
        Ok(())
    }

    /// Add an F32 tensor from values (copied to little-endian bytes now).
    pub fn add_f32_tensor(&mut self, name: &str, dims: &[u64], values: &[f32]) -> Result<()> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.add_tensor(name, dims, GgmlType::F32, bytes)
    }

    pub fn n_tensors(&self) -> usize {
        self.tensors.len()
    }

    pub fn n_kv(&self) -> usize {
        self.kv.len()
    }

    /// Header, metadata and tensor infos, padded to the alignment: everything before the data.
    fn header(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(b"GGUF");
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.kv.len() as u64).to_le_bytes());
        for (key, value) in &self.kv {
            encode_str(key, &mut out);
            out.extend_from_slice(&value.type_id().to_le_bytes());
            value.encode(&mut out);
        }
        let align = u64::from(self.alignment);
        let mut offset = 0u64;
        for t in &self.tensors {
            encode_str(&t.name, &mut out);
            out.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
            for d in &t.dims {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.extend_from_slice(&(t.ty as u32).to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
            offset += pad_to(t.nbytes, align);
        }
        out.resize(pad_to(out.len() as u64, align) as usize, 0);
        out
    }

    /// Size of the file `write` would produce.
    pub fn file_size(&self) -> u64 {
        let align = u64::from(self.alignment);
        let data: u64 = self.tensors.iter().map(|t| pad_to(t.nbytes, align)).sum();
        self.header().len() as u64 + data
    }

    /// Write the file atomically: into a temporary file beside `path`, fsync, then rename over
    /// `path`. On any error `path` is untouched and the temporary file is removed. Returns the
    /// file size.
    pub fn write(self, path: &Path) -> Result<u64> {
        let tmp = TempFile::create(path)?;
        let mut out = BufWriter::with_capacity(CHUNK, &tmp.file);
        let size = self.emit(&mut out, path)?;
        out.flush().map_err(|e| Error::io(path, e))?;
        drop(out);
        tmp.commit(path)?;
        Ok(size)
    }

    /// The whole file in memory (for small files and tests).
    pub fn to_bytes(self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.emit(&mut out, Path::new("<memory>"))?;
        Ok(out)
    }

    /// Stream the file to `w`; write errors are reported against `out`.
    fn emit(self, w: &mut dyn Write, out: &Path) -> Result<u64> {
        let header = self.header();
        w.write_all(&header).map_err(|e| Error::io(out, e))?;
        let align = u64::from(self.alignment);
        let mut size = header.len() as u64;
        let zeros = vec![0u8; self.alignment as usize];
        for t in self.tensors {
            let (name, ty, dims, nbytes) = (t.name, t.ty, t.dims, t.nbytes);
            match t.data {
                TensorData::Bytes(b) => w.write_all(&b).map_err(|e| Error::io(out, e))?,
                TensorData::File { path, offset } => {
                    copy_file_range(&path, offset, nbytes, &name, w, out)?
                }
                TensorData::Stream(f) => {
                    let mut sink = Sink {
                        inner: w,
                        left: nbytes,
                        overflow: 0,
                        error: None,
                    };
                    let produced = f(&mut sink);
                    if let Some(e) = sink.error.take() {
                        return Err(Error::io(out, e));
                    }
                    if let (Err(error), 0) = (produced, sink.overflow) {
                        return Err(WriteError::Source { name, error }.into());
                    }
                    if sink.left != 0 || sink.overflow != 0 {
                        let got = nbytes - sink.left + sink.overflow;
                        let ty = ty.traits().name;
                        let e = WriteError::DataSize {
                            name,
                            ty,
                            dims,
                            expected: nbytes,
                            got,
                        };
                        return Err(e.into());
                    }
                }
            }
            let pad = pad_to(nbytes, align) - nbytes;
            w.write_all(&zeros[..pad as usize])
                .map_err(|e| Error::io(out, e))?;
            size += nbytes + pad;
        }
        Ok(size)
    }
}

/// Copy `nbytes` from `src` at `offset` into `w`.
fn copy_file_range(
    src: &Path,
    offset: u64,
    nbytes: u64,
    tensor: &str,
    w: &mut dyn Write,
    out: &Path,
) -> Result<()> {
    let mut f = File::open(src).map_err(|e| Error::io(src, e))?;
    f.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::io(src, e))?;
    let mut buf = vec![0u8; CHUNK.min(nbytes as usize)];
    let mut left = nbytes;
    while left > 0 {
        let want = buf.len().min(left as usize);
        let got = match f.read(&mut buf[..want]) {
            Ok(0) => {
                let at = offset + (nbytes - left);
                let what = format!(
                    "file ends inside the data of tensor {tensor} ({nbytes} bytes from byte {offset})"
                );
                return Err(Error::format(src, at, what));
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(src, e)),
        };
        w.write_all(&buf[..got]).map_err(|e| Error::io(out, e))?;
        left -= got as u64;
    }
    Ok(())
}

/// Counts what a `TensorData::Stream` closure writes, refuses bytes past the tensor's size,
/// and keeps the first output error so it can be blamed on the output file.
struct Sink<'w> {
    inner: &'w mut dyn Write,
    left: u64,
    overflow: u64,
    error: Option<io::Error>,
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() as u64 > self.left {
            self.overflow += buf.len() as u64 - self.left;
            return Err(io::Error::other("more bytes than the tensor holds"));
        }
        match self.inner.write(buf) {
            Ok(n) => {
                self.left -= n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let kind = e.kind();
                self.error.get_or_insert(e);
                Err(io::Error::new(kind, "writing the output file failed"))
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A temporary file beside the destination, removed on drop unless committed.
struct TempFile {
    file: File,
    path: PathBuf,
    committed: bool,
}

impl TempFile {
    fn create(dest: &Path) -> Result<TempFile> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = dest.file_name().ok_or_else(|| {
            Error::io(
                dest,
                io::Error::new(io::ErrorKind::InvalidInput, "not a file path"),
            )
        })?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
            let path = dir.join(tmp_name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(TempFile {
                        file,
                        path,
                        committed: false,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(path, e)),
            }
        }
    }

    /// fsync, rename over `dest`, and fsync the directory so the rename is durable.
    fn commit(mut self, dest: &Path) -> Result<()> {
        self.file.sync_all().map_err(|e| Error::io(&self.path, e))?;
        fs::rename(&self.path, dest).map_err(|e| Error::io(dest, e))?;
        self.committed = true;
        #[cfg(unix)]
        if let Some(dir) = dest.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| Error::io(dir, e))?;
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}
