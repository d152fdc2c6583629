//! `board_statics!` declares what a board's `main` expects: the model's bytes unchanged and
//! 32-byte aligned, and a zeroed, 64-byte aligned arena of the size asked for.

const ARENA_BYTES: usize = 1000;

mote_board::board_statics!(model: concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"), arena_bytes: ARENA_BYTES);

mod arena_only {
    mote_board::board_statics!(arena_bytes: 96);

    pub fn len_and_align() -> (usize, usize) {
        // SAFETY: only this test names this ARENA, and it only reads it.
        let arena = unsafe { &(*core::ptr::addr_of!(ARENA)).0 };
        (arena.len(), arena.as_ptr() as usize % 64)
    }
}

#[test]
fn model_and_arena() {
    let file = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    assert_eq!(MODEL, &file[..]);
    assert_eq!(MODEL.as_ptr() as usize % 32, 0);
    // SAFETY: only this test names ARENA, and it only reads it.
    let arena = unsafe { &(*core::ptr::addr_of!(ARENA)).0 };
    assert_eq!(arena.len(), ARENA_BYTES);
    assert_eq!(arena.as_ptr() as usize % 64, 0);
    assert!(arena.iter().all(|&b| b == 0));
    assert_eq!(arena_only::len_and_align(), (96, 0));
}
