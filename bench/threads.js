'use strict'
// Benchmark 8: one store shared between threads (bench/index.js, section
// "threads"). In the table, the "built-in" column is the baseline each row
// names, the "weakstore" column the shared case:
//   8a-8d  one thread's get()/set() on a small graph (1,000 objects with a
//          number, a double, a string and two references each): an
//          unshared store (built-in column) against a shared one (after
//          share(); weakstore column), both in the main thread, interleaved
//          run by run. ws/built-in is the cost of sharing (target: <= 1.10x);
//   8e-8h  the same loops in workers on the shared store: 1 worker (built-in
//          column) against 2 workers at once (weakstore column), aggregate
//          millions of operations per second; the ratio is the scaling;
//   8i-8m  memory: a 1,000,000-object binary tree built once (RSS growth),
//          then read by 1, 2 and 4 workers: weakstore workers attach the
//          shared store and walk a quarter of the tree each; plain workers
//          get the tree as JavaScript objects by structured clone
//          (workerData) and keep their copy (built-in column). Each memory
//          figure comes from a fresh child process (a process that built
//          one graph does not give its pages back for the next).
//
//   npm run bench                                   every section
//   BENCH_ONLY=threads npm run bench                this one (bench/results-threads.json)
//   node bench/threads.js                           the same as the line above
//   BENCH_THREADS_MEMORY_N=200000                   the tree's size for 8i-8m (default 1,000,000 x BENCH_SCALE)
//   BENCH_THREADS_WORKERS=1,2                       worker counts for 8j-8l
//
// Worker threads and the memory child processes run this same file.

const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads')

const MiB = 2 ** 20
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const GRAPH = 1000 // objects of the small graph (8a-8h)
const RING = 1000 // objects of the ring walked by 8d/8h, only its head held

// ------------------------------------------------------------ the loops --
// One function per operation, used by every variant (the handles are of one
// class, so each call site stays monomorphic); each returns ns per op.

function getNumber(hs, ops) {
  const n = hs.length
  let sum = 0
  const t0 = performance.now()
  for (let i = 0; i < ops; i++) sum += hs[i % n].get('n')
  const ns = ((performance.now() - t0) * 1e6) / ops
  if (!(sum >= 0)) throw new Error('getNumber: bad sum')
  return ns
}

function getRef(hs, ops) {
  const n = hs.length
  let hits = 0
  const t0 = performance.now()
  for (let i = 0; i < ops; i++) if (hs[i % n].get('next') === hs[(i + 1) % n]) hits++
  const ns = ((performance.now() - t0) * 1e6) / ops
  if (hits !== ops) throw new Error(`getRef: ${ops - hits} reads gave another handle`)
  return ns
}

function setNumber(hs, ops, base) {
  const n = hs.length
  const t0 = performance.now()
  for (let i = 0; i < ops; i++) hs[i % n].set('x', base + i)
  return ((performance.now() - t0) * 1e6) / ops
}

/** Follows `next` around a ring whose objects have no handle (but its head): a new handle per read, released. */
function walkRing(head, ops) {
  let at = head
  const t0 = performance.now()
  for (let i = 0; i < ops; i++) {
    const next = at.get('next')
    if (at !== head) at.release()
    at = next
  }
  const ns = ((performance.now() - t0) * 1e6) / ops
  if (at !== head) at.release()
  return ns
}

// The walk makes and releases a handle per read (~1.5 us): a tenth of the operations.
const SHARE = { 'get-number': 1, 'get-ref': 1, set: 1, walk: 0.1 }

const OPS = {
  'get-number': (g, ops) => getNumber(g.handles, ops),
  'get-ref': (g, ops) => getRef(g.handles, ops),
  set: (g, ops, base) => setNumber(g.handles, ops, base),
  walk: (g, ops) => walkRing(g.ring, ops),
}

