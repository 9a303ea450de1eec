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
// Handles are registered for death reports at the end of the job that
// made them, so each measurement waits a turn first.
const turn = () => new Promise((resolve) => setImmediate(resolve))
async function main() {
  const base = heap()
  for (let i = 0; i < N; i++) keep[i] = store.alloc()
  await turn()
  const handles = heap()
  const refs = new Array(N)
  const base2 = heap()
  for (let i = 0; i < N; i++) refs[i] = new ws.WeakRef(keep[i])
  await turn()
  const weakrefs = heap()
  console.log(`live handle: ${((handles - base) / N).toFixed(1)} B of V8 heap each (Handle, cache entry, wrapper-death registration, cache map slot)`)
  console.log(`weakstore WeakRef to it: ${((weakrefs - base2) / N).toFixed(1)} B each`)
  if (keep.length + refs.length !== 2 * N) throw new Error('unreachable')
}
main()
