'use strict'
// Side-by-side benchmarks: weakstore's WeakRef / FinalizationRegistry /
// collector against V8's built-ins, in one run.
//
//   npm run bench                      (= node --expose-gc bench/index.js)
//   BENCH_SCALE=0.1 npm run bench      quick run: the 1,000,000-sized sizes x0.1
//   BENCH_RUNS=5 BENCH_MACRO_RUNS=3    timed runs per micro / macro benchmark
//   BENCH_CAP_MS=60000                 give up waiting for callbacks after this
//
// Prints one table on stdout (progress goes to stderr) and writes
// bench/results.json. No assertions on timings: numbers are reported, never
// judged. See docs/BENCHMARKS.md for what each line measures.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { machine } = require('./machine')
const { performance } = require('node:perf_hooks')

// gc() is needed (benchmarks 4 and 5 time it); re-run ourselves with it.
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, __filename, ...process.argv.slice(2)],
    { stdio: 'inherit' })
  process.exit(r.status === null ? 1 : r.status)
}

// The engine's own classes, captured before weakstore is loaded.
const BuiltinWeakRef = globalThis.WeakRef
const BuiltinFinalizationRegistry = globalThis.FinalizationRegistry
const BuiltinWeakMap = globalThis.WeakMap
const ws = require('..')
const { weakmaps } = require('./weakmap')
const { registrations } = require('./registrations')
const { threads } = require('./threads')

// ---------------------------------------------------------------- config --

function envNumber(name, fallback, check) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const v = Number(raw)
  if (!check(v)) {
    console.error(`bench: ignoring ${name}=${raw}`)
    return fallback
  }
  return v
}

const SCALE = envNumber('BENCH_SCALE', 1, (v) => v > 0 && v <= 10)
const RUNS = envNumber('BENCH_RUNS', 5, (v) => Number.isInteger(v) && v >= 1)
const MACRO_RUNS = envNumber('BENCH_MACRO_RUNS', 3, (v) => Number.isInteger(v) && v >= 1)
const CAP_MS = envNumber('BENCH_CAP_MS', 60000, (v) => v > 0)

const scaled = (n) => Math.max(1000, Math.round(n * SCALE))
const SMALL = 1000 // benchmark 1's small job; not scaled
const BIG = scaled(1e6) // refs in benchmark 1's big job; targets in 4; live objects in 5
const DEREFS = scaled(1e6) // deref() calls per timed run
const PAIRS = scaled(2e5) // register+unregister pairs per timed run
const CHAIN = 1000 // benchmark 5: objects per chain
const CHAINS = Math.max(1, Math.round(BIG / CHAIN))

// --------------------------------------------------------------- helpers --

const gc = globalThis.gc
const now = () => performance.now()
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const t0Process = performance.now()
const log = (...args) => console.error(`bench [${((performance.now() - t0Process) / 1000).toFixed(1)}s]:`, ...args)

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** A settled heap: full GC, and one turn for finalization tasks to run. */
async function settle() {
  await nextTurn()
  gc()
  await nextTurn()
  gc()
  await nextTurn()
}

/**
 * Median of `runs` timed runs after `warmup` untimed ones; every run is its
 * own job (so KeepDuringJob sets are empty when it starts) on a settled heap.
 */
async function measure(warmup, runs, run, light = false) {
  const between = light ? nextTurn : settle
  if (light) await settle()
  for (let i = 0; i < warmup; i++) {
    await between()
    run()
  }
  const samples = []
  for (let i = 0; i < runs; i++) {
    await between()
    samples.push(run())
  }
  return { median: median(samples), samples }
}

/** measure() for runs that span turns: one untimed run, then `runs` timed ones. */
async function measureAsync(runs, run) {
  await settle()
  await run()
  const samples = []
  for (let i = 0; i < runs; i++) {
    await settle()
    samples.push(await run())
  }
  return { median: median(samples), samples }
}

