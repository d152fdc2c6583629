//! Broken GGUF files, each with the one error it must give, and never a panic.
//!
//! The corpus starts from the real reference files and mutates them through a small GGUF
//! reader/writer that lives here, independent of the runtime's reader: the test side turns a
//! file into keys, values and tensors, a case edits that structure (or patches a few bytes of
//! the written file), and the writer lays the file out again with correct offsets and
//! padding. Writing an unmodified reference file gives back the identical bytes, which is
//! checked first, so every case differs from a valid file only by its one defect.

mod common;
use common::read_reference;

use mote_runtime::error::{Key, Section, TensorRole};
use mote_runtime::{Error, Gguf, Model, OwnedArena, Session, SessionConfig};
use proptest::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

const REFERENCE_FILES: [&str; 10] = [
    "ref-tiny-f32.gguf",
    "ref-tiny-f16.gguf",
    "ref-tiny-q8_0.gguf",
    "ref-tiny-q4_0.gguf",
    "ref-tiny-q4_0-pure.gguf",
    "ref-small-tied-f32.gguf",
    "ref-small-tied-f16.gguf",
    "ref-small-tied-q8_0.gguf",
    "ref-small-tied-q4_0.gguf",
    "ref-small-tied-q4_0-pure.gguf",
];

// ---------------------------------------------------------------------------------------
// A small GGUF model of the file, independent of the runtime's reader.
// ---------------------------------------------------------------------------------------

// Metadata value type ids (GGUF spec).
const TY_U32: u32 = 4;
const TY_F32: u32 = 6;
const TY_STRING: u32 = 8;
const TY_ARRAY: u32 = 9;
const TY_U64: u32 = 10;

// Tensor type ids (ggml).
const GGML_F32: u32 = 0;
const GGML_F16: u32 = 1;
const GGML_Q4_0: u32 = 2;
const GGML_Q8_0: u32 = 8;
const GGML_Q6_K: u32 = 14;
const GGML_Q8_K: u32 = 15;

const DEFAULT_ALIGNMENT: u64 = 32;

/// (elements per block, bytes per block) of the tensor types the reference files use.
fn block_geometry(ty: u32) -> Option<(u64, u64)> {
    Some(match ty {
        GGML_F32 => (1, 4),
        GGML_F16 => (1, 2),
        GGML_Q4_0 => (32, 18),
        GGML_Q8_0 => (32, 34),
        GGML_Q6_K => (256, 210),
        GGML_Q8_K => (256, 292),
        _ => return None,
    })
}

/// Bytes of a tensor's data, or `None` when the header is too absurd to lay data out for
/// (the case is about the header, so the writer then writes no data for it).
fn tensor_bytes(ty: u32, dims: &[u64]) -> Option<usize> {
    let (block, size) = block_geometry(ty)?;
    let n = dims.iter().try_fold(1u64, |n, &d| n.checked_mul(d))?;
    let bytes = n.div_ceil(block).checked_mul(size)?;
    (bytes <= 1 << 30).then_some(bytes as usize)
}

/// Bytes of one fixed-size metadata scalar.
fn scalar_size(ty: u32) -> Option<usize> {
    Some(match ty {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        _ => return None,
    })
}

