'use strict'
// Shared helpers for the Node tests (not a test file itself).

/** Resolves after the current job and one event-loop turn. */
const turn = () => new Promise((resolve) => setImmediate(resolve))

/** Runs `fn` in its own function scope, so nothing it creates stays on our stack. */
const scoped = (fn) => fn()

/**
 * The ending of the "new handle for an object whose old handle died" tests:
 * once `parent` no longer points at the child, only `child`'s root keeps
 * it; then both go and nothing is left. Returns the final stats.
 */
async function assertOnlyChildRootsIt(assert, store, parent, child) {
  parent.delete('child') // only the new handle's root keeps the child now
  await store.collect()
  assert.equal(child.get('v'), 1, 'the new handle still roots its object')
  assert.equal(store.stats().objects, 2)
  child.release()
  parent.release()
  await store.collect()
  const stats = store.stats()
  assert.equal(stats.objects, 0, 'no root was left behind')
  assert.equal(stats.anomalies, 0)
  return stats
}

/**
 * The addon's test-only exports (`holdPhase`, `heldPhase`,
 * `holdHandleDeaths`), read off the binding object that native.js loads.
 * Only a build with the Cargo feature `test-hooks` has them (`npm test`
 * builds one: `npm run build:test`); the loader and its types are generated
 * from the release build, which has none, so they are not declared there.
 */
function testHooks() {
  const native = require('../native.js')
  for (const name of ['holdPhase', 'heldPhase', 'holdHandleDeaths']) {
    if (typeof native[name] !== 'function') {
      throw new Error(`the addon was built without the test-hooks feature (it has no ${name}): run \`npm run build:test\``)
    }
  }
  return native
}

/**
 * Runs a full cycle of `store` and waits for it on this thread, without
 * letting the event loop turn: the cells it fires stay queued for this
 * thread, undelivered, until the caller's job ends.
 */
function cycleWithoutDelivery(store) {
  const native = require('../native.js')
  const st = require('../lib/store.js').stateOf(store)
  st.registrations.flush()
  const cycle = native.requestCollection(st.index)
  const pause = new Int32Array(new SharedArrayBuffer(4))
  while (native.completed(st.index) < cycle) Atomics.wait(pause, 0, 0, 1)
}

/**
 * Starts a worker thread that runs `body` (the source of an async function
 * body) with `Store`, `WeakRef`, `FinalizationRegistry`, `native` (the
 * addon), `workerData`, `threadId`, `send(message)` and `next()` (the next
 * message from the main thread) in scope. Returns `{ worker, next, send }`:
 * `next()` resolves with the worker's next message and rejects with its
 * error if it threw.
 */
function startWorker(body, workerData = undefined) {
  const { Worker } = require('node:worker_threads')
  const root = JSON.stringify(require('node:path').join(__dirname, '..'))
  const source = `
    const { parentPort, workerData, threadId } = require('node:worker_threads')
    const { Store, WeakRef, FinalizationRegistry, WeakMap } = require(${root})
    const native = require(${root} + '/native.js')
    const send = (m) => parentPort.postMessage(m)
    const inbox = []
    const waiting = []
    parentPort.on('message', (m) => (waiting.length ? waiting.shift()(m) : inbox.push(m)))
    const next = () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => waiting.push(r)))
    ;(async () => { ${body} })().catch((e) => send({ error: String(e && e.stack), code: e && e.code }))
  `
  const worker = new Worker(source, { eval: true, workerData })
  const inbox = []
  const waiting = []
  const deliver = (m) => (waiting.length ? waiting.shift() : (x) => inbox.push(x))(m)
  worker.on('message', (m) => deliver(m && m.error ? { failed: m } : { ok: m }))
  worker.on('error', (e) => deliver({ failed: { error: String(e && e.stack) } }))
  const next = async () => {
    const m = inbox.length ? inbox.shift() : await new Promise((r) => waiting.push(r))
    if (m.failed) throw Object.assign(new Error(`worker failed: ${m.failed.error}`), { code: m.failed.code })
    return m.ok
  }
  return { worker, next, send: (m) => worker.postMessage(m) }
}

module.exports = { turn, scoped, assertOnlyChildRootsIt, testHooks, cycleWithoutDelivery, startWorker }
