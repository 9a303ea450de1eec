'use strict'
// Short modes of the JavaScript API fuzzer, the threads fuzzer and the soak test (fuzz/), and
// the exit / worker faults that __test__/process.test.js does not cover.
// Everything runs in a child process, so that a crash or an abort shows up
// as a failed exit status (or a signal) instead of killing the test runner.
// See docs/TESTING.md, "JavaScript API fuzzer and soak".
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const root = path.resolve(__dirname, '..')

function run(args, { timeout = 120_000, env = {} } = {}) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, {
    cwd: root, encoding: 'utf8', timeout, env: { ...process.env, ...env }, maxBuffer: 64 << 20,
  })
  result.wallMs = Number(process.hrtime.bigint() - started) / 1e6
  return result
}

function assertClean(result) {
  assert.equal(result.error, undefined, `child did not finish: ${result.error}\n${result.stdout}\n${result.stderr}`)
  assert.equal(result.signal, null, `child killed by ${result.signal}\n${result.stdout}\n${result.stderr}`)
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`)
}

function summary(result, tag) {
  const line = result.stdout.split('\n').find((l) => l.startsWith(`${tag} `))
  assert.ok(line, `no ${tag} line in\n${result.stdout}`)
  return JSON.parse(line.slice(tag.length + 1))
}

test('API fuzzer, short mode: no crash, every throw keeps the contract, the model holds', (t) => {
  const seed = process.env.SEED ?? '20261123'
  const calls = process.env.CALLS ?? '25000'
  const result = run(['--expose-gc', 'fuzz/api-fuzz.js', `--seed=${seed}`, `--calls=${calls}`, '--json', '--quiet'])
  assertClean(result)
  const s = summary(result, 'API_FUZZ_SUMMARY')
  t.diagnostic(`seed ${s.seed}: ${s.calls} calls in ${s.ms} ms, ${s.threw} throws, ${s.callbacks} callbacks, ${s.collectsResolved} collects, known ${JSON.stringify(s.known)}`)
  assert.equal(s.failures, 0)
  assert.ok(s.calls >= Number(calls))
  assert.ok(s.callbacks > 0, 'cleanup callbacks ran')
  assert.equal(s.collectsResolved, s.collects, 'every collect() resolved')
})

test('soak, short mode: 200,000 operations without collect(), callbacks delivered, memory bounded', (t) => {
  const result = run(['fuzz/soak.js', '--short', '--json'])
  assertClean(result)
  const s = summary(result, 'SOAK_SUMMARY')
  t.diagnostic(`${s.ops} ops in ${s.ms} ms; ${s.collections} cycles, ${s.callbacks} callbacks; RSS ${(s.endRss / 2 ** 20).toFixed(0)} MB (peak ${(s.peakRss / 2 ** 20).toFixed(0)} MB); ${s.objects} objects live`)
  assert.ok(s.collections >= 5, 'the allocation budget started cycles on its own')
  assert.ok(s.callbacks > 0, 'cleanup callbacks were delivered without collect()')
  assert.ok(s.objects < 150_000, `live objects stay bounded (${s.objects})`)
  assert.ok(s.peakRss < 1024 * 2 ** 20, 'RSS stays under 1 GiB')
})

test('threads fuzzer, short mode: main + 3 workers on one shared store pass ids and pin names; nothing leaks', (t) => {
  const seed = process.env.SEED ?? '20261124'
  const ops = process.env.THREADS_OPS ?? '2500'
  const result = run(['--expose-gc', 'fuzz/threads-fuzz.js', `--seed=${seed}`, `--ops=${ops}`, '--json', '--quiet'], { timeout: 60_000 })
  assertClean(result)
  const s = summary(result, 'THREADS_FUZZ_SUMMARY')
  t.diagnostic(`seed ${s.seed}: ${s.ops} ops on ${s.spawned} workers + main (${s.terminated} terminated) in ${s.ms} ms; resolve ${s.resolveHit} hit / ${s.resolveMiss} miss, pinned ${s.pinnedHit} / ${s.pinnedMiss}, ${s.callbacks} callbacks, ${s.collects} collects, ${s.reattaches} re-attaches; throws ${JSON.stringify(s.throws)}; end ${JSON.stringify(s.end)}`)
  assert.equal(s.failures, 0)
  assert.ok(s.ops >= 3 * Number(ops), 'the threads that were not terminated ran their ops')
  assert.ok(s.resolveHit > 0 && s.pinnedHit > 0, 'ids and pin names crossed threads and resolved')
  assert.ok(s.callbacks > 0, 'cleanup callbacks ran')
  assert.equal(s.terminated, 1, 'a worker was terminated and replaced')
  assert.equal(s.end.attached, 1)
  assert.equal(s.end.reachable, s.end.objectsBeforeWalk, 'what is left is what the pins and the main thread reach')
  for (const k of ['objects', 'handles', 'cells', 'pending', 'anomalies']) assert.equal(s.end[k], 0, k)
})

test('exit with 200,000 pending callbacks and a cycle in flight: extra exit time vs an empty script', (t) => {
  // Each child prints performance.now() (ms since it started) as its last
  // act; the rest of its wall time is start-up before that clock, plus exit.
  const measure = (source) => {
    const r = run(['--expose-gc', '-e', source])
    assertClean(r)
    const scriptMs = Number(r.stdout.trim().split('\n').pop())
    return { r, overhead: r.wallMs - scriptMs }
  }
  const scenario = `
    const { Store, FinalizationRegistry } = require('.')
    const store = new Store({ budget: 1 << 20 })
    const reg = new FinalizationRegistry(() => {})
    const keep = []
    for (let i = 0; i < 200000; i++) {
      const h = store.alloc({ i, b: Buffer.alloc(32) })
      reg.register(h, { i })
      if (i % 10 === 0) keep.push(h); else h.release()
    }
    // A long live chain, so that a cycle takes a while; then allocate until
    // the budget has started one: it is in flight when the script ends.
    for (let i = 1; i < keep.length; i++) keep[i].set('prev', keep[i - 1])
    const t0 = Date.now()
    while (store.stats().phase === 'idle' && Date.now() - t0 < 10000) store.alloc({ b: Buffer.alloc(1024) }).release()
    store.collect()
    const s = store.stats()
    console.error('pending', s.pendingFinalizations, 'cells', s.finalizationCells, 'phase', s.phase)
    console.log(performance.now())
  `
  const runs = 2
  let extra = 0
  for (let i = 0; i < runs; i++) {
    const base = measure('console.log(performance.now())')
    const load = measure(`require('.'); console.log(performance.now())`)
    const full = measure(scenario)
    extra += full.overhead - base.overhead
    if (i === 0) t.diagnostic(`exit overhead: empty script ${base.overhead.toFixed(0)} ms, require only ${load.overhead.toFixed(0)} ms, scenario ${full.overhead.toFixed(0)} ms (${full.r.stderr.trim()})`)
  }
  t.diagnostic(`extra exit time with 200,000 pending registrations and a cycle in flight: ${(extra / runs).toFixed(0)} ms (mean of ${runs})`)
  // Not asserted strictly: only that it finished within the spawn timeout.
})

test('a worker terminated while a cycle marks objects it allocated and its registries have pending callbacks', (t) => {
  const worker = `
    const { parentPort } = require('node:worker_threads')
    const { Store, FinalizationRegistry, WeakMap } = require(${JSON.stringify(root)})
    const store = new Store({ budget: 4 << 20, threads: 2 })
    const regs = [new FinalizationRegistry(() => {}), new FinalizationRegistry(() => {})]
    const map = new WeakMap()
    const keep = []
    let prev = null
    for (let i = 0; i < 100000; i++) {
      const h = store.alloc({ i, prev })
      if (i % 2 === 0) { keep.push(h); prev = h } else { regs[i & 3 ? 0 : 1].register(h, store.alloc({ held: i })); map.set(h, { i }); h.release() }
    }
    // Allocate (the budget starts cycles; this thread never yields, so the
    // pump cannot deliver) until a cycle is under way over the 50,000-object
    // chain, or until callbacks are queued.
    const mode = ${'${MODE}'}
    const busy = mode === 'marking' ? () => store.stats().phase === 'idle' : () => store.stats().pendingFinalizations === 0
    const t0 = Date.now()
    while (busy() && Date.now() - t0 < 20000) store.alloc({ b: Buffer.alloc(4096) }).release()
    const s = store.stats()
    parentPort.postMessage(s.phase + ', pending ' + s.pendingFinalizations)
    while (true) {} // busy until terminated
  `
  for (const mode of ['marking', 'pending']) {
    const result = run(['-e', `
      const { Worker } = require('node:worker_threads')
      let done = 0
      const rounds = 2
      for (let i = 0; i < rounds; i++) {
        const w = new Worker(${JSON.stringify(worker)}.replace('\${MODE}', ${JSON.stringify(JSON.stringify(mode))}), { eval: true })
        w.on('error', (e) => { console.error(e); process.exit(1) })
        w.once('message', (m) => { console.error('${mode}', m); w.terminate().then(() => { if (++done === rounds) console.log('terminated', done) }) })
      }
    `])
    assertClean(result)
    t.diagnostic(`${mode}: workers terminated at: ${result.stderr.trim().split('\n').map((l) => l.slice(mode.length + 1)).join('; ')}`)
    assert.equal(result.stdout.trim(), 'terminated 2', result.stderr)
    assert.doesNotMatch(result.stderr, /idle, pending 0/, 'the worker was terminated mid-cycle or with callbacks queued')
  }
})

test('process.exit() inside a worker while its store has a cycle in flight and callbacks queued', () => {
  const result = run(['-e', `
    const { Worker } = require('node:worker_threads')
    const w = new Worker(\`
      const { Store, FinalizationRegistry } = require(${JSON.stringify(root)})
      const store = new Store({ budget: 64 * 1024 })
      const reg = new FinalizationRegistry(() => { process.exit(3) })
      for (let i = 0; i < 50000; i++) { const h = store.alloc({ b: Buffer.alloc(16) }); reg.register(h, i); h.release() }
      store.collect()
    \`, { eval: true })
    w.on('error', (e) => { console.error(e); process.exit(1) })
    w.on('exit', (code) => console.log('worker exit', code))
  `])
  assertClean(result)
  assert.equal(result.stdout.trim(), 'worker exit 3')
})

