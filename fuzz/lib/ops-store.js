'use strict'
// Store operations: new Store with random options, dropping a store, picking
// a random store, collect() (and tracking its promise), stats(), and odd
// uses of the classes (new Handle(), Store() without new, inspect...).

const { Store, Handle, WeakRef } = require('../..')
const { realGc, int, chance, pick, S, stats, stores, refs, pendingCollects } = require('./state')
const { log, short, fail, checkThrown, attempt, userThrow, EXPECT_OK, EXPECT_TYPE, EXPECT_RANGE, EXPECT_RELEASED, EXPECT_ANY } = require('./contract')
const { releaseRec, randomRec } = require('./model')
const { SubStore, junk } = require('./hostile')

// ---------------------------------------------------------------- operations

let storeSerial = 0
function storeOptions() {
  switch (int(16)) {
    case 0: return { opts: undefined, expect: EXPECT_OK }
    case 1: return { opts: null, expect: EXPECT_OK }
    case 2: return { opts: { manual: true }, expect: EXPECT_OK }
    case 3: return { opts: { budget: 1024 + int(64 * 1024) }, expect: EXPECT_OK }
    case 4: return { opts: { threads: 1 + int(4), budget: 4096 + int(1 << 20) }, expect: EXPECT_OK }
    case 5: return { opts: { threads: pick([0, 65, -1, 1.5, NaN, Infinity]) }, expect: EXPECT_RANGE }
    case 6: return { opts: { budget: pick([0, 1023, -5, 1.5, 2 ** 60, NaN, Infinity]) }, expect: EXPECT_RANGE }
    case 7: return { opts: { threads: pick(['2', 2n, {}, null, true]) }, expect: EXPECT_TYPE }
    case 8: return { opts: { manual: pick([1, 'yes', null, {}]) }, expect: EXPECT_TYPE }
    case 9: return { opts: pick([5, 'x', Symbol('o'), true, 1n]), expect: EXPECT_TYPE }
    case 10: { S.userCodeRan = true; return { opts: { get threads() { return userThrow('threads getter') } }, expect: EXPECT_ANY } }
    case 11: { S.userCodeRan = true; return { opts: new Proxy({}, { get: (t, k) => (k === 'budget' ? 2048 : k === 'threads' ? (chance(0.5) ? 2 : userThrow('trap')) : undefined) }), expect: EXPECT_ANY } }
    case 12: return { opts: { threads: chance(0.05) ? 64 : 2, manual: chance(0.5) }, expect: EXPECT_OK }
    // A cap no operation reaches (a capped store at its limit is the churn suite's).
    case 13: return { opts: { maxBytes: pick([1 << 30, Infinity]) }, expect: EXPECT_OK }
    case 14: return { opts: { maxBytes: pick([0, 1023, -1, 1.5, NaN, -Infinity, 2 ** 60]) }, expect: EXPECT_RANGE }
    case 15: return { opts: { maxBytes: pick(['1mb', 1n, {}, null, true]) }, expect: EXPECT_TYPE }
    default: return { opts: [], expect: EXPECT_OK }
  }
}

function newStore() {
  const { opts: o, expect } = storeOptions()
  const Ctor = chance(0.1) ? SubStore : Store
  log(`new ${Ctor.name}(${short(o)})`)
  const r = attempt('new Store', expect, () => new Ctor(o))
  S.userCodeRan = false
  if (!r.ok) {
    if (stores.length) return pick(stores)
    return newStore()
  }
  const rec = { store: r.value, name: `S${storeSerial++}`, manual: !!(o && typeof o === 'object' && o.manual === true) }
  if (!(r.value instanceof Store)) fail('new Store did not return a Store')
  stats.stores++
  stores.push(rec)
  if (stores.length > 5) dropStore(stores[int(stores.length - 1)])
  return rec
}

function dropStore(srec) {
  const i = stores.indexOf(srec)
  if (i >= 0) stores.splice(i, 1)
  const keep = []
  for (const r of S.pool) {
    if (r.store === srec) { if (chance(0.5) && !r.released) releaseRec(r) } else keep.push(r)
  }
  S.pool = keep
  for (let j = refs.length - 1; j >= 0; j--) if (refs[j].store === srec) refs.splice(j, 1)
}

function randomStore() { return stores.length ? pick(stores) : newStore() }

// ---- Store-level

function trackCollect(p, srec) {
  stats.collects++
  if (!(p instanceof Promise)) return fail('collect() did not return a promise')
  // The tracker does not hold the store: a collect() must settle even if
  // nothing else references its store (dropped stores are common here).
  const t = { started: Date.now(), call: S.callNo, store: srec.name }
  pendingCollects.add(t)
  p.then((f) => {
    pendingCollects.delete(t)
    stats.collectsResolved++
    if (f === null || typeof f !== 'object' || !Number.isFinite(f.cycle) || !Number.isFinite(f.freed) || !Number.isFinite(f.liveObjects)) fail(`collect() resolved with ${short(f)}`)
  }, (err) => {
    pendingCollects.delete(t)
    checkThrown(err, EXPECT_OK, 'collect() rejected')
  })
}

function opCollect() {
  const srec = randomStore()
  const storm = chance(0.1) ? 1 + int(globalThis.gc ? 5 : 50) : 1
  log(`${srec.name}.collect() x${storm}`)
  for (let i = 0; i < storm; i++) {
    const r = attempt('Store.collect', EXPECT_OK, () => srec.store.collect())
    if (r.ok) trackCollect(r.value, srec)
  }
  if (chance(0.05)) {
    log('Store.collect(wrong this)')
    const r = attempt('Store.collect', EXPECT_ANY, () => Store.prototype.collect.call(junk()))
    if (r.ok) r.value.then(() => fail('collect() on a wrong this resolved'), (err) => checkThrown(err, EXPECT_TYPE, 'collect(wrong this) rejected'))
  }
}

