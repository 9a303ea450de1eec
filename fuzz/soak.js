'use strict'
// Soak test: many alloc/release operations with no explicit collect(), as a
// long-running program would use weakstore. Checks that memory stays flat.
//
//   node fuzz/soak.js                 # long mode: 10,000,000 operations
//   node fuzz/soak.js --short         # short mode: 200,000 operations (CI)
//   OPS=3000000 SEED=7 node fuzz/soak.js [--json] [--dump=samples.json]
//   node fuzz/soak.js --budget=33554432 --growth=0   # other collector pacing
//   node fuzz/soak.js --drop=0        # release every evicted handle (default:
//                                     # drop 10% for V8 to collect)
//   node fuzz/soak.js --builtin       # control: the same program on plain
//                                     # JS objects and V8's WeakRef,
//                                     # FinalizationRegistry, WeakMap, WeakSet
//
// It runs WITHOUT --expose-gc, on purpose: that is how users run it. Handle
// wrappers dropped without release() are then collected only when V8
// decides to (weakstore reports its off-heap bytes to V8 as external
// memory, which makes V8 collect sooner), and the store's collector runs on
// its allocation budget only. (Running it with --expose-gc changes nothing:
// it never calls gc() or collect().)
//
// Per operation (an alloc or a release counts as one operation):
// - alloc a group of 1-3 objects, each with a number, sometimes a string,
//   and a byte payload (0-480 bytes), linked in a cycle through `next`; an
//   older object of the working set gets a `newer` edge to the group (edges
//   only point to newer objects, so what the program holds stays bounded
//   and any growth is weakstore's);
// - keep a working set of WORKING groups; the handles of an evicted group
//   are released (90%) or just dropped for V8 to collect (10%);
// - 10% of objects get a WeakRef (a ring of 2,000 is kept and deref'd);
// - 5% are registered with a FinalizationRegistry (some with a token, some
//   later unregistered);
// - 2% get a WeakMap entry (a JS object value or a primitive) and 1% a
//   WeakSet entry.
//
// Every SAMPLE_EVERY operations it samples process.memoryUsage().rss and
// store.stats(). At the end it prints the RSS curve (20 samples), the
// store figures, and the RSS growth over the second half of the run
// (after warm-up): median RSS of the last 10% of samples versus the median
// around the half-way point. Long mode fails (exit 1) if that growth is
// 5% or more.

const args = process.argv.slice(2)
const BUILTIN = args.includes('--builtin')

// The control run (--builtin): what RSS does with no weakstore at all, the
// program's objects on V8's heap (payloads copied into typed arrays, as the
// store copies them off-heap). It tells V8's own heap sizing apart from
// weakstore's memory.
class PlainObject {
  constructor(fields) {
    this.n = fields.n
    this.bytes = new Uint8Array(fields.bytes)
    this.s = undefined
    this.next = undefined
    this.newer = undefined
  }
  set(key, value) { this[key] = value }
  release() {}
}
class PlainStore {
  alloc(fields) { return new PlainObject(fields) }
  stats() { return { objects: 0, bytes: 0, collections: 0, pendingFinalizations: 0, finalizationCells: 0, ephemeronEntries: 0, handles: 0 } }
}
const { Store, WeakRef, FinalizationRegistry, WeakMap, WeakSet } = BUILTIN
  ? { Store: PlainStore, WeakRef: globalThis.WeakRef, FinalizationRegistry: globalThis.FinalizationRegistry, WeakMap: globalThis.WeakMap, WeakSet: globalThis.WeakSet }
  : require('..')
