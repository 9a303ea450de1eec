'use strict'
// The driver: worker threads running the fuzzer, the weighted choice of
// operations, the hang watchdog, the main loop, the drain at the end, and
// the summary (finish).

const { Worker, parentPort } = require('node:worker_threads')
const path = require('node:path')
const { exposeGc, opts, rand, int, chance, pick, S, stats, failures, stores, pendingCollects, liveWorkers } = require('./state')
const { log, USER, fail, report } = require('./contract')
const { newStore, dropStore, trackCollect, opCollect, opStats, opMisc, opInspect, opClose } = require('./ops-store')
const { opAlloc, opSet, opGet, opKeys, opWalk, opRelease, opForget, opCycles } = require('./ops-handle')
const { opScope } = require('./ops-scope')
const { opWeakRef, newRegistry, opRegistry } = require('./ops-finalization')
const { newMap, opMap } = require('./ops-map')

// The entry file, run again in worker threads.
const ENTRY = path.join(__dirname, '..', 'api-fuzz.js')

// ---- workers

function opWorker() {
  if (opts.worker || !opts.workers || liveWorkers.size >= 2) return
  const calls = opts.long ? 2000 + int(20000) : 1000 + int(3000)
  const seed = (opts.seed ^ (S.callNo * 2654435761)) >>> 0
  log(`worker seed=${seed} calls=${calls}`)
  stats.workers++
  const w = new Worker(ENTRY, { workerData: { seed, calls, long: false, strict: opts.strict, workers: false, quiet: true } })
  liveWorkers.add(w)
  let terminated = false
  if (chance(0.6)) {
    setTimeout(() => { terminated = true; stats.workersTerminated++; w.terminate() }, int(300)).unref()
  }
  w.on('message', (m) => {
    if (m && m.failures && m.failures.length) {
      for (const f of m.failures) failures.push({ ...f, what: `worker seed=${seed}: ${f.what}` })
      report(`worker seed=${seed} reported failures`)
    }
    if (m && m.known) for (const k in m.known) stats.known[k] = (stats.known[k] ?? 0) + m.known[k]
  })
  w.on('error', (err) => {
    if (err && /fuzz user error/.test(err.message)) return
    failures.push({ what: `worker seed=${seed} errored: ${err && err.message}`, call: S.callNo, op: 'worker' })
  })
  w.on('exit', (code) => {
    liveWorkers.delete(w)
    if (code !== 0 && !terminated) failures.push({ what: `worker seed=${seed} exited with ${code}`, call: S.callNo, op: 'worker' })
  })
}

// ---------------------------------------------------------------- driver

const OPS = [
  [opAlloc, 14], [opSet, 22], [opGet, 18], [opKeys, 3], [opRelease, 8], [opForget, 1],
  [opCycles, 3], [opWalk, 2], [opWeakRef, 7], [opRegistry, 10], [opMap, 10], [opCollect, 1.2],
  [opStats, 1], [opMisc, 1.5], [newStore, 0.15], [() => stores.length > 1 && dropStore(pick(stores)), 0.05],
  [newMap, 0.3], [newRegistry, 0.2], [opInspect, 0.5], [opClose, 0.03], [opScope, 2],
]
const totalWeight = OPS.reduce((s, [, w]) => s + w, 0)
function step() {
  let x = rand() * totalWeight
  for (const [fn, w] of OPS) {
    x -= w
    if (x < 0) return fn()
  }
  return OPS[0][0]()
}

const turn = () => new Promise((resolve) => setImmediate(resolve))
const heartbeat = new Int32Array(new SharedArrayBuffer(8))

function startWatchdog() {
  if (opts.worker) return
  const limit = Number(process.env.FUZZ_HANG_SECONDS ?? 120)
  const w = new Worker(`
    const { workerData } = require('node:worker_threads')
    const hb = workerData.hb
    let last = -1, since = Date.now()
    setInterval(() => {
      const now = Atomics.load(hb, 0)
      if (now !== last) { last = now; since = Date.now(); return }
      if (Atomics.load(hb, 1) === 1) return
      if (Date.now() - since > workerData.limit * 1000) {
        process.stderr.write('api-fuzz: HANG: no progress for ' + workerData.limit + ' s at call #' + now + ' (seed=' + workerData.seed + ')\\n')
        process.kill(process.pid, 'SIGKILL')
      }
    }, 1000)
  `, { eval: true, workerData: { hb: heartbeat, limit, seed: opts.seed } })
  w.unref()
}

process.on('uncaughtException', (err) => {
  if (err && err[USER]) { stats.userThrew++; return }
  fail('uncaught exception', err)
})
process.on('unhandledRejection', (err) => {
  if (err && err[USER]) return
  fail('unhandled rejection', err)
})