/** Polls with setImmediate until `done()` or the cap; false on time-out. */
async function until(done, startedAt) {
  while (!done()) {
    if (now() - startedAt > CAP_MS) return false
    await nextTurn()
  }
  return true
}

/**
 * A setImmediate ping loop recording the longest gap between two turns of
 * the event loop. Returns a function that stops it and gives the figures.
 */
function startPing() {
  let last = now()
  let max = 0
  let turns = 0
  let stopped = false
  const tick = () => {
    const t = now()
    if (t - last > max) max = t - last
    last = t
    turns++
    if (!stopped) setImmediate(tick)
  }
  setImmediate(tick)
  return () => {
    stopped = true
    const t = now()
    if (t - last > max) max = t - last
    return { maxGapMs: max, turns }
  }
}

// Loops are written out once per implementation so that each call site
// stays monomorphic: a shared helper would see both classes and compare a
// polymorphic built-in against a polymorphic weakstore.

function builtinNewWeakRefs(targets, n, out) {
  const t0 = now()
  for (let i = 0; i < n; i++) out[i] = new BuiltinWeakRef(targets[i])
  return ((now() - t0) * 1e6) / n
}

function weakstoreNewWeakRefs(targets, n, out) {
  const t0 = now()
  for (let i = 0; i < n; i++) out[i] = new ws.WeakRef(targets[i])
  return ((now() - t0) * 1e6) / n
}

function builtinDerefs(ref, target, n) {
  let misses = 0
  const t0 = now()
  for (let i = 0; i < n; i++) if (ref.deref() !== target) misses++
  const ns = ((now() - t0) * 1e6) / n
  if (misses !== 0) throw new Error(`built-in deref missed ${misses} times`)
  return ns
}

function weakstoreDerefs(ref, target, n) {
  let misses = 0
  const t0 = now()
  for (let i = 0; i < n; i++) if (ref.deref() !== target) misses++
  const ns = ((now() - t0) * 1e6) / n
  if (misses !== 0) throw new Error(`weakstore deref missed ${misses} times`)
  return ns
}

function builtinPairs(registry, target, tokens) {
  const n = tokens.length
  const t0 = now()
  for (let i = 0; i < n; i++) {
    registry.register(target, i, tokens[i])
    registry.unregister(tokens[i])
  }
  return ((now() - t0) * 1e6) / n
}

function weakstorePairs(registry, target, tokens) {
  const n = tokens.length
  const t0 = now()
  for (let i = 0; i < n; i++) {
    registry.register(target, i, tokens[i])
    registry.unregister(tokens[i])
  }
  return ((now() - t0) * 1e6) / n
}

// 3b: the registrations live past their job (flushed to the store, then
// unregistered in a later job): the timed span includes that turn.
async function builtinSplitPairs(registry, target, tokens) {
  const n = tokens.length
  const t0 = now()
  for (let i = 0; i < n; i++) registry.register(target, i, tokens[i])
  await nextTurn()
  let removed = 0
  for (let i = 0; i < n; i++) if (registry.unregister(tokens[i])) removed++
  const ns = ((now() - t0) * 1e6) / n
  if (removed !== n) throw new Error(`built-in unregister removed ${removed} of ${n}`)
  return ns
}

async function weakstoreSplitPairs(registry, target, tokens) {
  const n = tokens.length
  const t0 = now()
  for (let i = 0; i < n; i++) registry.register(target, i, tokens[i])
  await nextTurn()
  let removed = 0
  for (let i = 0; i < n; i++) if (registry.unregister(tokens[i])) removed++
  const ns = ((now() - t0) * 1e6) / n
  if (removed !== n) throw new Error(`weakstore unregister removed ${removed} of ${n}`)
  return ns
}

const makeTokens = (n) => {
  const tokens = new Array(n)
  for (let i = 0; i < n; i++) tokens[i] = {}
  return tokens
}

