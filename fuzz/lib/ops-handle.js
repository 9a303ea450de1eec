'use strict'
// Handle operations: alloc with random fields, set/get/has/delete/keys with
// random keys and values (sometimes on the wrong `this`), walking references,
// release/dispose, forgetting handles, and cyclic graphs.

const { Handle } = require('../..')
const { realGc, rand, int, chance, pick, S } = require('./state')
const { log, short, fail, attempt, userThrow, EXPECT_OK, EXPECT_TYPE, EXPECT_RELEASED, EXPECT_ANY } = require('./contract')
const { recFor, addToPool, releaseRec, markReleased, randomRec, randomLiveRec, modelValue, modelKey, checkFieldValue, adopt } = require('./model')
const { junk, COMMON_KEYS, genKey, genValue } = require('./hostile')
const { randomStore, trackCollect } = require('./ops-store')

function genFields(srec) {
  const r = rand()
  if (r < 0.2) return { fields: undefined, expect: EXPECT_OK, model: new Map() }
  if (r < 0.25) return { fields: null, expect: EXPECT_OK, model: new Map() }
  if (r < 0.75) {
    const fields = {}
    const gens = new Map()
    const n = int(5)
    for (let i = 0; i < n; i++) {
      const k = chance(0.8) ? pick(COMMON_KEYS) : genKey().key
      if (typeof k !== 'string') continue
      const g = genValue(srec)
      gens.set(k, g)
      Object.defineProperty(fields, k, { value: g.v, enumerable: true, configurable: true, writable: true })
    }
    // alloc sets the own enumerable string keys in Object.keys order
    // (integer-like keys first).
    const model = new Map()
    let expect = EXPECT_OK
    for (const k of Object.keys(fields)) {
      const g = gens.get(k)
      const e = k.isWellFormed() ? g.expect : EXPECT_TYPE
      if (e !== EXPECT_OK) expect = expect === EXPECT_OK ? e : EXPECT_ANY
      model.set(modelKey(k), modelValue(g))
    }
    if (chance(0.1)) fields[Symbol('ignored')] = 1
    if (chance(0.1)) Object.defineProperty(fields, 'hidden', { value: {}, enumerable: false })
    return { fields, expect, model }
  }
  if (r < 0.8) {
    // Hostile getters: run user code in the middle of alloc.
    S.userCodeRan = true
    const other = randomRec()
    return {
      fields: {
        a: 1,
        get b() {
          switch (int(6)) {
            case 0: return userThrow('field getter')
            case 1: if (other && !other.released) releaseRec(other); return 2
            case 2: randomStore().store.alloc({ nested: 1 }).release(); return 3
            case 3: { const p = srec.store.collect(); trackCollect(p, srec); return 4 }
            case 4: if (realGc && chance(0.1)) realGc(); return 5
            default: return other ? other.h : null
          }
        },
      },
      expect: EXPECT_ANY,
      model: null,
    }
  }
  S.userCodeRan = true
  switch (int(7)) {
    case 0: return { fields: new Proxy({ a: 1 }, { ownKeys: () => userThrow('ownKeys') }), expect: EXPECT_ANY, model: null }
    case 1: return { fields: new Proxy({ a: 1, b: 2 }, { get: (t, k) => (chance(0.5) ? userThrow('get trap') : t[k]) }), expect: EXPECT_ANY, model: null }
    case 2: return { fields: [1, 'two', null], expect: EXPECT_ANY, model: null }
    case 3: return { fields: junk(), expect: EXPECT_ANY, model: null }
    case 4: { const o = Object.create(null); o.__proto__ = 1; o.a = 'x'; return { fields: o, expect: EXPECT_OK, model: new Map([['__proto__', { kind: 'prim', v: 1 }], ['a', { kind: 'prim', v: 'x' }]]) } }
    case 5: { const o = {}; for (let i = 0; i < 300; i++) o[`f${i}`] = i; return { fields: o, expect: EXPECT_OK, model: null } }
    default: return { fields: Object.create({ inherited: 1 }), expect: EXPECT_OK, model: new Map() }
  }
}

