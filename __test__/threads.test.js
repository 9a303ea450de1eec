'use strict'
// One store, many threads: share() / Store.attach, pins, handle ids and
// resolve, per-thread roots and callbacks, and threads that end (or are
// terminated) in every phase of a cycle.

const test = require('node:test')
const assert = require('node:assert/strict')
const { threadId } = require('node:worker_threads')
const { Store, FinalizationRegistry } = require('..')
const { stateOf } = require('../lib/store.js')
const { turn, testHooks, startWorker } = require('./helpers')

/** Resolves once `check()` is true, turn by turn (a condition, not a timer). */
async function until(check, what) {
  for (let i = 0; i < 100000; i++) {
    if (check()) return
    await turn()
  }
  assert.fail(`never happened: ${what}`)
}

test('a worker attaches to a shared store and sees the same objects', async () => {
  const store = new Store({ manual: true })
  const root = store.alloc({ n: 1 })
  store.pin('root', root)
  const { worker, next, send } = startWorker(`
    const store = Store.attach(workerData.shared)
    if (Store.attach(workerData.shared) !== store) throw new Error('attach twice: two Stores')
    const root = store.resolve(workerData.id)
    if (store.pinned('root') !== root) throw new Error('pinned and resolve gave different handles')
    root.set('n', root.get('n') + 41)
    root.set('child', store.alloc({ from: threadId }))
    send({ id: root.get('child').id, pins: store.pins() })
    await next()
    send({ n: root.get('n'), back: root.get('back').get('from') })
  `, { shared: store.share(), id: root.id })
  const first = await next()
  const workerId = worker.threadId // -1 once it has ended
  assert.deepEqual(first.pins, ['root'])
  assert.equal(root.get('n'), 42)
  const child = root.get('child')
  assert.equal(child.get('from'), workerId)
  assert.equal(child.id, first.id, 'one object, one id in every thread')
  assert.equal(store.resolve(first.id), child, 'resolve gives the canonical handle')
  root.set('back', store.alloc({ from: threadId }))
  send('go')
  assert.deepEqual(await next(), { n: 42, back: threadId })
  assert.equal(store.stats().attached, 2)
  await worker.terminate()
  await store.collect()
  assert.equal(store.stats().attached, 1)
  assert.equal(root.get('child').get('from'), workerId, 'the graph outlives the worker')
  await store.close()
})

test('share() values and handle ids are checked', async () => {
  const store = new Store({ manual: true })
  const other = new Store({ manual: true })
  const h = store.alloc()
  const o = other.alloc()
  for (const bad of [undefined, null, 1, 'x', {}, { type: 'weakstore.Store' }, { type: 'weakstore.Store', key: 0.5 }]) {
    assert.throws(() => Store.attach(bad), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  }
  assert.equal(Store.attach(store.share()), store, 'attach in the sharing thread gives its own Store')
  assert.throws(() => store.resolve(1), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  for (const bad of ['', 'abc', '1:', ':1', '01:1', '1:2:3', `${h.id} `, '99999999999999999:1']) {
    assert.throws(() => store.resolve(bad), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }, bad)
  }
  assert.throws(() => store.resolve(o.id), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /another Store/ })
  assert.equal(store.resolve(h.id), h)
  assert.match(h.id, /^\d+:\d+$/)
  h.release()
  assert.match(h.id, /^\d+:\d+$/, 'a released handle keeps its id')
  assert.throws(() => Object.getOwnPropertyDescriptor(Object.getPrototypeOf(h), 'id').get.call({}), { code: 'ERR_INVALID_THIS' })
  await other.close()
  const shared = store.share()
  await store.close()
  // The registry forgot the key: a store closed by every thread is told
  // apart from a forged value no more.
  assert.throws(() => Store.attach(shared), { name: 'TypeError', code: 'ERR_WEAKSTORE_UNKNOWN_STORE', message: /closed by every thread/ })
})