// ----------------------------------------------------------- benchmarks --

const results = { rows: [], details: {} }

function row(id, label, unit, builtin, weakstore, note = '') {
  results.rows.push({ id, label, unit, builtin, weakstore, ratio: builtin > 0 && weakstore !== null ? weakstore / builtin : null, note })
}

/** 1. new WeakRef(x), targets pre-created; 2. deref(); 3. register+unregister. */
async function micro() {
  log(`1. new WeakRef: creating ${BIG.toLocaleString('en')} targets of each kind`)
  const store = new ws.Store({ manual: true })
  const plain = new Array(BIG)
  const handles = new Array(BIG)
  for (let i = 0; i < BIG; i++) plain[i] = { i }
  for (let i = 0; i < BIG; i++) handles[i] = store.alloc({ i })
  const runs = (n) => (n <= SMALL ? Math.max(RUNS, 21) : RUNS)
  for (const n of [SMALL, BIG]) {
    log(`1. new WeakRef: ${n.toLocaleString('en')} refs per job`)
    // Interleave the two so that machine noise hits both alike.
    const light = n <= SMALL // a small job leaves little garbage: no full GC between runs
    if (light) {
      // The first jobs run weakstore's constructor before V8 has optimized
      // it (the built-in is native code from the start): ~13 jobs of 1,000
      // in a standalone loop. Reported apart, then measured warm.
      const b = await measure(5, runs(n), () => builtinNewWeakRefs(plain, n, new Array(n)), light)
      const w = await measure(5, runs(n), () => weakstoreNewWeakRefs(handles, n, new Array(n)), light)
      row('1a0', `  the first ${5 + runs(n)} jobs of 1,000 (JIT warming up)`, 'ns/op', b.median, w.median)
      results.details[`newWeakRef_${n}_cold`] = { builtin: b.samples, weakstore: w.samples }
    }
    const b = await measure(light ? 50 : 1, runs(n), () => builtinNewWeakRefs(plain, n, new Array(n)), light)
    const w = await measure(light ? 50 : 1, runs(n), () => weakstoreNewWeakRefs(handles, n, new Array(n)), light)
    row(n === SMALL ? '1a' : '1b', `new WeakRef(x), ${n.toLocaleString('en')} refs in one job`, 'ns/op', b.median, w.median)
    results.details[`newWeakRef_${n}`] = { builtin: b.samples, weakstore: w.samples }
  }

  log(`2. deref(): ${DEREFS.toLocaleString('en')} calls per job`)
  {
    const b = await measure(2, RUNS, () => builtinDerefs(new BuiltinWeakRef(plain[0]), plain[0], DEREFS), true)
    const w = await measure(2, RUNS, () => weakstoreDerefs(new ws.WeakRef(handles[0]), handles[0], DEREFS), true)
    row('2', 'deref() of a live target', 'ns/op', b.median, w.median)
    results.details.deref = { builtin: b.samples, weakstore: w.samples }
  }

  log(`3. register+unregister: ${PAIRS.toLocaleString('en')} pairs per job, a fresh token object each`)
  {
    const breg = new BuiltinFinalizationRegistry(() => {})
    const wreg = new ws.FinalizationRegistry(() => {})
    let tokens = null
    const b = await measure(1, RUNS, () => builtinPairs(breg, plain[0], (tokens = makeTokens(PAIRS))))
    const w = await measure(1, RUNS, () => weakstorePairs(wreg, handles[0], (tokens = makeTokens(PAIRS))))
    tokens = null
    row('3', 'register+unregister, object token', 'ns/pair', b.median, w.median)
    results.details.registerUnregister = { builtin: b.samples, weakstore: w.samples }
    log(`3b. register ${PAIRS.toLocaleString('en')} with tokens, unregister them in the next turn`)
    const b2 = await measureAsync(RUNS, () => builtinSplitPairs(breg, plain[0], (tokens = makeTokens(PAIRS))))
    const w2 = await measureAsync(RUNS, () => weakstoreSplitPairs(wreg, handles[0], (tokens = makeTokens(PAIRS))))
    row('3b', '  register, then unregister in a later turn (object token)', 'ns/pair', b2.median, w2.median)
    results.details.registerUnregisterSplit = { builtin: b2.samples, weakstore: w2.samples }
    tokens = null
    // Keep both registries (and their targets) alive to the end of the loops.
    if (breg === null || wreg === null || tokens !== null) throw new Error('unreachable')
  }
  for (const h of handles) h.release()
}

