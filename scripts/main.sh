#!/usr/bin/env bash
# The main job: build mote in release and run every reference model greedily through
# mote-runtime, then the recipe so far (pretraining and SFT on the synthetic world, judged
# by the gold scorer). Reward modelling and PPO join as `mote pipeline` lands.
set -euo pipefail
cd "$(dirname "$0")/.."
REF=${MOTE_REFERENCE_DIR:-../shared/reference}
cargo build --release -p mote-toolchain
for m in "$REF"/*.gguf; do
    echo "== $(basename "$m")"
    target/release/mote run "$m" --prompt "<|im_start|>user
What is the capital of France?<|im_end|>
<|im_start|>assistant
" --temperature 0 -n 96 --json
done

# The recipe so far on the synthetic world: pretrain, SFT, and both judged by the gold scorer.
bash scripts/base_vs_sft.sh target/base-vs-sft
