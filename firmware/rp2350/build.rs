//! memory.x for cortex-m-rt, the model file for `include_bytes!`, build-time settings.

#[path = "../board/build_support.rs"]
mod support;

fn main() {
    // cortex-m-rt's link.x includes memory.x from the search path set here.
    support::link_script("link.x");
    support::model_path();
    support::write_config(&support::Defaults {
        board: "rp2350",
        ctx_len: 256,
        kv: "f16",
        arena_bytes: 256 << 10,
        max_reply: 128,
    });
}
