'use strict'
// WeakRef and FinalizationRegistry operations: new WeakRef/deref checked
// against the held handle, register/unregister with random held values and
// tokens, and cleanup callbacks that check their contract and reenter the API.

const { Handle, WeakRef, FinalizationRegistry } = require('../..')
const { V8WeakRef, rand, int, chance, pick, S, stats, refs, regs } = require('./state')
const { log, short, fail, attempt, userThrow, EXPECT_OK, EXPECT_TYPE, EXPECT_RELEASED, EXPECT_ANY } = require('./contract')
const { recFor, releaseRec, randomRec, randomLiveRec, adopt, isHandle } = require('./model')
const { SubRef, SubReg, junk } = require('./hostile')
const { randomStore, trackCollect } = require('./ops-store')
const { opSet } = require('./ops-handle')
const { opMap } = require('./ops-map')

// ---- WeakRef

function opWeakRef() {
  const r0 = rand()
  if (r0 < 0.5 || refs.length === 0) {
    const rec = chance(0.9) ? randomRec() : undefined
    const target = rec ? rec.h : junk()
    const expect = rec ? (rec.released ? EXPECT_RELEASED : EXPECT_OK) : EXPECT_TYPE
    const Ctor = chance(0.1) ? SubRef : WeakRef
    log(`new ${Ctor.name}(${short(target)})`)
    const r = attempt('new WeakRef', expect, () => new Ctor(target))
    if (r.ok) {
      refs.push({ ref: r.value, target: new V8WeakRef(target), store: rec ? rec.store : undefined })
      if (refs.length > 200) refs.splice(0, 50)
    }
    return
  }
  const w = pick(refs)
  if (chance(0.05)) {
    log('WeakRef.deref(wrong this)')
    attempt('WeakRef.deref', EXPECT_TYPE, () => WeakRef.prototype.deref.call(junk()))
    return
  }
  log('ref.deref()')
  const r = attempt('WeakRef.deref', EXPECT_OK, () => w.ref.deref())
  if (!r.ok) return
  const v = r.value
  if (v !== undefined && !(v instanceof Handle)) return fail(`deref() returned ${short(v)}`)
  if (v instanceof Handle && v.released) return fail('deref() returned a released handle')
  const t = w.target.deref()
  if (t !== undefined && !t.released) {
    if (v !== t) fail('deref() of a WeakRef whose target handle is held (unreleased) did not return that handle')
  }
  if (v) adopt(v, w.store)
}

// ---- FinalizationRegistry

let uidSerial = 0
const jsHeldHandles = new globalThis.WeakSet()
const HELD = Symbol('fuzz.held')

function newRegistry() {
  const rrec = { name: `R${regs.length}`, cells: new Map(), tokens: new Map(), reg: null }
  const cb = (held) => onCleanup(rrec, held)
  const bad = chance(0.03)
  const Ctor = chance(0.1) ? SubReg : FinalizationRegistry
  log(`new ${Ctor.name}(${bad ? 'junk' : 'cb'})`)
  const r = attempt('new FinalizationRegistry', bad ? EXPECT_ANY : EXPECT_OK, () => new Ctor(bad ? junk() : cb))
  if (!r.ok || bad) return regs.length ? pick(regs) : undefined
  rrec.reg = r.value
  regs.push(rrec)
  if (regs.length > 8) regs.splice(int(regs.length), 1) // let V8 collect a registry, possibly with callbacks queued
  return rrec
}

