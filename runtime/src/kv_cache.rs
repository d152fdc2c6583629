//! The key/value cache: per layer, per position, one `kv_dim` row of K and of V.

use half::f16;

/// Element type of the KV cache, chosen at session creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KvType {
    #[default]
    F32,
    /// Half the memory; what microcontrollers use.
    F16,
}

impl KvType {
    pub fn bytes(self) -> usize {
        match self {
            KvType::F32 => 4,
            KvType::F16 => 2,
        }
    }
}

/// K or V storage: `[n_layers][ctx][kv_dim]`.
pub enum KvStore<'s> {
    F32(&'s mut [f32]),
    F16(&'s mut [f16]),
}

impl KvStore<'_> {
    /// Write one row at `index = (layer · ctx + pos) · kv_dim`.
    pub fn write(&mut self, index: usize, row: &[f32]) {
        match self {
            KvStore::F32(s) => s[index..index + row.len()].copy_from_slice(row),
            KvStore::F16(s) => {
                for (d, &v) in s[index..index + row.len()].iter_mut().zip(row) {
                    *d = f16::from_f32(v);
                }
            }
        }
    }

    /// `Σ a[i] · row[i]` for the row of `a.len()` values at `index`.
    #[inline]
    pub fn dot(&self, index: usize, a: &[f32]) -> f32 {
        match self {
            KvStore::F32(s) => crate::quant::scalar::dot_f32(&s[index..index + a.len()], a),
            KvStore::F16(s) => {
                s[index..index + a.len()].iter().zip(a).map(|(k, &q)| k.to_f32() * q).sum()
            }
        }
    }

    /// `out += w · row` for the row of `out.len()` values at `index`.
    #[inline]
    pub fn axpy(&self, index: usize, w: f32, out: &mut [f32]) {
        let n = out.len();
        match self {
            KvStore::F32(s) => {
                for (o, &v) in out.iter_mut().zip(&s[index..index + n]) {
                    *o += w * v;
                }
            }
            KvStore::F16(s) => {
                for (o, v) in out.iter_mut().zip(&s[index..index + n]) {
                    *o += w * v.to_f32();
                }
            }
        }
    }
}
