'use strict'
// The fuzzer's model of what it holds: handle records (recOf, the pool),
// releasing them, picking random ones, and the field model checked against
// what weakstore returns (modelValue, checkFieldValue, adopt).

const { Handle } = require('../..')
const { V8WeakRef, int, chance, S, recOf, maps } = require('./state')
const { fail, short, attempt, EXPECT_OK } = require('./contract')

// ---------------------------------------------------------------- model

let nextName = 0

function recFor(h, storeRec, fields = null) {
  let rec = recOf.get(h)
  if (rec !== undefined) return rec
  rec = { h, store: storeRec, released: false, fields, name: `#${nextName++}` }
  recOf.set(h, rec)
  return rec
}

function storeRecOf(h) {
  const rec = recOf.get(h)
  return rec ? rec.store : undefined
}

function addToPool(rec) {
  if (S.pool.length > 400) {
    // Drop some old handles: half released, half just forgotten (V8 may
    // collect their wrappers, which drops their roots).
    const drop = S.pool.splice(0, 100)
    for (const r of drop) if (chance(0.5) && !r.released) releaseRec(r)
  }
  S.pool.push(rec)
}

function releaseRec(rec) {
  const r = attempt('Handle.release', EXPECT_OK, () => rec.h.release())
  if (r.ok) markReleased(rec)
}

function markReleased(rec) {
  rec.released = true
  rec.fields = null
  for (const m of maps) m.model.delete(rec)
}

function liveRecs() { return S.pool.filter((r) => !r.released) }
function randomRec() { return S.pool.length ? S.pool[int(S.pool.length)] : undefined }
function randomLiveRec(storeRec) {
  for (let i = 0; i < 8; i++) {
    const r = randomRec()
    if (r && !r.released && (!storeRec || r.store === storeRec)) return r
  }
  return undefined
}

/** Field model value from a successful set. */
function modelValue(g) {
  if (g.kind === 'bytes') return { kind: 'bytes', bytes: g.bytes }
  if (g.kind === 'ref') return { kind: 'ref', target: new V8WeakRef(g.v) }
  return { kind: 'prim', v: g.v }
}

function modelKey(k) { return k }

function checkFieldValue(where, got, expected, holder) {
  if (expected.kind === 'prim') {
    if (!Object.is(got, expected.v)) fail(`${where}: get after set returned ${short(got)}, expected ${short(expected.v)}`)
  } else if (expected.kind === 'bytes') {
    if (!Buffer.isBuffer(got) || !got.equals(expected.bytes)) fail(`${where}: bytes differ after set (${short(got)} vs ${expected.bytes.length} bytes)`)
  } else if (expected.kind === 'ref') {
    if (!(got instanceof Handle)) return fail(`${where}: a field referring to an object read as ${short(got)}: the object was freed while reachable`)
    if (got.released) return fail(`${where}: get returned a released handle`)
    const t = expected.target.deref()
    if (t !== undefined && !t.released && t !== got) fail(`${where}: get did not return the canonical handle of the referenced object`)
    adopt(got, holder.store)
  }
}

/** Adds a handle that weakstore returned (get, deref, callback) to the pool. */
/** Whether `h` is a real handle (instanceof is fooled by Object.create(handle)). */
function isHandle(h) {
  try {
    Reflect.apply(Object.getOwnPropertyDescriptor(Handle.prototype, 'released').get, h, [])
    return true
  } catch {
    return false
  }
}

function adopt(h, storeRec) {
  if (!isHandle(h)) return
  let rec = recOf.get(h)
  if (rec === undefined) {
    rec = recFor(h, storeRec)
    if (chance(0.3)) addToPool(rec)
  }
}

module.exports = {
  recFor, storeRecOf, addToPool, releaseRec, markReleased, liveRecs, randomRec, randomLiveRec,
  modelValue, modelKey, checkFieldValue, adopt, isHandle,
}
