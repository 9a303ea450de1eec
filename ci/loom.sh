#!/usr/bin/env bash
# Loom models of the collector's concurrent hand-offs (crates/weakstore-core/tests/loom.rs).
# LOOM_MAX_PREEMPTIONS raises the search bound (default 2 in the models).
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
  cargo test --release -p weakstore-core --test loom --test loom_faults -- --test-threads=1 --nocapture "$@"
