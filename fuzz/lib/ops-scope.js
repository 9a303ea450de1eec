'use strict'
// Scope operations: a scope over a held handle, a walk through scoped reads
// checked against the canonical reads and the field model, scoped handles
// released early or left to the close, objects allocated in the scope with
// random (sometimes hostile) fields, an escape into the pool, and, after
// the close, every scoped handle refused and no scoped root left behind.

const { Handle } = require('../..')
const { int, chance, pick } = require('./state')
const { log, short, fail, attempt, EXPECT_OK, EXPECT_RELEASED, EXPECT_ANY } = require('./contract')
const { recFor, addToPool, randomLiveRec, checkFieldValue } = require('./model')
const { genFields } = require('./ops-handle')

/** The store's scoped roots, or undefined if stats() cannot be read (a closed store). */
function scopedRoots(srec) {
  const r = attempt('Store.stats', EXPECT_ANY, () => srec.store.stats())
  return r.ok ? r.value.scopedRoots : undefined
}

/** A scoped read of `key` against the canonical read of the same field. */
function compare(where, scoped, canonical) {
  if (scoped instanceof Handle || canonical instanceof Handle) {
    if (!(scoped instanceof Handle) || !(canonical instanceof Handle)) {
      return fail(`${where}: a scoped read gave ${short(scoped)}, the canonical read ${short(canonical)}`)
    }
    if (scoped === canonical) return fail(`${where}: a scoped read returned the canonical handle`)
    if (scoped.id !== canonical.id) fail(`${where}: a scoped read names ${scoped.id}, the canonical read ${canonical.id}`)
  } else if (Buffer.isBuffer(scoped) && Buffer.isBuffer(canonical)) {
    if (!scoped.equals(canonical)) fail(`${where}: scoped and canonical bytes differ`)
  } else if (!Object.is(scoped, canonical)) {
    fail(`${where}: a scoped read gave ${short(scoped)}, the canonical read ${short(canonical)}`)
  }
}

function opScope() {
  const rec = randomLiveRec()
  if (!rec) return
  const srec = rec.store
  const before = scopedRoots(srec)
  if (before === undefined) return
  if (before !== 0) return fail(`${before} scoped roots held with no scope open`)
  log(`scope over ${rec.name}`)
  const opened = attempt('Store.scope', EXPECT_ANY, () => srec.store.scope())
  if (!opened.ok) return
  const scope = opened.value
  const made = []
  const first = attempt('Scope.handle', EXPECT_ANY, () => scope.handle(rec.h))
  if (!first.ok) return scope.close()
  made.push(first.value)
  // A walk: each step's fields read both ways; on to a referenced object.
  let h = first.value
  let canonical = rec.h
  for (let depth = 0; depth < 8 && h !== undefined; depth++) {
    const ks = attempt('Handle.keys', EXPECT_ANY, () => h.keys())
    if (!ks.ok) break
    let next
    for (const k of ks.value) {
      const s = attempt('Handle.get (scoped)', EXPECT_ANY, () => h.get(k))
      const c = attempt('Handle.get', EXPECT_ANY, () => canonical.get(k))
      if (!s.ok || !c.ok) continue
      compare(`scoped get(${short(k)})`, s.value, c.value)
      if (depth === 0 && rec.fields && rec.fields.has(k) && !(s.value instanceof Handle)) {
        checkFieldValue(`scoped get(${short(k)})`, s.value, rec.fields.get(k), rec)
      }
      if (s.value instanceof Handle) {
        made.push(s.value)
        if (next === undefined || chance(0.5)) next = [s.value, c.value]
      }
    }
    if (chance(0.3) && h !== first.value) attempt('Handle.release (scoped)', EXPECT_OK, () => h.release())
    if (next === undefined) break
    ;[h, canonical] = next
  }
  // Objects made in the scope, one kept beyond it.
  for (let i = int(3); i > 0; i--) {
    const { fields, expect } = genFields(srec)
    const a = attempt('Scope.alloc', expect, () => scope.alloc(fields))
    if (a.ok) made.push(a.value)
  }
  if (made.length > 1 && chance(0.3)) {
    const e = attempt('Scope.escape', EXPECT_ANY, () => scope.escape(pick(made)))
    if (e.ok && e.value instanceof Handle) {
      if (e.value.released) fail('escape() returned a released handle')
      addToPool(recFor(e.value, srec))
    }
  }
  if (chance(0.5)) attempt('Scope.close', EXPECT_OK, () => scope.close())
  else attempt('Scope[Symbol.dispose]', EXPECT_OK, () => scope[Symbol.dispose]())
  for (const m of made) {
    if (!m.released) fail('a handle of a closed scope is not released')
    attempt('Handle.get (closed scope)', EXPECT_RELEASED, () => m.get('a'))
  }
  const after = scopedRoots(srec)
  if (after !== undefined && after !== 0) fail(`${after} scoped roots left after the scope closed`)
}

module.exports = { opScope }
