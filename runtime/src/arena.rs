//! The caller's arena, carved into typed buffers by a bump allocator.
//!
//! Every region starts on a 64-byte boundary and its size is rounded up to 64, so
//! `arena_bytes` is an exact sum that `Session::new` consumes byte for byte.

use crate::error::{Error, Result};
use crate::quant::{BlockQ8K, BlockQ8_0};
use half::f16;

/// Alignment of the arena start and of every region in it.
pub const ARENA_ALIGN: usize = 64;

/// Bytes a region of `n` values of `T` takes.
pub(crate) const fn region_bytes<T>(n: usize) -> usize {
    (n * core::mem::size_of::<T>()).div_ceil(ARENA_ALIGN) * ARENA_ALIGN
}

/// Types that are valid for every bit pattern and have no padding.
///
/// # Safety
/// Implementors must be inhabited by every byte pattern of their size, contain no padding
/// and no pointers, and have an alignment of at most [`ARENA_ALIGN`].
pub(crate) unsafe trait Pod: Copy {}
// SAFETY: plain numbers; every bit pattern is a value.
unsafe impl Pod for f32 {}
// SAFETY: plain numbers; every bit pattern is a value.
unsafe impl Pod for u32 {}
// SAFETY: plain numbers; every bit pattern is a value.
unsafe impl Pod for i8 {}
// SAFETY: `f16` is a transparent `u16`.
unsafe impl Pod for f16 {}
// SAFETY: `{f16, [i8; 32]}`, repr(C), 34 bytes, no padding (size asserted in blocks.rs).
unsafe impl Pod for BlockQ8_0 {}
// SAFETY: `{f32, [i8; 256], [i16; 16]}`, repr(C), 292 bytes, no padding (asserted).
unsafe impl Pod for BlockQ8K {}
// SAFETY: `{f32, u32}`, repr(C), 8 bytes, no padding.
unsafe impl Pod for crate::sampler::Candidate {}

/// Hands out disjoint, aligned, typed slices of the arena.
pub(crate) struct Bump<'s> {
    rest: &'s mut [u8],
}

impl<'s> Bump<'s> {
    /// Wrap an arena of at least `needed` bytes that starts on a 64-byte boundary.
    pub fn new(arena: &'s mut [u8], needed: usize) -> Result<Self> {
        if !(arena.as_ptr() as usize).is_multiple_of(ARENA_ALIGN) {
            return Err(Error::ArenaMisaligned);
        }
        if arena.len() < needed {
            return Err(Error::ArenaTooSmall {
                needed,
                got: arena.len(),
            });
        }
        Ok(Bump { rest: arena })
    }

    /// The next `n` values of `T`. Sizes come from the same plan `new` was checked against.
    pub fn take<T: Pod>(&mut self, n: usize) -> &'s mut [T] {
        let bytes = region_bytes::<T>(n);
        let rest = core::mem::take(&mut self.rest);
        let (region, rest) = rest.split_at_mut(bytes);
        self.rest = rest;
        debug_assert_eq!(region.as_ptr() as usize % core::mem::align_of::<T>(), 0);
        // SAFETY: `region` is an exclusive borrow of `bytes >= n * size_of::<T>()` bytes for
        // `'s`; it starts on a 64-byte boundary (arena start checked in `new`, every region a
        // multiple of 64), which satisfies `T`'s alignment (Pod: align <= 64); `T: Pod` makes
        // any byte content a valid value.
        unsafe { core::slice::from_raw_parts_mut(region.as_mut_ptr().cast::<T>(), n) }
    }
}

/// An owned, 64-byte-aligned arena for hosts.
#[cfg(feature = "alloc")]
pub struct OwnedArena {
    blocks: alloc::vec::Vec<AlignedBlock>,
}

#[cfg(feature = "alloc")]
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct AlignedBlock([u8; ARENA_ALIGN]);

#[cfg(feature = "alloc")]
impl OwnedArena {
    /// A zeroed arena of at least `bytes` bytes.
    pub fn new(bytes: usize) -> Self {
        OwnedArena {
            blocks: alloc::vec![AlignedBlock([0; ARENA_ALIGN]); bytes.div_ceil(ARENA_ALIGN)],
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        let len = self.blocks.len() * ARENA_ALIGN;
        // SAFETY: the blocks are `len` contiguous initialised bytes (repr(C) arrays of u8
        // with no padding), exclusively borrowed through `&mut self`.
        unsafe { core::slice::from_raw_parts_mut(self.blocks.as_mut_ptr().cast::<u8>(), len) }
    }
}