test('a registry collected while callbacks for it are queued: none run, held objects are freed', () => {
  const result = run(['--expose-gc', '-e', `
    const { Store, FinalizationRegistry } = require('.')
    const store = new Store({ budget: 1024 })
    let calls = 0
    const box = { reg: new FinalizationRegistry(() => { calls++ }) }
    const targets = []
    for (let i = 0; i < 20000; i++) {
      const h = store.alloc()
      const held = i % 2 ? store.alloc({ i }) : { i } // handle held values own a root in the cell
      box.reg.register(h, held)
      targets.push(h)
      if (i % 2) held.release()
    }
    // Next job (the registry is no longer kept alive by this job's WeakRefs):
    // release the targets, let the budget start cycles and wait, without
    // yielding (so nothing is delivered), until the cells fired; then let V8
    // collect the registry.
    setImmediate(() => {
      for (const h of targets) h.release()
      targets.length = 0
      const t0 = Date.now()
      while (store.stats().pendingFinalizations < 20000 && Date.now() - t0 < 20000) store.alloc().release()
      const pending = store.stats().pendingFinalizations
      box.reg = null
      gc()
      ;(async () => {
        await store.collect()
        await store.collect()
        const s = store.stats()
        console.log(JSON.stringify({ pending: pending >= 20000, calls, cells: s.finalizationCells, objects: s.objects, queued: s.pendingFinalizations }))
      })()
    })
  `])
  assertClean(result)
  assert.deepEqual(JSON.parse(result.stdout.trim()), { pending: true, calls: 0, cells: 0, objects: 0, queued: 0 })
})

