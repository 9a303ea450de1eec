'use strict'
// Steady state under churn: repeating an operation on the same long-lived
// objects, or touching many short-lived stores from one long-lived
// registry or map, keeps no bookkeeping behind. The long-running version
// of these patterns is fuzz/churn.js (__test__/churn.test.js).
const test = require('node:test')
const assert = require('node:assert/strict')
const { Store, FinalizationRegistry } = require('..')
const { stateOf } = require('../lib/store')
const { turn, scoped } = require('./helpers')

const TARGETS = 1000

/**
 * V8's heap after full GCs, in bytes: a few turns apart, so that the
 * finalization callbacks of what the first GC found dead have run and
 * what they held is collected too.
 */
async function heapAfterGc() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc()
    await turn()
  }
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

/**
 * Jobs that register every target (token chosen by `tokenOf`) and then
 * unregister every token, a turn apart; checks that the queued-registration
 * index is empty after each job and that V8's heap does not grow.
 */
async function registerUnregisterJobs(tokenOf) {
  const store = new Store({ manual: true })
  const reg = new FinalizationRegistry(() => {})
  const targets = Array.from({ length: TARGETS }, () => store.alloc())
  const tokens = targets.map((h) => tokenOf(h, store))
  const st = stateOf(store)
  const job = () => {
    for (let i = 0; i < TARGETS; i++) reg.register(targets[i], i, tokens[i])
    for (let i = 0; i < TARGETS; i++) assert.equal(reg.unregister(tokens[i]), true)
    assert.equal(st.registrations.pending.length, 0, 'every queued registration was cancelled')
    assert.equal(st.registrations.queuedIndex, null, 'an empty queue keeps no token index')
  }
  for (let j = 0; j < 20; j++) {
    job()
    await turn()
  }
  const before = await heapAfterGc()
  for (let j = 0; j < 200; j++) {
    job()
    await turn()
  }
  const grown = (await heapAfterGc()) - before
  // 200,000 pairs: the old index kept one record per pair (about 20 MB).
  assert.ok(grown < 4 * 2 ** 20, `V8's heap grew by ${(grown / 2 ** 20).toFixed(1)} MB`)
  assert.equal(store.stats().finalizationCells, 0)
  targets.forEach((h) => h.release())
  tokens.forEach((x) => typeof x.release === 'function' && x.release())
}

test('register + unregister on the same long-lived targets, object tokens: nothing accumulates', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  await registerUnregisterJobs(() => ({}))
})

test('register + unregister on the same long-lived targets, the target as its own token: nothing accumulates', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  await registerUnregisterJobs((h) => h)
})

test('register + unregister on the same long-lived targets, other handles as tokens: nothing accumulates', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  await registerUnregisterJobs((h, store) => store.alloc())
})

test('a long queue with a register + unregister pair repeated at its end keeps one index entry per live record', () => {
  const store = new Store({ manual: true })
  const reg = new FinalizationRegistry(() => {})
  const targets = Array.from({ length: 100 }, () => store.alloc())
  targets.forEach((h) => reg.register(h, 'no token'))
  const st = stateOf(store)
  const token = {}
  for (let i = 0; i < 10_000; i++) {
    reg.register(targets[i % 100], i, token)
    assert.equal(reg.unregister(token), true)
  }
  assert.equal(st.registrations.pending.length, 100)
  assert.equal(st.registrations.queuedIndex.has(token), false, 'the cancelled records left the index')
  targets.forEach((h) => h.release())
})

const TASKS = '/proc/self/task'
const fs = require('node:fs')
const threadCount = () => (fs.existsSync(TASKS) ? fs.readdirSync(TASKS).length : undefined)

/**
 * Runs gc() and turns until `done()` holds, at most `turns` times; whether
 * it held. (A V8 WeakRef that `done()` derefs keeps its target to the end
 * of the job: gc() runs in the next one.)
 */
async function gcUntil(done, turns) {
  for (let i = 0; i < turns; i++) {
    if (done()) return true
    await turn()
    globalThis.gc()
    await turn()
  }
  return done()
}

/**
 * Makes `n` short-lived stores, each seen once by `touch(store, handle)`
 * (a long-lived registry or map), and drops them; checks that V8 collects
 * every store and that their collector threads end.
 */
async function shortLivedStores(touch, n = 40) {
  const baseline = threadCount()
  const refs = []
  for (let i = 0; i < n; i++) {
    // In a function of its own: a suspended async function may keep stale
    // values of its locals in its saved registers.
    refs.push(scoped(() => {
      const store = new Store({ threads: 1 })
      touch(store, store.alloc({ i }))
      return new globalThis.WeakRef(store)
    }))
    await turn()
  }
  const freed = await gcUntil(() => refs.every((r) => r.deref() === undefined), 50)
  assert.ok(freed, `${refs.filter((r) => r.deref() !== undefined).length} of ${n} stores are still alive`)
  if (baseline === undefined) return
  // Dropped stores' collector threads are detached: they end on their own,
  // after the cycle in flight. Wait for that, boundedly.
  let threads = threadCount()
  for (let i = 0; i < 500 && threads > baseline + 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    threads = threadCount()
  }
  assert.ok(threads <= baseline + 2, `${threads} threads after ${n} stores came and went (${baseline} before)`)
}

test('a long-lived FinalizationRegistry does not keep the short-lived stores it saw alive', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const reg = new FinalizationRegistry(() => {})
  await shortLivedStores((store, h) => reg.register(h, 'held', {}))
  await shortLivedStores((store, h) => {
    reg.register(h, 'held')
    return undefined
  })
  // Registered and flushed: the store has the cell when it is dropped.
  await shortLivedStores((store, h) => {
    reg.register(h, store.alloc(), h)
    store.stats()
  })
  assert.equal(reg.unregister({}), false, 'the registry still works')
})

test('a long-lived WeakMap or WeakSet does not keep the short-lived stores it saw alive', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const { WeakMap, WeakSet } = require('..')
  const map = new WeakMap()
  const set = new WeakSet()
  await shortLivedStores((store, h) => map.set(h, { js: 'value' }))
  await shortLivedStores((store, h) => map.set(h, 1))
  await shortLivedStores((store, h) => set.add(h))
  const store = new Store()
  const h = store.alloc()
  map.set(h, 'ok')
  assert.equal(map.get(h), 'ok', 'the map still works')
})

test('registries used in one job and dropped are all collected by the next gc(): nothing of the job holds one', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  const targets = Array.from({ length: 100 }, () => store.alloc())
  scoped(() => {
    for (let i = 0; i < 1000; i++) new FinalizationRegistry(() => {}).register(targets[i % 100], i)
  })
  await turn() // the registrations reach the store; the job's caches are cleared
  assert.equal(store.stats().finalizationCells, 1000)
  // Every registry must be unreachable by now. V8 14 (Node 26) sometimes
  // keeps one of them through the first full GC with nothing retaining it
  // (a heap snapshot's GC right after finds none); a reference weakstore
  // kept would survive every GC, so three rounds tell the two apart.
  for (let round = 0; round < 3 && store.stats().finalizationCells !== 0; round++) {
    globalThis.gc()
    for (let i = 0; i < 20 && store.stats().finalizationCells !== 0; i++) await turn()
  }
  assert.equal(store.stats().finalizationCells, 0, 'every dropped registry was dropped from the store')
  targets.forEach((h) => h.release())
})