function opAlloc() {
  const srec = randomStore()
  const { fields, expect, model } = genFields(srec)
  log(`${srec.name}.alloc(${short(fields)})`)
  const r = attempt('Store.alloc', expect, () => srec.store.alloc(fields))
  S.userCodeRan = false
  if (!r.ok) return
  if (!(r.value instanceof Handle) || r.value.released) return fail('alloc did not return a live Handle')
  const rec = recFor(r.value, srec, model && expect === EXPECT_OK ? model : null)
  if (rec.fields) {
    // Cheap check of what alloc stored.
    for (const [k, exp] of rec.fields) if (typeof k === 'string' && chance(0.3)) checkGet(rec, k, exp)
  }
  addToPool(rec)
}

function checkGet(rec, key, exp) {
  const r = attempt('Handle.get', EXPECT_OK, () => rec.h.get(key))
  if (r.ok) checkFieldValue(`get(${short(key)})`, r.value, exp, rec)
}

function thisFor(rec) {
  // Mostly the right receiver; sometimes the wrong one.
  if (chance(0.95)) return { self: rec.h, expect: rec.released ? EXPECT_RELEASED : EXPECT_OK }
  return { self: pick([junk(), new Proxy(rec.h, {}), Object.create(rec.h), { __proto__: Handle.prototype }]), expect: EXPECT_TYPE }
}

function opSet() {
  const rec = randomRec() ?? (opAlloc(), randomRec())
  if (!rec) return
  const { self, expect: thisExpect } = thisFor(rec)
  const k = genKey()
  const g = genValue(rec.store)
  let expect = thisExpect
  if (expect === EXPECT_OK) expect = !k.valid ? EXPECT_TYPE : g.expect
  log(`${rec.name}.set(${short(k.key)}, ${short(g.v)})${self !== rec.h ? ' wrong this' : ''}`)
  const r = attempt('Handle.set', expect, () => Handle.prototype.set.call(self, k.key, g.v))
  if (r.ok && self === rec.h) {
    if (r.value !== rec.h) fail('set did not return this')
    if (rec.fields && g.expect === EXPECT_OK && k.valid) {
      const mk = modelKey(k.key)
      rec.fields.set(mk, modelValue(g))
      if (chance(0.5)) checkGet(rec, k.key, rec.fields.get(mk))
    } else if (g.expect === EXPECT_ANY) {
      rec.fields = null
    }
  }
}

function opGet() {
  const rec = randomRec()
  if (!rec) return
  const { self, expect: thisExpect } = thisFor(rec)
  const k = genKey()
  // Lone-surrogate keys are refused by set, and simply miss here.
  const expect = thisExpect === EXPECT_OK && !k.valid && !k.lossy ? EXPECT_TYPE : thisExpect
  const method = pick(['get', 'has', 'delete'])
  log(`${rec.name}.${method}(${short(k.key)})${self !== rec.h ? ' wrong this' : ''}`)
  const r = attempt(`Handle.${method}`, expect, () => Handle.prototype[method].call(self, k.key))
  if (!r.ok || self !== rec.h) return
  const mk = modelKey(k.key)
  if (k.lossy && r.value !== (method === 'get' ? undefined : false)) return fail(`${method} of a lone-surrogate key returned ${short(r.value)}`)
  if (method === 'get') {
    if (r.value instanceof Handle) {
      if (r.value.released) fail('get returned a released handle')
      adopt(r.value, rec.store)
    }
    if (r.value === undefined && attempt('Handle.has', EXPECT_OK, () => rec.h.has(k.key)).value === true) {
      fail(`get(${short(k.key)}) is undefined but has() is true: a referenced object was freed while reachable`)
    }
    if (rec.fields) {
      const exp = rec.fields.get(mk)
      if (exp === undefined) { if (r.value !== undefined) fail(`get of a field never set returned ${short(r.value)}`) } else checkFieldValue(`get(${short(k.key)})`, r.value, exp, rec)
    }
  } else if (method === 'has') {
    if (typeof r.value !== 'boolean') fail('has() did not return a boolean')
    if (rec.fields && r.value !== rec.fields.has(mk)) fail(`has(${short(k.key)}) = ${r.value}, model says ${rec.fields.has(mk)}`)
  } else {
    if (typeof r.value !== 'boolean') fail('delete() did not return a boolean')
    if (rec.fields) {
      if (r.value !== rec.fields.has(mk)) fail(`delete(${short(k.key)}) = ${r.value}, model says ${rec.fields.has(mk)}`)
      rec.fields.delete(mk)
    }
  }
}

