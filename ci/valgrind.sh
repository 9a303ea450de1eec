#!/usr/bin/env bash
# valgrind memcheck over the Node test suite (docs/TESTING.md, "Miri,
# ThreadSanitizer and valgrind").
#
#   bash ci/valgrind.sh                      # every __test__/*.test.{js,mjs}
#   bash ci/valgrind.sh __test__/store.test.js __test__/weakmap.test.js
#
# Builds the addon in release mode *with debug info* into
# target/valgrind/out (never touching the repo-root .node file) and loads it
# through NAPI_RS_NATIVE_LIBRARY_PATH, which native.js honours. Each test file
# runs standalone (`node --expose-gc FILE`, no `--test` runner process), with
# --trace-children=yes so the children process.test.js / fuzz.test.js spawn
# are checked too. One log per process lands in target/valgrind/logs/.
#
# Verdict (exit status): 1 if any process shows an invalid read / write /
# free, or any error or definite leak with a frame in the addon (weakstore*,
# napi-rs, Rust std); 2 if only test assertions failed (under valgrind those
# are usually child-process timeouts); 0 otherwise. Errors entirely inside
# node/V8 are counted and listed but not judged.
#
# Env: VALGRIND_SKIP_BUILD=1 reuses target/valgrind/out; VALGRIND_EXTRA adds
# flags (e.g. "--track-origins=yes").
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind not found: installing" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq valgrind
  else sudo apt-get update -qq && sudo apt-get install -y -qq valgrind; fi
fi
command -v python3 >/dev/null || { echo "python3 is needed for the log summary" >&2; exit 1; }
[ -d node_modules/@napi-rs/cli ] || npm ci

OUT=target/valgrind
ADDON="$PWD/$OUT/out/weakstore.linux-x64-gnu.node"
if [ "${VALGRIND_SKIP_BUILD:-0}" != 1 ] || [ ! -f "$ADDON" ]; then
  mkdir -p "$OUT/out"
  # Release code (what ships) plus DWARF, so stacks name the Rust frames.
  # Without mimalloc (the default feature): memcheck tracks malloc/free
  # only, and would see nothing inside mimalloc's pages. With the test-only
  # hooks the tests use (the feature test-hooks, as `npm test` builds).
  CARGO_PROFILE_RELEASE_DEBUG=true npx napi build --platform --release \
    --target-dir "$OUT" --output-dir "$OUT/out" --js native.js --dts native.d.ts \
    --no-default-features --features test-hooks
fi
# native.js / native.d.ts are generated (gitignored); a fresh checkout has none.
[ -f native.js ] || cp "$OUT/out/native.js" native.js
[ -f native.d.ts ] || cp "$OUT/out/native.d.ts" native.d.ts
export NAPI_RS_NATIVE_LIBRARY_PATH="$ADDON"

if [ "$#" -gt 0 ]; then files=("$@"); else
  files=(); for f in __test__/*.test.js __test__/*.test.mjs; do [ -e "$f" ] && files+=("$f"); done
fi

LOGS="$OUT/logs"
rm -rf "$LOGS"; mkdir -p "$LOGS"
status_file="$LOGS/status.tsv"
: >"$status_file"
for f in "${files[@]}"; do
  name=$(basename "$f"); name=${name%.*}; name=${name%.test}
  echo "=== valgrind: $f" >&2
  start=$(date +%s)
  set +e
  valgrind --tool=memcheck --trace-children=yes \
    --trace-children-skip='*/sh,*/bash,*/ldd,*/git,*/cargo,*/rustc' \
    --suppressions=ci/valgrind-node.supp \
    --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --num-callers=50 ${VALGRIND_EXTRA:-} \
    --log-file="$LOGS/$name.%p.log" \
    node --expose-gc "$f" >"$LOGS/$name.stdout" 2>"$LOGS/$name.stderr"
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  tests=$(grep -E '^# (pass|fail) ' "$LOGS/$name.stdout" | tr '\n' ' ' || true)
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$secs" "$tests" >>"$status_file"
  echo "    exit $rc in ${secs}s: $tests" >&2
done

python3 - "$LOGS" <<'EOF'
import glob, os, re, sys
logs = sys.argv[1]
# A frame belongs to the addon if it is Rust code (all Rust in the process is
# the addon's: node itself is C++) or sits in the weakstore .node object.
addon = re.compile(r'weakstore|napi::|napi_derive|/rustc/|\.cargo/registry|__rust_|rust_begin_unwind|rust_panic')
kinds = re.compile(r'^(Invalid (read|write|free)|Mismatched free|Conditional jump|Use of uninitialised|'
                   r'Syscall param|Source and destination overlap|Argument .* of function|'
                   r'[\d,]+ (\(.*\) )?bytes in [\d,]+ blocks are definitely lost)')
totals = {'invalid': 0, 'addon': 0, 'other': 0, 'definite_addon': 0, 'definite_other': 0}
report = []
for path in sorted(glob.glob(os.path.join(logs, '*.log'))):
    text = open(path, errors='replace').read()
    cmd = re.search(r'==\d+== Command: (.*)', text)
    cmd = cmd.group(1) if cmd else '?'
    body = [re.sub(r'^==\d+== ?', '', l) for l in text.splitlines() if re.match(r'^==\d+==', l)]
    records, cur = [], None
    for line in body:
        if kinds.match(line):
            cur = [line]; records.append(cur)
        elif line.strip() == '':
            cur = None
        elif cur is not None:
            cur.append(line)
    summary = re.search(r'ERROR SUMMARY: (\d+) errors from (\d+) contexts \(suppressed: (\d+)', text)
    for rec in records:
        ours = any(addon.search(l) for l in rec)
        head = rec[0]
        if 'definitely lost' in head:
            totals['definite_addon' if ours else 'definite_other'] += 1
        else:
            totals['addon' if ours else 'other'] += 1
        if head.startswith(('Invalid', 'Mismatched')):
            totals['invalid'] += 1
        if ours or head.startswith(('Invalid', 'Mismatched')):
            report.append(f'--- {os.path.basename(path)} ({cmd[:100]})\n' + '\n'.join(rec[:25]))
    lost = re.search(r'definitely lost: ([\d,]+) bytes in ([\d,]+) blocks', text)
    print(f'{os.path.basename(path):32} errors={summary.group(1) if summary else "?":>5} '
          f'contexts={summary.group(2) if summary else "?":>3} suppressed={summary.group(3) if summary else "?":>5} '
          f'definitely-lost={lost.group(1) + "B/" + lost.group(2) if lost else "n/a (no exit summary)"}  {cmd[:70]}')
print()
for r in report:
    print(r); print()
print(f"invalid reads/writes/frees: {totals['invalid']}")
print(f"error contexts with addon frames: {totals['addon']} (node/V8-only contexts: {totals['other']})")
print(f"definite-leak contexts with addon frames: {totals['definite_addon']} (node/V8-only: {totals['definite_other']})")
open(os.path.join(logs, 'verdict'), 'w').write(
    'fail' if totals['invalid'] or totals['addon'] or totals['definite_addon'] else 'ok')
EOF
echo
echo "per-file (name, exit status, seconds, node:test counts):"
cat "$status_file"
if [ "$(cat "$LOGS/verdict")" != ok ]; then echo "valgrind: FAIL (see above; logs in $LOGS)"; exit 1; fi
if awk -F'\t' '$2 != 0 { bad = 1 } END { exit !bad }' "$status_file"; then
  echo "valgrind: memory clean, but some test files failed under valgrind (see $LOGS/*.stdout)"; exit 2
fi
echo "valgrind: OK"