const short = args.includes('--short')
const json = args.includes('--json')
const val = (name) => { const a = args.find((x) => x.startsWith(`--${name}=`)); return a && a.slice(name.length + 3) }
const OPS = Number(val('ops') ?? process.env.OPS ?? (short ? 200_000 : 10_000_000))
const SEED = Number(val('seed') ?? process.env.SEED ?? 1) >>> 0
const WORKING = Number(process.env.WORKING ?? 5000)
// Share of evicted handles dropped for V8 to collect instead of released.
const DROP = Number(val('drop') ?? process.env.DROP ?? 0.1)
const BATCH = 5000 // operations per event-loop turn: callbacks are delivered between turns
const SAMPLES = 200
const SAMPLE_EVERY = Math.max(1, Math.floor(OPS / SAMPLES))

// xorshift32
let seed = SEED || 1
const rand = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 4294967296 }
const int = (n) => Math.floor(rand() * n)

// Long mode uses the default budget and pacing, as a user would. The short
// mode uses 1 MiB so that its 200,000 operations span many cycles.
const BUDGET = Number(val('budget') ?? process.env.BUDGET ?? (short ? 1 << 20 : 0))
const GROWTH = val('growth') ?? process.env.GROWTH
const store = new Store({ ...(BUDGET ? { budget: BUDGET } : {}), ...(GROWTH !== undefined ? { growth: Number(GROWTH) } : {}) })
let callbacks = 0
let unregistered = 0
const registry = new FinalizationRegistry(() => { callbacks++ })
const map = new WeakMap()
const set = new WeakSet()

const working = new Array(WORKING)
const refs = new Array(2000)
const tokens = []
const payloads = Array.from({ length: 16 }, (_, i) => Buffer.alloc(i * 32, i))
const strings = Array.from({ length: 8 }, (_, i) => 'soak-'.repeat(i * 4))

let ops = 0
let allocs = 0
let releases = 0
let dropped = 0
let derefHits = 0
const samples = []

function sample() {
  const s = store.stats()
  const m = process.memoryUsage()
  samples.push({
    ops, rss: m.rss, heap: m.heapUsed, heapTotal: m.heapTotal, external: m.external, objects: s.objects, bytes: s.bytes,
    collections: s.collections, pending: s.pendingFinalizations, cells: s.finalizationCells,
    entries: s.ephemeronEntries, handles: s.handles, callbacks, t: Date.now(),
  })
}

function step() {
  // alloc a group of 1-3 objects that refer to each other in a cycle
  const slot = int(WORKING)
  const n = 1 + int(3)
  const group = new Array(n)
  for (let i = 0; i < n; i++) {
    const h = store.alloc({ n: allocs, bytes: payloads[int(16)] })
    allocs++
    ops++
    if (rand() < 0.3) h.set('s', strings[int(8)])
    group[i] = h
  }
  for (let i = 0; i < n; i++) group[i].set('next', group[(i + 1) % n]) // a cycle (a self-loop for one)
  const h = group[0]
  // An older object of the working set points at the new group (edges
  // only ever point to newer objects, so the live set stays bounded).
  const older = working[int(WORKING)]
  if (older !== undefined && rand() < 0.5) older[0].set('newer', h)
  const r = rand()
  if (r < 0.10) refs[int(refs.length)] = new WeakRef(h)
  if (r < 0.05) {
    if (rand() < 0.3) {
      const token = {}
      registry.register(h, allocs, token)
      tokens.push(token)
      if (tokens.length > 1000) { if (registry.unregister(tokens.shift())) unregistered++ }
    } else {
      registry.register(group[n - 1], allocs)
    }
  }
  if (r > 0.98) map.set(h, rand() < 0.5 ? { n: allocs } : allocs)
  else if (r > 0.97) set.add(h)
  if (rand() < 0.01) {
    const w = refs[int(refs.length)]
    if (w !== undefined && w.deref() !== undefined) derefHits++
  }
  // evict the group in this slot: release (90%) or drop (10%)
  const old = working[slot]
  working[slot] = group
  if (old !== undefined) {
    for (const o of old) {
      if (rand() < 1 - DROP) { o.release(); releases++ } else dropped++
      ops++
    }
  }
}

