'use strict'
// WeakMap / WeakSet operations: construction from random iterables, and
// set/add/get/has/delete/getOrInsert/getOrInsertComputed (with hostile
// callbacks) checked against a per-map model.

const { WeakMap, WeakSet } = require('../..')
const { realGc, rand, int, chance, pick, S, recOf, maps } = require('./state')
const { log, short, fail, attempt, userThrow, EXPECT_OK, EXPECT_TYPE, EXPECT_RELEASED, EXPECT_ANY } = require('./contract')
const { releaseRec, randomRec, modelValue, checkFieldValue, adopt } = require('./model')
const { SubMap, SubSet, junk, genValue } = require('./hostile')
const { randomStore, trackCollect } = require('./ops-store')

// ---- WeakMap / WeakSet

let mapSerial = 0
function newMap() {
  const isSet = chance(0.35)
  const entries = []
  let expect = EXPECT_OK
  let iterable
  const kind = int(8)
  if (kind < 4) {
    if (kind !== 0) {
      const n = int(4)
      for (let i = 0; i < n; i++) {
        const rec = randomRec()
        if (!rec) break
        if (rec.released && expect === EXPECT_OK) expect = EXPECT_RELEASED
        entries.push(isSet ? rec.h : [rec.h, int(100)])
      }
    }
    iterable = kind === 0 ? undefined : entries
  } else if (kind === 4) {
    iterable = (function* () { yield* entries; userThrow('iterator throws') })()
    expect = EXPECT_ANY
  } else if (kind === 5) { iterable = [junk()]; expect = EXPECT_ANY } else if (kind === 6) { iterable = junk(); expect = EXPECT_ANY } else iterable = null
  const Ctor = chance(0.15) ? (isSet ? SubSet : SubMap) : (isSet ? WeakSet : WeakMap)
  if (Ctor === SubSet || Ctor === SubMap) { expect = expect === EXPECT_OK ? EXPECT_ANY : expect; S.userCodeRan = true }
  log(`new ${Ctor.name}(${iterable === entries ? `[${entries.length}]` : short(iterable)})`)
  const r = attempt(`new ${isSet ? 'WeakSet' : 'WeakMap'}`, expect, () => new Ctor(iterable))
  S.userCodeRan = false
  if (!r.ok) return undefined
  const mrec = { map: r.value, isSet, name: `M${mapSerial++}`, model: new Map() }
  if (expect === EXPECT_OK) {
    for (const e of entries) {
      const h = isSet ? e : e[0]
      const rec = recOf.get(h)
      if (rec && !rec.released) mrec.model.set(rec, { has: true, value: isSet ? true : { kind: 'prim', v: e[1] } })
    }
  }
  maps.push(mrec)
  if (maps.length > 6) maps.splice(int(maps.length), 1)
  return mrec
}

function mapValue(mrec, keyRec) {
  const r = rand()
  if (r < 0.5) {
    const g = genValue(keyRec ? keyRec.store : undefined)
    // Primitives and live same-store handles are kept off-heap (strings go
    // through UTF-8, handles come back canonical); everything else is held
    // by JavaScript and comes back as the same value.
    if (g.lossy) return { v: g.v, exp: { kind: 'prim', v: g.v } } // kept by JavaScript, exactly
    if ((g.kind === 'prim' || g.kind === 'ref') && g.expect === EXPECT_OK) return { v: g.v, exp: modelValue(g) }
    return { v: g.v, exp: { kind: 'js', v: g.v } }
  }
  if (r < 0.7) { const o = { o: int(10) }; return { v: o, exp: { kind: 'js', v: o } } }
  if (r < 0.8) return { v: undefined, exp: { kind: 'js', v: undefined } }
  const v = junk()
  const prim = v === null || ['boolean', 'number', 'string', 'bigint'].includes(typeof v)
  return { v, exp: prim ? { kind: 'prim', v } : { kind: 'js', v } }
}

function checkMapGet(mrec, rec, got) {
  const m = mrec.model.get(rec)
  if (m === undefined) return
  if (!m.has) { if (got !== undefined) fail(`${mrec.name}.get of a deleted key returned ${short(got)}`); return }
  const exp = m.value
  if (exp.kind === 'js') { if (got !== exp.v) fail(`${mrec.name}.get returned ${short(got)}, expected the same ${short(exp.v)} that was set`) } else checkFieldValue(`${mrec.name}.get`, got, exp, rec)
}

