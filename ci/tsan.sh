#!/usr/bin/env bash
# ThreadSanitizer over weakstore-core's multi-threaded tests (docs/TESTING.md,
# "Miri, ThreadSanitizer and valgrind"). std is rebuilt with -Zsanitizer=thread
# (-Zbuild-std) so its atomics and locks are instrumented too; without that
# TSan reports false races inside std.
#
#   bash ci/tsan.sh                # stress (TSAN_REPEAT times), store, ephemeron, pins, owners, shapes, faults, memory_cap
#   TSAN_REPEAT=10 WEAKSTORE_STRESS_OPS=200000 bash ci/tsan.sh
#
# Exits non-zero on the first TSan report (halt_on_error=1, exit code 66)
# or on a failing test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! rustup +nightly component list --installed | grep -q '^rust-src'; then
  rustup component add --toolchain nightly rust-src
fi

target=${TSAN_TARGET:-x86_64-unknown-linux-gnu}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/tsan}
export RUSTFLAGS="-Zsanitizer=thread ${RUSTFLAGS:-}"
export RUSTDOCFLAGS="-Zsanitizer=thread"
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1 history_size=4}
cargo_tsan() { cargo +nightly test -Zbuild-std --target "$target" -p weakstore-core "$@"; }

cargo_tsan --test stress --test store --test ephemeron --test pins --test owners --no-run
for i in $(seq 1 "${TSAN_REPEAT:-3}"); do
  start=$SECONDS
  cargo_tsan --test stress
  echo "=== tsan stress run $i ok in $((SECONDS - start))s (WEAKSTORE_STRESS_OPS=${WEAKSTORE_STRESS_OPS:-100000 default})" >&2
done
start=$SECONDS
cargo_tsan --test store --test ephemeron --test pins --test owners --test shapes
echo "=== tsan store + ephemeron + shapes ok in $((SECONDS - start))s" >&2
# Cycles on whatever helpers could start, retried attempts, the byte cap.
start=$SECONDS
cargo_tsan --features fault-injection --test faults --test memory_cap
echo "=== tsan faults + memory_cap ok in $((SECONDS - start))s" >&2