/** The small graph: GRAPH objects, all held; a ring of RING objects, its head held. */
function buildSmall(store) {
  const handles = []
  for (let i = 0; i < GRAPH; i++) handles.push(store.alloc({ n: i, x: i / 4, name: `object-${i}` }))
  for (let i = 0; i < GRAPH; i++) {
    handles[i].set('next', handles[(i + 1) % GRAPH])
    handles[i].set('peer', handles[(i * 7 + 3) % GRAPH])
  }
  const ring = store.alloc({ n: 0 })
  let prev = ring
  for (let i = 1; i < RING; i++) {
    const h = store.alloc({ n: i })
    prev.set('next', h)
    if (prev !== ring) prev.release()
    prev = h
  }
  prev.set('next', ring)
  prev.release()
  return { handles, ring }
}

// -------------------------------------------------------- the tree (8i-) --
// Object i has children 2i+1 and 2i+2 (`left`, `right`), a number `i`, a
// double `x` and a short string `name`. Built depth-first: a few handles at
// a time.

function buildStoreTree(store, n) {
  const make = (i) => {
    const h = store.alloc({ i, x: i / 8, name: `node-${i}` })
    for (const [side, c] of [['left', 2 * i + 1], ['right', 2 * i + 2]]) {
      if (c < n) {
        const child = make(c)
        h.set(side, child)
        child.release()
      }
    }
    return h
  }
  return make(0)
}

function buildPlainTree(n) {
  const make = (i) => ({
    i, x: i / 8, name: `node-${i}`,
    left: 2 * i + 1 < n ? make(2 * i + 1) : null,
    right: 2 * i + 2 < n ? make(2 * i + 2) : null,
  })
  return make(0)
}

// Worker k walks the subtree of node 3 + k % 4 (the four grandchildren of
// the root: a quarter of the tree each), reading every field.
const START = [['left', 'left'], ['left', 'right'], ['right', 'left'], ['right', 'right']]

function walkStoreTree(root, k) {
  let at = root
  for (const side of START[k % 4]) {
    const next = at.get(side)
    if (at !== root) at.release()
    at = next
  }
  const stack = [at]
  let count = 0
  let sum = 0
  while (stack.length) {
    const h = stack.pop()
    sum += h.get('i') + h.get('x') + h.get('name').length
    count++
    const l = h.get('left')
    const r = h.get('right')
    if (l) stack.push(l)
    if (r) stack.push(r)
    h.release()
  }
  return { count, sum }
}

function walkPlainTree(root, k) {
  let at = root
  for (const side of START[k % 4]) at = at[side]
  const stack = [at]
  let count = 0
  let sum = 0
  while (stack.length) {
    const o = stack.pop()
    sum += o.i + o.x + o.name.length
    count++
    if (o.left) stack.push(o.left)
    if (o.right) stack.push(o.right)
  }
  return { count, sum }
}

// ----------------------------------------------------------- the worker --

function gcTwice() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc()
    globalThis.gc()
  }
}

/**
 * A settled heap for an RSS reading: full GCs a quarter second apart until
 * V8's memory reducer has shrunk the new space back (it grows to 32 MiB
 * while a graph is built or walked, and shrinks a few seconds after; the
 * memory children start it sooner with --gc-memory-reducer-start-delay-ms),
 * or 10 s.
 */
async function settleHeap() {
  const v8 = require('node:v8')
  const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0
  const t0 = performance.now()
  gcTwice()
  while (newSpace() > 2 * MiB && performance.now() - t0 < 10_000) {
    await sleep(250)
    gcTwice()
  }
  await sleep(250)
  gcTwice()
}

async function workerMain() {
  const ws = require('..')
  const data = workerData
  if (data.role === 'ops') {
    // 8e-8h: resolve the small graph by ids, then run what the main thread asks.
    const store = ws.Store.attach(data.shared)
    const g = { handles: data.ids.map((id) => store.resolve(id)), ring: store.resolve(data.ring) }
    parentPort.on('message', (m) => {
      if (m === 'close') {
        store.close().then(() => parentPort.close())
        return
      }
      parentPort.postMessage(OPS[m.op](g, m.ops, m.base))
    })
    parentPort.postMessage('ready')
  } else if (data.role === 'mem-store') {
    const store = ws.Store.attach(data.shared)
    const root = store.pinned('tree')
    const walked = walkStoreTree(root, data.k)
    root.release()
    await settleHeap()
    parentPort.postMessage({ walked, attached: store.stats().attached })
    parentPort.once('message', () => store.close().then(() => parentPort.close()))
  } else if (data.role === 'mem-idle') {
    const store = ws.Store.attach(data.shared)
    await settleHeap()
    parentPort.postMessage({ walked: { count: 0, sum: 0 }, attached: store.stats().attached })
    parentPort.once('message', () => store.close().then(() => parentPort.close()))
  } else if (data.role === 'mem-plain') {
    globalThis.keptTree = data.tree // the worker's own copy, kept
    const walked = walkPlainTree(data.tree, data.k)
    await settleHeap()
    parentPort.postMessage({ walked })
    parentPort.once('message', () => parentPort.close())
  } else {
    throw new Error(`bench/threads.js: unknown worker role ${data.role}`)
  }
}

