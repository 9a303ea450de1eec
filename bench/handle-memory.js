'use strict'
// What a live JavaScript handle costs: on V8's heap, and in all (RSS,
// which also counts the object it names, ~33.5 B in the store — see
// crates/weakstore-bench/examples/memory.rs — and the binding's Node-API
// reference for it, allocated by Node outside V8's heap).
//
//   node --expose-gc bench/handle-memory.js
const ws = require('..')
const N = 1_000_000
const gc = globalThis.gc
if (typeof gc !== 'function') throw new Error('run with --expose-gc')
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed }
const rss = () => process.memoryUsage().rss
const store = new ws.Store({ manual: true })
const keep = new Array(N) // the array itself is not counted
// Each measurement waits a turn (KeepDuringJob ends with the job).
const turn = () => new Promise((resolve) => setImmediate(resolve))
async function main() {
  const base = heap()
  const baseRss = rss()
  for (let i = 0; i < N; i++) keep[i] = store.alloc()
  await turn()
  const handles = heap()
  const handlesRss = rss()
  const refs = new Array(N)
  const base2 = heap()
  for (let i = 0; i < N; i++) refs[i] = new ws.WeakRef(keep[i])
  await turn()
  const weakrefs = heap()
  console.log(`live handle: ${((handles - base) / N).toFixed(1)} B of V8 heap each (the Handle object)`)
  console.log(`live handle and its object: ${((handlesRss - baseRss) / N).toFixed(1)} B of RSS each (V8 heap, store slot, Node-API reference, wrapper table)`)
  console.log(`weakstore WeakRef to it: ${((weakrefs - base2) / N).toFixed(1)} B each`)
  if (keep.length + refs.length !== 2 * N) throw new Error('unreachable')
}
main()