// Regression tests for the bugs the fuzzer found (fixed in 7df551b).
test('collect() settles even if nothing else references its store (V8 GCs while it is pending)', () => {
  const result = run(['-e', `
    const v8 = require('node:v8'); const vm = require('node:vm')
    v8.setFlagsFromString('--expose-gc'); const majorGC = vm.runInNewContext('gc')
    const { Store } = require('.')
    ;(async () => {
      const store = new Store({ manual: true, threads: 1 })
      const keep = Array.from({ length: 300000 }, () => store.alloc())
      for (let i = 1; i < keep.length; i++) keep[i].set('prev', keep[i - 1])
      await store.collect()
      clearInterval(gcs)
      console.log('resolved', keep.length)
    })()
    // Major GCs, as V8 may run at any time while the cycle is in flight.
    const gcs = setInterval(majorGC, 2)
  `], { timeout: 20_000 })
  assertClean(result)
  assert.equal(result.stdout.trim(), 'resolved 300000')
})

test('register() inside a cleanup callback does not take over a callback pending in the same batch', () => {
  const result = run(['-e', `
    const { Store, FinalizationRegistry } = require('.')
    ;(async () => {
      const store = new Store({ manual: true })
      const seen = []
      let keep
      const reg = new FinalizationRegistry((held) => {
        seen.push(held)
        if (held === 'A') { keep = store.alloc(); reg.register(keep, 'NEW') }
      })
      const a = store.alloc(), b = store.alloc()
      reg.register(a, 'A'); reg.register(b, 'B')
      a.release(); b.release()
      await store.collect()
      console.log(JSON.stringify(seen))
    })()
  `])
  assertClean(result)
  assert.equal(result.stdout.trim(), '["A","B"]')
})