/** A worker of this file; resolves with it once it has sent its first message. */
function startWorker(data) {
  const worker = new Worker(__filename, { workerData: data })
  return new Promise((resolve, reject) => {
    worker.once('error', reject)
    worker.once('message', (first) => {
      worker.off('error', reject)
      worker.on('error', (err) => {
        console.error('bench/threads.js worker:', err)
        process.exitCode = 1
      })
      resolve({ worker, first })
    })
  })
}

const request = (worker, message) => new Promise((resolve) => {
  worker.once('message', resolve)
  worker.postMessage(message)
})

// ------------------------------------------- memory (child processes) --

/** RSS of this process once its (main thread's) heap has settled. */
async function settledRss() {
  await settleHeap()
  return process.memoryUsage().rss
}

/**
 * One memory run in this (fresh) process: `mode` is 'store', 'plain' or
 * 'idle' (workers that load weakstore and attach an empty shared store);
 * RSS before the graph, after it, and after each step of workers.
 */
async function memoryRun(mode, n, steps) {
  const ws = require('..')
  const log = (...args) => console.error(`bench threads memory [${mode}]:`, ...args)
  const out = { mode, n, steps, rss: {} }
  const store = mode === 'plain' ? null : new ws.Store({ manual: true })
  const shared = store === null ? null : store.share()
  out.rss.before = await settledRss()
  let tree = null
  const t0 = performance.now()
  if (mode === 'store') {
    const root = buildStoreTree(store, n)
    store.pin('tree', root)
    root.release()
    await store.collect()
    const s = store.stats()
    out.storeBytes = s.bytes
    out.objects = s.objects
  } else if (mode === 'plain') {
    tree = buildPlainTree(n)
  }
  out.buildMs = performance.now() - t0
  out.rss.graph = await settledRss()
  out.heapUsed = process.memoryUsage().heapUsed
  log(`graph of ${n.toLocaleString('en')} built in ${out.buildMs.toFixed(0)} ms: RSS +${((out.rss.graph - out.rss.before) / MiB).toFixed(1)} MiB`)
  const workers = []
  out.walked = []
  for (const total of steps) {
    const t1 = performance.now()
    const starting = []
    for (let k = workers.length; k < total; k++) {
      const data = mode === 'plain' ? { role: 'mem-plain', tree, k } : { role: mode === 'store' ? 'mem-store' : 'mem-idle', shared, k }
      starting.push(startWorker(data)) // a plain tree is cloned here, in this thread, one worker after the other
    }
    for (const { worker, first } of await Promise.all(starting)) {
      workers.push(worker)
      out.walked.push(first.walked.count)
    }
    out.rss[`workers${total}`] = await settledRss()
    log(`${total} worker(s) up in ${(performance.now() - t1).toFixed(0)} ms: RSS +${((out.rss[`workers${total}`] - out.rss.graph) / MiB).toFixed(1)} MiB over the graph`)
  }
  if (store !== null) out.attached = store.stats().attached
  for (const w of workers) {
    w.postMessage('close')
    await new Promise((resolve) => w.once('exit', resolve))
  }
  if (store !== null) await store.close()
  if (tree === null && mode === 'plain') throw new Error('unreachable')
  return out
}

