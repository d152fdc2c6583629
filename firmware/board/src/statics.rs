//! The statics every board's `main` declares: the model built into flash and the arena.

/// Declares `MODEL: &'static [u8]`, the GGUF file at `model` (a path for
/// `include_bytes!`) in flash, 32-byte aligned, and `ARENA`, a `static mut` of
/// `arena_bytes` zeroed bytes (`ARENA.0`), 64-byte aligned, in .bss. Without `model:` it
/// declares only `ARENA` (for a board whose model is a separate image).
///
/// ```text
/// mote_board::board_statics!(model: env!("MOTE_MODEL_FILE"), arena_bytes: ARENA_BYTES);
/// ```
#[macro_export]
macro_rules! board_statics {
    (model: $model:expr, arena_bytes: $bytes:expr $(,)?) => {
        /// The model, aligned like a GGUF's own data alignment so that tensors are where
        /// the file says.
        static MODEL: &[u8] = {
            #[repr(C, align(32))]
            struct Aligned<T>(T);
            &Aligned(*include_bytes!($model)).0
        };
        $crate::board_statics!(arena_bytes: $bytes);
    };
    (arena_bytes: $bytes:expr $(,)?) => {
        /// The console's memory, zeroed with the rest of .bss at reset.
        #[repr(C, align(64))]
        struct Arena([u8; $bytes]);
        static mut ARENA: Arena = Arena([0; $bytes]);
    };
}
