#!/bin/sh
# Seeds the gguf fuzz target's corpus with the reference models. The corpus is local
# (ignored by git); the reference files stay where they are.
#
#   fuzz/seed.sh && cargo +nightly fuzz run gguf -- -dict=fuzz/gguf.dict
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ref=${MOTE_REFERENCE_DIR:-$here/../../shared/reference}
if ! ls "$ref"/*.gguf >/dev/null 2>&1; then
    echo "no reference .gguf files in $ref (set MOTE_REFERENCE_DIR)" >&2
    exit 1
fi
mkdir -p "$here/corpus/gguf"
cp "$ref"/*.gguf "$here/corpus/gguf/"
echo "seeded $here/corpus/gguf with $(ls "$ref"/*.gguf | wc -l) files"