function opKeys() {
  const rec = randomRec()
  if (!rec) return
  const { self, expect } = thisFor(rec)
  log(`${rec.name}.keys()`)
  const r = attempt('Handle.keys', expect, () => Handle.prototype.keys.call(self))
  if (!r.ok || self !== rec.h) return
  if (!Array.isArray(r.value) || !r.value.every((k) => typeof k === 'string')) return fail('keys() did not return an array of strings')
  if (rec.fields) {
    const want = [...rec.fields.keys()]
    if (want.length !== r.value.length || want.some((k, i) => k !== r.value[i])) {
      fail(`keys() = ${JSON.stringify(r.value.map((k) => (k.length > 20 ? `str(${k.length})` : k)))}, model (insertion order) ${JSON.stringify(want.map((k) => (k.length > 20 ? `str(${k.length})` : k)))}`)
    }
  }
}

function opWalk() {
  // Follow references from a held handle: every referenced object must be alive.
  const rec = randomLiveRec()
  if (!rec) return
  log(`walk from ${rec.name}`)
  let h = rec.h
  for (let depth = 0; depth < 20; depth++) {
    const ks = attempt('Handle.keys', EXPECT_OK, () => h.keys())
    if (!ks.ok) return
    let next
    for (const k of ks.value) {
      const v = attempt('Handle.get', EXPECT_OK, () => h.get(k))
      if (!v.ok) return
      if (v.value === undefined) return fail(`walk: field ${short(k)} listed by keys() reads as undefined: a reachable object was freed`)
      if (v.value instanceof Handle) next = v.value
    }
    if (!next) return
    h = next
  }
}

function opRelease() {
  const rec = randomRec()
  if (!rec) return
  const how = int(4)
  log(`${rec.name}.${['release', 'dispose', 'released', 'release(wrong this)'][how]}`)
  if (how === 0 || how === 1) {
    const r = attempt('Handle.release', EXPECT_OK, () => (how === 0 ? rec.h.release() : rec.h[Symbol.dispose]()))
    if (r.ok) {
      if (r.value !== undefined) fail('release() returned a value')
      markReleased(rec)
      if (rec.h.released !== true) fail('released is not true after release()')
    }
  } else if (how === 2) {
    const r = attempt('Handle.released', EXPECT_OK, () => rec.h.released)
    if (r.ok && r.value !== rec.released) fail(`released = ${r.value}, model says ${rec.released}`)
  } else {
    const desc = Object.getOwnPropertyDescriptor(Handle.prototype, 'released')
    attempt('Handle.release', EXPECT_TYPE, () => (chance(0.5) ? Handle.prototype.release.call(junk()) : desc.get.call(junk())))
  }
}

function opForget() {
  // Drop handles without releasing them: their wrappers die when V8 says so.
  if (S.pool.length < 10) return
  log('forget some handles')
  const n = int(Math.min(30, S.pool.length))
  for (let i = 0; i < n; i++) S.pool.splice(int(S.pool.length), 1)
}

function opCycles() {
  // Build a small graph with cycles, then release or forget its roots.
  const srec = randomStore()
  const n = 2 + int(8)
  log(`${srec.name}: cycle of ${n}`)
  const hs = []
  for (let i = 0; i < n; i++) {
    const r = attempt('Store.alloc', EXPECT_OK, () => srec.store.alloc({ i, b: Buffer.alloc(int(64)) }))
    if (!r.ok) return
    hs.push(r.value)
  }
  for (let i = 0; i < n; i++) {
    attempt('Handle.set', EXPECT_OK, () => hs[i].set('next', hs[(i + 1) % n]))
    if (chance(0.3)) attempt('Handle.set', EXPECT_OK, () => hs[i].set('peer', hs[int(n)]))
  }
  const fate = int(3)
  for (let i = 0; i < n; i++) {
    if (fate === 0 || (fate === 2 && i > 0)) attempt('Handle.release', EXPECT_OK, () => hs[i].release())
  }
  if (fate === 2) addToPool(recFor(hs[0], srec)) // one root keeps the whole cycle alive
}

module.exports = { genFields, opAlloc, checkGet, thisFor, opSet, opGet, opKeys, opWalk, opRelease, opForget, opCycles }