function onCleanup(rrec, held) {
  stats.callbacks++
  S.inCallback++
  const saved = S.logging
  try {
    if (held !== null && typeof held === 'object' && held[HELD] !== undefined) {
      const cell = rrec.cells.get(held[HELD])
      if (cell === undefined) return fail(`cleanup callback with a held value registered in another registry (${held[HELD]})`)
      if (cell.state === 'fired') return fail(`cleanup callback ran twice for registration ${held[HELD]}`)
      if (cell.state === 'unregistered') return fail(`cleanup callback ran after unregister() removed registration ${held[HELD]}`)
      if (cell.state === 'unregisteredInCallback') return fail(`cleanup callback ran for registration ${held[HELD]} after a callback of its batch unregistered it`)
      const t = cell.target.deref()
      if (t !== undefined && !t.released) {
        // Known bug: a registration made inside a cleanup callback can reuse
        // the cell id of a callback still pending in the same batch, and is
        // then delivered in its place.
        fail(`cleanup callback ran for registration ${held[HELD]} while its target handle is held and unreleased${cell.inCallback ? ' (registered inside a cleanup callback)' : ''}`)
      }
      cell.state = 'fired'
      rrec.cells.delete(held[HELD])
    } else if (held === undefined && !rrec.undefinedHeld) {
      fail(`cleanup callback got undefined, but no registration used an undefined held value${rrec.registeredInCallback ? ' (some were made inside cleanup callbacks)' : ''}`)
    } else if (isHandle(held)) {
      // Same-store held handles come back canonical (never released); a
      // handle of another store is held by JavaScript and comes back as is.
      if (held.released && !jsHeldHandles.has(held)) fail('cleanup callback got a released handle as held value')
    }
    if (chance(0.3)) reenter(rrec)
  } finally {
    S.inCallback--
    S.logging = saved
  }
}

function reenter(rrec) {
  S.callNo++
  switch (int(9)) {
    case 0: log('alloc+register'); { const s = randomStore(); const h = attempt('alloc', EXPECT_OK, () => s.store.alloc({ x: 1 })); if (h.ok) { registerOne(rrec, recFor(h.value, s)); h.value.release() } } break
    case 1: log('unregister'); unregisterOne(rrec); break
    case 2: log('collect'); { const s = randomStore(); trackCollect(s.store.collect(), s) } break
    case 3: log('release'); { const r = randomLiveRec(); if (r) releaseRec(r) } break
    case 4: log('set'); opSet(); break
    case 5: log('throw'); userThrow('cleanup callback throws')
    // falls through: unreachable
    case 6: log('new WeakRef/deref'); opWeakRef(); break
    case 7: log('getOrInsertComputed'); opMap(); break
    default: log('register in another registry'); { const other = regs.length ? pick(regs) : rrec; const r = randomRec(); if (r) registerOne(other, r) } break
  }
}

