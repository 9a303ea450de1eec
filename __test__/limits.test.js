'use strict'
// Failing cleanly under real limits: a collector thread that cannot start,
// a cycle whose workers panic, a store at its memory cap. The thread and
// panic faults are injected through the test build's hooks (the addon is
// built with the `test-hooks` feature by `npm test`).

const test = require('node:test')
const assert = require('node:assert/strict')
const { Store, WeakRef } = require('..')
const { turn, startWorker, testHooks } = require('./helpers')
const native = require('../native.js')
const { stateOf } = require('../lib/store')

const fault = testHooks()

test('a store whose collector thread cannot start throws ERR_WEAKSTORE_THREAD, with no panic text', () => {
  fault.limitThreadStarts(0)
  try {
    assert.throws(() => new Store(), (e) => {
      assert.equal(e.constructor, Error)
      assert.equal(e.code, 'ERR_WEAKSTORE_THREAD')
      assert.match(e.message, /^new Store: could not start the collector thread \(.*\); .*thread limit/)
      assert.doesNotMatch(e.message, /panic/i)
      return true
    })
  } finally {
    fault.limitThreadStarts(-1)
  }
  const store = new Store({ manual: true })
  assert.equal(store.alloc({ a: 1 }).get('a'), 1)
  return store.close()
})

/** A rooted list of `live` nodes and `garbage` unreachable objects. */
function populate(store, live, garbage) {
  const head = store.alloc({ i: 0 })
  let tail = head
  for (let i = 1; i < live; i++) {
    const node = store.alloc({ i })
    tail.set('next', node)
    if (tail !== head) tail.release()
    tail = node
  }
  tail.release()
  for (let i = 0; i < garbage; i++) store.alloc({ g: i }).release()
  return head
}

function listLength(head) {
  let n = 0
  for (let node = head; node !== undefined; node = node.get('next')) {
    assert.equal(node.get('i'), n)
    n++
  }
  return n
}

test('helpers that cannot start: every cycle still ends and frees exactly the garbage, and close() returns', async () => {
  for (const starts of [0, 1, 2, 4, 7]) {
    const store = new Store({ threads: 4, manual: true })
    const head = populate(store, 3000, 5000)
    await turn()
    fault.limitThreadStarts(starts)
    try {
      const figures = await store.collect()
      assert.equal(figures.freed, 5000, `${starts} thread starts allowed`)
      assert.deepEqual([figures.retries, figures.failed], [0, false])
      const stats = store.stats()
      assert.deepEqual([stats.phase, stats.failedCycles, stats.anomalies], ['idle', 0, 0])
      assert.equal(listLength(head), 3000)
    } finally {
      fault.limitThreadStarts(-1)
    }
    await store.close()
    assert.equal(store.closed, true)
  }
})

test('a cycle whose worker panics is retried on one thread: collect() keeps its promise, with true figures', async () => {
  const store = new Store({ threads: 2, manual: true })
  const head = populate(store, 1000, 6000)
  let fired = 0
  const registry = new (require('..').FinalizationRegistry)(() => fired++)
  const target = store.alloc({})
  const weak = new WeakRef(target)
  registry.register(target, 'held')
  target.release()
  await turn()
  fault.panicCollectorWorkers('sweep', 1)
  const figures = await store.collect()
  assert.equal(figures.freed, 6001, 'what the failed attempt freed is counted')
  assert.deepEqual([figures.retries, figures.failed], [1, false])
  assert.equal(weak.deref(), undefined)
  assert.equal(fired, 1, 'the callback ran before collect() resolved')
  const stats = store.stats()
  assert.deepEqual([stats.objects, stats.failedCycles, stats.anomalies], [1000, 1, 0])
  assert.equal(listLength(head), 1000)
  await store.close()
})

test('a cycle that fails on every attempt rejects collect() with ERR_WEAKSTORE_CYCLE_FAILED; the next one recovers', async () => {
  const store = new Store({ threads: 1, manual: true })
  const head = populate(store, 100, 500)
  await turn()
  fault.panicCollectorWorkers('mark', 2)
  await assert.rejects(store.collect(), (e) => {
    assert.equal(e.code, 'ERR_WEAKSTORE_CYCLE_FAILED')
    assert.match(e.message, /^Store\.prototype\.collect: collection cycle \d+ failed/)
    assert.deepEqual([e.cycle.failed, e.cycle.freed], [true, 0])
    return true
  })
  assert.equal(store.stats().objects, 600, 'nothing is freed on an incomplete mark')
  const figures = await store.collect()
  assert.equal(figures.freed, 500)
  assert.equal(listLength(head), 100)
  assert.deepEqual([store.stats().failedCycles, store.stats().anomalies], [2, 0])
  await store.close()
})