test('unregister() inside a cleanup callback cancels a callback pending in the same batch, as the built-in does', () => {
  const result = run(['-e', `
    const { Store, FinalizationRegistry } = require('.')
    ;(async () => {
      const store = new Store({ manual: true })
      const seen = []
      const tokA = {}, tokB = {}
      let ret
      const reg = new FinalizationRegistry((held) => {
        seen.push(held)
        ret = reg.unregister(held === 'A' ? tokB : tokA)
      })
      const a = store.alloc(), b = store.alloc()
      reg.register(a, 'A', tokA); reg.register(b, 'B', tokB)
      a.release(); b.release()
      await store.collect()
      console.log(JSON.stringify({ seen, ret }))
    })()
  `])
  assertClean(result)
  const { seen, ret } = JSON.parse(result.stdout.trim())
  assert.equal(seen.length, 1, 'the built-in runs one callback: the other was unregistered')
  assert.equal(ret, true)
})

test('strings with lone surrogates are refused by Handle, kept exactly by WeakMap', () => {
  // They used to pass through UTF-8 as U+FFFD: values changed and distinct
  // keys collided.
  const result = run(['-e', `
    const { Store, WeakMap } = require('.')
    const h = new Store({ manual: true }).alloc()
    const refused = (f) => { try { f(); return false } catch (e) { return e instanceof TypeError } }
    h.set('\\ufffd', 2)
    const m = new WeakMap([[h, 'a\\udc00b']])
    console.log(JSON.stringify({
      key: refused(() => h.set('\\ud800', 1)), value: refused(() => h.set('v', 'a\\udc00b')),
      get: h.get('\\ud800'), has: h.has('\\ud800'), kept: h.get('\\ufffd'), keys: h.keys(), map: m.get(h) === 'a\\udc00b',
    }))
  `])
  assertClean(result)
  assert.deepEqual(JSON.parse(result.stdout.trim()), { key: true, value: true, has: false, kept: 2, keys: ['\ufffd'], map: true })
})
