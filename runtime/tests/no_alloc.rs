//! Generating a token performs no heap allocation: a counting global allocator watches
//! `Session::eval` and sampling on this thread.

use mote_runtime::{Gguf, Model, OwnedArena, Sampler, SamplerConfig, Session, SessionConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHING.with(|w| w.get()) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if WATCHING.with(|w| w.get()) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn watched<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCS.load(Ordering::Relaxed);
    WATCHING.with(|w| w.set(true));
    let out = f();
    WATCHING.with(|w| w.set(false));
    (out, ALLOCS.load(Ordering::Relaxed) - before)
}

#[test]
fn generating_tokens_does_not_allocate() {
    let dir = std::env::var("MOTE_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference")
        });
    for file in [
        "ref-tiny-q4_0.gguf",
        "ref-small-tied-q4_0.gguf",
        "ref-tiny-f16.gguf",
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let g = Gguf::parse(&bytes).unwrap();
        let model = Model::load(&g).unwrap();
        let sc = SessionConfig::new(64).with_kv_type(mote_runtime::KvType::F16);
        let mut arena = OwnedArena::new(model.arena_bytes_for(&sc).unwrap());
        let mut s = Session::new(&model, arena.as_mut_slice(), sc).unwrap();
        let cfg = SamplerConfig {
            temperature: 0.9,
            top_k: 40,
            top_p: 0.9,
            repeat_penalty: 1.1,
            ..Default::default()
        };
        let mut sampler = Sampler::new(cfg).unwrap();

        // Sanity: the counter does see allocations on this thread.
        let (_, n) = watched(|| Box::new(7u64));
        assert_eq!(n, 1);

        let ((), n) = watched(|| {
            let mut tok = 1;
            for _ in 0..32 {
                s.eval(tok).unwrap();
                tok = s.sample(&mut sampler).unwrap();
            }
            s.discard(4, 8).unwrap();
        });
        assert_eq!(n, 0, "{file}: {n} heap allocations while generating");
    }
}