/// Reads well-formed files only (the reference files); panics on anything else.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let out = &self.b[self.pos..self.pos + n];
        self.pos += n;
        out
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().unwrap())
    }
    fn string(&mut self) -> &'a [u8] {
        let n = self.u64() as usize;
        self.take(n)
    }
    fn skip_value(&mut self, ty: u32) {
        match ty {
            TY_STRING => {
                self.string();
            }
            TY_ARRAY => {
                let elem = self.u32();
                for _ in 0..self.u64() {
                    self.skip_value(elem);
                }
            }
            _ => {
                self.take(scalar_size(ty).expect("value type"));
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Kv {
    key: Vec<u8>,
    ty: u32,
    /// The encoded value after its type id.
    value: Vec<u8>,
}

#[derive(Clone, Debug)]
struct Tensor {
    name: Vec<u8>,
    dims: Vec<u64>,
    ty: u32,
    data: Vec<u8>,
    /// Written instead of the laid-out offset when set.
    offset: Option<u64>,
}

#[derive(Clone, Debug)]
struct GgufFile {
    magic: [u8; 4],
    version: u32,
    /// Written instead of the real counts when set.
    n_tensors: Option<u64>,
    n_kv: Option<u64>,
    kvs: Vec<Kv>,
    tensors: Vec<Tensor>,
}

/// Where each part of a written file lies, to cut or patch it.
#[derive(Debug, Default)]
struct Layout {
    /// Per key: (start of the key, start of the value's type id, end of the value).
    kvs: Vec<(usize, usize, usize)>,
    /// Per tensor info: (start, end).
    infos: Vec<(usize, usize)>,
    infos_end: usize,
    data_start: usize,
    /// Per tensor: (start, end) of its data.
    data: Vec<(usize, usize)>,
}

impl Layout {
    /// The section the byte at `pos` belongs to (the padding before the data counts as data).
    fn section_at(&self, pos: usize) -> Section {
        if pos < 24 {
            return Section::Header;
        }
        for &(key, value, end) in &self.kvs {
            if (key..value).contains(&pos) {
                return Section::MetadataKey;
            }
            if (value..end).contains(&pos) {
                return Section::MetadataValue;
            }
        }
        if pos < self.infos_end {
            Section::TensorInfo
        } else {
            Section::TensorData
        }
    }

    fn kv_value(&self, i: usize) -> usize {
        self.kvs[i].1
    }
}

/// A change to a file's structure.
type Edit<'a> = dyn Fn(&mut GgufFile) + 'a;

struct Written {
    bytes: Vec<u8>,
    layout: Layout,
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn patch_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn patch_u64(bytes: &mut [u8], at: usize, v: u64) {
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

// Encoded metadata values: (type id, bytes after the type id).
fn u32v(v: u32) -> (u32, Vec<u8>) {
    (TY_U32, v.to_le_bytes().to_vec())
}
fn u64v(v: u64) -> (u32, Vec<u8>) {
    (TY_U64, v.to_le_bytes().to_vec())
}
fn f32v(v: f32) -> (u32, Vec<u8>) {
    (TY_F32, v.to_le_bytes().to_vec())
}
fn strv(s: &[u8]) -> (u32, Vec<u8>) {
    let mut out = Vec::new();
    put_string(&mut out, s);
    (TY_STRING, out)
}

impl GgufFile {
    fn read(b: &[u8]) -> Self {
        let mut r = Reader { b, pos: 0 };
        let magic: [u8; 4] = r.take(4).try_into().unwrap();
        let version = r.u32();
        let n_tensors = r.u64();
        let n_kv = r.u64();
        let mut kvs = Vec::new();
        for _ in 0..n_kv {
            let key = r.string().to_vec();
            let ty = r.u32();
            let start = r.pos;
            r.skip_value(ty);
            kvs.push(Kv {
                key,
                ty,
                value: b[start..r.pos].to_vec(),
            });
        }
        let mut infos = Vec::new();
        for _ in 0..n_tensors {
            let name = r.string().to_vec();
            let n_dims = r.u32();
            let dims: Vec<u64> = (0..n_dims).map(|_| r.u64()).collect();
            let ty = r.u32();
            let offset = r.u64();
            infos.push((name, dims, ty, offset));
        }
        let mut f = GgufFile {
            magic,
            version,
            n_tensors: None,
            n_kv: None,
            kvs,
            tensors: Vec::new(),
        };
        let data_start = (r.pos as u64).next_multiple_of(f.alignment()) as usize;
        for (name, dims, ty, offset) in infos {
            let start = data_start + offset as usize;
            let n = tensor_bytes(ty, &dims).expect("reference tensor size");
            f.tensors.push(Tensor {
                name,
                dims,
                ty,
                data: b[start..start + n].to_vec(),
                offset: None,
            });
        }
        f
    }

    /// The alignment the writer lays data out with: a sane `general.alignment`, else 32.
    fn alignment(&self) -> u64 {
        self.kvs
            .iter()
            .find(|kv| kv.key == b"general.alignment" && kv.ty == TY_U32)
            .map(|kv| u32::from_le_bytes(kv.value[..4].try_into().unwrap()) as u64)
            .filter(|a| a.is_power_of_two())
            .unwrap_or(DEFAULT_ALIGNMENT)
    }

    fn write(&self) -> Written {
        let mut out = Vec::new();
        let mut layout = Layout::default();
        out.extend_from_slice(&self.magic);
        put_u32(&mut out, self.version);
        put_u64(
            &mut out,
            self.n_tensors.unwrap_or(self.tensors.len() as u64),
        );
        put_u64(&mut out, self.n_kv.unwrap_or(self.kvs.len() as u64));
        for kv in &self.kvs {
            let key = out.len();
            put_string(&mut out, &kv.key);
            let value = out.len();
            put_u32(&mut out, kv.ty);
            out.extend_from_slice(&kv.value);
            layout.kvs.push((key, value, out.len()));
        }
        // Data offsets: each tensor starts at the aligned end of the previous one.
        let align = self.alignment();
        let mut offsets = Vec::new();
        let mut next = 0u64;
        for t in &self.tensors {
            let at = next.next_multiple_of(align);
            offsets.push(at);
            next = at + tensor_bytes(t.ty, &t.dims).unwrap_or(0) as u64;
        }
        for (t, &at) in self.tensors.iter().zip(&offsets) {
            let start = out.len();
            put_string(&mut out, &t.name);
            put_u32(&mut out, t.dims.len() as u32);
            for &d in &t.dims {
                put_u64(&mut out, d);
            }
            put_u32(&mut out, t.ty);
            put_u64(&mut out, t.offset.unwrap_or(at));
            layout.infos.push((start, out.len()));
        }
        layout.infos_end = out.len();
        layout.data_start = (out.len() as u64).next_multiple_of(align) as usize;
        for (t, &at) in self.tensors.iter().zip(&offsets) {
            let start = layout.data_start + at as usize;
            out.resize(start, 0);
            let n = tensor_bytes(t.ty, &t.dims).unwrap_or(0);
            let mut data = t.data.clone();
            data.resize(n, 0);
            out.extend_from_slice(&data);
            layout.data.push((start, out.len()));
        }
        Written { bytes: out, layout }
    }

    fn index(&self, key: &str) -> usize {
        self.kvs
            .iter()
            .position(|kv| kv.key == key.as_bytes())
            .unwrap_or_else(|| panic!("no key {key}"))
    }

    fn kv(&mut self, key: &str) -> &mut Kv {
        let i = self.index(key);
        &mut self.kvs[i]
    }

    /// Replace a key's value, or append the key.
    fn set(&mut self, key: &str, (ty, value): (u32, Vec<u8>)) {
        match self.kvs.iter_mut().find(|kv| kv.key == key.as_bytes()) {
            Some(kv) => {
                kv.ty = ty;
                kv.value = value;
            }
            None => self.kvs.push(Kv {
                key: key.as_bytes().to_vec(),
                ty,
                value,
            }),
        }
    }

    fn remove(&mut self, key: &str) {
        let i = self.index(key);
        self.kvs.remove(i);
    }

    fn tensor_index(&self, name: &str) -> usize {
        self.tensors
            .iter()
            .position(|t| t.name == name.as_bytes())
            .unwrap_or_else(|| panic!("no tensor {name}"))
    }

    fn tensor(&mut self, name: &str) -> &mut Tensor {
        let i = self.tensor_index(name);
        &mut self.tensors[i]
    }

    fn remove_tensor(&mut self, name: &str) {
        let i = self.tensor_index(name);
        self.tensors.remove(i);
    }
}

/// Offset, within an encoded string array value, of element `i`'s length field.
fn string_array_element(value: &[u8], i: usize) -> usize {
    let mut p = 12; // element type u32, count u64
    for _ in 0..i {
        p += 8 + u64::from_le_bytes(value[p..p + 8].try_into().unwrap()) as usize;
    }
    p
}

// ---------------------------------------------------------------------------------------
// Running a file through the runtime.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Parse,
    Load,
}

/// Parse and load; the first error and where it came from.
fn outcome(bytes: &[u8]) -> Result<(), (Stage, Error)> {
    let g = Gguf::parse(bytes).map_err(|e| (Stage::Parse, e))?;
    Model::load(&g).map_err(|e| (Stage::Load, e))?;
    Ok(())
}

/// Biggest arena a test session may allocate.
const MAX_ARENA: usize = 64 << 20;

/// Parse, load and, when both succeed, evaluate two tokens in a small session. Errors are
/// fine; the point is that nothing panics.
fn exercise(bytes: &[u8]) -> Result<(), Error> {
    let g = Gguf::parse(bytes)?;
    let model = Model::load(&g)?;
    let sc = SessionConfig::new(8);
    let need = model.arena_bytes_for(&sc)?;
    if need > MAX_ARENA {
        return Ok(());
    }
    let mut arena = OwnedArena::new(need);
    let mut s = Session::new(&model, arena.as_mut_slice(), sc)?;
    s.eval(1)?;
    s.eval(2)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The corpus.
// ---------------------------------------------------------------------------------------

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    stage: Stage,
    error: Error,
}

fn tiny_q8() -> GgufFile {
    static F: OnceLock<GgufFile> = OnceLock::new();
    F.get_or_init(|| GgufFile::read(&read_reference("ref-tiny-q8_0.gguf")))
        .clone()
}

fn tiny_q4() -> GgufFile {
    static F: OnceLock<GgufFile> = OnceLock::new();
    F.get_or_init(|| GgufFile::read(&read_reference("ref-tiny-q4_0.gguf")))
        .clone()
}

/// A nested array value: `[[7u32]]`.
fn nested_array() -> (u32, Vec<u8>) {
    let mut v = Vec::new();
    put_u32(&mut v, TY_ARRAY);
    put_u64(&mut v, 1);
    put_u32(&mut v, TY_U32);
    put_u64(&mut v, 1);
    put_u32(&mut v, 7);
    (TY_ARRAY, v)
}

fn corpus() -> Vec<Case> {
    use Error::*;
    use Stage::{Load, Parse};
    let mut cases = Vec::new();
    let mut add = |name: &'static str, bytes: Vec<u8>, stage: Stage, error: Error| {
        cases.push(Case {
            name,
            bytes,
            stage,
            error,
        })
    };
    // Edit the structure, then write it out.
    let edit = |f: &Edit<'_>| {
        let mut g = tiny_q8();
        f(&mut g);
        g.write().bytes
    };
    // Write the unmodified file, then patch its bytes.
    let patch = |f: &dyn Fn(&mut Vec<u8>, &Layout, &GgufFile)| {
        let g = tiny_q8();
        let Written { mut bytes, layout } = g.write();
        f(&mut bytes, &layout, &g);
        bytes
    };
    let base = tiny_q8().write();
    let cut = |at: usize| base.bytes[..at].to_vec();
    let l = &base.layout;
    let g = tiny_q8();
    let tokens = g.index("tokenizer.ggml.tokens");
    let name = g.index("general.name");
    let ctx = g.index("llama.context_length");
    let mid = |(a, b): (usize, usize)| (a + b) / 2;

    // --- truncation inside each section ---
    add(
        "truncated in the magic",
        cut(2),
        Parse,
        Truncated(Section::Header),
    );
    add(
        "truncated in the version",
        cut(6),
        Parse,
        Truncated(Section::Header),
    );
    add(
        "truncated in the tensor count",
        cut(12),
        Parse,
        Truncated(Section::Header),
    );
    add(
        "truncated in the kv count",
        cut(20),
        Parse,
        Truncated(Section::Header),
    );
    add(
        "truncated in a key",
        cut(l.kvs[name].0 + 10),
        Parse,
        Truncated(Section::MetadataKey),
    );
    add(
        "truncated in a key's length",
        cut(l.kvs[name].0 + 3),
        Parse,
        Truncated(Section::MetadataKey),
    );
    add(
        "truncated in a value's type id",
        cut(l.kv_value(ctx) + 2),
        Parse,
        Truncated(Section::MetadataValue),
    );
    add(
        "truncated in a u32 value",
        cut(l.kv_value(ctx) + 6),
        Parse,
        Truncated(Section::MetadataValue),
    );
    add(
        "truncated in a string value",
        cut(l.kvs[name].2 - 3),
        Parse,
        Truncated(Section::MetadataValue),
    );
    add(
        "truncated in the token string array",
        cut(mid((l.kvs[tokens].1, l.kvs[tokens].2))),
        Parse,
        Truncated(Section::MetadataValue),
    );
    add(
        "truncated in the token array's count",
        cut(l.kv_value(tokens) + 4 + 4 + 3),
        Parse,
        Truncated(Section::MetadataValue),
    );
    add(
        "truncated in a tensor info",
        cut(mid(l.infos[3])),
        Parse,
        Truncated(Section::TensorInfo),
    );
    add(
        "truncated in the padding before the data",
        cut(l.infos_end + 1),
        Parse,
        Truncated(Section::TensorData),
    );
    add(
        "truncated in the first tensor's data",
        cut(mid(l.data[0])),
        Parse,
        Truncated(Section::TensorData),
    );
    add(
        "last byte of the tensor data missing",
        cut(base.bytes.len() - 1),
        Parse,
        Truncated(Section::TensorData),
    );

    // --- magic and version ---
    add("bad magic", edit(&|f| f.magic = *b"GGML"), Parse, BadMagic);
    add(
        "version 1",
        edit(&|f| f.version = 1),
        Parse,
        UnsupportedVersion(1),
    );
    add(
        "version 4",
        edit(&|f| f.version = 4),
        Parse,
        UnsupportedVersion(4),
    );

    // --- absurd counts, lengths and dimensions ---
    add(
        "tensor count 2^64-1",
        edit(&|f| f.n_tensors = Some(u64::MAX)),
        Parse,
        TooLarge(Section::Header),
    );
    add(
        "kv count 2^40",
        edit(&|f| f.n_kv = Some(1 << 40)),
        Parse,
        TooLarge(Section::Header),
    );
    add(
        "key length 2^63",
        patch(&|b, l, g| patch_u64(b, l.kvs[g.index("general.name")].0, 1 << 63)),
        Parse,
        TooLarge(Section::MetadataKey),
    );
    add(
        "string value length 2^63",
        patch(&|b, l, g| patch_u64(b, l.kv_value(g.index("general.name")) + 4, 1 << 63)),
        Parse,
        TooLarge(Section::MetadataValue),
    );
    add(
        "token string length 2^63",
        patch(&|b, l, g| {
            let v = l.kv_value(g.index("tokenizer.ggml.tokens")) + 4;
            patch_u64(b, v + 12, 1 << 63)
        }),
        Parse,
        TooLarge(Section::MetadataValue),
    );
    add(
        "string array length 2^62",
        patch(&|b, l, g| patch_u64(b, l.kv_value(g.index("tokenizer.ggml.tokens")) + 8, 1 << 62)),
        Parse,
        TooLarge(Section::MetadataValue),
    );
    add(
        "f32 array length 2^62",
        patch(&|b, l, g| patch_u64(b, l.kv_value(g.index("tokenizer.ggml.scores")) + 8, 1 << 62)),
        Parse,
        TooLarge(Section::MetadataValue),
    );
    add(
        "tensor name length 2^63",
        patch(&|b, l, _| patch_u64(b, l.infos[2].0, 1 << 63)),
        Parse,
        TooLarge(Section::TensorInfo),
    );
    add(
        "a dimension of 2^40",
        edit(&|f| f.tensor("blk.0.attn_q.weight").dims = vec![64, 1 << 40]),
        Parse,
        TooLarge(Section::TensorInfo),
    );
    add(
        "a 1-d tensor of 2^40 elements",
        edit(&|f| f.tensor("blk.1.ffn_norm.weight").dims = vec![1 << 40]),
        Parse,
        TooLarge(Section::TensorInfo),
    );
    add(
        "dims whose product overflows u64",
        edit(&|f| f.tensor("blk.0.attn_k.weight").dims = vec![1 << 32, 1 << 32, 1 << 16]),
        Parse,
        TooLarge(Section::TensorInfo),
    );
    add(
        "n_dims 0",
        edit(&|f| f.tensor("blk.0.attn_norm.weight").dims = vec![]),
        Parse,
        BadDimensions,
    );
    add(
        "n_dims 5",
        edit(&|f| f.tensor("blk.0.attn_norm.weight").dims = vec![64, 1, 1, 1, 1]),
        Parse,
        BadDimensions,
    );
    add(
        "a zero dimension",
        edit(&|f| f.tensor("blk.0.attn_q.weight").dims = vec![64, 0]),
        Parse,
        BadDimensions,
    );

    // --- offsets and alignment ---
    let last = g.tensors.len() - 1;
    add(
        "offset past the end of the file",
        edit(&|f| f.tensors[last].offset = Some(1 << 32)),
        Parse,
        TensorOutOfBounds,
    );
    add(
        "offset near 2^64 (start overflows)",
        edit(&|f| f.tensors[last].offset = Some(u64::MAX - 31)),
        Parse,
        TensorOutOfBounds,
    );
    add(
        "overlapping tensors",
        edit(&|f| f.tensors[1].offset = Some(0)),
        Parse,
        OverlappingTensors,
    );
    add(
        "a gap between tensors",
        patch(&|b, l, _| {
            let at = l.infos[1].1 - 8;
            let off = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
            patch_u64(b, at, off + 32)
        }),
        Parse,
        TensorGap,
    );
    add(
        "misaligned offset",
        patch(&|b, l, _| {
            let at = l.infos[1].1 - 8;
            let off = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
            patch_u64(b, at, off + 16)
        }),
        Parse,
        MisalignedTensor,
    );
    add(
        "general.alignment 0",
        edit(&|f| f.set("general.alignment", u32v(0))),
        Parse,
        BadAlignment,
    );
    add(
        "general.alignment 3",
        edit(&|f| f.set("general.alignment", u32v(3))),
        Parse,
        BadAlignment,
    );
    add(
        "general.alignment 2^21",
        edit(&|f| f.set("general.alignment", u32v(1 << 21))),
        Parse,
        BadAlignment,
    );
    add(
        "general.alignment as u64",
        edit(&|f| f.set("general.alignment", u64v(32))),
        Parse,
        BadAlignment,
    );
    add(
        "general.alignment as a string",
        edit(&|f| f.set("general.alignment", strv(b"32"))),
        Parse,
        BadAlignment,
    );

    // --- unknown types ---
    add(
        "tensor type 99",
        edit(&|f| f.tensor("blk.0.attn_v.weight").ty = 99),
        Parse,
        UnknownTensorType(99),
    );
    add(
        "metadata value type 13",
        edit(&|f| f.kv("general.name").ty = 13),
        Parse,
        BadValueType(13),
    );
    add(
        "array element type 13",
        patch(&|b, l, g| patch_u32(b, l.kv_value(g.index("tokenizer.ggml.tokens")) + 4, 13)),
        Parse,
        BadValueType(13),
    );
    add(
        "nested array",
        edit(&|f| f.set("general.tags", nested_array())),
        Parse,
        NestedArray,
    );

    // --- names ---
    add(
        "non-UTF-8 key",
        edit(&|f| f.kv("general.name").key = b"general.\xffname".to_vec()),
        Parse,
        InvalidUtf8(Section::MetadataKey),
    );
    add(
        "non-UTF-8 string value",
        edit(&|f| f.set("general.name", strv(b"ref-\xc3\x28"))),
        Parse,
        InvalidUtf8(Section::MetadataValue),
    );
    add(
        "non-UTF-8 token",
        edit(&|f| {
            let v = &mut f.kv("tokenizer.ggml.tokens").value;
            let at = string_array_element(v, 300) + 8;
            v[at] = 0xff;
        }),
        Parse,
        InvalidUtf8(Section::MetadataValue),
    );
    add(
        "non-UTF-8 tensor name",
        edit(&|f| f.tensor("blk.0.ffn_up.weight").name = b"blk.0.ffn_\xfe.weight".to_vec()),
        Parse,
        InvalidUtf8(Section::TensorInfo),
    );
    add(
        "duplicate key",
        edit(&|f| {
            let kv = f.kv("llama.block_count").clone();
            f.kvs.push(kv);
        }),
        Parse,
        DuplicateName,
    );
    add(
        "duplicate tensor name",
        edit(&|f| f.tensor("blk.1.attn_q.weight").name = b"blk.0.attn_q.weight".to_vec()),
        Parse,
        DuplicateName,
    );

    // --- blocks ---
    add(
        "Q8_0 row of 48 elements",
        edit(&|f| f.tensor("blk.0.attn_q.weight").dims = vec![48, 64]),
        Parse,
        RaggedBlocks,
    );
    add(
        "Q4_0 row of 48 elements",
        {
            let mut f = tiny_q4();
            f.tensor("blk.1.ffn_up.weight").dims = vec![48, 192];
            f.write().bytes
        },
        Parse,
        RaggedBlocks,
    );

    // --- the model contract: keys ---
    add(
        "missing general.architecture",
        edit(&|f| f.remove("general.architecture")),
        Load,
        MissingKey(Key::Architecture),
    );
    add(
        "architecture gpt2",
        edit(&|f| f.set("general.architecture", strv(b"gpt2"))),
        Load,
        UnsupportedArchitecture,
    );
    add(
        "architecture as u32",
        edit(&|f| f.set("general.architecture", u32v(1))),
        Load,
        BadKey(Key::Architecture),
    );
    add(
        "missing llama.embedding_length",
        edit(&|f| f.remove("llama.embedding_length")),
        Load,
        MissingKey(Key::EmbeddingLength),
    );
    add(
        "missing llama.block_count",
        edit(&|f| f.remove("llama.block_count")),
        Load,
        MissingKey(Key::BlockCount),
    );
    add(
        "missing llama.feed_forward_length",
        edit(&|f| f.remove("llama.feed_forward_length")),
        Load,
        MissingKey(Key::FeedForwardLength),
    );
    add(
        "missing llama.attention.head_count",
        edit(&|f| f.remove("llama.attention.head_count")),
        Load,
        MissingKey(Key::HeadCount),
    );
    add(
        "missing llama.context_length",
        edit(&|f| f.remove("llama.context_length")),
        Load,
        MissingKey(Key::ContextLength),
    );
    add(
        "missing rms epsilon",
        edit(&|f| f.remove("llama.attention.layer_norm_rms_epsilon")),
        Load,
        MissingKey(Key::RmsEpsilon),
    );
    add(
        "rms epsilon NaN",
        edit(&|f| f.set("llama.attention.layer_norm_rms_epsilon", f32v(f32::NAN))),
        Load,
        BadKey(Key::RmsEpsilon),
    );
    add(
        "rms epsilon as u32",
        edit(&|f| f.set("llama.attention.layer_norm_rms_epsilon", u32v(1))),
        Load,
        BadKey(Key::RmsEpsilon),
    );
    add(
        "embedding length as a string",
        edit(&|f| f.set("llama.embedding_length", strv(b"64"))),
        Load,
        BadKey(Key::EmbeddingLength),
    );
    add(
        "block count 0",
        edit(&|f| f.set("llama.block_count", u32v(0))),
        Load,
        BadKey(Key::BlockCount),
    );
    add(
        "block count 65",
        edit(&|f| f.set("llama.block_count", u32v(65))),
        Load,
        TooManyLayers,
    );
    add(
        "head count 3 does not divide 64",
        edit(&|f| f.set("llama.attention.head_count", u32v(3))),
        Load,
        BadKey(Key::HeadCount),
    );
    add(
        "kv head count 3 does not divide 4",
        edit(&|f| f.set("llama.attention.head_count_kv", u32v(3))),
        Load,
        BadKey(Key::HeadCountKv),
    );
    add(
        "odd rope dimension count",
        edit(&|f| f.set("llama.rope.dimension_count", u32v(15))),
        Load,
        BadKey(Key::RopeDimensionCount),
    );

    // --- the model contract: tensors ---
    add(
        "missing blk.1.ffn_down.weight",
        edit(&|f| f.remove_tensor("blk.1.ffn_down.weight")),
        Load,
        MissingTensor(TensorRole::FfnDown(1)),
    );
    add(
        "missing token_embd.weight",
        edit(&|f| f.remove_tensor("token_embd.weight")),
        Load,
        MissingTensor(TensorRole::TokenEmbedding),
    );
    add(
        "missing output_norm.weight",
        edit(&|f| f.remove_tensor("output_norm.weight")),
        Load,
        MissingTensor(TensorRole::OutputNorm),
    );
    add(
        "block count 3 with two blocks of tensors",
        edit(&|f| f.set("llama.block_count", u32v(3))),
        Load,
        MissingTensor(TensorRole::AttnNorm(2)),
    );
    add(
        "embedding length disagrees with token_embd",
        edit(&|f| f.set("llama.embedding_length", u32v(128))),
        Load,
        ShapeMismatch(TensorRole::TokenEmbedding),
    );
    add(
        "no head_count_kv: attn_k disagrees with the default",
        edit(&|f| f.remove("llama.attention.head_count_kv")),
        Load,
        ShapeMismatch(TensorRole::AttnK(0)),
    );
    add(
        "ffn_gate dims swapped",
        edit(&|f| f.tensor("blk.0.ffn_gate.weight").dims = vec![192, 64]),
        Load,
        ShapeMismatch(TensorRole::FfnGate(0)),
    );
    add(
        "attn_q with three dims",
        edit(&|f| f.tensor("blk.1.attn_q.weight").dims = vec![64, 32, 2]),
        Load,
        ShapeMismatch(TensorRole::AttnQ(1)),
    );
    add(
        "attn_q flattened to one dim",
        edit(&|f| f.tensor("blk.0.attn_q.weight").dims = vec![64 * 64]),
        Load,
        ShapeMismatch(TensorRole::AttnQ(0)),
    );
    add(
        "token_embd with three dims",
        edit(&|f| f.tensor("token_embd.weight").dims = vec![64, 256, 2]),
        Load,
        ShapeMismatch(TensorRole::TokenEmbedding),
    );
    add(
        "output vocab disagrees with token_embd",
        edit(&|f| f.tensor("output.weight").dims = vec![64, 256]),
        Load,
        ShapeMismatch(TensorRole::Output),
    );
    add(
        "ffn_norm with two dims",
        edit(&|f| f.tensor("blk.1.ffn_norm.weight").dims = vec![32, 2]),
        Load,
        ShapeMismatch(TensorRole::FfnNorm(1)),
    );
    add(
        "quantized attn_norm",
        edit(&|f| f.tensor("blk.0.attn_norm.weight").ty = GGML_Q8_0),
        Load,
        BadTensorType(TensorRole::AttnNorm(0)),
    );
    add(
        "F16 output_norm",
        edit(&|f| f.tensor("output_norm.weight").ty = GGML_F16),
        Load,
        BadTensorType(TensorRole::OutputNorm),
    );
    add(
        "a weight in the activation-only type Q8_K",
        edit(&|f| {
            let t = f.tensor("blk.0.attn_q.weight");
            t.ty = GGML_Q8_K;
            t.dims = vec![256, 16];
        }),
        Load,
        BadTensorType(TensorRole::AttnQ(0)),
    );
    cases
}

// ---------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------

#[test]
fn writer_reproduces_every_reference_file() {
    for file in REFERENCE_FILES {
        let bytes = read_reference(file);
        let w = GgufFile::read(&bytes).write();
        assert!(w.bytes == bytes, "{file}: rewritten file differs");
        exercise(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[test]
fn valid_variations_still_load_and_run() {
    let variants: [(&str, &Edit<'_>); 4] = [
        ("GGUF v2", &|f| f.version = 2),
        ("general.alignment 64", &|f| {
            f.set("general.alignment", u32v(64))
        }),
        ("general.alignment 32 stated", &|f| {
            f.set("general.alignment", u32v(32))
        }),
        ("no output.weight (tied)", &|f| {
            f.remove_tensor("output.weight")
        }),
    ];
    for (name, edit) in variants {
        let mut f = tiny_q8();
        edit(&mut f);
        let bytes = f.write().bytes;
        exercise(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let g = Gguf::parse(&bytes).unwrap();
        assert_eq!(g.alignment() as u64, f.alignment(), "{name}");
        let tied = f.tensors.iter().all(|t| t.name != b"output.weight");
        assert_eq!(Model::load(&g).unwrap().tied, tied, "{name}");
    }
}

#[test]
fn every_bad_file_gives_its_own_error() {
    let cases = corpus();
    let mut wrong = Vec::new();
    for c in &cases {
        let got = outcome(&c.bytes);
        eprintln!("{:<52} {:?}", c.name, got);
        match got {
            Err((stage, e)) if stage == c.stage && e == c.error => {
                assert!(!e.to_string().is_empty(), "{}: empty Display", c.name);
            }
            other => wrong.push(format!(
                "{}: expected {:?} {:?}, got {other:?}",
                c.name, c.stage, c.error
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn corpus_never_panics() {
    for c in corpus() {
        let r = catch_unwind(AssertUnwindSafe(|| exercise(&c.bytes)));
        assert!(r.is_ok(), "{}: panicked", c.name);
    }
}

/// Cutting ref-tiny anywhere in its header, its padding or the start of its data gives
/// `Truncated` naming the section of the first missing byte; cutting further into the data
/// gives `Truncated(TensorData)`; only the whole file parses.
#[test]
fn every_truncation_is_an_error_naming_its_section() {
    for file in ["ref-tiny-q8_0.gguf", "ref-tiny-q4_0.gguf"] {
        let bytes = read_reference(file);
        let w = GgufFile::read(&bytes).write();
        assert!(w.bytes == bytes);
        let l = &w.layout;
        let dense = l.data_start + 4096;
        let cuts = (0..dense).chain((dense..bytes.len()).step_by(251));
        for at in cuts {
            let got = catch_unwind(|| outcome(&bytes[..at]))
                .unwrap_or_else(|_| panic!("{file}: cut at {at}: panicked"));
            let want = Error::Truncated(l.section_at(at));
            assert_eq!(got, Err((Stage::Parse, want)), "{file}: cut at {at}");
        }
        assert_eq!(outcome(&bytes), Ok(()));
    }
}

fn tiny_q4_bytes() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| read_reference("ref-tiny-q4_0.gguf"))
}

/// Where the q4_0 file's tensor data starts (mutations aim mostly at the header before it).
fn tiny_q4_header_len() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| GgufFile::read(tiny_q4_bytes()).write().layout.data_start)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random byte flips (mostly in the header) and truncations of ref-tiny-q4_0 never panic
    /// through parse, load and a two-token session.
    #[test]
    fn flips_and_truncations_never_panic(
        flips in prop::collection::vec(
            (any::<bool>(), any::<prop::sample::Index>(), 1u8..=255),
            0..8,
        ),
        cut in prop::option::weighted(0.25, any::<prop::sample::Index>()),
    ) {
        let mut bytes = tiny_q4_bytes().to_vec();
        let header = tiny_q4_header_len();
        for (in_header, at, x) in flips {
            let at = if in_header { at.index(header) } else { at.index(bytes.len()) };
            bytes[at] ^= x;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        let _ = exercise(&bytes);
    }
}
