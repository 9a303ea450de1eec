'use strict'
// Where the time of benchmark rows 4a and 4b goes: 1,000,000 handles, each
// registered in a FinalizationRegistry, then released (4a) or dropped (4b),
// then `collect()`, timed phase by phase. It wraps the internal native
// calls with timers, so run it on its own, not as a benchmark.
//
//   node --expose-gc bench/collection-phases.js [runs]
const native = require('../native.js')
const ws = require('..')
const { stateOf } = require('../lib/store')

const timed = {}
for (const name of ['beginDelivery', 'finishDelivery', 'drainHandleDeaths']) {
  const f = native[name]
  timed[name] = 0
  native[name] = (...args) => {
    const t = performance.now()
    try {
      return f(...args)
    } finally {
      timed[name] += performance.now() - t
    }
  }
}

const N = 1_000_000
const RUNS = Number(process.argv[2] || 3)
const now = () => performance.now()
const turn = () => new Promise((resolve) => setImmediate(resolve))

async function one(release) {
  const store = new ws.Store({ manual: true })
  const st = stateOf(store)
  let count = 0
  const registry = new ws.FinalizationRegistry(() => {
    count++
  })
  let handles = new Array(N)
  for (let i = 0; i < N; i++) handles[i] = store.alloc({ i })
  for (let i = 0; i < N; i++) registry.register(handles[i], i)
  await turn()
  globalThis.gc()
  await turn()
  if (release) for (let i = 0; i < N; i++) handles[i].release()
  handles = null
  await turn()
  for (const k in timed) timed[k] = 0
  // What collect() does, step by step (lib/state.js, collectWrappers).
  let t = now()
  const before = native.plantSentinel()
  globalThis.gc()
  const gcMs = now() - t
  t = now()
  while (native.sentinelsSeen() === before) await turn()
  const finalizersMs = now() - t
  t = now()
  st.drainDeaths()
  const drainMs = now() - t
  for (const k in timed) timed[k] = 0
  t = now()
  const figures = await store.collect() // its own gc() finds nothing left
  const collectMs = now() - t
  if (count !== N || registry === null) throw new Error(`${count} callbacks`)
  const callbacksMs = collectMs - figures.totalMs - timed.beginDelivery - timed.finishDelivery
  const f = (x) => x.toFixed(0).padStart(4)
  console.log(
    `${release ? '4a released' : '4b dropped '}  V8 gc ${f(gcMs)}  Node finalizers ${f(finalizersMs)}  ` +
      `drain ${f(drainMs)}  | collect ${f(collectMs)} = cycle ${f(figures.totalMs)} (sweep ${f(figures.sweepMs)}) ` +
      `+ beginDelivery ${f(timed.beginDelivery)} + finishDelivery ${f(timed.finishDelivery)} ` +
      `+ rest (second gc, callbacks) ${f(callbacksMs)}  ms`,
  )
}

async function main() {
  for (let run = 0; run < RUNS; run++) {
    await one(true)
    await one(false)
  }
}
main()