/** A memory run in a child process (`node --expose-gc bench/threads.js --memory ...`). */
function memoryChild(mode, n, steps, log) {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, ['--expose-gc', '--gc-memory-reducer-start-delay-ms=200', __filename, '--memory', mode, String(n), steps.join(',')],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 16 * MiB })
  if (r.status !== 0) throw new Error(`bench/threads.js --memory ${mode} exited with ${r.status ?? r.signal}`)
  const out = JSON.parse(r.stdout.trim().split('\n').pop())
  out.wallMs = performance.now() - t0
  log(`8. memory, ${mode}: ${(out.wallMs / 1000).toFixed(1)} s`)
  return out
}

// ------------------------------------------------------------- section --

/**
 * @param ctx {{ ws, settle, row, log, RUNS, MACRO_RUNS, SCALE, median, results }}
 */
async function threads(ctx) {
  const { ws, settle, row, log, RUNS, MACRO_RUNS, SCALE, median, results } = ctx
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve))
  const ops = Math.max(10_000, Math.round(1e6 * SCALE)) // operations per timed run (per thread; x SHARE)
  const names = Object.keys(OPS)
  const labels = {
    'get-number': 'get() of a number field',
    'get-ref': 'get() of a reference field (its handle alive)',
    set: 'set() of a number field',
    walk: 'get() of a reference, new handle each (walk + release())',
  }
  const details = { ops, graph: GRAPH, ring: RING }
  results.details.threads = details
  let base = 0

  // 8a-8d: one thread, unshared vs shared, interleaved (alternating which goes first).
  log(`8. threads: ${GRAPH.toLocaleString('en')}-object graph, ${ops.toLocaleString('en')} ops per run, unshared vs shared store`)
  const unshared = new ws.Store({ manual: true })
  const sharedStore = new ws.Store({ manual: true })
  const gu = buildSmall(unshared)
  const gs = buildSmall(sharedStore)
  const shared = sharedStore.share()
  const single = {}
  for (const op of names) single[op] = { unshared: [], shared: [] }
  await settle()
  for (let run = -1; run < RUNS; run++) { // run -1: warm-up, not kept
    for (const op of names) {
      const order = run % 2 === 0 ? [['unshared', gu], ['shared', gs]] : [['shared', gs], ['unshared', gu]]
      for (const [which, g] of order) {
        await nextTurn()
        const n = Math.round(ops * SHARE[op])
        const ns = OPS[op](g, n, (base += n))
        if (run >= 0) single[op][which].push(ns)
      }
    }
  }
  details.single = single
  row('8', 'threads — built-in column: 8a-d unshared store, 8e-h one worker, 8i-m plain JS clones', '', null, null)
  const ids = { 'get-number': '8a', 'get-ref': '8b', set: '8c', walk: '8d' }
  for (const op of names) {
    row(ids[op], `${labels[op]}, 1 thread: unshared vs shared store`, 'ns/op',
      median(single[op].unshared), median(single[op].shared))
  }

  // 8e-8h: the same loops in workers on the shared store: 1 worker vs 2 at once.
  log('8. threads: 1 worker vs 2 workers on the shared store')
  const startOps = () => startWorker({ role: 'ops', shared, ids: gs.handles.map((h) => h.id), ring: gs.ring.id })
    .then(({ worker }) => worker)
  const workers = [await startOps(), await startOps()]
  const multi = {}
  for (const op of names) multi[op] = { one: [], two: [], perThreadNs: [] }
  for (let run = -1; run < RUNS; run++) {
    for (const op of names) {
      for (const count of run % 2 === 0 ? [1, 2] : [2, 1]) {
        await nextTurn()
        const n = Math.round(ops * SHARE[op])
        const t0 = performance.now()
        const ns = await Promise.all(workers.slice(0, count).map((w) => request(w, { op, ops: n, base: (base += n) })))
        const wallMs = performance.now() - t0
        if (run < 0) continue
        const mops = (count * n) / wallMs / 1e3
        if (count === 1) multi[op].one.push(mops)
        else {
          multi[op].two.push(mops)
          multi[op].perThreadNs.push(ns)
        }
      }
    }
  }
  for (const w of workers) {
    w.postMessage('close')
    await new Promise((resolve) => w.once('exit', resolve))
  }
  details.multi = multi
  const mids = { 'get-number': '8e', 'get-ref': '8f', set: '8g', walk: '8h' }
  for (const op of names) {
    row(mids[op], `  ${labels[op]}, shared store: 1 worker vs 2 workers, aggregate`, 'Mops/s',
      median(multi[op].one), median(multi[op].two), `${os.availableParallelism?.() ?? os.cpus().length} CPUs`)
  }
  for (const h of gu.handles) h.release()
  for (const h of gs.handles) h.release()
  gu.ring.release()
  gs.ring.release()
  await unshared.close()
  await sharedStore.close()

  // 8i-8m: memory, each run a fresh child process per mode.
  const n = Math.max(1000, Math.round(Number(process.env.BENCH_THREADS_MEMORY_N || 1e6 * SCALE)))
  const steps = (process.env.BENCH_THREADS_WORKERS || '1,2,4').split(',').map(Number)
    .filter((x) => Number.isInteger(x) && x >= 1).sort((a, b) => a - b)
  const memoryRuns = []
  for (let run = 0; run < MACRO_RUNS; run++) {
    log(`8. memory: ${n.toLocaleString('en')}-object tree, workers ${steps.join(', ')}, run ${run + 1}/${MACRO_RUNS}`)
    const order = run % 2 === 0 ? ['store', 'plain', 'idle'] : ['plain', 'store', 'idle']
    const r = {}
    for (const mode of order) r[mode] = memoryChild(mode, n, steps, log)
    memoryRuns.push(r)
  }
  details.memory = memoryRuns
  const mib = (x) => x / MiB
  const graphSize = (mode) => median(memoryRuns.map((r) => mib(r[mode].rss.graph - r[mode].rss.before)))
  const perWorker = (mode, k) => median(memoryRuns.map((r) => mib(r[mode].rss[`workers${k}`] - r[mode].rss.graph) / k))
  const plainSize = graphSize('plain')
  const storeSize = graphSize('store')
  const storeBytes = median(memoryRuns.map((r) => mib(r.store.storeBytes)))
  row('8i', `${n.toLocaleString('en')}-object tree built once: RSS growth (plain JS vs shared store)`, 'MiB',
    plainSize, storeSize, `store stats().bytes ${storeBytes.toFixed(1)} MiB; graph size below = each column's RSS growth`)
  const letters = 'jklmnopq'
  steps.forEach((k, i) => {
    const p = perWorker('plain', k)
    const s = perWorker('store', k)
    const idle = perWorker('idle', k)
    const pct = (x, of) => `${((100 * x) / of).toFixed(1)}%`
    row(`8${letters[i]}`, `  ${k} worker(s) reading it: RSS per worker (clone kept vs attached + walked 1/4)`, 'MiB', p, s,
      `% of graph: plain ${pct(p, plainSize)}, ws ${pct(s, storeSize)} (ws: ${pct(s, storeBytes)} of stats().bytes; net of an idle worker ${pct(s - idle, storeSize)})`)
  })
  row(`8${letters[steps.length]}`, '  an idle worker (weakstore loaded, empty shared store attached): RSS per worker', 'MiB',
    null, median(steps.map((k) => perWorker('idle', k))), `at ${steps.join('/')} workers: ${steps.map((k) => perWorker('idle', k).toFixed(1)).join(' / ')} MiB`)
}

module.exports = { threads }

// ---------------------------------------------------------- entry points --

if (!isMainThread && workerData && typeof workerData.role === 'string' && workerData.role !== '') {
  workerMain().catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
} else if (isMainThread && require.main === module) {
  const mem = process.argv.indexOf('--memory')
  if (mem !== -1) {
    // A memory child: one JSON line on stdout.
    const [mode, n, steps] = process.argv.slice(mem + 1)
    memoryRun(mode, Number(n), steps.split(',').map(Number)).then(
      (out) => {
        console.log(JSON.stringify(out))
        process.exit(0)
      },
      (err) => {
        console.error(err)
        process.exit(1)
      },
    )
  } else {
    // `node bench/threads.js`: this section of bench/index.js alone.
    const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'index.js'), ...process.argv.slice(2)],
      { stdio: 'inherit', env: { ...process.env, BENCH_ONLY: 'threads' } })
    process.exit(r.status === null ? 1 : r.status)
  }
}
