'use strict'
// The store's object model side by side with V8's objects and Map: what an
// object costs in memory, what building one costs, what a field access
// costs, how field access scales with the number of fields, and the
// binary-trees program of the Computer Language Benchmarks Game.
//
//   npm run bench:objects               (= node --expose-gc bench/objects.js)
//   node bench/objects.js memory trees  some sections only: memory, building,
//                                       calls, fields, trees (or 1 to 5)
//   BENCH_SCALE=0.05                    quick run: every size x0.05 (binary-trees:
//                                       depth 15 + log2(scale), rounded)
//
// Prints one table per section on stdout (progress goes to stderr) and
// writes bench/objects.json (bench/objects-<sections>.json for some
// sections). Every figure is a median; ratios are weakstore / its V8 or
// Map counterpart measured in the same run. No assertions on timings, only
// on results: a wrong check sum throws.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { machine } = require('./machine')
const { performance } = require('node:perf_hooks')

// gc() is needed (the memory section measures after full collections);
// re-run ourselves with it.
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, __filename, ...process.argv.slice(2)],
    { stdio: 'inherit' })
  process.exit(r.status === null ? 1 : r.status)
}

/**
 * A new Store. The addon is loaded on first use: the V8 versions' child
 * processes never load it, so their peak RSS is V8's alone.
 */
function newStore(options) {
  const { Store } = require('..')
  return new Store(options)
}

// ---------------------------------------------------------------- config --

const SCALE = (() => {
  const raw = process.env.BENCH_SCALE
  const v = Number(raw)
  if (raw === undefined || raw === '') return 1
  if (v > 0 && v <= 10) return v
  console.error(`bench: ignoring BENCH_SCALE=${raw}`)
  return 1
})()

const scaled = (n, least = 1000) => Math.max(least, Math.round(n * SCALE))
const RUNS = 5 // timed runs, after one untimed warm-up run
const MEMORY_N = scaled(1e6) // 1. objects kept alive
const BUILD_N = scaled(2e5) // 2. objects built per run
const CALLS = scaled(1e6) // 3. calls per run
const FIELD_COUNTS = [5, scaled(1000, 5), scaled(10000, 5), scaled(100000, 5)] // 4. fields on one object
// 4. Timed calls per run: FIELD_WORK / fields, at most FIELD_CALLS (a read
// of a 100,000-field object scans ~50,000 fields: 500 calls per run).
// Building that object field by field takes ~10 s, most of the section.
const FIELD_CALLS = scaled(2e5)
const FIELD_WORK = 5e7 * SCALE
const CATALOG_N = scaled(50000) // 4. entries of the catalog
const CATALOG_STORE_RUNS = 1 // 4. the store's catalog takes seconds: one run, no warm-up
// 5. binary-trees' argument: 15, one less per halving of the scale (each
// level halves the work); the check sums follow from it.
const TREES_DEPTH = Math.max(6, 15 + Math.round(Math.log2(SCALE)))

// --------------------------------------------------------------- helpers --

const gc = globalThis.gc
const now = () => performance.now()
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))
const t0Process = now()
const log = (...args) => console.error(`bench [${((now() - t0Process) / 1000).toFixed(1)}s]:`, ...args)
const count = (n) => n.toLocaleString('en')

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * A settled heap: full V8 collections, one turn for finalizers to run, and
 * with a store a full store cycle (collect() also lets V8 collect dead
 * handle wrappers first).
 */
async function settle(store = null) {
  for (let i = 0; i < 3; i++) {
    await nextTurn()
    gc()
  }
  if (store !== null) {
    await store.collect()
    await nextTurn()
    gc()
  }
}

/**
 * Median of RUNS timed runs after one warm-up run; `run()` returns its
 * figure (ns per operation). Every run starts on a settled heap.
 */
async function measure(run, store = null) {
  const samples = []
  for (let i = 0; i <= RUNS; i++) {
    await settle(store)
    const v = run()
    if (i > 0) samples.push(v) // the first run warms the JIT up
  }
  return { median: median(samples), samples }
}

/** Runs this script in a child process for one job; returns what it printed (JSON). */
function child(job) {
  const args = [...new Set(['--expose-gc', ...process.execArgv])]
  const r = spawnSync(process.execPath, [...args, __filename, '--child', job], {
    stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 16 << 20,
  })
  if (r.status !== 0) throw new Error(`child ${job} failed: status ${r.status}, signal ${r.signal}`)
  return JSON.parse(r.stdout)
}