function registerOne(rrec, rec, wrongThis = false) {
  const uid = uidSerial++
  let held
  let heldExpect = EXPECT_OK
  const hk = rand()
  if (hk < 0.8) held = { [HELD]: uid }
  else if (hk < 0.9) {
    const o = randomRec()
    held = o ? o.h : 1
    if (o && o.released && o.store === rec.store) heldExpect = EXPECT_RELEASED
    if (o && o.store !== rec.store) jsHeldHandles.add(o.h)
  } else if (hk < 0.95) held = rec.h // target === held: TypeError
  else { held = undefined; rrec.undefinedHeld = true }
  let token
  let tokenExpect = EXPECT_OK
  const tk = rand()
  if (tk < 0.35) token = undefined
  else if (tk < 0.6) {
    if (rrec.tokens.size > 0 && chance(0.5)) token = pick([...rrec.tokens.keys()])
    else token = chance(0.8) ? {} : Symbol('tok')
  } else if (tk < 0.75) token = (randomRec() ?? rec).h // a handle (maybe released, maybe another store's) as token
  else if (tk < 0.8) token = rec.h
  else if (tk < 0.85) token = held
  else if (tk < 0.9) { token = pick([1, 'tok', Symbol.for('registered'), true, null, 1n]); tokenExpect = EXPECT_TYPE }
  else token = chance(0.5) ? () => {} : [1]
  if (token !== undefined && !((typeof token === 'object' && token !== null) || typeof token === 'function' || (typeof token === 'symbol' && Symbol.keyFor(token) === undefined))) tokenExpect = EXPECT_TYPE
  let expect
  if (wrongThis) expect = EXPECT_TYPE
  else if (rec.released) expect = EXPECT_RELEASED
  else if (held === rec.h) expect = EXPECT_TYPE
  else if (tokenExpect !== EXPECT_OK) expect = tokenExpect
  else expect = heldExpect
  const self = wrongThis ? junk() : rrec.reg
  log(`${rrec.name}.register(${rec.name}, ${held && held[HELD] !== undefined ? `held#${uid}` : short(held)}, ${short(token)})${wrongThis ? ' wrong this' : ''}`)
  const r = attempt('FinalizationRegistry.register', expect, () => FinalizationRegistry.prototype.register.call(self, rec.h, held, token))
  if (!r.ok || wrongThis) return
  if (r.value !== undefined) fail('register() returned a value')
  if (S.inCallback) rrec.registeredInCallback = true
  if (held && held[HELD] !== undefined) {
    rrec.cells.set(uid, { target: new V8WeakRef(rec.h), store: rec.store.store, state: 'live', token, inCallback: S.inCallback > 0 })
  }
  if (token !== undefined) {
    let list = rrec.tokens.get(token)
    if (!list) { list = []; rrec.tokens.set(token, list) }
    list.push(uid)
    if (rrec.tokens.size > 200) rrec.tokens.delete(rrec.tokens.keys().next().value)
  }
}

function unregisterOne(rrec, wrongThis = false) {
  let token
  let expect = EXPECT_OK
  if (rrec.tokens.size > 0 && chance(0.7)) token = pick([...rrec.tokens.keys()])
  else {
    token = chance(0.5) ? junk() : (randomRec()?.h ?? {})
    const ok = (typeof token === 'object' && token !== null) || typeof token === 'function' || (typeof token === 'symbol' && Symbol.keyFor(token) === undefined)
    expect = ok ? EXPECT_OK : EXPECT_TYPE
  }
  if (wrongThis) expect = EXPECT_TYPE
  log(`${rrec.name}.unregister(${short(token)})${wrongThis ? ' wrong this' : ''}${S.inCallback ? ' in callback' : ''}`)
  const r = attempt('FinalizationRegistry.unregister', expect, () => FinalizationRegistry.prototype.unregister.call(wrongThis ? junk() : rrec.reg, token))
  if (!r.ok || wrongThis) return
  if (typeof r.value !== 'boolean') return fail('unregister() did not return a boolean')
  const uids = rrec.tokens.get(token)
  if (uids) {
    let anyLive = false
    for (const uid of uids) {
      const cell = rrec.cells.get(uid)
      if (cell && cell.state === 'live') {
        anyLive = true
        cell.state = S.inCallback ? 'unregisteredInCallback' : 'unregistered'
      }
    }
    // Registrations whose targets are still held must be found (unless their
    // store was closed: its registrations went with it).
    const mustFind = !(token instanceof Handle) && uids.some((uid) => { const c = rrec.cells.get(uid); const t = c && c.target.deref(); return c && t !== undefined && !t.released && !c.store.closed })
    if (mustFind && r.value !== true && !S.inCallback) fail('unregister() returned false for a token with a live registration')
    if (!S.inCallback) for (const uid of uids) { const c = rrec.cells.get(uid); if (c && c.state === 'unregistered') rrec.cells.delete(uid) }
    rrec.tokens.delete(token)
    void anyLive
  }
}

function opRegistry() {
  const rrec = regs.length && chance(0.95) ? pick(regs) : newRegistry()
  if (!rrec) return
  const r = rand()
  if (r < 0.6) {
    const rec = randomRec()
    if (!rec) return
    registerOne(rrec, rec, chance(0.03))
    // Registrations of unreleased, forgotten handles: left to V8.
  } else if (r < 0.85) unregisterOne(rrec, chance(0.03))
  else {
    // A target that dies right away.
    const s = randomStore()
    const h = attempt('Store.alloc', EXPECT_OK, () => s.store.alloc())
    if (!h.ok) return
    const rec = recFor(h.value, s)
    registerOne(rrec, rec)
    if (chance(0.8)) releaseRec(rec)
  }
  // Unregistered cells no longer need to be remembered once a later cycle
  // could have delivered them; keep the model bounded.
  if (rrec.cells.size > 3000) {
    for (const [uid, c] of rrec.cells) { if (c.state !== 'unregistered') rrec.cells.delete(uid); if (rrec.cells.size < 2000) break }
  }
}

module.exports = { opWeakRef, newRegistry, onCleanup, reenter, registerOne, unregisterOne, opRegistry }
