#!/usr/bin/env bash
# The synthetic world at default scale: pretrain a base model (tiny1m) on its corpus, fine-tune
# it on the demonstrations, then judge both on the held-out eval prompts with the gold scorer.
# Prints each stage's wall time and the two `mote eval --world` tables.
#   bash scripts/base_vs_sft.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/base-vs-sft}
cargo build --release -p mote-toolchain
M=$PWD/target/release/mote
rm -rf "$out" && mkdir -p "$out"
t0=$(date +%s)
$M data synth --out "$out/world" --seed 0 --scale default
$M tokenizer train -i "$out/world/corpus.txt" "$out/world/sft.jsonl" --vocab 2048 -o "$out/tok"
$M init --config models/configs/tiny1m.toml --tokenizer "$out/tok" -o "$out/init" --seed 1
t1=$(date +%s)
$M pretrain --model "$out/init" --data "$out/world/corpus.txt" -o "$out/base" --steps 400 \
    --batch-size 16 --seq-len 256 --lr 2e-3 --min-lr 2e-4 --warmup-steps 30 \
    --eval-every 100 --save-every 100 --quiet
t2=$(date +%s)
$M sft --model "$out/base" --data "$out/world/sft.jsonl" -o "$out/sft" --steps 300 \
    --batch-size 32 --max-len 128 --lr 1e-3 --min-lr 1e-4 --warmup-steps 20 \
    --eval-every 100 --save-every 100 --quiet
t3=$(date +%s)
echo "data+tokenizer+init $((t1 - t0)) s, pretrain $((t2 - t1)) s, sft $((t3 - t2)) s, total $((t3 - t0)) s"
for m in base sft; do
    $M eval "$out/$m" --world "$out/world" --samples 8 --temperature 0.7 --out "$out/eval-$m.json"
done