test('a share() value is a capability: attaching takes its secret, which the key alone does not give', async () => {
  const UNKNOWN = { name: 'TypeError', code: 'ERR_WEAKSTORE_UNKNOWN_STORE', message: /^Store\.attach: / }
  const store = new Store({ manual: true })
  const other = new Store({ manual: true })
  const shared = store.share()
  assert.deepEqual(Object.keys(shared), ['type', 'key', 'secret'])
  assert.match(shared.secret, /^[0-9a-f]{32}$/, '128 bits, in hexadecimal')
  assert.deepEqual(store.share(), shared, 'the same value on every call')
  assert.notEqual(other.share().secret, shared.secret)
  // The key is no secret (handle ids start with it): alone, it attaches nothing.
  assert.throws(() => Store.attach({ type: 'weakstore.Store', key: shared.key }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  const flipped = shared.secret.slice(0, -1) + (shared.secret.endsWith('0') ? '1' : '0')
  for (const secret of ['0'.repeat(32), flipped, other.share().secret, '', 'not hexadecimal', shared.secret + '00']) {
    assert.throws(() => Store.attach({ ...shared, secret }), UNKNOWN, secret)
  }
  assert.throws(() => Store.attach({ ...shared, key: shared.key + 1_000_000 }), UNKNOWN, 'a key no store has')
  // A worker that was given only the key cannot attach; given the value, it can.
  const { worker, next } = startWorker(`
    try {
      Store.attach({ type: 'weakstore.Store', key: workerData.key, secret: '0'.repeat(32) })
      send('attached')
    } catch (e) {
      send(e.code)
    }
    send(Store.attach(workerData).stats().attached)
  `, shared)
  assert.equal(await next(), 'ERR_WEAKSTORE_UNKNOWN_STORE')
  assert.equal(await next(), 2)
  await worker.terminate()
  await other.close()
  await store.close()
})

test('pins: named roots visible from every thread', async () => {
  const store = new Store({ manual: true })
  const other = new Store({ manual: true })
  assert.throws(() => store.pin(1, store.alloc()), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => store.pin('a', {}), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => store.pin('\ud800', store.alloc()), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => store.pin('a', other.alloc()), { code: 'ERR_INVALID_ARG_VALUE' })
  const gone = store.alloc()
  gone.release()
  assert.throws(() => store.pin('a', gone), { code: 'ERR_WEAKSTORE_RELEASED' })
  assert.equal(store.pinned('nothing'), undefined)
  assert.equal(store.unpin('nothing'), false)
  await store.collect()
  const base = store.stats().objects
  const { worker, next } = startWorker(`
    const store = Store.attach(workerData)
    const h = store.alloc({ who: 'worker' })
    store.pin('w', h)
    store.pin('replaced', store.alloc({ v: 1 }))
    store.pin('replaced', store.alloc({ v: 2 }))
    h.release()
    send(store.pins())
  `, store.share())
  assert.deepEqual(await next(), ['replaced', 'w'])
  await worker.terminate()
  await store.collect()
  assert.equal(store.stats().objects, base + 2, 'pins keep their objects after the pinning thread ended; the replaced one went')
  assert.equal(store.stats().pins, 2)
  const w = store.pinned('w')
  assert.equal(w.get('who'), 'worker')
  assert.equal(store.pinned('replaced').get('v'), 2)
  assert.equal(store.pinned('w'), w, 'pinned gives the canonical handle')
  const [step] = await store.whyAlive(w)
  assert.deepEqual({ root: step.root, pin: step.pin }, { root: 'pin', pin: 'w' }, 'whyAlive names the pin')
  assert.equal(store.unpin('w'), true)
  assert.deepEqual(store.pins(), ['replaced'])
  await store.collect()
  assert.equal(w.get('who'), 'worker', 'a handle still roots an unpinned object')
  const id = w.id
  w.release()
  await store.collect()
  assert.equal(store.resolve(id), undefined, 'unpinned and unreferenced: collected')
  assert.equal(store.stats().objects, base + 1)
  await store.close()
  await other.close()
})

test('callbacks run only on the registering thread, without it calling collect()', async () => {
  const store = new Store({ manual: true })
  const seen = []
  const reg = new FinalizationRegistry((held) => seen.push([held, threadId]))
  const { worker, next, send } = startWorker(`
    const store = Store.attach(workerData)
    const calls = []
    const reg = new FinalizationRegistry((held) => {
      calls.push([held, threadId])
      if (calls.length === 2) send(calls)
    })
    const a = store.alloc()
    const b = store.alloc()
    reg.register(a, 'worker-a')
    reg.register(b, 'worker-b')
    send(a.id)
    a.release()
    b.release()
    await next() // the main thread collects; we only wait
  `, store.share())
  const id = await next()
  const mine = store.resolve(id) // the main thread's handle of the worker's object
  reg.register(mine, 'main-a')
  mine.release()
  await turn()
  await store.collect()
  assert.deepEqual(seen, [['main-a', threadId]], 'the main thread got its own callback only')
  send('collected')
  const calls = await next()
  assert.deepEqual(calls.sort(), [['worker-a', worker.threadId], ['worker-b', worker.threadId]])
  await worker.terminate()
  await store.close()
})

test('resolve(id) after the object died is undefined on every thread', async () => {
  const store = new Store({ manual: true })
  const h = store.alloc({ v: 1 })
  const { worker, next, send } = startWorker(`
    const store = Store.attach(workerData.shared)
    const h = store.resolve(workerData.id)
    send(h.get('v'))
    h.release()
    await next()
    send(String(store.resolve(workerData.id)))
  `, { shared: store.share(), id: h.id })
  assert.equal(await next(), 1)
  const id = h.id
  h.release()
  await store.collect()
  assert.equal(store.resolve(id), undefined)
  send('again')
  assert.equal(await next(), 'undefined')
  await worker.terminate()
  await store.close()
})

test('a closing thread lets go of its roots; the last one closes the store', async () => {
  const store = new Store({ manual: true })
  await store.collect()
  const { worker, next, send } = startWorker(`
    const store = Store.attach(workerData)
    const kept = store.alloc({ v: 'kept by the worker' })
    send(kept.id)
    await next()
    await store.close()
    send(store.closed)
  `, store.share())
  const id = await next()
  await store.collect()
  assert.equal(store.resolve(id).get('v'), 'kept by the worker')
  // Our handle from resolve() keeps it; release it so only the worker does.
  store.resolve(id).release()
  await store.collect()
  assert.equal(store.stats().objects, 1, "the worker's handle roots it")
  send('close')
  assert.equal(await next(), true)
  await store.collect()
  assert.equal(store.stats().objects, 0, "the worker's close dropped its root")
  assert.equal(store.stats().attached, 1)
  await worker.terminate()
  await store.close()
})

// The phases a collector can be held in (Config::on_phase), and 'idle'.
const PHASES = ['idle', 'scan-roots', 'mark', 'process-weak', 'sweep', 'deliver']

for (const phase of PHASES) {
  test(`a worker terminated while the collector is in ${phase}: its roots and callbacks go, the main thread's arrive`, async () => {
    const store = new Store({ manual: true })
    const mainCalls = []
    const reg = new FinalizationRegistry((held) => mainCalls.push([held, threadId]))
    const keep = store.alloc({ v: 'main' })
    await store.collect()
    const base = store.stats()
    const { worker, next } = startWorker(`
      const store = Store.attach(workerData)
      const reg = new FinalizationRegistry(() => { throw new Error('a callback ran in a worker that must be blocked') })
      const handles = []
      for (let i = 0; i < 200; i++) {
        const h = store.alloc({ i, peer: handles[i - 1] ?? null })
        handles.push(h)
        const target = store.alloc()
        reg.register(target, store.alloc({ held: i })) // a held object: a root the cell owns
        target.release()
      }
      store.pin('worker-' + threadId, handles[0])
      store.unpin('worker-' + threadId)
      const r = new WeakRef(handles[5])
      r.deref()
      handles[5].release() // kept until the end of the job: a deferred root
      send('ready')
      // Block this thread for good: its callbacks stay queued, its job never ends.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
    `, store.share())
    assert.equal(await next(), 'ready')
    const doomed = store.alloc()
    reg.register(doomed, 'main')
    doomed.release()
    // One cycle fires the worker's cells: queued for a thread that cannot run them.
    await store.collect()
    assert.deepEqual(mainCalls, [['main', threadId]])
    assert.equal(store.stats().pendingFinalizations, 200, "the worker's callbacks are queued for it")
    const index = stateOf(store).index
    let collecting = null
    if (phase !== 'idle') {
      const native = testHooks()
      native.holdPhase(index, phase)
      collecting = store.collect()
      await until(() => native.heldPhase(index) === phase, `the collector held in ${phase}`)
    }
    assert.equal(store.stats().attached, 2)
    await worker.terminate()
    assert.equal(store.stats().attached, 1, 'the worker detached as it ended')
    if (collecting !== null) {
      testHooks().holdPhase(index, null)
      await collecting
    }
    await store.collect()
    await store.collect()
    const after = store.stats()
    assert.equal(after.objects, base.objects, 'every object only the worker kept is gone (handles, held values, deferred roots)')
    assert.equal(after.handles, base.handles)
    assert.equal(after.finalizationCells, base.finalizationCells, "the worker's registrations are gone")
    assert.equal(after.pendingFinalizations, 0)
    assert.equal(after.anomalies, 0)
    assert.deepEqual(mainCalls, [['main', threadId]], "no callback of the worker's ran here")
    assert.equal(keep.get('v'), 'main')
    await store.close()
  })
}