const mb = (b) => (b / 2 ** 20).toFixed(1)
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

function finish() {
  sample()
  const ms = samples[samples.length - 1].t - started
  const n = samples.length
  // Growth over the second half: median RSS of the last 10% of samples vs
  // the median of the 10% around the half-way point.
  const mid = median(samples.slice(Math.floor(n * 0.45), Math.floor(n * 0.55)).map((s) => s.rss))
  const end = median(samples.slice(Math.floor(n * 0.9)).map((s) => s.rss))
  const growth = (end - mid) / mid
  const peak = Math.max(...samples.map((s) => s.rss))
  const last = samples[n - 1]
  const lines = []
  lines.push(`soak: ${BUILTIN ? 'CONTROL (--builtin: plain JS objects, no weakstore), ' : ''}${OPS.toLocaleString('en')} ops, budget ${BUDGET ? mb(BUDGET) + ' MB' : 'default'}, growth ${GROWTH ?? 'default'}, drop ${DROP} (${allocs} allocs, ${releases} releases, ${dropped} dropped unreleased) in ${(ms / 1000).toFixed(1)} s, seed ${SEED}`)
  lines.push('soak: RSS curve (MB) with store objects / collections / callbacks:')
  for (let i = 0; i < 20; i++) {
    const s = samples[Math.min(n - 1, Math.round(((i + 1) * (n - 1)) / 20))]
    lines.push(`  ${String(Math.round((s.ops / OPS) * 100)).padStart(3)}%  rss ${mb(s.rss).padStart(7)}  heap ${mb(s.heap).padStart(6)}  objects ${String(s.objects).padStart(8)}  bytes ${mb(s.bytes).padStart(6)}MB  cycles ${String(s.collections).padStart(5)}  cells ${String(s.cells).padStart(6)}  pending ${String(s.pending).padStart(5)}  entries ${String(s.entries).padStart(6)}  handles ${String(s.handles).padStart(6)}  callbacks ${s.callbacks}`)
  }
  lines.push(`soak: RSS mid ${mb(mid)} MB -> end ${mb(end)} MB: growth over the second half ${(growth * 100).toFixed(2)}% (limit 5%); peak ${mb(peak)} MB`)
  lines.push(`soak: callbacks ${callbacks}, unregistered ${unregistered}, deref hits ${derefHits}, last store: ${last.objects} objects, ${mb(last.bytes)} MB, ${last.collections} cycles`)
  process.stdout.write(lines.join('\n') + '\n')
  const summary = { ops: OPS, ms, growth, midRss: mid, endRss: end, peakRss: peak, objects: last.objects, collections: last.collections, callbacks, cells: last.cells, handles: last.handles }
  const dump = val('dump') ?? process.env.SOAK_DUMP
  if (dump) require('node:fs').writeFileSync(dump, JSON.stringify(samples))
  if (json) process.stdout.write(`SOAK_SUMMARY ${JSON.stringify(summary)}\n`)
  const limit = Number(process.env.SOAK_LIMIT ?? 0.05)
  if (!short && growth >= limit) {
    process.stdout.write('soak: FAILED: RSS grew by 5% or more over the second half\n')
    process.exitCode = 1
  }
}

const started = Date.now()
sample()
function loop() {
  const stop = Math.min(OPS, ops + BATCH)
  while (ops < stop) {
    step()
    if (ops % SAMPLE_EVERY < 2 && samples.length * SAMPLE_EVERY <= ops) sample()
  }
  if (Math.floor(ops / (OPS / 10)) !== Math.floor((ops - BATCH) / (OPS / 10)) && !short) {
    process.stderr.write(`soak: ${Math.round((ops / OPS) * 100)}% rss ${mb(process.memoryUsage().rss)} MB objects ${store.stats().objects}\n`)
  }
  if (ops >= OPS) finish()
  else setImmediate(loop)
}
loop()
