'use strict'
// What seeing inside the store costs: store.writeHeapSnapshot() and
// store.whyAlive() over N objects, beside v8.writeHeapSnapshot() of N plain
// JavaScript objects of the same shape; time, file size, and the event
// loop's longest gap while each runs (docs/BENCHMARKS.md, "Inspection").
//
//   node --expose-gc --max-old-space-size=16384 bench/inspect.js [N=1000000] [runs=3] [tree|list]
//
// The graph: a binary tree (object i holds its children 2i+1 and 2i+2 in
// fields `left`/`right`, and a `name`), or with `list` a linked list
// (object i holds object i+1 in `next`, and a `name`); only the first and
// the last object have handles, and whyAlive of the last one (not counting
// its own handle) finds the path down the whole depth: 20 steps in the
// tree of a million, a million in the list (returned as one run).
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const v8 = require('node:v8')
const { Store } = require('..')

const N = Number(process.argv[2] ?? 1_000_000)
const RUNS = Number(process.argv[3] ?? 3)
const LIST = process.argv[4] === 'list'
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakstore-inspect-bench-'))

/** Runs `fn` (async) while a timer loop measures the longest gap between its ticks. */
async function withGaps(fn) {
  let last = performance.now()
  let max = 0
  let running = true
  const tick = () => {
    const now = performance.now()
    max = Math.max(max, now - last)
    last = now
    if (running) setImmediate(tick)
  }
  setImmediate(tick)
  const t = performance.now()
  const result = await fn()
  const ms = performance.now() - t
  running = false
  await new Promise(setImmediate)
  return { ms, maxGap: Math.max(max, performance.now() - last), result }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const mb = (bytes) => (bytes / 2 ** 20).toFixed(1)

async function main() {
  console.log(`N = ${N.toLocaleString()}, ${LIST ? 'a list' : 'a binary tree'}, ${RUNS} runs, medians (min–max)`)
  const store = new Store({ manual: true })
  const handles = new Array(N)
  let t = performance.now()
  for (let i = 0; i < N; i++) {
    handles[i] = store.alloc({ name: `node ${i}` })
    if (LIST && i > 0) handles[i - 1].set('next', handles[i])
    else if (i > 0) handles[(i - 1) >> 1].set(i % 2 ? 'left' : 'right', handles[i])
  }
  for (let i = 1; i < N - 1; i++) handles[i].release() // the last keeps its handle: whyAlive asks through it
  const last = handles[N - 1]
  handles.length = 1
  console.log(`built the store graph in ${(performance.now() - t).toFixed(0)} ms; ${store.stats().objects} objects, ${mb(store.stats().bytes)} MB`)
  await store.collect() // settle the handle bookkeeping before measuring

  const rows = { snapshot: [], why: [], v8: [] }
  for (let r = 0; r < RUNS; r++) {
    const file = path.join(dir, `store-${r}.heapsnapshot`)
    const s = await withGaps(() => store.writeHeapSnapshot(file))
    rows.snapshot.push({ ms: s.ms, gap: s.maxGap, size: fs.statSync(file).size })
    fs.rmSync(file)
    const w = await withGaps(() => store.whyAlive(last))
    const steps = w.result.reduce((n, s) => n + (s.count ?? 1), 0)
    rows.why.push({ ms: w.ms, gap: w.maxGap, steps })
  }
  await store.close()

  // The same shape as plain JavaScript objects, and V8's own snapshot of them.
  t = performance.now()
  const objects = new Array(N)
  for (let i = 0; i < N; i++) {
    objects[i] = LIST ? { name: `node ${i}`, next: null } : { name: `node ${i}`, left: null, right: null }
    if (LIST && i > 0) objects[i - 1].next = objects[i]
    else if (i > 0) objects[(i - 1) >> 1][i % 2 ? 'left' : 'right'] = objects[i]
  }
  const tree = objects[0]
  objects.length = 0
  console.log(`built the JS graph in ${(performance.now() - t).toFixed(0)} ms`)
  for (let r = 0; r < RUNS; r++) {
    const file = path.join(dir, `v8-${r}.heapsnapshot`)
    const s = await withGaps(async () => v8.writeHeapSnapshot(file))
    rows.v8.push({ ms: s.ms, gap: s.maxGap, size: fs.statSync(file).size })
    fs.rmSync(file)
  }
  if (tree.name === undefined) console.log('unreachable')

  const show = (label, xs) => {
    const ms = xs.map((x) => x.ms)
    const gaps = xs.map((x) => x.gap)
    const size = xs[0].size === undefined ? '' : `, file ${mb(xs[0].size)} MB`
    console.log(`${label.padEnd(34)} ${median(ms).toFixed(0).padStart(6)} ms (${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)}), ` +
      `longest loop gap ${median(gaps).toFixed(1)} ms (${Math.min(...gaps).toFixed(1)}–${Math.max(...gaps).toFixed(1)})${size}`)
  }
  show('store.writeHeapSnapshot()', rows.snapshot)
  show(`store.whyAlive() (${rows.why[0].steps} steps)`, rows.why)
  show('v8.writeHeapSnapshot() (JS objects)', rows.v8)
  fs.rmSync(dir, { recursive: true, force: true })
}

main()
