#!/usr/bin/env bash
# Rust formatting and lints for the whole workspace (rustfmt.toml; the
# crates' [lints] tables). Also checks the binding with its test-only
# feature and the loom build, whose feature and cfg compile other code
# paths. Fails on any diff or warning.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# With the test-only hooks too (the test build and the core's fault tests).
cargo clippy --workspace --all-targets --features weakstore/test-hooks -- -D warnings
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo clippy -p weakstore-core --tests -- -D warnings