test('close() leaves the event loop running while the collector finishes a long cycle', async () => {
  const store = new Store({ threads: 1, manual: true })
  store.alloc({ a: 1 }).release()
  await turn()
  // A cycle that stays in its sweep until the test lets it go (10 s at most).
  fault.stallCollectorWorkers('sweep', true)
  try {
    const index = stateOf(store).index
    native.requestCollection(index)
    while (store.stats().phase !== 'sweep') await turn()
    let settled = false
    store.close().then(() => (settled = true))
    for (let i = 0; i < 5; i++) {
      await turn()
      assert.equal(settled, false, 'close() waits for the cycle in flight without blocking the event loop')
    }
  } finally {
    fault.stallCollectorWorkers('sweep', false)
  }
  await store.close()
  assert.equal(store.closed, true)
})

test('maxBytes: a full store refuses with ERR_WEAKSTORE_OUT_OF_MEMORY, keeps every object, and takes more once some are freed', async () => {
  const store = new Store({ manual: true, maxBytes: 1 << 20 })
  assert.equal(store.stats().maxBytes, 1 << 20)
  const kept = []
  let refusal
  for (;;) {
    try {
      kept.push(store.alloc({ i: kept.length, s: `item ${kept.length}`.padEnd(100, '.') }))
    } catch (e) {
      refusal = e
      break
    }
  }
  assert.ok(refusal instanceof RangeError)
  assert.equal(refusal.code, 'ERR_WEAKSTORE_OUT_OF_MEMORY')
  // alloc() writes the fields one by one; the refused write names Handle.prototype.set.
  assert.match(refusal.message, /^(Store\.prototype\.alloc|Handle\.prototype\.set): the store is full: \d+ more bytes would pass its maxBytes \(see stats\(\)\.headroom\)/)
  const stats = store.stats()
  assert.ok(stats.bytes <= stats.maxBytes && stats.headroom === stats.maxBytes - stats.bytes && stats.headroom >= 0)
  assert.ok(kept.length > 1000, `${kept.length} objects fit`)
  kept.forEach((h, i) => assert.equal(h.get('i'), i))

  // A write that would grow an object is refused and leaves it as it was.
  assert.throws(() => kept[0].set('s', Buffer.alloc(1 << 20)), { code: 'ERR_WEAKSTORE_OUT_OF_MEMORY' })
  assert.equal(kept[0].get('s'), 'item 0'.padEnd(100, '.'))
  assert.deepEqual(kept[0].keys(), ['i', 's'])

  // Freeing half lets allocation continue.
  for (const h of kept.splice(kept.length / 2)) h.release()
  await store.collect()
  const more = []
  for (let i = 0; i < 100; i++) more.push(store.alloc({ i, s: `more ${i}`.padEnd(100, '.') }))
  kept.forEach((h, i) => assert.equal(h.get('i'), i))
  assert.equal(store.stats().anomalies, 0)
  await store.close()
})

test('maxBytes: an automatic store collects garbage before it refuses', async () => {
  const store = new Store({ maxBytes: 256 << 10 })
  const live = store.alloc({ keep: 'me' })
  for (let i = 0; i < 20_000; i++) {
    store.alloc({ i, s: 'garbage'.padEnd(100, '.') }).release()
    if (i % 1000 === 0) await turn() // released handles' roots go at the end of the job
  }
  assert.ok(store.stats().bytes <= 256 << 10)
  assert.equal(live.get('keep'), 'me')
  await store.close()
})

