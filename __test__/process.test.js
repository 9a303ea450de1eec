'use strict'
// Process exit and worker threads, each in a child process so that a crash
// shows up as a failed exit status instead of killing the test runner.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const root = path.resolve(__dirname, '..')

function run(source, args = ['--expose-gc']) {
  const result = spawnSync(process.execPath, [...args, '-e', source], {
    cwd: root, encoding: 'utf8', timeout: 60_000,
  })
  return result
}

function assertClean(result, expectedStdout) {
  assert.equal(result.error, undefined, `child did not finish: ${result.error}`)
  assert.equal(result.signal, null, `child killed by ${result.signal}\n${result.stderr}`)
  assert.equal(result.status, 0, result.stderr)
  if (expectedStdout !== undefined) assert.equal(result.stdout.trim(), expectedStdout)
}

test('exits normally with live objects, pending callbacks and a cycle in flight', () => {
  const result = run(`
    const { Store, FinalizationRegistry } = require('.')
    const store = new Store({ budget: 1 << 20 })
    const reg = new FinalizationRegistry(() => {})
    const keep = []
    for (let i = 0; i < 200000; i++) {
      const h = store.alloc({ i, b: Buffer.alloc(32) })
      reg.register(h, i)
      if (i % 10 === 0) keep.push(h); else h.release()
    }
    store.collect() // not awaited: the process must still exit
    console.log('done')
  `)
  assertClean(result, 'done')
})

test('an awaited collect() keeps the process alive until it resolves', () => {
  const result = run(`
    const { Store } = require('.')
    const store = new Store({ manual: true })
    store.alloc().release()
    store.collect().then((f) => console.log('freed', f.freed))
  `)
  assertClean(result, 'freed 1')
})

test('process.exit() from inside a cleanup callback', () => {
  const result = run(`
    const { Store, FinalizationRegistry } = require('.')
    const store = new Store({ manual: true })
    const reg = new FinalizationRegistry(() => { console.log('exiting'); process.exit(0) })
    for (let i = 0; i < 1000; i++) { const h = store.alloc(); reg.register(h, i); h.release() }
    store.collect()
  `)
  assertClean(result, 'exiting')
})

test('worker threads load and use the package', () => {
  const result = run(`
    const { Worker } = require('node:worker_threads')
    const w = new Worker(\`
      const { parentPort } = require('node:worker_threads')
      const { Store, WeakRef, FinalizationRegistry } = require(\${JSON.stringify(root)})
      ;(async () => {
        const store = new Store({ manual: true })
        let calls = 0
        const reg = new FinalizationRegistry(() => { calls++ })
        const a = store.alloc({ n: 1 }); const b = store.alloc({ a }); a.set('b', b)
        reg.register(a, 'a'); const r = new WeakRef(a)
        a.release(); b.release()
        await store.collect()
        parentPort.postMessage({ calls, gone: r.deref() === undefined })
      })()
    \`, { eval: true })
    w.on('message', (m) => console.log(JSON.stringify(m)))
    w.on('error', (e) => { console.error(e); process.exit(1) })
  `.replace('${JSON.stringify(root)}', JSON.stringify(root)))
  assertClean(result, '{"calls":1,"gone":true}')
})

test('terminating busy workers never crashes the process', () => {
  const result = run(`
    const { Worker } = require('node:worker_threads')
    const source = \`
      const { Store, FinalizationRegistry } = require(${JSON.stringify(root)})
      const store = new Store({ budget: 256 * 1024, threads: 2 })
      const reg = new FinalizationRegistry(() => {})
      const keep = []
      ;(function loop() {
        for (let i = 0; i < 5000; i++) {
          const h = store.alloc({ i, b: Buffer.alloc(64) })
          reg.register(h, i)
          if (i % 3 === 0) keep.push(h); else h.release()
          if (keep.length > 20000) keep.length = 0
        }
        store.collect()
        setImmediate(loop)
      })()
    \`
    let done = 0
    const rounds = 6
    for (let i = 0; i < rounds; i++) {
      const w = new Worker(source, { eval: true })
      w.on('error', (e) => { console.error(e); process.exit(1) })
      setTimeout(() => w.terminate().then(() => { if (++done === rounds) console.log('terminated', done) }), 50 + 40 * i)
    }
  `)
  assertClean(result, 'terminated 6')
})

test('no V8 gc exposed: collect() still collects released handles', () => {
  const result = run(`
    const { Store, WeakRef } = require('.')
    const store = new Store({ manual: true })
    const a = store.alloc(); const r = new WeakRef(a); a.release()
    setImmediate(async () => { await store.collect(); console.log(r.deref() === undefined) })
  `, [])
  assertClean(result, 'true')
})

test('a script may destructure the built-in names at its top level', () => {
  // Global lexical bindings of these names are uninitialised while the
  // package loads; it must not read them.
  const result = run(`
    const { Store, WeakRef, WeakMap, WeakSet, FinalizationRegistry } = require('.')
    const store = new Store({ manual: true })
    const k = store.alloc()
    const m = new WeakMap([[k, 1]])
    new FinalizationRegistry(() => {}).register(k, 1, {})
    console.log(new WeakRef(k).deref() === k, m.get(k), new WeakSet([k]).has(k))
  `)
  assertClean(result, 'true 1 true')
})