const PHASES = new Set(['idle', 'scan-roots', 'mark', 'process-weak', 'sweep', 'deliver', 'snapshot', 'finish-marking'])
function opStats() {
  const srec = randomStore()
  const wrong = chance(0.05)
  log(`${srec.name}.stats()${wrong ? ' wrong this' : ''}`)
  const r = attempt('Store.stats', wrong ? EXPECT_TYPE : EXPECT_OK, () => Store.prototype.stats.call(wrong ? junk() : srec.store))
  if (!r.ok || wrong) return
  const s = r.value
  for (const k of ['objects', 'bytes', 'collections', 'finalizationCells', 'pendingFinalizations', 'slots', 'freeSlots', 'handles']) {
    if (!Number.isFinite(s[k]) || s[k] < 0) return fail(`stats().${k} = ${s[k]}`)
  }
  if (!PHASES.has(s.phase)) fail(`stats().phase = ${s.phase}`)
  if (s.objects > s.slots) fail(`stats(): ${s.objects} objects in ${s.slots} slots`)
  // The collector's own alarms: a rooted object left unmarked, a cycle that panicked.
  if (s.anomalies !== 0 || s.failedCycles !== 0) fail(`stats(): anomalies ${s.anomalies}, failed cycles ${s.failedCycles}`)
}

function opMisc() {
  switch (int(8)) {
    case 0: log('new Handle()'); attempt('new Handle', EXPECT_TYPE, () => new Handle(junk(), junk(), 1)); break
    case 1: log('Store()'); attempt('Store()', EXPECT_TYPE, () => Store()); break
    case 2: log('class extends Handle'); attempt('subclass Handle', EXPECT_TYPE, () => new (class extends Handle {})()); break
    case 3: log('Object.prototype.toString'); { const rec = randomRec(); if (rec) { const r = attempt('toString', EXPECT_OK, () => Object.prototype.toString.call(rec.h)); if (r.ok && r.value !== '[object Handle]') fail(`toString tag ${r.value}`) } } break
    case 4: log('JSON/inspect a handle'); { const rec = randomRec(); if (rec) { attempt('JSON.stringify', EXPECT_OK, () => JSON.stringify(rec.h)); attempt('inspect', EXPECT_OK, () => require('node:util').inspect(rec.h)) } } break
    case 5: if (realGc) { log('gc()'); realGc() } break
    case 6: log('structuredClone(handle)'); { const rec = randomRec(); if (rec) attempt('structuredClone', EXPECT_ANY, () => structuredClone(rec.h)) } break
    default: log('new WeakRef(Proxy(handle))'); { const rec = randomRec(); if (rec) attempt('new WeakRef', EXPECT_TYPE, () => new WeakRef(new Proxy(rec.h, {}))) } break
  }
}

/**
 * whyAlive() of a handle (a path of steps or null; a released handle is
 * refused), now and then a heap snapshot to a temporary file.
 */
function opInspect() {
  const rec = randomRec()
  if (!rec) return
  const srec = rec.store
  log(`${srec.name}.whyAlive(${rec.released ? 'released ' : ''}handle)`)
  const r = attempt('Store.whyAlive', EXPECT_OK, () => srec.store.whyAlive(rec.h))
  if (!r.ok) return
  const released = rec.released
  r.value.then((steps) => {
    if (released) return fail('whyAlive() of a released handle resolved')
    if (steps === null) return
    if (!Array.isArray(steps) || steps.length === 0 || typeof steps[0].root !== 'string') return fail(`whyAlive() resolved with ${short(steps)}`)
    for (const s of steps) if (!Number.isSafeInteger(s.id)) fail(`whyAlive() step without an object id: ${short(s)}`)
  }, (err) => checkThrown(err, released ? EXPECT_RELEASED : EXPECT_OK, 'whyAlive() rejected'))
  if (chance(0.02)) {
    const file = require('node:path').join(require('node:os').tmpdir(), `weakstore-fuzz-${process.pid}-${S.callNo}.heapsnapshot`)
    log(`${srec.name}.writeHeapSnapshot()`)
    const w = attempt('Store.writeHeapSnapshot', EXPECT_OK, () => srec.store.writeHeapSnapshot(file))
    if (w.ok) {
      w.value.then((p) => {
        const text = require('node:fs').readFileSync(p, 'utf8')
        require('node:fs').rmSync(p)
        const snapshot = JSON.parse(text)
        if (snapshot.snapshot.node_count * 7 !== snapshot.nodes.length) fail('heap snapshot: node_count does not match the nodes')
      }, (err) => checkThrown(err, EXPECT_OK, 'writeHeapSnapshot() rejected'))
    }
  }
}

/**
 * Closes a store: it leaves the pool; one of its handles stays behind for a
 * moment to check that using it throws ERR_WEAKSTORE_CLOSED.
 */
function opClose() {
  if (stores.length < 2) return
  const srec = pick(stores)
  const orphan = S.pool.find((r) => r.store === srec && !r.released)
  log(`${srec.name}.close()`)
  const r = attempt('Store.close', EXPECT_OK, () => srec.store.close())
  dropStore(srec)
  if (!r.ok) return
  attempt('Store.alloc after close', EXPECT_TYPE, () => srec.store.alloc())
  r.value.then(() => {
    if (srec.store.closed !== true) fail('close() resolved, closed is not true')
    if (orphan) attempt('Handle.get after close', EXPECT_TYPE, () => orphan.h.get('k'))
  }, (err) => checkThrown(err, EXPECT_OK, 'close() rejected'))
}

module.exports = { storeOptions, newStore, dropStore, randomStore, trackCollect, opCollect, opStats, opMisc, opInspect, opClose }
