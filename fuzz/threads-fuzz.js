'use strict'
// Seeded random fuzzer for one store shared between threads: the main
// thread and K workers attach to one store and pass handle ids and pin
// names to each other.
//
//   node --expose-gc fuzz/threads-fuzz.js                  # short mode (npm test: __test__/fuzz.test.js)
//   node --expose-gc fuzz/threads-fuzz.js --long           # long mode: 150,000 ops per thread, 12 replacements
//   SEED=1234 OPS=20000 node --expose-gc fuzz/threads-fuzz.js
//   node --expose-gc fuzz/threads-fuzz.js --seed=1234 --ops=20000 --workers=3 --replace=4 [--json] [--quiet]
//
// Every thread (main and K workers, 3 by default) runs its own seeded op
// sequence (a worker's seed is derived from the main seed and its slot and
// incarnation, so each thread's sequence is reproducible; the interleaving
// between threads is not): alloc, set/get/delete (primitives and
// references), release, pin/pinned/unpin/pins (own names, shared names,
// names received), resolve (of ids received, of its own objects, of
// malformed ids and another store's ids), WeakRef deref, FinalizationRegistry
// register/unregister (held values: JavaScript objects and handles; object
// tokens), WeakMap set/get/has/delete, collect(), stats(), use of released
// handles and of handles of a closed attachment, and (workers) close() +
// Store.attach (awaited or not); it posts ids and pin names to other
// threads (through the main thread), which resolve them. The main thread
// terminates a random worker now and then and starts a replacement.
//
// Invariants (race-free):
// - every object is allocated with immutable fields origin (threadId),
//   seq and tag = f(origin, seq), which no thread ever changes: any handle
//   read from anywhere (get, resolve, pinned, deref, WeakMap values, held
//   values) must carry a matching tag; resolve(id) gives undefined or a
//   handle whose id is id and whose origin/seq are the sender's;
// - a thread's private objects (never posted, pinned or stored in a field)
//   follow a per-thread field model; their reference fields always give a
//   live handle of the referenced object (a reachable object is never freed);
// - a thread's own pin names (only it pins/unpins them) follow a model, across
//   its close() + re-attach too; pins() is sorted and has them all;
// - WeakRef.deref of a held handle is that handle; after the attachment's
//   close() resolved, undefined;
// - a cleanup callback runs on the registering thread (threadId), at most once
//   per registration, never for a target this thread still holds, never after
//   unregister() removed it, never after close() of its attachment resolved;
//   unregister(token) returns whether a live registration had the token;
// - a thread's WeakMap entries read back as set (by any handle of the key);
// - every throw from weakstore is a TypeError/RangeError with the ERR_ code
//   the call expects; collect() resolves; stats().anomalies stays 0;
// - at the end (all workers ended, collect()): attached === 1, anomalies 0;
//   stats().objects is exactly what a walk from the pins and the main
//   thread's handles (fields, WeakMap values, registrations' held handles)
//   reaches; after unpinning everything and releasing every main handle,
//   objects, handles, pins, cells and pending callbacks are all 0.
//
// Prints `THREADS_FUZZ_SUMMARY {json}` (--json). Exit status: 0 clean,
// 1 invariant violated (prints the seed and the failing thread's last ops),
// 2 not run with --expose-gc, 3 hang (watchdog).

const { isMainThread, parentPort, workerData, threadId, Worker } = require('node:worker_threads')
const path = require('node:path')
const { makeRng } = require('./lib/options')

const ROOT = path.resolve(__dirname, '..')
const { Store, WeakRef, FinalizationRegistry, WeakMap } = require(ROOT)

const KEYS = ['k0', 'k1', 'k2', 'r0', 'r1', 'r2']
const REF_KEYS = ['r0', 'r1', 'r2']
const COMMON_PINS = ['common-0', 'common-1', 'common-2', 'common-3']
const OWN_PINS = 12
const CAP = 64 // pool, received ids and names, weak refs: each at most this many

const tagOf = (origin, seq) => (Math.imul(origin, 2654435761) ^ Math.imul(seq, 40503) ^ 0x5bd1e995) >>> 0
const isHandle = (v) => v !== null && typeof v === 'object' && typeof v.release === 'function' && typeof v.keys === 'function'
const turn = () => new Promise((resolve) => setImmediate(resolve))
const mix = (a, b) => (Math.imul(a ^ (b + 0x9e3779b9), 0x85ebca6b) ^ (a >>> 13)) >>> 0

