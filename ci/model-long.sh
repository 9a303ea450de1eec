#!/usr/bin/env bash
# Long mode of the model-based property test: CHUNKS x CASES random
# operation sequences, each chunk with a fresh printed seed.
# Defaults: 10 x 100,000 = 1,000,000 sequences.
set -euo pipefail
cd "$(dirname "$0")/.."
CHUNKS=${CHUNKS:-10}
CASES=${CASES:-100000}
cargo build --release -p weakstore-core --tests >/dev/null 2>&1 || cargo test --release -p weakstore-core --no-run
for i in $(seq 1 "$CHUNKS"); do
  start=$(date +%s)
  PROPTEST_CASES=$CASES WEAKSTORE_RANDOM_SEED=1 cargo test -q --release -p weakstore-core --test model -- --nocapture 2>&1 \
    | grep -E "model test:|test result|minimal failing|panicked" || true
  echo "chunk $i/$CHUNKS done in $(( $(date +%s) - start )) s"
done
