#!/usr/bin/env bash
# Rust formatting and lints for the whole workspace (rustfmt.toml; the
# crates' [lints] tables). Also checks the loom build, whose cfg compiles
# other code paths. Fails on any diff or warning.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# With the test-only hooks too (the test build and the core's fault tests).
cargo clippy --workspace --all-targets --features weakstore/test-hooks -- -D warnings
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo clippy -p weakstore-core --tests -- -D warnings
