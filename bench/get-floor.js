'use strict'
// The floor of "reads without a native call" for Handle.prototype.get: the
// same get() with its one native call (getAt) replaced by a read from a
// Float64Array, beside Map.get and the real get(). What is left is the
// handle's own JavaScript: the brand and liveness checks, the key-id
// lookup, the result's kind. (docs/BENCHMARKS.md, "Issue 22, continued".)
//
//   node bench/get-floor.js        (prints medians of 5 runs of 10^7 calls)

const { Store } = require('..')
const native = require('../native.js')

const N = 1e7
const RUNS = 5

function median(f, calls) {
  for (let r = 0; r < 3; r++) f()
  const xs = []
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now()
    f()
    xs.push(((performance.now() - t0) * 1e6) / calls)
  }
  return xs.sort((x, y) => x - y)[RUNS >> 1]
}

function check(ok, what) {
  if (!ok) throw new Error(`bench/get-floor: ${what}`)
}

const store = new Store({ manual: true })
const a = store.alloc({ n: 1 })
const m = new Map([['n', 1]])
// Value memory as a typed-array view would see it: 16-byte values, a tag
// byte (0: a number) ahead of each 8-byte payload.
const f64 = new Float64Array(1 << 12)
const u8 = new Uint8Array(f64.buffer)
for (let i = 0; i < f64.length; i += 2) f64[i + 1] = 1
const slots = new Map([['n', 1]])

const rows = []
const row = (label, ns) => rows.push([label, ns])

row('Map.get', median(() => {
  let s = 0
  for (let i = 0; i < N; i++) s += m.get('n')
  check(s === N, 'Map.get')
}, N))
row('Handle.prototype.get (one native call)', median(() => {
  let s = 0
  for (let i = 0; i < N / 10; i++) s += a.get('n')
  check(s === N / 10, 'get')
}, N / 10))
const getAt = native.getAt
try {
  native.getAt = (index, id, k) => (u8[k * 16] === 0 ? f64[k * 2 + 1] : undefined)
  row('Handle.prototype.get, getAt replaced by a typed-array read', median(() => {
    let s = 0
    for (let i = 0; i < N; i++) s += a.get('n')
    check(s === N, 'get over a typed array')
  }, N))
} finally {
  native.getAt = getAt
}
row('key lookup + typed-array read, no handle', median(() => {
  let s = 0
  for (let i = 0; i < N; i++) {
    const k = slots.get('n')
    if (u8[k * 16] === 0) s += f64[k * 2 + 1]
  }
  check(s === N, 'typed array')
}, N))

console.log(`node ${process.version}`)
for (const [label, ns] of rows) console.log(`${label.padEnd(60)} ${ns.toFixed(2)} ns`)
store.close()