test('maxBytes: option errors', () => {
  for (const bad of [1023, 1.5, -1, NaN]) {
    assert.throws(() => new Store({ maxBytes: bad }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
  }
  assert.throws(() => new Store({ maxBytes: '1mb' }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  const store = new Store({ maxBytes: Infinity })
  assert.deepEqual([store.stats().maxBytes, store.stats().headroom], [Infinity, Infinity])
  return store.close()
})

test('maxBytes works from a worker of a shared store', async () => {
  const store = new Store({ manual: true, maxBytes: 512 << 10 })
  const { worker, next, send } = startWorker(`
    const store = Store.attach(workerData)
    const kept = []
    let code
    for (;;) {
      try { kept.push(store.alloc({ i: kept.length, s: 'w'.repeat(100) })) } catch (e) { code = e.code; break }
    }
    send({ code, count: kept.length, ok: kept.every((h, i) => h.get('i') === i) })
    await next()
    for (const h of kept) h.release()
    await store.close()
    send('closed')
  `, store.share())
  const filled = await next()
  assert.deepEqual([filled.code, filled.ok], ['ERR_WEAKSTORE_OUT_OF_MEMORY', true])
  assert.throws(() => store.alloc({ s: 'x'.repeat(4096) }), { code: 'ERR_WEAKSTORE_OUT_OF_MEMORY' })
  send('go')
  assert.equal(await next(), 'closed')
  await store.collect()
  assert.ok(store.alloc({ s: 'x'.repeat(4096) }), 'room again once the worker let go')
  await worker.terminate()
  await store.close()
})

// Node 22's V8 (12.4) aborts the child itself, most runs, committing its
// young generation once the buffers have taken the address space ("Committing
// semi space failed"), before or after weakstore refuses one: a V8 abort no
// JavaScript can catch, with or without weakstore's change of 2026-12-07
// (ca314e1 fails the same way). Node 20, 24 and 26 pass.
const V8_ABORTS_UNDER_RLIMIT_AS = process.versions.node.startsWith('22.')

test('without a cap, a value the system cannot allocate is a catchable ERR_WEAKSTORE_OUT_OF_MEMORY, in and out', {
  skip: process.platform !== 'linux' ? 'Linux only (ulimit -v)' : V8_ABORTS_UNDER_RLIMIT_AS && 'Node 22: V8 aborts under the address-space limit (see above)',
}, () => {
  // A child process under a 2 GiB address-space limit stores 64 MiB buffers
  // until the system refuses one, then reads them back. V8's young
  // generation is kept at 1 MiB, so that its commits fit in what the
  // refused buffer left.
  const { spawnSync } = require('node:child_process')
  const child = `
    const { Store } = require(${JSON.stringify(require('node:path').join(__dirname, '..'))})
    const store = new Store({ manual: true })
    const big = Buffer.alloc(64 << 20, 7)
    const kept = []
    const result = {}
    try {
      for (let i = 0; i < 64; i++) kept.push(store.alloc({ b: big }))
    } catch (e) {
      result.refusedIn = { code: e.code, name: e.name }
    }
    result.kept = kept.length
    ;(async () => {
      // Room for one copy: two buffers freed.
      kept.pop().release()
      kept.pop().release()
      await store.collect()
      result.intact = kept[0].get('b').every((x) => x === 7)
      // Reading copies each buffer out: the copies fill memory, and the one
      // the system refuses is refused the same way.
      const read = []
      try {
        for (let i = 0; i < 64; i++) read.push(kept[i % kept.length].get('b'))
      } catch (e) {
        result.refusedOut = { code: e.code, name: e.name }
      }
      process.stdout.write(JSON.stringify(result))
    })()
  `
  const run = spawnSync('bash', ['-c', 'ulimit -v 2097152 && exec "$0" --max-semi-space-size=1 -e "$1"', process.execPath, child], { encoding: 'utf8' })
  assert.equal(run.signal, null, `the child was killed by ${run.signal}: ${run.stderr.slice(-2000)}`)
  assert.equal(run.status, 0, run.stderr.slice(-2000))
  const result = JSON.parse(run.stdout)
  assert.deepEqual(result.refusedIn, { code: 'ERR_WEAKSTORE_OUT_OF_MEMORY', name: 'RangeError' })
  assert.ok(result.kept > 2 && result.kept < 64, `${result.kept} buffers stored`)
  assert.equal(result.intact, true)
  assert.deepEqual(result.refusedOut, { code: 'ERR_WEAKSTORE_OUT_OF_MEMORY', name: 'RangeError' })
})