let finished = false
function finish(code) {
  if (finished) return
  finished = true
  Atomics.store(heartbeat, 1, 1)
  const summary = {
    seed: opts.seed, calls: S.callNo, apiCalls: stats.calls, ms: Date.now() - startedAt, failures: failures.length,
    threw: stats.threw, userThrew: stats.userThrew, callbacks: stats.callbacks, collects: stats.collects,
    collectsResolved: stats.collectsResolved, stores: stats.stores, workers: stats.workers,
    workersTerminated: stats.workersTerminated, hugeValues: stats.hugeValues, known: stats.known,
    errorKinds: stats.errorKinds, plainErrors: stats.plainErrors,
  }
  if (opts.worker) {
    parentPort.postMessage({ failures, known: stats.known })
    process.exit(0)
  }
  if (code === 0 && failures.length) code = 1
  if (failures.length > 1) {
    process.stderr.write(`api-fuzz: ${failures.length} failures:\n${failures.map((f) => `  call #${f.call}: ${f.what}\n    op: ${f.op}`).join('\n')}\n`)
  }
  const rss = Math.round(process.memoryUsage().rss / 2 ** 20)
  process.stdout.write(`api-fuzz: ${code === 0 ? 'ok' : 'FAILED'} seed=${opts.seed} calls=${S.callNo} api-calls=${stats.calls} time=${(summary.ms / 1000).toFixed(1)}s ` +
    `throws=${stats.threw} (hostile user code ${stats.userThrew}) callbacks=${stats.callbacks} collects=${stats.collectsResolved}/${stats.collects} ` +
    `stores=${stats.stores} workers=${stats.workers} (terminated ${stats.workersTerminated}) huge=${stats.hugeValues} rss=${rss}MB\n`)
  if (Object.keys(stats.known).length) process.stdout.write(`api-fuzz: known divergences: ${JSON.stringify(stats.known)}\n`)
  if (!opts.quiet) process.stdout.write(`api-fuzz: error kinds ${JSON.stringify(stats.errorKinds)}; plain Errors ${JSON.stringify(stats.plainErrors)}\n`)
  if (opts.json) process.stdout.write(`API_FUZZ_SUMMARY ${JSON.stringify(summary)}\n`)
  process.exit(code)
}

let startedAt = Date.now()
async function main() {
  if (!opts.worker) {
    process.stdout.write(`api-fuzz: seed=${opts.seed} calls=${opts.calls}${opts.long ? ' (long)' : ''}${opts.strict ? ' strict' : ''}\n`)
    startWatchdog()
  }
  startedAt = Date.now()
  newStore()
  let nextTurn = 50 + int(400)
  let nextGcToggle = 0
  let nextWorker = opts.long ? 20_000 + int(100_000) : Math.floor(opts.calls / 3)
  while (S.callNo < opts.calls) {
    S.callNo++
    Atomics.store(heartbeat, 0, S.callNo)
    try {
      step()
    } catch (err) {
      // The fuzzer's own bookkeeping threw: treat as a finding, with context.
      if (err && err[USER]) stats.userThrew++
      else fail('unexpected exception escaped an operation', err)
    }
    S.userCodeRan = false
    if (finished) return
    if (S.callNo >= nextTurn) {
      nextTurn = S.callNo + 50 + int(400)
      await turn()
      if (chance(0.05)) await new Promise((r) => setTimeout(r, int(5)))
    }
    if (opts.long && !opts.worker && !opts.quiet && S.callNo % 100_000 === 0) {
      process.stderr.write(`api-fuzz: ${S.callNo} calls, ${((Date.now() - startedAt) / 1000).toFixed(0)} s, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB, callbacks ${stats.callbacks}, collects ${stats.collectsResolved}/${stats.collects}\n`)
    }
    if (S.callNo >= nextGcToggle) {
      nextGcToggle = S.callNo + 1000 + int(4000)
      exposeGc(chance(0.2))
    }
    if (S.callNo >= nextWorker) {
      nextWorker = S.callNo + (opts.long ? 50_000 + int(100_000) : opts.calls)
      opWorker()
    }
  }
  // Drain: every collect() must resolve; callbacks get delivered.
  log('drain')
  const deadline = Date.now() + 60_000
  for (const s of stores) trackCollect(s.store.collect(), s)
  while (pendingCollects.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  if (pendingCollects.size > 0) {
    const t = [...pendingCollects][0]
    fail(`${pendingCollects.size} collect() promises never resolved (first from call #${t.call} on ${t.store})`)
  }
  // Let workers finish or be terminated.
  const wdeadline = Date.now() + 60_000
  while (liveWorkers.size > 0 && Date.now() < wdeadline) await new Promise((r) => setTimeout(r, 20))
  if (liveWorkers.size > 0) fail(`${liveWorkers.size} worker(s) never finished`)
  finish(0)
}
S.finish = finish

module.exports = { main, finish, fail }
