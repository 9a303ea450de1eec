'use strict'
// Pause versus heap size: the longest gap between event-loop turns while a
// full weakstore cycle runs over N live objects *and the program keeps
// allocating and mutating*, beside V8's full gc() pause with N plain live
// objects, and beside the same loop with no cycle (the machine's baseline).
//
//   npm run bench:pauses                  (sizes 100k, 1M, 3M, 10M)
//   BENCH_PAUSE_SIZES=100000,1000000 npm run bench:pauses
//   BENCH_PAUSE_RUNS=3                    cycles timed per size
//
// Writes bench/pauses.json and docs/pauses.svg (bench/chart.js draws it).
// Needs --expose-gc (re-runs itself with it) and a large V8 heap for the
// 10M plain objects (--max-old-space-size=8192).

const { spawnSync } = require('node:child_process')
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', __filename, ...process.argv.slice(2)],
    { stdio: 'inherit' })
  process.exit(r.status === null ? 1 : r.status)
}

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { performance } = require('node:perf_hooks')
const ws = require('..')
const { drawPauses } = require('./chart')

const SIZES = (process.env.BENCH_PAUSE_SIZES || '100000,1000000,3000000,10000000').split(',').map(Number)
const RUNS = Number(process.env.BENCH_PAUSE_RUNS || 3)
const CHAIN = 1000 // objects per chain
const PER_TURN = 64 // the mutator's allocations (and as many field writes) per turn

const gc = globalThis.gc
const now = () => performance.now()
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
const log = (...a) => console.error('pauses:', ...a)

/**
 * Full GCs, then a pause for V8's own background work (concurrent sweeping
 * of a large heap runs on its worker threads after gc() returns, and would
 * compete with both the program and the collector for the 2 cores).
 */
async function settle() {
  for (let i = 0; i < 3; i++) {
    await nextTurn()
    gc()
  }
  await sleep(250)
}

/**
 * Runs the event loop until `done` resolves, one mutator step per turn (if
 * `mutate`), and returns the longest gap between turns.
 */
async function loopGaps(done, mutate) {
  let finished = false
  done.then(() => { finished = true })
  let last = now()
  let max = 0
  let turns = 0
  while (!finished) {
    if (mutate) mutate()
    await nextTurn()
    const t = now()
    if (t - last > max) max = t - last
    last = t
    turns++
  }
  return { maxGapMs: max, turns }
}

/** A store of `n` live objects in chains of CHAIN, held by one handle per chain. */
function buildStore(n) {
  const store = new ws.Store({ manual: true })
  const roots = []
  for (let c = 0; c * CHAIN < n; c++) {
    const root = store.alloc({ chain: c, n: 0 })
    let prev = root
    for (let j = 1; j < CHAIN && c * CHAIN + j < n; j++) {
      const o = store.alloc({ chain: c, n: j })
      prev.set('next', o)
      if (prev !== root) prev.release()
      prev = o
    }
    if (prev !== root) prev.release()
    roots.push(root)
  }
  return { store, roots }
}

/** The program's work during a cycle: new objects hung off random chains, field writes. */
function mutator(store, roots) {
  let k = 0
  return () => {
    for (let i = 0; i < PER_TURN; i++) {
      const root = roots[(k * 7919 + i) % roots.length]
      const o = store.alloc({ k })
      root.set('extra', o) // replaces the previous extra: garbage for the next cycle
      root.set('n', k)
      o.release()
    }
    k++
  }
}

async function measureStore(n) {
  log(`${n.toLocaleString('en')}: building the store`)
  const { store, roots } = buildStore(n)
  await settle()
  await store.collect() // untimed first cycle
  const mutate = mutator(store, roots)
  const savedGc = globalThis.gc
  const runs = []
  for (let r = 0; r < RUNS; r++) {
    await settle()
    // Keep V8's gc() out of collect(): we want the collector's own effect.
    globalThis.gc = undefined
    let cycle, figures
    try {
      const t0 = now()
      const p = store.collect()
      cycle = await loopGaps(p, mutate)
      figures = await p
      cycle.durationMs = now() - t0
    } finally {
      globalThis.gc = savedGc
    }
    await settle()
    const busy = await loopGaps(sleep(cycle.durationMs), mutate) // same work, no cycle
    await settle()
    const idle = await loopGaps(sleep(cycle.durationMs), null) // nothing at all
    runs.push({ cycle, busy, idle, figures })
    log(`${n.toLocaleString('en')}: cycle ${cycle.durationMs.toFixed(0)} ms, max gap ${cycle.maxGapMs.toFixed(3)} ms ` +
      `(same loop without a cycle ${busy.maxGapMs.toFixed(3)}, idle ${idle.maxGapMs.toFixed(3)})`)
  }
  const live = store.stats().objects
  for (const h of roots) h.release()
  return {
    objects: live,
    cycleMs: median(runs.map((r) => r.cycle.durationMs)),
    maxGapMs: median(runs.map((r) => r.cycle.maxGapMs)),
    busyGapMs: median(runs.map((r) => r.busy.maxGapMs)),
    idleGapMs: median(runs.map((r) => r.idle.maxGapMs)),
    maxPauseMs: median(runs.map((r) => r.figures.maxPauseMs)),
    runs,
  }
}

async function measureV8(n) {
  log(`${n.toLocaleString('en')}: V8 gc() with as many plain objects`)
  await settle()
  let chains = []
  for (let c = 0; c * CHAIN < n; c++) {
    let next = null
    for (let j = Math.min(CHAIN, n - c * CHAIN) - 1; j >= 0; j--) next = { chain: c, n: j, next }
    chains.push(next)
  }
  gc()
  const ms = []
  for (let r = 0; r < Math.max(RUNS, 3); r++) {
    await nextTurn()
    const t0 = now()
    gc()
    ms.push(now() - t0)
  }
  if (chains[0].n !== 0) throw new Error('unreachable')
  chains = null
  return { gcMs: median(ms), runs: ms }
}

async function main() {
  const results = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, perTurn: PER_TURN, sizes: [] }
  for (const n of SIZES) {
    const weakstore = await measureStore(n)
    await settle()
    const v8 = await measureV8(n)
    results.sizes.push({ n, weakstore, v8 })
    await settle()
  }
  const out = path.join(__dirname, 'pauses.json')
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n')
  const svg = path.join(__dirname, '..', 'docs', 'pauses.svg')
  fs.writeFileSync(svg, drawPauses(results))
  console.log('objects      cycle ms   max gap ms (cycle + mutator)   same loop, no cycle   idle loop   V8 gc() pause ms')
  for (const s of results.sizes) {
    const w = s.weakstore
    console.log(`${String(s.n).padStart(10)}  ${w.cycleMs.toFixed(0).padStart(9)}   ${w.maxGapMs.toFixed(3).padStart(12)}` +
      `                   ${w.busyGapMs.toFixed(3).padStart(8)}       ${w.idleGapMs.toFixed(3).padStart(7)}   ${s.v8.gcMs.toFixed(1).padStart(10)}`)
  }
  console.log(`wrote ${path.relative(process.cwd(), out)} and ${path.relative(process.cwd(), svg)}`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
