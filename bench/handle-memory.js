'use strict'
// What a live JavaScript handle costs on V8's heap (the store's own bytes
// are off-heap: see crates/weakstore-bench/examples/memory.rs).
//
//   node --expose-gc bench/handle-memory.js
const ws = require('..')
const N = 1_000_000
const gc = globalThis.gc
if (typeof gc !== 'function') throw new Error('run with --expose-gc')
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed }
const store = new ws.Store({ manual: true })
const keep = new Array(N) // the array itself is not counted
const base = heap()
for (let i = 0; i < N; i++) keep[i] = store.alloc()
const handles = heap()
const refs = new Array(N)
const base2 = heap()
for (let i = 0; i < N; i++) refs[i] = new ws.WeakRef(keep[i])
const weakrefs = heap()
console.log(`live handle: ${((handles - base) / N).toFixed(1)} B of V8 heap each (Handle, cache entry, wrapper-death registration, cache map slot)`)
console.log(`weakstore WeakRef to it: ${((weakrefs - base2) / N).toFixed(1)} B each`)
if (keep.length + refs.length !== 2 * N) throw new Error('unreachable')