function opMap() {
  const mrec = maps.length && chance(0.97) ? pick(maps) : newMap()
  if (!mrec) return
  const useJunkKey = chance(0.08)
  const rec = useJunkKey ? undefined : randomRec()
  const key = rec ? rec.h : junk()
  const wrongThis = chance(0.02)
  const self = wrongThis ? junk() : mrec.map
  const methods = mrec.isSet ? ['add', 'has', 'delete'] : ['set', 'get', 'has', 'delete', 'getOrInsert', 'getOrInsertComputed']
  const method = pick(methods)
  const proto = mrec.isSet ? WeakSet.prototype : WeakMap.prototype
  const inserting = method === 'set' || method === 'add' || method === 'getOrInsert' || method === 'getOrInsertComputed'
  let expect = wrongThis ? EXPECT_TYPE : !rec ? (inserting ? EXPECT_TYPE : EXPECT_OK) : rec.released ? (inserting ? EXPECT_RELEASED : EXPECT_OK) : EXPECT_OK
  let args
  let val
  let opaque = false // the inserted value is not known in advance
  if (method === 'set' || method === 'getOrInsert') { val = mapValue(mrec, rec); args = [key, val.v] } else if (method === 'getOrInsertComputed') {
    const cbKind = int(6)
    if (!wrongThis && rec && !rec.released && cbKind >= 2) S.userCodeRan = true
    val = { v: { computed: int(9) } }
    val.exp = { kind: 'js', v: val.v }
    const cb = cbKind === 0 ? junk() : cbKind === 1 ? () => val.v : (k) => {
      if (k !== key) fail('getOrInsertComputed callback got a different key')
      switch (cbKind) {
        case 2: if (rec) releaseRec(rec); return val.v // the callback releases its key
        case 3: mrec.map.set(k, 'inner'); return val.v // the callback sets the key itself
        case 4: return userThrow('computed callback')
        default: { const s = rec ? rec.store : randomStore(); trackCollect(s.store.collect(), s); if (realGc && chance(0.05)) realGc(); return val.v }
      }
    }
    if (cbKind === 0) {
      // junk: usually not a function (TypeError), sometimes a function whose result we do not know
      opaque = true
      if (expect === EXPECT_OK) expect = EXPECT_ANY
    }
    args = [key, cb]
  } else args = [key]
  log(`${mrec.name}.${method}(${rec ? rec.name : short(key)}${val ? `, ${short(val.v)}` : ''})${wrongThis ? ' wrong this' : ''}`)
  const had = rec && !rec.released ? mrec.model.get(rec) : undefined
  const hostile = S.userCodeRan || opaque
  const r = attempt(`${mrec.isSet ? 'WeakSet' : 'WeakMap'}.${method}`, expect, () => proto[method].apply(self, args))
  S.userCodeRan = false
  if (wrongThis || !rec) {
    if (r.ok && !inserting && r.value !== (method === 'get' ? undefined : false)) fail(`${method} of a non-handle key returned ${short(r.value)}`)
    return
  }
  if (!r.ok) {
    if (hostile) mrec.model.delete(rec)
    return
  }
  if (rec.released || rec.h.released) {
    // A released handle still names its object, which a later handle
    // (from get / deref) may name too: after a delete through it, the
    // model, kept per handle, no longer knows which entries are gone.
    if (method === 'delete') mrec.model.clear()
    return
  }
  switch (method) {
    case 'set':
      if (r.value !== mrec.map) fail('WeakMap.set did not return the map')
      mrec.model.set(rec, { has: true, value: val.exp })
      if (chance(0.5)) { const g = attempt('WeakMap.get', EXPECT_OK, () => mrec.map.get(key)); if (g.ok) checkMapGet(mrec, rec, g.value) }
      break
    case 'add':
      if (r.value !== mrec.map) fail('WeakSet.add did not return the set')
      mrec.model.set(rec, { has: true, value: true })
      break
    case 'get': checkMapGet(mrec, rec, r.value); adopt(r.value, rec.store); break // adopt checks it is a handle (instanceof throws on a revoked proxy)
    case 'has': if (had !== undefined && r.value !== had.has) fail(`${mrec.name}.has = ${r.value}, model says ${had.has}`); break
    case 'delete':
      if (had !== undefined && r.value !== had.has) fail(`${mrec.name}.delete = ${r.value}, model says ${had.has}`)
      mrec.model.set(rec, { has: false })
      break
    default:
      // getOrInsert / getOrInsertComputed
      if (hostile || had === undefined) { mrec.model.delete(rec); break }
      if (had.has) {
        checkMapGet(mrec, rec, r.value)
      } else {
        if (!Object.is(r.value, val.v)) fail(`${mrec.name}.${method} on an absent key returned ${short(r.value)}, not the inserted ${short(val.v)}`)
        mrec.model.set(rec, { has: true, value: val.exp })
      }
  }
}

module.exports = { newMap, mapValue, checkMapGet, opMap }
