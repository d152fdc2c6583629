//! Link script and build-time settings; the model is not built in (QEMU loads it).

#[path = "../board/build_support.rs"]
mod support;

fn main() {
    support::link_script("link.x");
    support::write_config(&support::Defaults {
        board: "qemu-virt",
        ctx_len: 256,
        kv: "f32",
        arena_bytes: 8 << 20,
        max_reply: 128,
    });
}