/** Built-in: create+register BIG objects, drop them, time gc() + callbacks. */
async function builtinCollect() {
  let count = 0
  const registry = new BuiltinFinalizationRegistry(() => {
    count++
  })
  const t0 = now()
  let objs = new Array(BIG)
  for (let i = 0; i < BIG; i++) {
    const o = { i }
    objs[i] = o
    registry.register(o, i)
  }
  const setupMs = now() - t0
  await settle() // all of them survive this one: a heap with BIG old objects
  objs = null
  const t1 = now()
  gc()
  const ok = await until(() => count >= BIG, t1)
  const ms = now() - t1
  return { ms, ok, count, setupMs, keep: registry }
}

/** weakstore: alloc+register BIG handles; release them (or drop them); time collect(). */
async function weakstoreCollect(release) {
  const store = new ws.Store({ manual: true })
  let count = 0
  const registry = new ws.FinalizationRegistry(() => {
    count++
  })
  const t0 = now()
  let handles = new Array(BIG)
  for (let i = 0; i < BIG; i++) handles[i] = store.alloc({ i })
  const allocMs = now() - t0
  const t1 = now()
  for (let i = 0; i < BIG; i++) registry.register(handles[i], i)
  const registerMs = now() - t1
  await settle()
  let releaseMs = null
  if (release) {
    const t2 = now()
    for (let i = 0; i < BIG; i++) handles[i].release()
    releaseMs = now() - t2
  }
  handles = null
  const t3 = now()
  const figures = await store.collect()
  const collectMs = now() - t3
  const ok = await until(() => count >= BIG, t3)
  const ms = now() - t3
  const stats = store.stats()
  return {
    ms, ok, count, collectMs, allocMs, registerMs, releaseMs,
    figures, objectsAfter: stats.objects, cellsAfter: stats.finalizationCells, keep: registry,
  }
}

async function collection() {
  const b = []
  const r = []
  const d = []
  for (let run = 0; run < MACRO_RUNS; run++) {
    log(`4. ${BIG.toLocaleString('en')} targets collected, run ${run + 1}/${MACRO_RUNS}: built-in`)
    await settle()
    b.push(await builtinCollect())
    log(`4. run ${run + 1}/${MACRO_RUNS}: weakstore, released handles`)
    await settle()
    r.push(await weakstoreCollect(true))
    log(`4. run ${run + 1}/${MACRO_RUNS}: weakstore, dropped wrappers`)
    await settle()
    d.push(await weakstoreCollect(false))
  }
  const strip = (x) => {
    const { keep: _keep, ...rest } = x
    return rest
  }
  const med = (xs, key) => median(xs.map((x) => x[key]))
  const timedOut = (xs) => xs.some((x) => !x.ok)
  const note = (xs) => (timedOut(xs) ? `TIMED OUT (cap ${CAP_MS} ms) in some run; counts ${xs.map((x) => x.count).join(', ')}` : '')
  const n = BIG.toLocaleString('en')
  row('4a', `${n} targets collected, all callbacks run (ws: release()d)`, 'ms', med(b, 'ms'), med(r, 'ms'),
    [note(b), note(r)].filter(Boolean).join('; '))
  row('4b', `${n} targets collected, all callbacks run (ws: dropped wrappers)`, 'ms', med(b, 'ms'), med(d, 'ms'), note(d))
  row('4c', `  setup for 4: create ${n} targets + register each`, 'ms', med(b, 'setupMs'),
    median(r.concat(d).map((x) => x.allocMs + x.registerMs)))
  row('4d', `  setup for 4a: release() ${n} handles`, 'ms', null, med(r, 'releaseMs'))
  results.details.collection = { builtin: b.map(strip), released: r.map(strip), dropped: d.map(strip) }
}