class ThreadFuzzer {
  constructor({ seed, ops, label, shared, post, canClose }) {
    this.seed = seed
    this.rng = makeRng(seed)
    this.ops = ops
    this.label = label
    this.shared = shared
    this.post = post // (to, items, pins)
    this.canClose = canClose
    this.store = Store.attach(shared)
    this.other = new Store({ manual: true, threads: 1 })
    this.otherHandle = this.other.alloc({ x: 1 })
    this.seq = 0
    this.gen = 0
    this.closedGens = new Set()
    this.closingGens = new Set()
    this.pendingClose = null
    this.pool = [] // { h, origin, seq, gen }
    this.inPool = new Set()
    this.privates = [] // { h, gen, model: Map(key -> { prim } | { origin, seq }) }
    this.released = [] // released handles
    this.stale = [] // { h, gen }: handles of an attachment that was closed
    this.ownPins = new Map() // name -> { origin, seq }
    this.received = [] // { id, origin, seq }
    this.receivedPins = []
    this.refs = [] // { ref, rec, gen }
    this.regs = new Map() // regId -> { rec, gen, state, heldHandle }
    this.heldIds = new Map() // held handle's id -> regId
    this.tokens = [] // { token, regIds, gen }
    this.nextReg = 1
    this.map = new WeakMap()
    this.mapModel = new Map() // object id -> { js } | { num } | { origin, seq }
    this.failures = []
    this.log = []
    this.count = { ops: 0, throws: {}, resolveHit: 0, resolveMiss: 0, pinnedHit: 0, pinnedMiss: 0, callbacks: 0, collects: 0, reattaches: 0, derefDead: 0 }
    this.reg = new FinalizationRegistry((held) => this.onCleanup(held))
  }

  fail(what, detail) {
    if (this.failures.length < 20) this.failures.push({ thread: this.label, seed: this.seed, what, detail: String(detail), tail: this.log.slice(-12) })
  }

  note(op) {
    this.log.push(op)
    if (this.log.length > 40) this.log.shift()
  }

  pick(xs) {
    return xs[Math.floor(this.rng() * xs.length)]
  }

  /** Runs fn; a throw must be a weakstore error with one of the codes in `allowed`. */
  call(what, allowed, fn) {
    try {
      return { ok: true, value: fn() }
    } catch (err) {
      const code = err && err.code
      if (!(err instanceof TypeError || err instanceof RangeError) || typeof code !== 'string' || !code.startsWith('ERR_')) {
        this.fail(`${what}: not a weakstore error`, err && err.stack)
      } else if (!allowed.includes(code)) {
        this.fail(`${what}: unexpected ${code}`, err.message)
      }
      this.count.throws[code] = (this.count.throws[code] || 0) + 1
      return { ok: false, code }
    }
  }

  /** `h` is a handle with a consistent origin/seq/tag; returns { origin, seq } or undefined. */
  checkTag(h, what) {
    if (!isHandle(h)) {
      this.fail(`${what}: not a handle`, h)
      return undefined
    }
    const r = this.call(`${what}: read`, [], () => [h.get('origin'), h.get('seq'), h.get('tag')])
    if (!r.ok) return undefined
    const [origin, seq, tag] = r.value
    if (typeof origin !== 'number' || typeof seq !== 'number' || tag !== tagOf(origin, seq)) {
      this.fail(`${what}: origin/seq/tag do not match`, JSON.stringify({ origin, seq, tag }))
      return undefined
    }
    return { origin, seq }
  }

  newObject() {
    const seq = ++this.seq
    return this.store.alloc({ origin: threadId, seq, tag: tagOf(threadId, seq) })
  }

  pickLive() {
    const live = this.pool
    for (let i = 0; i < 4 && live.length; i++) {
      const r = this.pick(live)
      if (r.gen === this.gen) return r
    }
    return undefined
  }

  adopt(h, origin, seq) {
    if (this.inPool.has(h) || h.released) return
    if (this.pool.length >= CAP) this.release(this.pool[Math.floor(this.rng() * this.pool.length)])
    this.pool.push({ h, origin, seq, gen: this.gen })
    this.inPool.add(h)
  }

  release(rec) {
    const i = this.pool.indexOf(rec)
    if (i >= 0) this.pool.splice(i, 1)
    this.inPool.delete(rec.h)
    rec.released = true
    this.call('release', ['ERR_WEAKSTORE_CLOSED'], () => rec.h.release())
    this.released.push(rec.h)
    if (this.released.length > 16) this.released.shift()
  }

  // ---------------------------------------------------------- cleanup callbacks

  onCleanup(held) {
    this.count.callbacks++
    let regId
    if (isHandle(held)) {
      regId = this.heldIds.get(held.id)
      // close() delivers the callbacks already due, with their held
      // handles closed like every other handle of the attachment.
      const reg = this.regs.get(regId)
      if (!(reg && this.closingGens.has(reg.gen))) {
        this.checkTag(held, 'held handle in a callback')
      } else if (this.call('held handle in a callback of a closing attachment', ['ERR_WEAKSTORE_CLOSED'], () => held.get('seq')).ok) {
        this.fail('a held handle of a closing attachment answered get()', held.id)
      }
      held.release()
    } else {
      regId = held && held.regId
      if (!held || held.tid !== threadId) this.fail('callback on another thread', `${held && held.tid} != ${threadId}`)
    }
    const reg = this.regs.get(regId)
    if (reg === undefined) return this.fail('callback for an unknown registration', regId)
    if (reg.state !== 'live') this.fail(`callback for a registration that is ${reg.state}`, regId)
    if (this.closedGens.has(reg.gen)) this.fail('callback after close() of its attachment resolved', regId)
    if (reg.gen === this.gen && this.pool.some((r) => r.gen === this.gen && r.h.id === reg.rec.h.id)) {
      this.fail('callback for a target this thread still holds (maybe through a later handle of the same object)', `${regId} ${reg.rec.h.id}`)
    }
    reg.state = 'fired'
    this.regs.delete(regId)
    if (reg.heldHandle) this.heldIds.delete(reg.heldId)
  }

