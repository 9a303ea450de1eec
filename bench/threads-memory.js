'use strict'
// Benchmark 8, rows 8i-8m: the memory part of bench/threads.js's section
// ("threads" in bench/index.js). A 1,000,000-object binary tree is built
// once, then read by 1, 2 and 4 workers that attach the shared store (or
// keep a structured clone of it, built-in column); RSS is read after each
// step. Each mode runs in a fresh child process of this file
// (`node --expose-gc bench/threads-memory.js --memory <mode> <n> <steps>`),
// and its workers (roles mem-store, mem-idle, mem-plain) run this file too.

const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads')

const MiB = 2 ** 20
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

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
  if (data.role === 'mem-store') {
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
    throw new Error(`bench/threads-memory.js: unknown worker role ${data.role}`)
  }
}

/**
 * A worker running `file` (bench/threads.js or this file); resolves with it
 * once it has sent its first message.
 */
function startWorker(file, data) {
  const worker = new Worker(file, { workerData: data })
  return new Promise((resolve, reject) => {
    worker.once('error', reject)
    worker.once('message', (first) => {
      worker.off('error', reject)
      worker.on('error', (err) => {
        console.error(`bench/${path.basename(file)} worker:`, err)
        process.exitCode = 1
      })
      resolve({ worker, first })
    })
  })
}

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
      starting.push(startWorker(__filename, data)) // a plain tree is cloned here, in this thread, one worker after the other
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

/** A memory run in a child process (`node --expose-gc bench/threads-memory.js --memory ...`). */
function memoryChild(mode, n, steps, log) {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, ['--expose-gc', '--gc-memory-reducer-start-delay-ms=200', __filename, '--memory', mode, String(n), steps.join(',')],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 16 * MiB })
  if (r.status !== 0) throw new Error(`bench/threads-memory.js --memory ${mode} exited with ${r.status ?? r.signal}`)
  const out = JSON.parse(r.stdout.trim().split('\n').pop())
  out.wallMs = performance.now() - t0
  log(`8. memory, ${mode}: ${(out.wallMs / 1000).toFixed(1)} s`)
  return out
}

// ------------------------------------------------------------- section --

/**
 * Rows 8i-8m of bench/threads.js's section; `details` is its
 * results.details.threads.
 * @param ctx {{ row, log, MACRO_RUNS, SCALE, median }}
 */
function threadsMemory(ctx, details) {
  const { row, log, MACRO_RUNS, SCALE, median } = ctx
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

module.exports = { threadsMemory, startWorker }

// ---------------------------------------------------------- entry points --

// Only as a thread's or a process's main module: bench/threads.js requires this
// file in its main thread and in its own ('ops') workers too.
if (!isMainThread && require.main === module && workerData && typeof workerData.role === 'string' && workerData.role !== '') {
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
    console.error('bench/threads-memory.js: a memory child of bench/threads.js (--memory <mode> <n> <steps>); run `node bench/threads.js` for the section')
    process.exit(2)
  }
}