/** 5. Event-loop gaps during a full cycle over BIG live objects; V8's gc() pause. */
async function pauses() {
  const n = (CHAINS * CHAIN).toLocaleString('en')
  log(`5. building ${CHAINS} chains of ${CHAIN} store objects (${n} live)`)
  const store = new ws.Store({ manual: true })
  const roots = new Array(CHAINS)
  for (let c = 0; c < CHAINS; c++) {
    const root = store.alloc({ chain: c, n: 0 })
    let prev = root
    for (let j = 1; j < CHAIN; j++) {
      const o = store.alloc({ chain: c, n: j })
      prev.set('next', o)
      if (prev !== root) prev.release()
      prev = o
    }
    if (prev !== root) prev.release()
    roots[c] = root
  }
  await settle()
  // A first cycle, untimed: frees nothing (everything is reachable).
  const first = await store.collect()

  const samples = []
  for (let run = 0; run < MACRO_RUNS; run++) {
    log(`5. full weakstore cycle over ${n} live objects, run ${run + 1}/${MACRO_RUNS}`)
    await settle()
    // Keep V8's gc() out of collect(): it would otherwise be the pause we see.
    const savedGc = globalThis.gc
    globalThis.gc = undefined
    let cycle
    try {
      const stop = startPing()
      const t0 = now()
      const figures = await store.collect()
      const durationMs = now() - t0
      cycle = { ...stop(), durationMs, figures }
    } finally {
      globalThis.gc = savedGc
    }
    // The same ping loop on an idle event loop, for the same duration.
    await settle()
    const stop = startPing()
    await sleep(cycle.durationMs)
    const idle = stop()
    samples.push({ cycle, idle })
  }
  const objects = store.stats().objects
  if (objects !== CHAINS * CHAIN) log(`warning: the store holds ${objects} objects, expected ${CHAINS * CHAIN}`)
  for (const r of roots) r.release()
  roots.length = 0

  log(`5. V8 gc() with ${n} plain objects alive`)
  await settle()
  let chains = new Array(CHAINS)
  for (let c = 0; c < CHAINS; c++) {
    let next = null
    for (let j = CHAIN - 1; j >= 0; j--) next = { chain: c, n: j, next }
    chains[c] = next
  }
  gc() // promote them all; then time full GCs of a settled heap
  const gcMs = []
  for (let run = 0; run < Math.max(RUNS, MACRO_RUNS); run++) {
    await nextTurn()
    const t0 = now()
    gc()
    gcMs.push(now() - t0)
  }
  if (chains[0].n !== 0) throw new Error('unreachable')
  chains = null

  const gap = median(samples.map((s) => s.cycle.maxGapMs))
  row('5a', `longest stall: V8 gc() with ${n} live objects vs weakstore full cycle (max event-loop gap)`, 'ms',
    median(gcMs), gap)
  row('5b', '  idle event loop, same duration: max gap (baseline)', 'ms', null, median(samples.map((s) => s.idle.maxGapMs)))
  row('5c', `  weakstore cycle over ${n} live objects: collect() wall time`, 'ms', null, median(samples.map((s) => s.cycle.durationMs)))
  row('5d', '  weakstore cycle: collector-reported totalMs / maxPauseMs', 'ms', null,
    median(samples.map((s) => s.cycle.figures.totalMs)),
    `maxPauseMs ${fmt(median(samples.map((s) => s.cycle.figures.maxPauseMs)))}`)
  results.details.pauses = { firstCycle: first, samples, v8GcMs: gcMs, liveObjects: objects }
}