  // ---------------------------------------------------------- ops

  opAlloc() {
    const h = this.newObject()
    const rec = { h, origin: threadId, seq: this.seq, gen: this.gen }
    if (this.pool.length >= CAP) this.release(this.pool[0])
    this.pool.push(rec)
    this.inPool.add(h)
    const to = this.pickLive()
    if (to && this.rng() < 0.5) h.set(this.pick(REF_KEYS), to.h)
  }

  opPrivate() {
    if (this.privates.length < 8 || this.rng() < 0.2) {
      if (this.privates.length >= 12) {
        const p = this.privates.splice(Math.floor(this.rng() * this.privates.length), 1)[0]
        this.call('release a private', ['ERR_WEAKSTORE_CLOSED'], () => p.h.release())
      }
      this.privates.push({ h: this.newObject(), gen: this.gen, model: new Map() })
      return
    }
    const p = this.pick(this.privates)
    const key = this.pick(KEYS)
    const r = this.rng()
    if (r < 0.35) {
      if (REF_KEYS.includes(key)) {
        const to = this.pickLive()
        if (!to) return
        p.h.set(key, to.h)
        p.model.set(key, { origin: to.origin, seq: to.seq })
      } else {
        const v = this.rng() < 0.5 ? Math.floor(this.rng() * 1e6) : `s${this.seq}-${key}`
        p.h.set(key, v)
        p.model.set(key, { prim: v })
      }
    } else if (r < 0.85) {
      const v = p.h.get(key)
      const m = p.model.get(key)
      if (m === undefined) {
        if (v !== undefined) this.fail('private field read back a value never set', `${key}: ${v}`)
      } else if ('prim' in m) {
        if (v !== m.prim) this.fail('private field read back another value', `${key}: ${v} != ${m.prim}`)
      } else {
        if (!isHandle(v)) return this.fail('a reference field of a private object lost its object (freed while reachable?)', `${key}: ${v}`)
        const t = this.checkTag(v, 'private reference')
        if (t && (t.origin !== m.origin || t.seq !== m.seq)) this.fail('a private reference names another object', JSON.stringify({ t, m }))
        if (this.rng() < 0.3) this.adopt(v, m.origin, m.seq)
      }
    } else {
      const had = p.h.delete(key)
      if (had !== p.model.has(key)) this.fail('private delete() disagrees with the model', `${key}: ${had}`)
      p.model.delete(key)
      const keys = p.h.keys()
      const expected = ['origin', 'seq', 'tag', ...KEYS.filter((k) => p.model.has(k))].sort()
      if (JSON.stringify([...keys].sort()) !== JSON.stringify(expected)) this.fail('private keys() disagrees with the model', keys)
    }
  }

  opSet() {
    const rec = this.pickLive()
    if (!rec) return
    const key = this.pick(KEYS)
    if (REF_KEYS.includes(key) && this.rng() < 0.7) {
      const to = this.pickLive()
      if (to) rec.h.set(key, to.h)
    } else {
      const r = this.rng()
      rec.h.set(key, r < 0.3 ? r : r < 0.6 ? `v${r}` : r < 0.8 ? Buffer.from([1, 2, 3]) : r < 0.9 ? 10n ** 20n : null)
    }
  }

  opGet() {
    const rec = this.pickLive()
    if (!rec) return
    const v = rec.h.get(this.pick(KEYS))
    if (isHandle(v)) {
      const t = this.checkTag(v, 'get of a reference')
      if (t && this.rng() < 0.3) this.adopt(v, t.origin, t.seq)
    }
    // Adopting into a full pool releases a random record: it may be `rec`.
    if (!rec.released && this.rng() < 0.2) {
      const keys = rec.h.keys()
      for (const k of ['origin', 'seq', 'tag']) if (!keys.includes(k)) this.fail('an immutable field went missing', k)
    }
  }

  opDelete() {
    const rec = this.pickLive()
    if (rec) rec.h.delete(this.pick(KEYS))
  }

  opRelease() {
    const rec = this.pickLive()
    if (rec) this.release(rec)
  }

  opUseReleased() {
    const h = this.pick(this.released)
    if (!h) return
    const r = this.call('get on a released handle', ['ERR_WEAKSTORE_RELEASED', 'ERR_WEAKSTORE_CLOSED'], () => h.get('seq'))
    if (r.ok) this.fail('a released handle answered get()', r.value)
    const p = this.call('pin of a released handle', ['ERR_WEAKSTORE_RELEASED', 'ERR_INVALID_ARG_VALUE'], () => this.store.pin('released', h))
    if (p.ok) this.fail('pin of a released handle succeeded', '')
  }

  opUseStale() {
    const s = this.pick(this.stale)
    if (!s) return
    const done = this.closedGens.has(s.gen)
    const r = this.call('get on a handle of a closed attachment', ['ERR_WEAKSTORE_CLOSED', 'ERR_WEAKSTORE_RELEASED'], () => s.h.get('seq'))
    if (r.ok && done) this.fail('a handle of a closed attachment answered get()', r.value)
    const p = this.call('pin of a handle of a closed attachment', ['ERR_INVALID_ARG_VALUE', 'ERR_WEAKSTORE_CLOSED', 'ERR_WEAKSTORE_RELEASED'],
      () => this.store.pin('stale', s.h))
    if (p.ok) this.fail('pin of a handle of another (closed) Store succeeded', '')
  }

