#!/usr/bin/env bash
# Miri over weakstore-core's unit and integration tests (docs/TESTING.md,
# "Miri, ThreadSanitizer and valgrind"). Detects UB, data races on non-atomic
# memory, leaks and deadlocks under Miri's own thread scheduler.
#
#   bash ci/miri.sh                  # lib, store, ephemeron, shapes, pins, owners, model, stress
#   bash ci/miri.sh --test store     # anything after the script name goes to `cargo miri test`
#
# Env (all optional):
#   PROPTEST_CASES         model-test sequences under Miri (default 4)
#   WEAKSTORE_STRESS_OPS   per-thread ops in tests/stress.rs (default 300)
#   MIRI_SEEDS             e.g. "0..4": re-run each test binary under that many
#                          scheduler seeds (-Zmiri-many-seeds); off by default
#   MIRIFLAGS              replaces the default flags below
#
# Default MIRIFLAGS:
#   -Zmiri-disable-isolation     forwards the environment (PROPTEST_CASES,
#                                WEAKSTORE_STRESS_OPS above) to the tests.
#   -Zmiri-permissive-provenance parking_lot_core's word lock casts integers to
#                                pointers; without this every test prints a
#                                warning (it is not UB under permissive provenance).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! rustup +nightly component list --installed | grep -q '^miri'; then
  rustup component add --toolchain nightly miri rust-src
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/miri}
export PROPTEST_CASES=${PROPTEST_CASES:-4}
export WEAKSTORE_STRESS_OPS=${WEAKSTORE_STRESS_OPS:-300}
flags=${MIRIFLAGS:--Zmiri-disable-isolation -Zmiri-permissive-provenance}
if [ -n "${MIRI_SEEDS:-}" ]; then flags="$flags -Zmiri-many-seeds=$MIRI_SEEDS"; fi
export MIRIFLAGS="$flags"
cargo +nightly miri setup

run() {
  local start=$SECONDS
  echo "=== cargo +nightly miri test -p weakstore-core $*  (MIRIFLAGS=$MIRIFLAGS)" >&2
  cargo +nightly miri test -p weakstore-core "$@"
  echo "=== done in $((SECONDS - start))s: $*" >&2
}

if [ "$#" -gt 0 ]; then run "$@"; exit; fi
run --lib
# 20,000 finalization registrations: >10 min under Miri, and its counts are
# hard-coded, so it is skipped here rather than shrunk (native and TSan runs
# cover it).
run --test store -- --skip many_registrations_on_one_target_unregister_and_fire_exactly
run --test ephemeron
run --test shapes
run --test pins
run --test owners
run --test model
run --test stress
