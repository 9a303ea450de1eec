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
//   8i-8m  memory (bench/threads-memory.js): a 1,000,000-object binary tree
//          built once (RSS growth), then read by 1, 2 and 4 workers:
//          weakstore workers attach the shared store and walk a quarter of
//          the tree each; plain workers get the tree as JavaScript objects by
//          structured clone (workerData) and keep their copy (built-in
//          column). Each memory figure comes from a fresh child process (a
//          process that built one graph does not give its pages back for the
//          next).
//
//   npm run bench                                   every section
//   BENCH_ONLY=threads npm run bench                this one (bench/results-threads.json)
//   node bench/threads.js                           the same as the line above
//   BENCH_THREADS_MEMORY_N=200000                   the tree's size for 8i-8m (default 1,000,000 x BENCH_SCALE)
//   BENCH_THREADS_WORKERS=1,2                       worker counts for 8j-8l
//
// Worker threads of 8e-8h run this same file; the memory child processes
// and their workers run bench/threads-memory.js.

const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { isMainThread, parentPort, workerData } = require('node:worker_threads')
const { threadsMemory, startWorker } = require('./threads-memory')

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

// ----------------------------------------------------------- the worker --

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
  } else {
    throw new Error(`bench/threads.js: unknown worker role ${data.role}`)
  }
}

const request = (worker, message) => new Promise((resolve) => {
  worker.once('message', resolve)
  worker.postMessage(message)
})

// ------------------------------------------------------------- section --

/**
 * @param ctx {{ ws, settle, row, log, RUNS, MACRO_RUNS, SCALE, median, results }}
 */
async function threads(ctx) {
  const { ws, settle, row, log, RUNS, SCALE, median, results } = ctx
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
  const startOps = () => startWorker(__filename, { role: 'ops', shared, ids: gs.handles.map((h) => h.id), ring: gs.ring.id })
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

  // 8i-8m: memory, each run a fresh child process per mode (bench/threads-memory.js).
  threadsMemory(ctx, details)
}

module.exports = { threads }

// ---------------------------------------------------------- entry points --

if (!isMainThread && workerData && typeof workerData.role === 'string' && workerData.role !== '') {
  workerMain().catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
} else if (isMainThread && require.main === module) {
  // `node bench/threads.js`: this section of bench/index.js alone.
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'index.js'), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, BENCH_ONLY: 'threads' } })
  process.exit(r.status === null ? 1 : r.status)
}