  opOwnPin() {
    const name = `p-${this.label}-${Math.floor(this.rng() * OWN_PINS)}`
    const r = this.rng()
    if (r < 0.4) {
      const rec = this.pickLive()
      if (!rec) return
      this.store.pin(name, rec.h)
      this.ownPins.set(name, { origin: rec.origin, seq: rec.seq })
    } else if (r < 0.8) {
      const h = this.store.pinned(name)
      const m = this.ownPins.get(name)
      if (m === undefined) {
        if (h !== undefined) this.fail('pinned() of an own name never pinned (or unpinned)', name)
      } else {
        if (h === undefined) return this.fail('pinned() of an own pinned name is undefined', name)
        const t = this.checkTag(h, 'pinned own')
        if (t && (t.origin !== m.origin || t.seq !== m.seq)) this.fail('pinned() of an own name gives another object', name)
        if (this.rng() < 0.2) this.adopt(h, m.origin, m.seq)
      }
    } else {
      const had = this.store.unpin(name)
      if (had !== this.ownPins.has(name)) this.fail('unpin() of an own name disagrees with the model', `${name}: ${had}`)
      this.ownPins.delete(name)
    }
  }

  opCommonPin() {
    const name = this.pick(COMMON_PINS)
    const r = this.rng()
    if (r < 0.4) {
      const rec = this.pickLive()
      if (rec) this.store.pin(name, rec.h)
    } else if (r < 0.85) {
      const h = this.store.pinned(name)
      if (h !== undefined) {
        const t = this.checkTag(h, 'pinned common')
        if (t && this.rng() < 0.2) this.adopt(h, t.origin, t.seq)
      }
    } else {
      const had = this.store.unpin(name)
      if (typeof had !== 'boolean') this.fail('unpin() returned a non-boolean', had)
    }
  }