function check(ok, what) {
  if (!ok) throw new Error(`wrong result: ${what}`)
}

// ----------------------------------------------------------- the tables --

const results = { sections: {} }
let rows = null

function section(name, title) {
  rows = []
  results.sections[name] = { title, rows }
}

/** One line: the V8 (or Map) figure, weakstore's, and their ratio. */
function row(label, unit, v8, store, note = '') {
  const ratio = v8 !== null && store !== null && v8 > 0 ? store / v8 : null
  rows.push({ label, unit, v8, store, ratio, note })
}

function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—'
  if (v >= 1000) return count(Math.round(v))
  if (v >= 100) return v.toFixed(0)
  if (v >= 10) return v.toFixed(1)
  return v.toFixed(2)
}

function printTable(name, counterpart) {
  const { title } = results.sections[name]
  const head = ['measurement', 'unit', counterpart, 'weakstore', 'ratio', 'note']
  const body = rows.map((r) => [r.label, r.unit, fmt(r.v8), fmt(r.store),
    r.ratio === null ? '—' : `${r.ratio.toFixed(r.ratio >= 10 ? 0 : 2)}x`, r.note])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const right = new Set([2, 3, 4])
  const line = (cells) => '| ' + cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ') + ' |'
  const sep = '|' + widths.map((w, i) => (right.has(i) ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|'
  console.log(`\n${title}\n`)
  console.log([line(head), sep, ...body.map(line)].join('\n'))
}

// ------------------------------------------------- 1. memory per object --
//
// MEMORY_N objects kept alive as a linked list, in a child process per
// kind and shape: RSS growth after full collections, divided by MEMORY_N.
// The baseline RSS is taken after require() and the store's creation,
// before building. For the store, stats().bytes / MEMORY_N too: what the
// store counts, to compare with what the process really grew by.

const SHAPES = {
  small: '{ i, next }',
  wide: "{ id, name: 'item', price, active: true, next }",
}

// Each builder is written out on its own so that its call sites stay
// monomorphic. A store list: alloc the fields, link to the previous
// object, release the previous handle; only the head's handle lives.
function storeListSmall(store, n) {
  let prev = null
  for (let i = 0; i < n; i++) {
    const h = store.alloc({ i })
    h.set('next', prev)
    if (prev !== null) prev.release()
    prev = h
  }
  return prev
}

function storeListWide(store, n) {
  let prev = null
  for (let i = 0; i < n; i++) {
    const h = store.alloc({ id: i, name: 'item', price: i + 0.5, active: true })
    h.set('next', prev)
    if (prev !== null) prev.release()
    prev = h
  }
  return prev
}

function v8ListSmall(n) {
  let prev = null
  for (let i = 0; i < n; i++) prev = { i, next: prev }
  return prev
}

function v8ListWide(n) {
  let prev = null
  for (let i = 0; i < n; i++) prev = { id: i, name: 'item', price: i + 0.5, active: true, next: prev }
  return prev
}

/** Walks a store list from `head`: its length and the sum of its numbers. */
function walkStoreList(head, key) {
  let length = 0
  let sum = 0
  let h = head
  while (h !== null) {
    length++
    sum += h.get(key)
    const next = h.get('next')
    if (h !== head) h.release()
    h = next
  }
  return { length, sum }
}

function walkV8List(head, key) {
  let length = 0
  let sum = 0
  for (let o = head; o !== null; o = o.next) {
    length++
    sum += o[key]
  }
  return { length, sum }
}

/** The child's side: one kind ('store' or 'v8'), one shape. */
async function memoryChild(kind, shape) {
  const n = MEMORY_N
  const store = kind === 'store' ? newStore({ manual: true }) : null
  await settle(store)
  const usageBefore = process.memoryUsage()
  const before = process.memoryUsage.rss()
  let head
  if (kind === 'store') head = shape === 'small' ? storeListSmall(store, n) : storeListWide(store, n)
  else head = shape === 'small' ? v8ListSmall(n) : v8ListWide(n)
  await settle(store)
  const after = process.memoryUsage.rss()
  const usageAfter = process.memoryUsage()
  const stats = store === null ? null : store.stats()
  // The list is whole: n objects, numbered n-1 down to 0.
  const key = shape === 'small' ? 'i' : 'id'
  const walked = kind === 'store' ? walkStoreList(head, key) : walkV8List(head, key)
  check(walked.length === n && walked.sum === (n * (n - 1)) / 2, `${kind} ${shape} list: ${JSON.stringify(walked)}`)
  if (stats !== null) check(stats.objects === n, `the store holds ${stats.objects} objects, not ${n}`)
  return {
    kind, shape, n, rssBefore: before, rssAfter: after, rssPerObject: (after - before) / n,
    statsBytes: stats && stats.bytes, statsPerObject: stats && stats.bytes / n,
    usageBefore, usageAfter,
  }
}

async function memory() {
  section('memory', `1. Memory per object: ${count(MEMORY_N)} objects alive in a linked list, ` +
    'RSS growth after full collections / N (a child process each)')
  const details = {}
  for (const shape of ['small', 'wide']) {
    log(`1. memory: ${count(MEMORY_N)} V8 objects ${SHAPES[shape]}`)
    const v8 = child(`memory-v8-${shape}`)
    log(`1. memory: ${count(MEMORY_N)} store objects ${SHAPES[shape]}`)
    const store = child(`memory-store-${shape}`)
    details[shape] = { v8, store }
    row(`${SHAPES[shape]}: RSS growth / N`, 'B/object', v8.rssPerObject, store.rssPerObject)
    const share = store.statsPerObject / store.rssPerObject
    row('  store.stats().bytes / N', 'B/object', null, store.statsPerObject,
      `${share.toFixed(2)}x the store's RSS growth (target: 0.90x to 1.10x)`)
  }
  results.sections.memory.details = details
  printTable('memory', 'V8')
}

// -------------------------------------------------------- 2. building --
//
// ns per object to build a linked list of BUILD_N objects: for the store,
// alloc(fields) + one reference set('next', prev) + release() of the
// previous handle; for V8, the object literal linking to the previous one.

function buildStoreSmall(store, n) {
  const t0 = now()
  const head = storeListSmall(store, n)
  const ns = ((now() - t0) * 1e6) / n
  check(head.get('i') === n - 1 && store.stats().objects === n, 'store build { i, next }')
  head.release()
  return ns
}

/** The same list built in a scope: scope.alloc(fields) + set + release; the head escapes. */
function buildStoreScoped(store, n) {
  const t0 = now()
  const head = store.scope((scope) => {
    let prev = null
    for (let i = 0; i < n; i++) {
      const h = scope.alloc({ i })
      h.set('next', prev)
      if (prev !== null) prev.release()
      prev = h
    }
    return scope.escape(prev)
  })
  const ns = ((now() - t0) * 1e6) / n
  check(head.get('i') === n - 1 && store.stats().objects === n && store.stats().scopedRoots === 0, 'store build in a scope')
  head.release()
  return ns
}

function buildStoreWide(store, n) {
  const t0 = now()
  const head = storeListWide(store, n)
  const ns = ((now() - t0) * 1e6) / n
  check(head.get('id') === n - 1 && store.stats().objects === n, 'store build (5 fields)')
  head.release()
  return ns
}

function buildV8Small(n) {
  const t0 = now()
  const head = v8ListSmall(n)
  const ns = ((now() - t0) * 1e6) / n
  check(head.i === n - 1, 'V8 build { i, next }')
  return ns
}

function buildV8Wide(n) {
  const t0 = now()
  const head = v8ListWide(n)
  const ns = ((now() - t0) * 1e6) / n
  check(head.id === n - 1, 'V8 build (5 fields)')
  return ns
}

async function building() {
  section('building', `2. Building a linked list: ns per object, ${count(BUILD_N)} objects per run, median of ${RUNS}`)
  const store = newStore({ manual: true })
  log(`2. building ${SHAPES.small}`)
  const v8Small = await measure(() => buildV8Small(BUILD_N))
  const storeSmall = await measure(() => buildStoreSmall(store, BUILD_N), store)
  row(`${SHAPES.small}: alloc + set('next') + release vs literal`, 'ns/object', v8Small.median, storeSmall.median)
  log(`2. building ${SHAPES.small} in a scope`)
  const storeScoped = await measure(() => buildStoreScoped(store, BUILD_N), store)
  row(`${SHAPES.small}: the same in a scope (scope.alloc)`, 'ns/object', v8Small.median, storeScoped.median)
  log(`2. building ${SHAPES.wide}`)
  const v8Wide = await measure(() => buildV8Wide(BUILD_N))
  const storeWide = await measure(() => buildStoreWide(store, BUILD_N), store)
  row(`${SHAPES.wide}: alloc + set('next') + release vs literal`, 'ns/object', v8Wide.median, storeWide.median)
  results.sections.building.details = { v8Small, storeSmall, storeScoped, v8Wide, storeWide }
  await store.close()
  printTable('building', 'V8')
}

// -------------------------------------------------------- 3. per call --
//
// ns per call, CALLS calls per run, against the Map operation written the
// same way. Each loop consumes what the calls return and checks it, so
// that the JIT cannot drop them.

async function calls() {
  section('calls', `3. Per call: ns, ${count(CALLS)} calls per run, median of ${RUNS}`)
  const n = CALLS
  const store = newStore({ manual: true })
  const a = store.alloc({ n: 1 })
  const b = store.alloc()
  a.set('peer', b)
  const peer = {}
  const m = new Map([['n', 1], ['peer', peer]])
  const details = {}
  const pair = async (label, name, mapRun, storeRun) => {
    log(`3. ${label}`)
    const map = mapRun && (await measure(mapRun))
    const st = await measure(storeRun)
    details[name] = { map, store: st }
    row(label, 'ns/call', map ? map.median : null, st.median)
  }
  const perCall = (t0) => ((now() - t0) * 1e6) / n

  await pair('get() of a number vs Map.get', 'getNumber', () => {
    let s = 0
    const t0 = now()
    for (let i = 0; i < n; i++) s += m.get('n')
    const ns = perCall(t0)
    check(s === n, 'Map.get')
    return ns
  }, () => {
    let s = 0
    const t0 = now()
    for (let i = 0; i < n; i++) s += a.get('n')
    const ns = perCall(t0)
    check(s === n, 'get() of a number')
    return ns
  })
  await pair('set() of a number vs Map.set', 'setNumber', () => {
    const t0 = now()
    for (let i = 0; i < n; i++) m.set('x', i)
    const ns = perCall(t0)
    check(m.get('x') === n - 1, 'Map.set')
    return ns
  }, () => {
    const t0 = now()
    for (let i = 0; i < n; i++) a.set('x', i)
    const ns = perCall(t0)
    check(a.get('x') === n - 1, 'set() of a number')
    return ns
  })
  const mapGetObject = () => {
    let s = 0
    const t0 = now()
    for (let i = 0; i < n; i++) if (m.get('peer') === peer) s++
    const ns = perCall(t0)
    check(s === n, 'Map.get of an object')
    return ns
  }
  await pair('get() of a reference (its handle lives) vs Map.get of an object', 'getRef', mapGetObject, () => {
    let s = 0
    const t0 = now()
    for (let i = 0; i < n; i++) if (a.get('peer') === b) s++
    const ns = perCall(t0)
    check(s === n, 'get() of a reference')
    return ns
  })
  await pair('get() of a reference through a scoped handle, + release() vs Map.get of an object', 'getRefScoped', mapGetObject, () => store.scope((scope) => {
    const sa = scope.handle(a)
    let s = 0
    const t0 = now()
    for (let i = 0; i < n; i++) {
      const p = sa.get('peer')
      if (p.released === false) s++
      p.release()
    }
    const ns = perCall(t0)
    check(s === n && store.stats().scopedRoots === 1, 'scoped get() of a reference')
    return ns
  }))
  await pair('has() vs Map.has', 'has', () => {
    let s = 0
    const t0 = now()
    for (let i = 0; i < n; i++) if (m.has('n')) s++
    const ns = perCall(t0)
    check(s === n, 'Map.has')
    return ns
  }, () => {
    let s = 0
    const t0 = now()
    for (let i = 0; i < n; i++) if (a.has('n')) s++
    const ns = perCall(t0)
    check(s === n, 'has()')
    return ns
  })
  await pair('number set + get vs Map.set + Map.get, same key', 'setGet', () => {
    let s = 0
    const t0 = now()
    for (let i = 0; i < n; i++) {
      m.set('y', i)
      s += m.get('y')
    }
    const ns = perCall(t0)
    check(s === (n * (n - 1)) / 2, 'Map.set + Map.get')
    return ns
  }, () => {
    let s = 0
    const t0 = now()
    for (let i = 0; i < n; i++) {
      a.set('y', i)
      s += a.get('y')
    }
    const ns = perCall(t0)
    check(s === (n * (n - 1)) / 2, 'set() + get()')
    return ns
  })

  // alloc() and release() timed apart: n empty objects allocated into an
  // array, then their handles released; a store cycle frees them between
  // runs. The counterpart of alloc() is an empty literal into an array;
  // release() has none.
  log('3. alloc() (empty), then release()')
  const handles = new Array(n)
  const objects = new Array(n)
  const v8New = await measure(() => {
    const t0 = now()
    for (let i = 0; i < n; i++) objects[i] = {}
    const ns = perCall(t0)
    check(objects[n - 1] !== objects[0], '{}')
    return ns
  })
  objects.fill(null)
  const base = store.stats().objects
  const allocs = []
  const releases = []
  for (let r = 0; r <= RUNS; r++) {
    await settle(store)
    let t0 = now()
    for (let i = 0; i < n; i++) handles[i] = store.alloc()
    const allocNs = perCall(t0)
    check(store.stats().objects === base + n, `alloc(): ${store.stats().objects - base} objects`)
    t0 = now()
    for (let i = 0; i < n; i++) handles[i].release()
    const releaseNs = perCall(t0)
    check(handles[n - 1].released, 'release()')
    if (r > 0) {
      allocs.push(allocNs)
      releases.push(releaseNs)
    }
  }
  handles.fill(null)
  row('alloc() (empty) vs {} literal', 'ns/call', v8New.median, median(allocs))
  row('release()', 'ns/call', null, median(releases))
  details.alloc = { v8: v8New, store: { median: median(allocs), samples: allocs } }
  details.release = { store: { median: median(releases), samples: releases } }
  results.sections.calls.details = details
  a.release()
  b.release()
  await store.close()
  printTable('calls', 'Map / V8')
}

// ----------------------------------------------------- 4. many fields --
//
// get() and set() on one object with 5 to 100,000 fields (keys 'k' + i),
// against a Map with the same keys. Fields are a linear scan today, so
// the timed calls per run are scaled down as the field count grows
// (FIELD_WORK / fields calls, at most FIELD_CALLS). The keys are visited with a
// stride, so a run reads keys from all over the object, not only its first
// ones; set() writes the value the field already holds. Then a "catalog":
// 50,000 entries set one by one into one object, against a Map: total ms.

const STRIDE = 7919 // a prime: j * STRIDE % fields spreads over all the fields

function fieldGets(obj, keys, n, expected) {
  let s = 0
  const t0 = now()
  for (let j = 0; j < n; j++) s += obj.get(keys[j])
  const ns = ((now() - t0) * 1e6) / n
  check(s === expected, 'get() with many fields')
  return ns
}

function fieldSets(obj, keys, values, n) {
  const t0 = now()
  for (let j = 0; j < n; j++) obj.set(keys[j], values[j])
  const ns = ((now() - t0) * 1e6) / n
  check(obj.get(keys[n - 1]) === values[n - 1], 'set() with many fields')
  return ns
}

function mapGets(map, keys, n, expected) {
  let s = 0
  const t0 = now()
  for (let j = 0; j < n; j++) s += map.get(keys[j])
  const ns = ((now() - t0) * 1e6) / n
  check(s === expected, 'Map.get with many keys')
  return ns
}

function mapSets(map, keys, values, n) {
  const t0 = now()
  for (let j = 0; j < n; j++) map.set(keys[j], values[j])
  const ns = ((now() - t0) * 1e6) / n
  check(map.get(keys[n - 1]) === values[n - 1], 'Map.set with many keys')
  return ns
}

function catalogStore(store, n) {
  const t0 = now()
  const catalog = store.alloc()
  for (let i = 0; i < n; i++) catalog.set('sku' + i, i)
  const ms = now() - t0
  check(catalog.get('sku' + (n - 1)) === n - 1 && catalog.keys().length === n, 'store catalog')
  catalog.release()
  return ms
}

function catalogMap(n) {
  const t0 = now()
  const catalog = new Map()
  for (let i = 0; i < n; i++) catalog.set('sku' + i, i)
  const ms = now() - t0
  check(catalog.get('sku' + (n - 1)) === n - 1 && catalog.size === n, 'Map catalog')
  return ms
}

async function fields() {
  section('fields', `4. Many fields on one object: ns per call (median of ${RUNS}), and a catalog built field by field`)
  const store = newStore({ manual: true })
  const details = { counts: {} }
  const first = {}
  const last = {}
  for (const f of FIELD_COUNTS) {
    const n = Math.max(100, Math.min(FIELD_CALLS, Math.round(FIELD_WORK / f)))
    log(`4. ${count(f)} fields: building the object and the Map`)
    let t0 = now()
    const obj = store.alloc()
    for (let i = 0; i < f; i++) obj.set('k' + i, i)
    const storeBuildMs = now() - t0
    t0 = now()
    const map = new Map()
    for (let i = 0; i < f; i++) map.set('k' + i, i)
    const mapBuildMs = now() - t0
    const keys = new Array(n)
    const values = new Array(n)
    let expected = 0
    for (let j = 0; j < n; j++) {
      const k = (j * STRIDE) % f
      keys[j] = 'k' + k
      values[j] = k
      expected += k
    }
    log(`4. ${count(f)} fields: ${count(n)} get() and set() calls per run`)
    const mapGet = await measure(() => mapGets(map, keys, n, expected))
    const storeGet = await measure(() => fieldGets(obj, keys, n, expected))
    const mapSet = await measure(() => mapSets(map, keys, values, n))
    const storeSet = await measure(() => fieldSets(obj, keys, values, n))
    row(`get(), ${count(f)} fields vs Map.get, ${count(f)} keys`, 'ns/call', mapGet.median, storeGet.median, `${count(n)} calls/run`)
    row(`set(), ${count(f)} fields vs Map.set, ${count(f)} keys`, 'ns/call', mapSet.median, storeSet.median)
    details.counts[f] = { calls: n, storeBuildMs, mapBuildMs, mapGet, storeGet, mapSet, storeSet }
    if (f === FIELD_COUNTS[0]) Object.assign(first, { mapGet, storeGet, mapSet, storeSet })
    Object.assign(last, { f, mapGet, storeGet, mapSet, storeSet, storeBuildMs, mapBuildMs })
    obj.release()
  }
  const lo = count(FIELD_COUNTS[0])
  const hi = count(last.f)
  rows.push({ label: `get(): ${hi} fields / ${lo} fields`, unit: 'ratio', v8: last.mapGet.median / first.mapGet.median,
    store: last.storeGet.median / first.storeGet.median, ratio: null, note: '' })
  rows.push({ label: `set(): ${hi} fields / ${lo} fields`, unit: 'ratio', v8: last.mapSet.median / first.mapSet.median,
    store: last.storeSet.median / first.storeSet.median, ratio: null, note: '' })
  row(`building the ${hi}-field object (set('k' + i, i)) vs Map`, 'ms', last.mapBuildMs, last.storeBuildMs, 'one run')

  log(`4. catalog of ${count(CATALOG_N)} entries: Map`)
  const map = await measure(() => catalogMap(CATALOG_N))
  log(`4. catalog of ${count(CATALOG_N)} entries: store (${CATALOG_STORE_RUNS} run)`)
  const storeRuns = []
  for (let r = 0; r < CATALOG_STORE_RUNS; r++) {
    await settle(store)
    storeRuns.push(catalogStore(store, CATALOG_N))
  }
  row(`catalog: ${count(CATALOG_N)} x set('sku' + i, i) on one object vs Map.set`, 'ms total', map.median, median(storeRuns),
    `store: ${CATALOG_STORE_RUNS} run${CATALOG_STORE_RUNS > 1 ? 's' : ''}`)
  details.catalog = { map, store: storeRuns }
  results.sections.fields.details = details
  await store.close()
  printTable('fields', 'Map')
}

// --------------------------------------------------- 5. binary-trees --
//
// The Benchmarks Game's binary-trees program at depth 15: a stretch tree
// of depth 16, a long-lived tree of depth 15, then for depths 4, 6, ..., 14
// 2^(19 - depth) trees each, built bottom-up and walked (itemCheck). The
// store's version uses a store with its collector on (the trees are its
// garbage): a node is alloc(), its children set('left') / set('right'),
// and every handle is released once it is no longer needed. Each version
// runs in its own child process: wall time and peak RSS (peakRss()).

function v8Tree(depth) {
  return depth > 0 ? { left: v8Tree(depth - 1), right: v8Tree(depth - 1) } : { left: null, right: null }
}

function v8Check(node) {
  return node.left === null ? 1 : 1 + v8Check(node.left) + v8Check(node.right)
}

/** A tree of store objects (from a Store or a Scope); returns the root's handle (the only one left). */
function storeTree(store, depth) {
  const node = store.alloc()
  if (depth > 0) {
    const left = storeTree(store, depth - 1)
    node.set('left', left)
    left.release()
    const right = storeTree(store, depth - 1)
    node.set('right', right)
    right.release()
  }
  return node
}

/**
 * itemCheck over store objects. get() returns the child's canonical
 * handle (through a scoped handle, a new handle of its scope), which
 * nobody else holds (each node has one parent and its builder released
 * it), so it is released once its subtree is walked.
 */
function storeCheck(node) {
  const left = node.get('left')
  if (left === undefined) return 1
  const right = node.get('right')
  const c = 1 + storeCheck(left) + storeCheck(right)
  left.release()
  right.release()
  return c
}

/**
 * The same program with scoped handles (Store.prototype.scope): a tree is
 * built and walked in a scope of its own, whose close releases its root;
 * storeTree and storeCheck run unchanged on scoped handles (a scoped
 * handle's get() returns a handle of its scope).
 */
function storeTreesScoped(store, maxDepth, lines) {
  lines.push(store.scope((scope) => storeCheck(storeTree(scope, maxDepth + 1))))
  const outer = store.scope()
  const longLived = storeTree(outer, maxDepth)
  for (let depth = 4; depth <= maxDepth; depth += 2) {
    const iterations = 1 << (maxDepth - depth + 4)
    let c = 0
    for (let i = 0; i < iterations; i++) c += store.scope((scope) => storeCheck(storeTree(scope, depth)))
    lines.push(c)
  }
  lines.push(storeCheck(longLived))
  outer.close()
}

/**
 * This process's peak RSS, in bytes. On Linux, resourceUsage().maxRSS
 * (ru_maxrss) is wrong in a child process: exec keeps the parent's RSS at
 * the fork as its floor, so each child would report at least the parent's
 * size. VmHWM is the peak of the child's own memory.
 */
function peakRss() {
  try {
    const m = /^VmHWM:\s*(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))
    if (m !== null) return Number(m[1]) * 1024
  } catch {
    // not Linux: ru_maxrss it is
  }
  return process.resourceUsage().maxRSS * 1024
}

function treesChild(kind) {
  const maxDepth = TREES_DEPTH
  const store = kind === 'v8' ? null : newStore()
  // Written out twice (not through callbacks) so each version is the
  // plain program.
  const lines = []
  const t0 = now()
  if (store === null) {
    lines.push(v8Check(v8Tree(maxDepth + 1)))
    const longLived = v8Tree(maxDepth)
    for (let depth = 4; depth <= maxDepth; depth += 2) {
      const iterations = 1 << (maxDepth - depth + 4)
      let c = 0
      for (let i = 0; i < iterations; i++) c += v8Check(v8Tree(depth))
      lines.push(c)
    }
    lines.push(v8Check(longLived))
  } else if (kind === 'scoped') {
    storeTreesScoped(store, maxDepth, lines)
  } else {
    const stretch = storeTree(store, maxDepth + 1)
    lines.push(storeCheck(stretch))
    stretch.release()
    const longLived = storeTree(store, maxDepth)
    for (let depth = 4; depth <= maxDepth; depth += 2) {
      const iterations = 1 << (maxDepth - depth + 4)
      let c = 0
      for (let i = 0; i < iterations; i++) {
        const tree = storeTree(store, depth)
        c += storeCheck(tree)
        tree.release()
      }
      lines.push(c)
    }
    lines.push(storeCheck(longLived))
    longLived.release()
  }
  const ms = now() - t0
  return {
    kind, maxDepth, ms, peakRssBytes: peakRss(), maxRssBytes: process.resourceUsage().maxRSS * 1024, checks: lines,
    stats: store && (({ objects, bytes, collections }) => ({ objects, bytes, collections }))(store.stats()),
  }
}

/** The check sums the program must print at `maxDepth`. */
function expectedChecks(maxDepth) {
  const nodes = (d) => 2 ** (d + 1) - 1
  const sums = [nodes(maxDepth + 1)]
  for (let depth = 4; depth <= maxDepth; depth += 2) sums.push((1 << (maxDepth - depth + 4)) * nodes(depth))
  sums.push(nodes(maxDepth))
  return sums
}

async function trees() {
  section('trees', `5. binary-trees, depth ${TREES_DEPTH} (a child process each)`)
  log(`5. binary-trees ${TREES_DEPTH}: V8 objects`)
  const v8 = child('trees-v8')
  log(`5. binary-trees ${TREES_DEPTH}: store objects`)
  const store = child('trees-store')
  log(`5. binary-trees ${TREES_DEPTH}: store objects, scoped handles`)
  const scoped = child('trees-scoped')
  const expected = JSON.stringify(expectedChecks(TREES_DEPTH))
  check(JSON.stringify(v8.checks) === expected, `V8 binary-trees check sums ${JSON.stringify(v8.checks)}, expected ${expected}`)
  check(JSON.stringify(store.checks) === JSON.stringify(v8.checks),
    `store binary-trees check sums ${JSON.stringify(store.checks)}, V8's ${JSON.stringify(v8.checks)}`)
  check(JSON.stringify(scoped.checks) === JSON.stringify(v8.checks),
    `scoped binary-trees check sums ${JSON.stringify(scoped.checks)}, V8's ${JSON.stringify(v8.checks)}`)
  row('time', 'ms', v8.ms, store.ms, 'check sums equal')
  row('time, scoped handles', 'ms', v8.ms, scoped.ms, 'check sums equal')
  row('peak RSS (VmHWM)', 'MB', v8.peakRssBytes / 1e6, store.peakRssBytes / 1e6,
    `resourceUsage().maxRSS: ${fmt(v8.maxRssBytes / 1e6)} / ${fmt(store.maxRssBytes / 1e6)} MB (see peakRss())`)
  row('peak RSS, scoped handles', 'MB', v8.peakRssBytes / 1e6, scoped.peakRssBytes / 1e6)
  results.sections.trees.details = { v8, store, scoped }
  printTable('trees', 'V8')
}

// ------------------------------------------------------------------ main --

const SECTIONS = { memory, building, calls, fields, trees }
const NAMES = Object.keys(SECTIONS)

async function runChild(job) {
  const m = /^(memory|trees)-(store|scoped|v8)(?:-(small|wide))?$/.exec(job)
  if (m === null) throw new Error(`unknown child job ${job}`)
  const out = m[1] === 'memory' ? await memoryChild(m[2], m[3]) : treesChild(m[2])
  process.stdout.write(JSON.stringify(out) + '\n')
}

async function main() {
  const args = process.argv.slice(2)
  if (args[0] === '--child') return runChild(args[1])
  // Section names, or their numbers (1 to 5).
  const chosen = args.map((a) => (/^[1-5]$/.test(a) ? NAMES[a - 1] : a))
  const unknown = chosen.filter((a) => !NAMES.includes(a))
  if (unknown.length > 0) throw new Error(`unknown section ${unknown.join(', ')}; sections: ${NAMES.join(', ')}`)
  const names = chosen.length === 0 ? NAMES : NAMES.filter((n) => chosen.includes(n))

  const started = now()
  const info = machine()
  results.machine = info
  results.config = { SCALE, RUNS, MEMORY_N, BUILD_N, CALLS, FIELD_COUNTS, FIELD_CALLS, FIELD_WORK, CATALOG_N, CATALOG_STORE_RUNS, TREES_DEPTH }
  results.loadBefore = os.loadavg()
  log(`sections ${names.join(', ')}; scale ${SCALE}; node ${info.node}, ${info.nproc} CPUs, ${info.cpu}`)
  console.log(`weakstore objects vs V8 objects and Map — node ${info.node} (V8 ${info.v8}), ${info.nproc} CPUs ` +
    `(${info.cpu}), scale ${SCALE}, load avg ${results.loadBefore.map((x) => x.toFixed(2)).join(' ')}`)
  for (const name of names) await SECTIONS[name]()

  results.loadAfter = os.loadavg()
  results.totalSeconds = (now() - started) / 1000
  results.date = new Date().toISOString()
  const out = path.join(__dirname, names.length === NAMES.length ? 'objects.json' : `objects-${names.join('-')}.json`)
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n')
  console.log(`\ntotal ${results.totalSeconds.toFixed(1)} s; details in ${path.relative(process.cwd(), out)}`)
}

main().then(
  () => process.exit(0), // the store's collector threads must not keep us waiting
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