// ---------------------------------------------------------------- output --

function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—'
  if (v >= 100) return v.toFixed(0)
  if (v >= 10) return v.toFixed(1)
  if (v >= 1) return v.toFixed(2)
  return v.toFixed(3)
}

function table(rows) {
  const head = ['#', 'measurement', 'unit', 'built-in', 'weakstore', 'ws/built-in', 'note']
  const body = rows.map((r) => [r.id, r.label, r.unit, fmt(r.builtin), fmt(r.weakstore),
    r.ratio === null ? '—' : `${r.ratio.toFixed(2)}x`, r.note || ''])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const right = new Set([3, 4, 5])
  const line = (cells) => '| ' + cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ') + ' |'
  const sep = '|' + widths.map((w, i) => (right.has(i) ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|'
  return [line(head), sep, ...body.map(line)].join('\n')
}

/** Which build was measured: the others rebuild the addon while we work. */
function buildInfo() {
  const root = path.join(__dirname, '..')
  const info = {}
  try {
    const addon = fs.readdirSync(root).find((f) => f.endsWith('.node'))
    if (addon) info.addon = { file: addon, mtime: fs.statSync(path.join(root, addon)).mtime.toISOString() }
  } catch {
    // no addon figures: the report says nothing of it
  }
  try {
    const r = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' })
    if (r.status === 0) info.gitHead = r.stdout.trim()
  } catch {
    // not a git checkout
  }
  return info
}

async function main() {
  const started = now()
  const info = machine()
  results.machine = info
  results.config = { SCALE, RUNS, MACRO_RUNS, CAP_MS, SMALL, BIG, DEREFS, PAIRS, CHAIN, CHAINS }
  results.loadBefore = os.loadavg()
  results.build = buildInfo()
  log(`scale ${SCALE}, ${RUNS} runs (micro), ${MACRO_RUNS} runs (macro); node ${info.node}, ${info.nproc} CPUs, ${info.cpu}`)

  // BENCH_ONLY=micro (or registrations, collection, pauses, weakmaps, threads): one section, for profiling.
  const only = process.env.BENCH_ONLY
  const run = (name) => only === undefined || only === '' || only === name
  if (run('micro')) await micro()
  if (run('registrations')) await registrations({ ws, BuiltinFinalizationRegistry, settle, row, log, RUNS, median, gc, results })
  if (run('collection')) await collection()
  if (run('pauses')) await pauses()
  if (run('weakmaps')) await weakmaps({ ws, BuiltinWeakMap, measure, settle, row, log, BIG, OPS: scaled(2e5), RUNS, MACRO_RUNS, median, gc, results })
  if (run('threads')) await threads({ ws, settle, row, log, RUNS, MACRO_RUNS, SCALE, median, results })

  results.loadAfter = os.loadavg()
  results.totalSeconds = (now() - started) / 1000
  results.date = new Date().toISOString()
  results.rssPeakMiB = process.resourceUsage().maxRSS / 1024

  const out = path.join(__dirname, only ? `results-${only}.json` : 'results.json')
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n')
  console.log(`weakstore vs built-ins — node ${info.node}, ${info.nproc} CPUs (${info.cpu}), scale ${SCALE}, ` +
    `median of ${RUNS} (micro) / ${MACRO_RUNS} (macro) runs, load avg ${results.loadBefore.map((x) => x.toFixed(2)).join(' ')}`)
  console.log(table(results.rows))
  console.log(`total ${results.totalSeconds.toFixed(1)} s, peak RSS ${results.rssPeakMiB.toFixed(0)} MiB; details in ${path.relative(process.cwd(), out)}`)
}

main().then(
  () => process.exit(0), // weakstore's collector threads must not keep us waiting
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