  opPins() {
    const names = this.store.pins()
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) return this.fail('pins() is not a string array', names)
    for (let i = 1; i < names.length; i++) if (!(names[i - 1] < names[i])) this.fail('pins() is not sorted', names.slice(i - 1, i + 1))
    const set = new Set(names)
    for (const name of this.ownPins.keys()) if (!set.has(name)) this.fail('pins() misses an own pin', name)
  }

  opPinnedReceived() {
    const name = this.pick(this.receivedPins)
    if (name === undefined) return
    const h = this.store.pinned(name)
    if (h === undefined) return this.count.pinnedMiss++
    this.count.pinnedHit++
    const t = this.checkTag(h, 'pinned received')
    if (t && this.rng() < 0.3) this.adopt(h, t.origin, t.seq)
  }

  opResolveReceived() {
    const item = this.pick(this.received)
    if (item === undefined) return
    const h = this.store.resolve(item.id)
    if (h === undefined) return this.count.resolveMiss++
    this.count.resolveHit++
    if (h.id !== item.id) this.fail('resolve(id).id is another id', `${h.id} != ${item.id}`)
    const t = this.checkTag(h, 'resolve received')
    if (t && (t.origin !== item.origin || t.seq !== item.seq)) this.fail('resolve(id) gives another object than the sender recorded', JSON.stringify({ t, item }))
    if (this.rng() < 0.4) this.adopt(h, item.origin, item.seq)
  }

  opResolveOwn() {
    const rec = this.pickLive()
    if (!rec) return
    const h = this.store.resolve(rec.h.id)
    if (h !== rec.h) this.fail('resolve() of a held handle\'s id is not that handle', `${rec.h.id} -> ${h && h.id}`)
  }

  opHostile() {
    const bad = 'ERR_INVALID_ARG_VALUE'
    const type = 'ERR_INVALID_ARG_TYPE'
    const r = Math.floor(this.rng() * 9)
    const expect = (what, code, fn) => {
      const x = this.call(what, [code], fn)
      if (x.ok) this.fail(`${what} did not throw`, x.value)
      else if (x.code !== code) this.fail(`${what}: ${x.code}, expected ${code}`, '')
    }
    const rec = this.pickLive()
    switch (r) {
      case 0: return expect('resolve(non-string)', type, () => this.store.resolve(this.rng() < 0.5 ? 42 : { id: 1 }))
      case 1: return expect('resolve(malformed)', bad, () => this.store.resolve(this.pick(['', 'x', '1:', ':1', '01:2', '1:2:3', `${rec ? rec.h.id : '1:1'} `])))
      case 2: return expect("resolve(another store's id)", bad, () => this.store.resolve(this.otherHandle.id))
      case 3: return expect('pin(non-string name)', type, () => this.store.pin(this.pick([1, null, undefined, {}, Symbol('s')]), rec ? rec.h : this.otherHandle))
      case 4: return expect('pinned(lone surrogate)', bad, () => this.store.pinned('a\ud800'))
      case 5: return rec && expect("pin(another store's handle)", bad, () => this.store.pin('x', this.otherHandle))
      case 6: return expect('pin(non-handle)', type, () => this.store.pin('x', { id: 'nope' }))
      case 7: return rec && expect("set(another store's handle)", bad, () => rec.h.set('r0', this.otherHandle))
      default: {
        // A well-formed id of this store that names no object (or one long dead).
        const key = this.shared.key
        const h = this.store.resolve(`${key}:${1 + Math.floor(this.rng() * 2 ** 40)}`)
        if (h !== undefined) this.count.resolveHit++
      }
    }
  }

  opPost() {
    const items = []
    for (let i = 0; i < 3; i++) {
      const rec = this.pickLive()
      if (rec) items.push({ id: rec.h.id, origin: rec.origin, seq: rec.seq })
    }
    const pins = []
    const own = [...this.ownPins.keys()]
    if (own.length) pins.push(this.pick(own))
    pins.push(this.pick(COMMON_PINS))
    this.post(items, pins)
  }

  receive({ items, pins }) {
    for (const it of items) this.received.push(it)
    for (const p of pins) this.receivedPins.push(p)
    if (this.received.length > CAP) this.received.splice(0, this.received.length - CAP)
    if (this.receivedPins.length > CAP) this.receivedPins.splice(0, this.receivedPins.length - CAP)
  }

  opWeakRef() {
    if (this.refs.length < CAP && (this.rng() < 0.4 || this.refs.length === 0)) {
      const rec = this.pickLive()
      if (!rec) return
      const ref = new WeakRef(rec.h)
      if (ref.deref() !== rec.h) this.fail('new WeakRef(h).deref() !== h', rec.h.id)
      this.refs.push({ ref, rec, gen: rec.gen })
      return
    }
    const i = Math.floor(this.rng() * this.refs.length)
    const { ref, rec, gen } = this.refs[i]
    const v = ref.deref()
    if (gen === this.gen && !rec.released && this.inPool.has(rec.h)) {
      if (v !== rec.h) this.fail('deref() of a held handle is not that handle', rec.h.id)
    } else if (this.closedGens.has(gen)) {
      if (v !== undefined) this.fail('deref() after close() of the attachment resolved', `${rec.h.id}: ${isHandle(v) ? `a handle (released ${v.released}, the target's handle ${v === rec.h}, target released ${rec.h.released})` : v}`)
    } else if (v === undefined) {
      this.count.derefDead++
      this.refs.splice(i, 1)
    } else if (gen === this.gen) {
      this.checkTag(v, 'deref')
    }
    if (this.rng() < 0.1) this.refs.splice(i, 1)
  }

  opRegister() {
    const r = this.rng()
    if (r < 0.6) {
      const rec = this.pickLive()
      if (!rec) return
      const regId = this.nextReg++
      let held
      let heldId
      if (this.rng() < 0.3) {
        held = this.newObject()
        heldId = held.id
        this.heldIds.set(heldId, regId)
      } else {
        held = { tid: threadId, regId }
      }
      let tok
      if (this.rng() < 0.4) {
        tok = this.pick(this.tokens.filter((t) => t.gen === this.gen)) // sometimes several registrations share a token
        if (tok === undefined || this.rng() < 0.5) {
          tok = { token: {}, regIds: [], gen: this.gen }
          this.tokens.push(tok)
          if (this.tokens.length > CAP) this.tokens.shift()
        }
        tok.regIds.push(regId)
      }
      this.reg.register(rec.h, held, tok && tok.token)
      this.regs.set(regId, { rec, gen: this.gen, state: 'live', heldHandle: heldId !== undefined ? held : null, heldId })
      if (heldId !== undefined && this.rng() < 0.5) held.release() // the cell's root keeps it
    } else if (r < 0.9) {
      const tok = this.pick(this.tokens)
      if (tok === undefined) return
      const expected = tok.gen === this.gen && tok.regIds.some((id) => this.regs.get(id)?.state === 'live')
      const got = this.reg.unregister(tok.token)
      if (tok.gen === this.gen && got !== expected) this.fail('unregister() disagrees with the registrations', `${got} != ${expected}`)
      if (tok.gen === this.gen || this.closedGens.has(tok.gen)) {
        for (const id of tok.regIds) {
          const reg = this.regs.get(id)
          if (reg && got) reg.state = 'unregistered'
        }
        if (got || this.closedGens.has(tok.gen)) this.tokens.splice(this.tokens.indexOf(tok), 1)
      }
    } else {
      const t = this.call('register(h, h)', ['ERR_INVALID_ARG_VALUE'], () => {
        const rec = this.pickLive()
        if (rec) this.reg.register(rec.h, rec.h)
      })
      if (t.ok && this.pool.length) this.fail('register(h, h) did not throw', '')
    }
  }

  opWeakMap() {
    const rec = this.pickLive()
    if (!rec) return
    const id = rec.h.id
    const r = this.rng()
    if (r < 0.35) {
      let v
      let m
      const s = this.rng()
      if (s < 0.4) {
        v = { n: this.seq }
        m = { js: v }
      } else if (s < 0.7) {
        v = Math.floor(this.rng() * 1000)
        m = { num: v }
      } else {
        const to = this.pickLive()
        if (!to) return
        v = to.h
        m = { origin: to.origin, seq: to.seq }
      }
      this.map.set(rec.h, v)
      this.mapModel.set(id, m)
    } else if (r < 0.85) {
      const v = this.map.get(rec.h)
      const m = this.mapModel.get(id)
      if (this.map.has(rec.h) !== (m !== undefined)) this.fail('WeakMap.has disagrees with the model', id)
      if (m === undefined) {
        if (v !== undefined) this.fail('WeakMap.get of a key never set', id)
      } else if ('js' in m) {
        if (v !== m.js) this.fail('WeakMap.get: another object', id)
      } else if ('num' in m) {
        if (v !== m.num) this.fail('WeakMap.get: another number', `${v} != ${m.num}`)
      } else {
        if (!isHandle(v)) return this.fail('WeakMap.get: a handle value of a live key is gone', id)
        const t = this.checkTag(v, 'WeakMap value')
        if (t && (t.origin !== m.origin || t.seq !== m.seq)) this.fail('WeakMap.get: another handle', id)
      }
    } else {
      const had = this.map.delete(rec.h)
      if (had !== this.mapModel.has(id)) this.fail('WeakMap.delete disagrees with the model', id)
      this.mapModel.delete(id)
    }
    if (this.mapModel.size > 4 * CAP) this.mapModel.delete(this.mapModel.keys().next().value) // forget (the entry stays)
  }

  checkStats(what) {
    const s = this.store.stats()
    if (s.anomalies !== 0) this.fail(`${what}: stats().anomalies`, s.anomalies)
    if (!(s.attached >= 1)) this.fail(`${what}: stats().attached`, s.attached)
    return s
  }

  async opCollect() {
    this.count.collects++
    const figures = await this.store.collect()
    if (!figures || typeof figures.freed !== 'number') this.fail('collect() resolved without figures', figures)
    this.checkStats('after collect')
  }

  /** close() this thread's attachment and attach again (workers only). */
  async opReattach() {
    const old = this.store
    const gen = this.gen
    this.count.reattaches++
    for (const r of this.pool) this.stale.push({ h: r.h, gen })
    for (const p of this.privates) this.stale.push({ h: p.h, gen })
    if (this.stale.length > CAP) this.stale.splice(0, this.stale.length - CAP)
    this.pool = []
    this.inPool.clear()
    this.privates = []
    this.mapModel.clear()
    this.map = new WeakMap()
    this.gen++
    this.closingGens.add(gen)
    const closing = old.close()
    const done = () => {
      this.closedGens.add(gen)
      for (const [id, reg] of this.regs) {
        if (reg.gen !== gen) continue
        reg.state = 'dropped'
        this.regs.delete(id)
        if (reg.heldId) this.heldIds.delete(reg.heldId)
      }
    }
    if (this.rng() < 0.5) {
      await closing
      done()
    } else {
      this.pendingClose = closing.then(done) // attach while the old attachment is still closing
    }
    this.store = Store.attach(this.shared)
    if (this.store === old) this.fail('attach after close() gave the closed Store', '')
    if (Store.attach(this.shared) !== this.store) this.fail('attach twice gave two Stores', '')
    for (const [name, m] of this.ownPins) {
      const h = this.store.pinned(name)
      const t = h && this.checkTag(h, 'pinned after re-attach')
      if (!t || t.origin !== m.origin || t.seq !== m.seq) this.fail('an own pin did not survive close() + attach', name)
    }
  }

  async step() {
    const r = this.rng()
    const ops = [
      [0.10, 'alloc', () => this.opAlloc()],
      [0.08, 'private', () => this.opPrivate()],
      [0.09, 'set', () => this.opSet()],
      [0.09, 'get', () => this.opGet()],
      [0.03, 'delete', () => this.opDelete()],
      [0.06, 'release', () => this.opRelease()],
      [0.02, 'use released', () => this.opUseReleased()],
      [0.02, 'use stale', () => this.opUseStale()],
      [0.06, 'own pin', () => this.opOwnPin()],
      [0.04, 'common pin', () => this.opCommonPin()],
      [0.01, 'pins', () => this.opPins()],
      [0.05, 'pinned received', () => this.opPinnedReceived()],
      [0.08, 'resolve received', () => this.opResolveReceived()],
      [0.02, 'resolve own', () => this.opResolveOwn()],
      [0.03, 'hostile', () => this.opHostile()],
      [0.05, 'post', () => this.opPost()],
      [0.06, 'weakref', () => this.opWeakRef()],
      [0.06, 'register', () => this.opRegister()],
      [0.05, 'weakmap', () => this.opWeakMap()],
      [0.002, 'collect', () => this.opCollect()],
      [0.002, 'stats', () => this.checkStats('stats')],
      [this.canClose ? 0.0008 : 0, 'reattach', () => this.opReattach()],
    ]
    let acc = 0
    const at = r * ops.reduce((n, [w]) => n + w, 0)
    for (const [w, name, fn] of ops) {
      acc += w
      if (at < acc && w > 0) {
        this.note(name)
        const x = this.call(name, [], fn)
        if (x.ok && x.value && typeof x.value.then === 'function') {
          try {
            await x.value
          } catch (err) {
            this.fail(`${name} rejected`, err && err.stack)
          }
        }
        return
      }
    }
  }

  async run(shouldStop = () => false) {
    for (let i = 0; i < this.ops && !shouldStop(); i++) {
      this.count.ops++
      await this.step()
      if (i % 25 === 24) await turn() // messages in, callbacks delivered
      if (i % 500 === 499 && this.progress) this.progress(i + 1)
    }
    if (this.pendingClose) await this.pendingClose
  }

  summary() {
    return { thread: this.label, seed: this.seed, ...this.count, failures: this.failures }
  }
}

// ------------------------------------------------------------------ worker

if (!isMainThread) {
  const { seed, ops, label, shared } = workerData
  const fz = new ThreadFuzzer({ seed, ops, label, shared, canClose: true, post: (items, pins) => parentPort.postMessage({ t: 'post', items, pins }) })
  fz.progress = (n) => parentPort.postMessage({ t: 'progress', n }) // counts the ops of a worker that gets terminated
  parentPort.on('message', (m) => fz.receive(m))
  ;(async () => {
    await fz.run()
    // End by close() or by simply exiting (the thread's end detaches it).
    if (fz.rng() < 0.5) await fz.store.close()
    parentPort.postMessage({ t: 'done', summary: fz.summary() })
    parentPort.close()
  })().catch((err) => {
    fz.fail('worker crashed', err && err.stack)
    parentPort.postMessage({ t: 'done', summary: fz.summary() })
    parentPort.close()
  })
}

// ------------------------------------------------------------------ main

async function main() {
  if (typeof globalThis.gc !== 'function') {
    console.error('threads-fuzz: run with node --expose-gc')
    process.exit(2)
  }
  const args = process.argv.slice(2)
  const val = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const long = args.includes('--long')
  const json = args.includes('--json')
  const quiet = args.includes('--quiet')
  const seedText = val('seed') ?? process.env.SEED
  const seed = seedText !== undefined ? Number(seedText) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0
  const ops = Number(val('ops') ?? process.env.OPS ?? (long ? 150_000 : 2500))
  const K = Number(val('workers') ?? (long ? 3 : 3))
  const replacements = Number(val('replace') ?? (long ? 12 : 1))
  const started = performance.now()
  if (!quiet) console.log(`threads-fuzz: seed ${seed}, ${ops} ops per thread, ${K} workers, ${replacements} replacement(s)`)

  const watchdog = setTimeout(() => {
    console.log(`threads-fuzz: HANG (seed ${seed})`)
    process.exit(3)
  }, long ? 30 * 60_000 : 60_000)

  const rng = makeRng(seed ^ 0xa5a5a5a5)
  const store = new Store({ budget: 256 * 1024, growth: 50, threads: 1 })
  const shared = store.share()
  const failures = []
  const summaries = []
  let terminated = 0
  let killedOps = 0 // ops of terminated workers, as of their last progress message
  let spawned = 0
  const slots = []
  const fz = new ThreadFuzzer({ seed, ops, label: 'main', shared, canClose: false, post: (items, pins) => route(-1, items, pins) })

  const route = (from, items, pins) => {
    const to = Math.floor(rng() * (K + 1)) - 1 // -1: the main thread
    if (to === from) return
    if (to === -1) fz.receive({ items, pins })
    else if (slots[to].alive) slots[to].worker.postMessage({ items, pins })
  }

  const spawn = (slot, incarnation) => {
    const label = `w${slot}.${incarnation}`
    const wseed = mix(seed, slot * 1000 + incarnation)
    const s = { slot, label, alive: true, done: false, killed: false, summary: null, progress: 0 }
    spawned++
    s.worker = new Worker(__filename, { workerData: { seed: wseed, ops: incarnation === 0 ? ops : Math.ceil(ops / 2), label, shared } })
    s.worker.on('message', (m) => {
      if (m.t === 'post') route(slot, m.items, m.pins)
      else if (m.t === 'progress') s.progress = m.n
      else if (m.t === 'done') {
        s.done = true
        s.summary = m.summary
      }
    })
    s.worker.on('error', (err) => failures.push({ thread: label, seed: wseed, what: 'worker error', detail: String(err && err.stack) }))
    s.exited = new Promise((resolve) => s.worker.on('exit', (code) => {
      s.alive = false
      if (!s.killed && (code !== 0 || !s.done)) failures.push({ thread: label, seed: wseed, what: `worker exited with ${code} before done`, detail: '' })
      if (s.summary) summaries.push(s.summary)
      else killedOps += s.progress
      resolve()
    }))
    slots[slot] = s
    return s
  }

  if (fz.store !== store) fz.fail('Store.attach in the sharing thread is not its Store', '')
  for (let i = 0; i < K; i++) spawn(i, 0)
  const incarnations = new Array(K).fill(0)
  const exits = []

  // Terminations at seeded points of the main thread's run.
  const killAt = Array.from({ length: replacements }, () => Math.floor(rng() * ops)).sort((a, b) => a - b)
  let mainOps = 0
  const origStep = fz.step.bind(fz)
  fz.step = async () => {
    while (killAt.length && killAt[0] <= mainOps) {
      killAt.shift()
      const s = slots[Math.floor(rng() * K)]
      if (!s.alive) continue
      s.killed = true
      terminated++
      exits.push(s.exited)
      await s.worker.terminate()
      spawn(s.slot, ++incarnations[s.slot])
    }
    mainOps++
    return origStep()
  }
  await fz.run()
  for (const s of slots) exits.push(s.exited)
  await Promise.all(exits)
  for (const s of slots) if (!s.killed && !s.done) failures.push({ thread: s.label, what: 'worker never finished', detail: '' })

  // ---------------------------------------------------------------- the end
  const end = {}
  await store.collect()
  let st = fz.checkStats('end')
  end.attached = st.attached
  if (st.attached !== 1) fz.fail('stats().attached after every worker ended', st.attached)

  // Settle: collect until nothing more is freed and no callback is pending.
  for (let i = 0, prev = -1; i < 8; i++) {
    await store.collect()
    st = store.stats()
    if (st.objects === prev && st.pendingFinalizations === 0) break
    prev = st.objects
  }
  end.objectsBeforeWalk = st.objects
  end.pins = st.pins
  end.reachable = reachableFromMain(fz, store)
  if (end.reachable !== end.objectsBeforeWalk) {
    fz.fail('objects left differ from what the pins and the main thread reach', `${end.objectsBeforeWalk} objects, ${end.reachable} reachable`)
  }

  // Unpin everything, release every main handle: nothing may remain.
  for (const name of store.pins()) store.unpin(name)
  for (const r of fz.pool) r.h.release()
  for (const p of fz.privates) p.h.release()
  for (const reg of fz.regs.values()) if (reg.heldHandle) reg.heldHandle.release()
  fz.pool = []
  fz.privates = []
  fz.inPool.clear()
  fz.refs = []
  let rounds = 0
  for (; rounds < 10; rounds++) {
    await store.collect()
    st = store.stats()
    if (st.objects === 0 && st.pendingFinalizations === 0) break
  }
  Object.assign(end, { objects: st.objects, handles: st.handles, cells: st.finalizationCells, pending: st.pendingFinalizations, anomalies: st.anomalies, failedCycles: st.failedCycles, rounds: rounds + 1 })
  for (const k of ['objects', 'handles', 'cells', 'pending', 'anomalies']) if (end[k] !== 0) fz.fail(`at the end, stats ${k}`, end[k])
  if (st.pins !== 0) fz.fail('pins left after unpinning all', st.pins)
  await store.close()
  await fz.other.close()
  const attachClosed = fz.call('attach after the last close', ['ERR_WEAKSTORE_UNKNOWN_STORE'], () => Store.attach(shared))
  if (attachClosed.ok) fz.fail('attach after the last close() succeeded', '')
  clearTimeout(watchdog)

  const all = [fz.summary(), ...summaries]
  for (const s of all) failures.push(...s.failures)
  const sum = (k) => all.reduce((n, s) => n + (s[k] || 0), 0)
  const throws = {}
  for (const s of all) for (const [c, n] of Object.entries(s.throws)) throws[c] = (throws[c] || 0) + n
  const result = {
    seed, mode: long ? 'long' : 'short', workers: K, spawned, terminated, ops: sum('ops') + killedOps,
    resolveHit: sum('resolveHit'), resolveMiss: sum('resolveMiss'), pinnedHit: sum('pinnedHit'), pinnedMiss: sum('pinnedMiss'),
    callbacks: sum('callbacks'), collects: sum('collects'), reattaches: sum('reattaches'), derefDead: sum('derefDead'), throws,
    end, ms: Math.round(performance.now() - started), failures: failures.length,
  }
  if (!quiet || failures.length) {
    for (const f of failures.slice(0, 10)) console.log(`threads-fuzz: FAIL [${f.thread}, seed ${f.seed}] ${f.what}: ${f.detail}\n  last ops: ${(f.tail || []).join(', ')}`)
  }
  if (json) console.log(`THREADS_FUZZ_SUMMARY ${JSON.stringify(result)}`)
  else console.log(`threads-fuzz: seed ${seed}: ${result.ops} ops over ${spawned} workers + main in ${result.ms} ms, ${failures.length} failure(s); ${JSON.stringify(result)}`)
  process.exit(failures.length ? 1 : 0)
}

/**
 * How many objects the pins and the main thread reach: its pool and private
 * handles, its registrations' held handles, along reference fields and its
 * WeakMap's handle values.
 */
function reachableFromMain(fz, store) {
  const seen = new Set()
  const stack = []
  const made = [] // handles made by the walk: released at its end, so that they root nothing
  const kept = new Set([...fz.pool.map((r) => r.h), ...fz.privates.map((p) => p.h)])
  for (const reg of fz.regs.values()) if (reg.heldHandle) kept.add(reg.heldHandle)
  const push = (h) => {
    if (h && !kept.has(h)) made.push(h)
    if (h && !h.released && !seen.has(h.id)) {
      seen.add(h.id)
      stack.push(h)
    }
  }
  for (const name of store.pins()) push(store.pinned(name))
  for (const r of fz.pool) push(r.h)
  for (const p of fz.privates) push(p.h)
  for (const reg of fz.regs.values()) if (reg.heldHandle && !reg.heldHandle.released) push(reg.heldHandle)
  // Held handles released after register() are kept by their cells: reach them by id.
  for (const [id] of fz.heldIds) push(store.resolve(id))
  while (stack.length) {
    const h = stack.pop()
    for (const k of h.keys()) {
      const v = h.get(k)
      if (isHandle(v)) push(v)
    }
    const v = fz.map.get(h)
    if (isHandle(v)) push(v)
  }
  for (const h of made) if (!kept.has(h)) h.release()
  return seen.size
}

if (isMainThread) {
  main().catch((err) => {
    console.log(`threads-fuzz: crashed: ${err && err.stack}`)
    process.exit(1)
  })
}
