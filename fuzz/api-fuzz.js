'use strict'
// Seeded random API fuzzer for weakstore's JavaScript surface.
//
//   node --expose-gc fuzz/api-fuzz.js                 # short mode (30,000 calls)
//   node --expose-gc fuzz/api-fuzz.js --long          # long mode (1,000,000 calls)
//   SEED=1234 CALLS=200000 node --expose-gc fuzz/api-fuzz.js
//   node --expose-gc fuzz/api-fuzz.js --seed=1234 --calls=200000 [--strict] [--no-workers] [--quiet]
//
// Every call is made with random, often hostile arguments: wrong types,
// released handles, handles of other stores, huge strings and buffers, weird
// keys, Proxies, objects with throwing getters / toString / valueOf /
// Symbol.toPrimitive, subclass instances, methods called on the wrong `this`,
// reentrant calls from cleanup callbacks and getOrInsertComputed callbacks,
// collect() storms, several stores, and (occasionally) worker threads running
// the same fuzzer and being terminated mid-flight.
//
// The contract checked (docs/TESTING.md, "JavaScript API fuzzer and soak"):
// - nothing crashes, aborts or hangs (a watchdog reports a hang);
// - every throw that does not come from the fuzzer's own hostile code is a
//   TypeError or RangeError, or an Error whose message says what was wrong
//   (never an "internal" error); an operation on a released handle throws an
//   error whose message mentions "released";
// - cheap correctness, against a model: get after set returns the value,
//   has/delete/keys agree with the model, a field that refers to an object
//   always yields a live handle (the concurrent collector never frees a
//   reachable object), a WeakRef to a held handle derefs to that handle,
//   a cleanup callback runs at most once per registration, never for a
//   target that is still held, never after unregister() removed it, and
//   always with the held value it was registered with; WeakMap/WeakSet
//   entries read back as set; every collect() resolves with figures.
//
// Strings with lone surrogates: Handle keys and values refuse them with a
// TypeError (get/has/delete miss); WeakMap keeps them exactly.
//
// `known(kind)` tallies divergences that are known and tolerated (none at
// the moment; --strict turns them into failures).
//
// Exit status: 0 clean, 1 contract violation (prints seed and call tail),
// 3 hang (watchdog).

const { isMainThread, Worker, workerData, parentPort } = require('node:worker_threads')
const path = require('node:path')
const ws = require('..')
const { Store, Handle, WeakRef, FinalizationRegistry, WeakMap, WeakSet } = ws

// collect() runs a full V8 GC when global.gc is exposed. That is slow
// (~10 ms each), so the fuzzer shows global.gc to weakstore only during
// some stretches of the run and calls it itself now and then.
const realGc = typeof globalThis.gc === 'function' ? globalThis.gc : undefined
function exposeGc(on) {
  if (!realGc) return
  // global.gc is non-configurable but writable: hide it as undefined.
  globalThis.gc = on ? realGc : undefined
}
const V8WeakRef = globalThis.WeakRef
const V8WeakMap = globalThis.WeakMap

// ---------------------------------------------------------------- options

function parseOptions() {
  if (!isMainThread) return { ...workerData, worker: true }
  const args = process.argv.slice(2)
  const flag = (name) => args.includes(`--${name}`)
  const val = (name) => {
    const a = args.find((x) => x.startsWith(`--${name}=`))
    return a === undefined ? undefined : a.slice(name.length + 3)
  }
  const long = flag('long')
  const seedText = val('seed') ?? process.env.SEED
  const callsText = val('calls') ?? process.env.CALLS
  const seed = seedText !== undefined ? Number(seedText) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0
  const calls = callsText !== undefined ? Number(callsText) : long ? 1_000_000 : 30_000
  return {
    seed,
    calls,
    long: long || calls >= 500_000,
    strict: flag('strict') || process.env.STRICT === '1',
    workers: !flag('no-workers') && process.env.NO_WORKERS !== '1',
    quiet: flag('quiet'),
    json: flag('json'),
    worker: false,
  }
}

const opts = parseOptions()

// ---------------------------------------------------------------- PRNG

function makeRng(seed) {
  // sfc32 seeded through splitmix32.
  let s = seed >>> 0
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = split(), b = split(), c = split(), d = split()
  return () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0
    const t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    const r = (t + d) | 0
    c = (c + r) | 0
    return (r >>> 0) / 4294967296
  }
}

const rand = makeRng(opts.seed)
const int = (n) => Math.floor(rand() * n)
const chance = (p) => rand() < p
const pick = (arr) => arr[int(arr.length)]

// ---------------------------------------------------------------- log, failures

const TAIL = 60
const tail = new Array(TAIL)
let callNo = 0
let logging = ''
function log(text) {
  const prefix = inCallback > 0 ? '[in callback] ' : ''
  const slot = callNo % TAIL
  tail[slot] = tail[slot] && tail[slot].startsWith(`#${callNo} `) ? `${tail[slot]}; ${prefix}${text}` : `#${callNo} ${prefix}${text}`
  logging = prefix + text
}

const stats = {
  calls: 0, threw: 0, userThrew: 0, callbacks: 0, collects: 0, collectsResolved: 0,
  stores: 0, workers: 0, workersTerminated: 0, hugeValues: 0, known: {}, plainErrors: {},
  errorKinds: {},
}
const failures = []

const USER = Symbol('fuzz.userError')
class UserError extends Error {
  constructor(msg) { super(`fuzz user error: ${msg}`); this[USER] = true }
}
const userThrow = (msg) => { throw new UserError(msg) }

function short(v, depth = 0) {
  try {
    if (v === undefined) return 'undefined'
    if (v === null) return 'null'
    const t = typeof v
    if (t === 'string') return v.length > 24 ? `str(${v.length})` : JSON.stringify(v)
    if (t === 'bigint') return v.toString().length > 20 ? `bigint(${v.toString(16).length}h)` : `${v}n`
    if (t === 'symbol') return 'Symbol'
    if (t === 'function') return 'fn'
    if (t !== 'object') return String(v)
    if (v instanceof Handle) return `Handle${recOf.get(v)?.name ?? '?'}`
    if (ArrayBuffer.isView(v)) return `${v.constructor?.name}(${v.byteLength})`
    return depth ? 'obj' : 'obj'
  } catch { return '<hostile>' }
}

function fail(what, extra) {
  const entry = { what, call: callNo, op: logging, extra: extra === undefined ? undefined : String(extra?.stack ?? extra) }
  failures.push(entry)
  if (failures.length === 1 || opts.worker) {
    report(`FAILURE: ${what}`)
  }
  if (failures.length >= 5) finish(1)
}

function report(headline) {
  const lines = [`api-fuzz${opts.worker ? ' (worker)' : ''}: ${headline}`, `  seed=${opts.seed} call=${callNo} op: ${logging}`]
  const f = failures[failures.length - 1]
  if (f && f.extra) lines.push(`  detail: ${f.extra.split('\n').slice(0, 6).join('\n          ')}`)
  lines.push('  call tail (oldest first):')
  for (let i = Math.max(0, callNo - TAIL + 1); i <= callNo; i++) if (tail[i % TAIL]) lines.push(`    ${tail[i % TAIL]}`)
  lines.push(`  reproduce: SEED=${opts.seed} CALLS=${opts.calls} node --expose-gc fuzz/api-fuzz.js${opts.workers ? '' : ' --no-workers'}`)
  process.stderr.write(lines.join('\n') + '\n')
}

function known(kind) {
  stats.known[kind] = (stats.known[kind] ?? 0) + 1
  if (opts.strict) fail(`known divergence (strict mode): ${kind}`)
}

// ---------------------------------------------------------------- the contract

const EXPECT_OK = 'ok'
const EXPECT_TYPE = 'type' // TypeError
const EXPECT_RANGE = 'range' // RangeError
const EXPECT_RELEASED = 'released' // error mentioning "released"
const EXPECT_ANY = 'any' // may or may not throw; if it throws, the contract applies

function checkThrown(err, expect, where) {
  stats.threw++
  if (err !== null && typeof err === 'object' && err[USER]) {
    stats.userThrew++
    return
  }
  if (!(err instanceof Error)) return fail(`${where}: threw a non-Error`, short(err))
  const kind = err.constructor === TypeError ? 'TypeError' : err.constructor === RangeError ? 'RangeError' : err.constructor.name
  stats.errorKinds[kind] = (stats.errorKinds[kind] ?? 0) + 1
  if (typeof err.message !== 'string' || err.message.length === 0) return fail(`${where}: ${kind} without a message`, err)
  if (/internal weakstore error|unwrap|panick|RefCell|already borrowed|napi_|Status::/i.test(err.message)) {
    return fail(`${where}: internal error leaked`, err)
  }
  if (!(err instanceof TypeError) && !(err instanceof RangeError)) {
    // Allowed only if the message says what was wrong; keep a tally of them
    // for the report. Stack/heap exhaustion are not weakstore's.
    stats.plainErrors[err.message.slice(0, 100)] = (stats.plainErrors[err.message.slice(0, 100)] ?? 0) + 1
    if (!/weakstore|expected|released|Store|Handle|Registry|WeakMap|WeakSet|WeakRef|memory/i.test(err.message)) {
      return fail(`${where}: plain Error whose message does not say what was wrong`, err)
    }
  }
  if (expect === EXPECT_OK) return fail(`${where}: threw on valid input`, err)
  if (expect === EXPECT_RELEASED && !/released/.test(err.message)) return fail(`${where}: error for a released handle does not mention "released"`, err)
  if (expect === EXPECT_TYPE && !(err instanceof TypeError)) return fail(`${where}: expected a TypeError`, err)
  if (expect === EXPECT_RANGE && !(err instanceof RangeError) && !(err instanceof TypeError)) return fail(`${where}: expected a RangeError`, err)
}

/** Runs `fn`; returns { ok, value }. Checks the thrown error (or the absence of one) against `expect`. */
function attempt(where, expect, fn) {
  stats.calls++
  // Hostile user code (getters, traps, callbacks) may run inside this call
  // and change the situation the expectation was computed for (release a
  // handle, ...): then only the contract itself is checked.
  const relaxed = userCodeRan
  userCodeRan = false
  if (relaxed) expect = EXPECT_ANY
  let value
  try {
    value = fn()
  } catch (err) {
    checkThrown(err, expect, where)
    return { ok: false, err }
  }
  if (expect !== EXPECT_OK && expect !== EXPECT_ANY) fail(`${where}: expected a ${expect} error, got none`, short(value))
  return { ok: true, value }
}
// Set by the generators when the next attempt() runs hostile user code.
let userCodeRan = false

// ---------------------------------------------------------------- model

/** Handle record: the handle, its store record, whether released, a field model (null: unknown). */
const recOf = new V8WeakMap() // Handle -> rec
let pool = [] // recs the fuzzer holds strongly
let nextName = 0
const stores = [] // store recs { store, name, manual }
const refs = [] // { ref, target: V8WeakRef(handle), rec }
const regs = [] // registry recs
const maps = [] // { map, isSet, name, model: Map<rec, {has, value}> }
const pendingCollects = new Set()

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
  if (pool.length > 400) {
    // Drop some old handles: half released, half just forgotten (V8 may
    // collect their wrappers, which drops their roots).
    const drop = pool.splice(0, 100)
    for (const r of drop) if (chance(0.5) && !r.released) releaseRec(r)
  }
  pool.push(rec)
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

function liveRecs() { return pool.filter((r) => !r.released) }
function randomRec() { return pool.length ? pool[int(pool.length)] : undefined }
function randomLiveRec(storeRec) {
  for (let i = 0; i < 8; i++) {
    const r = randomRec()
    if (r && !r.released && (!storeRec || r.store === storeRec)) return r
  }
  return undefined
}
function randomStore() { return stores.length ? pick(stores) : newStore() }

// ---------------------------------------------------------------- hostile values

class SubStore extends Store {}
class SubRef extends WeakRef {}
class SubReg extends FinalizationRegistry {}
class SubMap extends WeakMap {
  set(k, v) { if (chance(0.1)) userThrow('SubMap.set'); return super.set(k, v) }
}
class SubSet extends WeakSet {
  add(v) { if (chance(0.1)) userThrow('SubSet.add'); return super.add(v) }
}

function hostileObject() {
  switch (int(12)) {
    case 0: return { toString: () => userThrow('toString'), valueOf: () => userThrow('valueOf') }
    case 1: return { [Symbol.toPrimitive]: () => userThrow('toPrimitive') }
    case 2: return { [Symbol.toPrimitive]: () => 'a' }
    case 3: return new Proxy({}, { get: () => userThrow('proxy get'), has: () => userThrow('proxy has'), getPrototypeOf: () => userThrow('proxy proto') })
    case 4: { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return proxy }
    case 5: return { get constructor() { return userThrow('constructor getter') } }
    case 6: return Object.create(null)
    case 7: return Object.create(Handle.prototype)
    case 8: return new Proxy(randomRec()?.h ?? {}, {})
    case 9: return { constructor: { name: Symbol('weird name') } }
    case 10: return Object.setPrototypeOf({}, Store.prototype)
    default: return new Proxy(function () {}, { apply: () => userThrow('apply') })
  }
}

/** A random value that is not a weakstore object of any kind (a wrong `this`, key, target...). */
function junk() {
  switch (int(22)) {
    case 0: return undefined
    case 1: return null
    case 2: return 0
    case 3: return -1
    case 4: return NaN
    case 5: return 2 ** 53
    case 6: return 'junk'
    case 7: return Symbol('s')
    case 8: return Symbol.for('registered')
    case 9: return 12n
    case 10: return {}
    case 11: return []
    case 12: return () => {}
    case 13: return new Number(1)
    case 14: return new String('a')
    case 15: return new Date()
    case 16: return new Map()
    case 17: return Object.create(Handle.prototype)
    case 18: return Object.create(Store.prototype)
    case 19: return Object.create(WeakRef.prototype)
    case 20: return Object.create(pick([FinalizationRegistry, WeakMap, WeakSet]).prototype)
    default: return hostileObject()
  }
}

const COMMON_KEYS = ['a', 'b', 'c', 'k0', 'k1', 'k2', 'k3', 'ref', 'next', 'bytes']
let longKey = null

function randomString(maxLen) {
  const n = int(maxLen + 1)
  let s = ''
  const alphabet = 'abcxyz09 _-\u00e9\u65e5\u{1F600}\0\n'
  const chars = [...alphabet]
  for (let i = 0; i < n; i++) s += chars[int(chars.length)]
  return s
}

function hugeString() {
  stats.hugeValues++
  const mb = opts.long && !opts.worker ? 10 + int(41) : 1 + int(3)
  return 'x'.repeat(mb << 20)
}

/** A key and what `set` should do with it. */
function genKey() {
  const r = rand()
  if (r < 0.75) return { key: pick(COMMON_KEYS), valid: true }
  if (r < 0.9) {
    switch (int(12)) {
      case 0: return { key: '', valid: true }
      case 1: return { key: '__proto__', valid: true }
      case 2: return { key: 'constructor', valid: true }
      case 3: return { key: 'hasOwnProperty', valid: true }
      case 4: return { key: '\u65e5\u672c\u{1F600}', valid: true }
      case 5: return { key: 'a\0b', valid: true }
      case 6: return { key: randomString(40), valid: true }
      case 7: {
        if (longKey === null || chance(0.1)) longKey = 'L'.repeat(1000 + int(100_000))
        return { key: longKey, valid: true }
      }
      case 8: return { key: '\ud800', valid: false, lossy: true }
      case 9: return { key: 'x\udfffy', valid: false, lossy: true }
      case 10: return { key: '\ufffd', valid: true }
      default: return { key: String(int(100)), valid: true }
    }
  }
  if (chance(0.002)) return { key: hugeString(), valid: true }
  if (chance(0.05)) return { key: pick([stores[0]?.store, refs[0]?.ref, regs[0]?.reg, maps[0]?.map]), valid: false }
  const key = junk()
  return { key, valid: typeof key === 'string' && key.isWellFormed() }
}

let bigBuffer = null
/**
 * A value for Handle.set, with its expectation:
 * { v, expect, kind: 'prim'|'bytes'|'ref', bytes?, lossy? }
 */
function genValue(storeRec) {
  const r = rand()
  if (r < 0.45) {
    switch (int(16)) {
      case 0: return { v: null, expect: EXPECT_OK, kind: 'prim' }
      case 1: return { v: chance(0.5), expect: EXPECT_OK, kind: 'prim' }
      case 2: return { v: int(1000), expect: EXPECT_OK, kind: 'prim' }
      case 3: return { v: rand() * 1e9 - 5e8, expect: EXPECT_OK, kind: 'prim' }
      case 4: return { v: pick([NaN, -0, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2]), expect: EXPECT_OK, kind: 'prim' }
      case 5: return { v: randomString(30), expect: EXPECT_OK, kind: 'prim' }
      case 6: return { v: '', expect: EXPECT_OK, kind: 'prim' }
      case 7: return { v: 'S'.repeat(int(200_000)), expect: EXPECT_OK, kind: 'prim' }
      case 8: return { v: BigInt(int(1e9)) * (chance(0.5) ? -1n : 1n), expect: EXPECT_OK, kind: 'prim' }
      case 9: return { v: (chance(0.5) ? -1n : 1n) * (2n ** BigInt(64 + int(4000))) + 7n, expect: EXPECT_OK, kind: 'prim' }
      case 10: return { v: 0n, expect: EXPECT_OK, kind: 'prim' }
      case 11: return { v: 'a\ud800b', expect: EXPECT_TYPE, kind: 'prim', lossy: true }
      case 12: return { v: '\udc00', expect: EXPECT_TYPE, kind: 'prim', lossy: true }
      case 13: return { v: '\u{1F600}\u00e9\0', expect: EXPECT_OK, kind: 'prim' }
      case 14: return { v: chance(0.5) ? 'true' : 'null', expect: EXPECT_OK, kind: 'prim' }
      default: return { v: -int(1 << 30), expect: EXPECT_OK, kind: 'prim' }
    }
  }
  if (r < 0.6) {
    let v
    switch (int(9)) {
      case 0: v = Buffer.alloc(int(64), int(256)); break
      case 1: v = new Uint8Array(int(16)).map(() => int(256)); break
      case 2: { const b = Buffer.alloc(64, 7); v = b.subarray(int(32), 32 + int(32)); break }
      case 3: v = new Uint8Array(0); break
      case 4: { const u = new Uint8Array(8).fill(3); structuredClone(u.buffer, { transfer: [u.buffer] }); v = u; break } // detached
      case 5: v = new Uint8Array(new SharedArrayBuffer(16)).fill(9); break
      case 6: v = Buffer.alloc(int(200_000), 1); break
      case 7: { class MyBytes extends Uint8Array {} v = new MyBytes(5).fill(5); break }
      default: {
        if (chance(opts.long ? 0.01 : 0.05)) {
          stats.hugeValues++
          const mb = opts.long && !opts.worker ? 10 + int(41) : 1 + int(3)
          v = Buffer.alloc(mb << 20, 0xab)
        } else {
          if (bigBuffer === null) bigBuffer = Buffer.alloc(1 << 20, 0xcd)
          v = bigBuffer
        }
      }
    }
    return { v, expect: EXPECT_OK, kind: 'bytes', bytes: Buffer.from(v) }
  }
  if (r < 0.8) {
    // handles
    const other = randomRec()
    if (!other) return { v: null, expect: EXPECT_OK, kind: 'prim' }
    if (other.released) return { v: other.h, expect: EXPECT_RELEASED, kind: 'ref' }
    if (other.store !== storeRec) return { v: other.h, expect: EXPECT_TYPE, kind: 'ref' }
    return { v: other.h, expect: EXPECT_OK, kind: 'ref', target: other }
  }
  if (r < 0.8005 && opts.long) {
    return { v: hugeString(), expect: EXPECT_OK, kind: 'prim' }
  }
  switch (int(8)) {
    case 0: return { v: new Int8Array(2), expect: EXPECT_TYPE, kind: 'bad' }
    case 1: return { v: new Uint8ClampedArray(2), expect: EXPECT_TYPE, kind: 'bad' }
    case 2: return { v: new DataView(new ArrayBuffer(4)), expect: EXPECT_TYPE, kind: 'bad' }
    case 3: return { v: new ArrayBuffer(4), expect: EXPECT_TYPE, kind: 'bad' }
    case 4: return { v: new Proxy(new Uint8Array(2), {}), expect: EXPECT_TYPE, kind: 'bad' }
    case 5: return { v: new Float64Array(1), expect: EXPECT_TYPE, kind: 'bad' }
    default: {
      const v = junk()
      const prim = v === null || ['boolean', 'number', 'string', 'bigint'].includes(typeof v)
      return { v, expect: prim ? EXPECT_OK : EXPECT_ANY, kind: prim ? 'prim' : 'bad' }
    }
  }
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
function adopt(h, storeRec) {
  if (!(h instanceof Handle)) return
  let rec = recOf.get(h)
  if (rec === undefined) {
    rec = recFor(h, storeRec)
    if (chance(0.3)) addToPool(rec)
  }
}

// ---------------------------------------------------------------- operations

let storeSerial = 0
function storeOptions() {
  switch (int(14)) {
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
    case 10: { userCodeRan = true; return { opts: { get threads() { return userThrow('threads getter') } }, expect: EXPECT_ANY } }
    case 11: { userCodeRan = true; return { opts: new Proxy({}, { get: (t, k) => (k === 'budget' ? 2048 : k === 'threads' ? (chance(0.5) ? 2 : userThrow('trap')) : undefined) }), expect: EXPECT_ANY } }
    case 12: return { opts: { threads: chance(0.05) ? 64 : 2, manual: chance(0.5) }, expect: EXPECT_OK }
    default: return { opts: [], expect: EXPECT_OK }
  }
}

function newStore() {
  const { opts: o, expect } = storeOptions()
  const Ctor = chance(0.1) ? SubStore : Store
  log(`new ${Ctor.name}(${short(o)})`)
  const r = attempt('new Store', expect, () => new Ctor(o))
  userCodeRan = false
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
  for (const r of pool) {
    if (r.store === srec) { if (chance(0.5) && !r.released) releaseRec(r) } else keep.push(r)
  }
  pool = keep
  for (let j = refs.length - 1; j >= 0; j--) if (refs[j].store === srec) refs.splice(j, 1)
}

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
    userCodeRan = true
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
  userCodeRan = true
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
  userCodeRan = false
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
  let rec = randomLiveRec()
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
  if (pool.length < 10) return
  log('forget some handles')
  const n = int(Math.min(30, pool.length))
  for (let i = 0; i < n; i++) pool.splice(int(pool.length), 1)
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
let inCallback = 0

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
  inCallback++
  const saved = logging
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
    } else if (held instanceof Handle) {
      // Same-store held handles come back canonical (never released); a
      // handle of another store is held by JavaScript and comes back as is.
      if (held.released && !jsHeldHandles.has(held)) fail('cleanup callback got a released handle as held value')
    }
    if (chance(0.3)) reenter(rrec)
  } finally {
    inCallback--
    logging = saved
  }
}

function reenter(rrec) {
  callNo++
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
  if (inCallback) rrec.registeredInCallback = true
  if (held && held[HELD] !== undefined) {
    rrec.cells.set(uid, { target: new V8WeakRef(rec.h), state: 'live', token, inCallback: inCallback > 0 })
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
  log(`${rrec.name}.unregister(${short(token)})${wrongThis ? ' wrong this' : ''}${inCallback ? ' in callback' : ''}`)
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
        cell.state = inCallback ? 'unregisteredInCallback' : 'unregistered'
      }
    }
    // Registrations whose targets are still held must be found.
    const mustFind = !(token instanceof Handle) && uids.some((uid) => { const c = rrec.cells.get(uid); const t = c && c.target.deref(); return c && t !== undefined && !t.released })
    if (mustFind && r.value !== true && !inCallback) fail('unregister() returned false for a token with a live registration')
    if (!inCallback) for (const uid of uids) { const c = rrec.cells.get(uid); if (c && c.state === 'unregistered') rrec.cells.delete(uid) }
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
  if (Ctor === SubSet || Ctor === SubMap) { expect = expect === EXPECT_OK ? EXPECT_ANY : expect; userCodeRan = true }
  log(`new ${Ctor.name}(${iterable === entries ? `[${entries.length}]` : short(iterable)})`)
  const r = attempt(`new ${isSet ? 'WeakSet' : 'WeakMap'}`, expect, () => new Ctor(iterable))
  userCodeRan = false
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
    if (!wrongThis && rec && !rec.released && cbKind >= 2) userCodeRan = true
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
  const hostile = userCodeRan || opaque
  const r = attempt(`${mrec.isSet ? 'WeakSet' : 'WeakMap'}.${method}`, expect, () => proto[method].apply(self, args))
  userCodeRan = false
  if (wrongThis || !rec) {
    if (r.ok && !inserting && r.value !== (method === 'get' ? undefined : false)) fail(`${method} of a non-handle key returned ${short(r.value)}`)
    return
  }
  if (!r.ok) {
    if (hostile) mrec.model.delete(rec)
    return
  }
  if (rec.released) return
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
    case 'get': checkMapGet(mrec, rec, r.value); if (r.value instanceof Handle) adopt(r.value, rec.store); break
    case 'has': if (had !== undefined && r.value !== had.has) fail(`${mrec.name}.has = ${r.value}, model says ${had.has}`); break
    case 'delete': if (had !== undefined && r.value !== had.has) fail(`${mrec.name}.delete = ${r.value}, model says ${had.has}`); mrec.model.set(rec, { has: false }); break
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

// ---- Store-level

function trackCollect(p, srec) {
  stats.collects++
  if (!(p instanceof Promise)) return fail('collect() did not return a promise')
  // The tracker does not hold the store: a collect() must settle even if
  // nothing else references its store (dropped stores are common here).
  const t = { started: Date.now(), call: callNo, store: srec.name }
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

// ---- workers

const liveWorkers = new Set()
function opWorker() {
  if (opts.worker || !opts.workers || liveWorkers.size >= 2) return
  const calls = opts.long ? 2000 + int(20000) : 1000 + int(3000)
  const seed = (opts.seed ^ (callNo * 2654435761)) >>> 0
  log(`worker seed=${seed} calls=${calls}`)
  stats.workers++
  const w = new Worker(__filename, { workerData: { seed, calls, long: false, strict: opts.strict, workers: false, quiet: true } })
  liveWorkers.add(w)
  let terminated = false
  if (chance(0.6)) {
    setTimeout(() => { terminated = true; stats.workersTerminated++; w.terminate() }, int(300)).unref()
  }
  w.on('message', (m) => {
    if (m && m.failures && m.failures.length) {
      for (const f of m.failures) failures.push({ ...f, what: `worker seed=${seed}: ${f.what}` })
      report(`worker seed=${seed} reported failures`)
    }
    if (m && m.known) for (const k in m.known) stats.known[k] = (stats.known[k] ?? 0) + m.known[k]
  })
  w.on('error', (err) => {
    if (err && /fuzz user error/.test(err.message)) return
    failures.push({ what: `worker seed=${seed} errored: ${err && err.message}`, call: callNo, op: 'worker' })
  })
  w.on('exit', (code) => {
    liveWorkers.delete(w)
    if (code !== 0 && !terminated) failures.push({ what: `worker seed=${seed} exited with ${code}`, call: callNo, op: 'worker' })
  })
}

// ---------------------------------------------------------------- driver

const OPS = [
  [opAlloc, 14], [opSet, 22], [opGet, 18], [opKeys, 3], [opRelease, 8], [opForget, 1],
  [opCycles, 3], [opWalk, 2], [opWeakRef, 7], [opRegistry, 10], [opMap, 10], [opCollect, 1.2],
  [opStats, 1], [opMisc, 1.5], [newStore, 0.15], [() => stores.length > 1 && dropStore(pick(stores)), 0.05],
  [newMap, 0.3], [newRegistry, 0.2],
]
const totalWeight = OPS.reduce((s, [, w]) => s + w, 0)
function step() {
  let x = rand() * totalWeight
  for (const [fn, w] of OPS) {
    x -= w
    if (x < 0) return fn()
  }
  return OPS[0][0]()
}

const turn = () => new Promise((resolve) => setImmediate(resolve))
const heartbeat = new Int32Array(new SharedArrayBuffer(8))

function startWatchdog() {
  if (opts.worker) return
  const limit = Number(process.env.FUZZ_HANG_SECONDS ?? 120)
  const w = new Worker(`
    const { workerData } = require('node:worker_threads')
    const hb = workerData.hb
    let last = -1, since = Date.now()
    setInterval(() => {
      const now = Atomics.load(hb, 0)
      if (now !== last) { last = now; since = Date.now(); return }
      if (Atomics.load(hb, 1) === 1) return
      if (Date.now() - since > workerData.limit * 1000) {
        process.stderr.write('api-fuzz: HANG: no progress for ' + workerData.limit + ' s at call #' + now + ' (seed=' + workerData.seed + ')\\n')
        process.kill(process.pid, 'SIGKILL')
      }
    }, 1000)
  `, { eval: true, workerData: { hb: heartbeat, limit, seed: opts.seed } })
  w.unref()
}

process.on('uncaughtException', (err) => {
  if (err && err[USER]) { stats.userThrew++; return }
  fail('uncaught exception', err)
})
process.on('unhandledRejection', (err) => {
  if (err && err[USER]) return
  fail('unhandled rejection', err)
})

let finished = false
function finish(code) {
  if (finished) return
  finished = true
  Atomics.store(heartbeat, 1, 1)
  const summary = {
    seed: opts.seed, calls: callNo, apiCalls: stats.calls, ms: Date.now() - startedAt, failures: failures.length,
    threw: stats.threw, userThrew: stats.userThrew, callbacks: stats.callbacks, collects: stats.collects,
    collectsResolved: stats.collectsResolved, stores: stats.stores, workers: stats.workers,
    workersTerminated: stats.workersTerminated, hugeValues: stats.hugeValues, known: stats.known,
    errorKinds: stats.errorKinds, plainErrors: stats.plainErrors,
  }
  if (opts.worker) {
    parentPort.postMessage({ failures, known: stats.known })
    process.exit(0)
  }
  if (code === 0 && failures.length) code = 1
  if (failures.length > 1) {
    process.stderr.write(`api-fuzz: ${failures.length} failures:\n${failures.map((f) => `  call #${f.call}: ${f.what}\n    op: ${f.op}`).join('\n')}\n`)
  }
  const rss = Math.round(process.memoryUsage().rss / 2 ** 20)
  process.stdout.write(`api-fuzz: ${code === 0 ? 'ok' : 'FAILED'} seed=${opts.seed} calls=${callNo} api-calls=${stats.calls} time=${(summary.ms / 1000).toFixed(1)}s ` +
    `throws=${stats.threw} (hostile user code ${stats.userThrew}) callbacks=${stats.callbacks} collects=${stats.collectsResolved}/${stats.collects} ` +
    `stores=${stats.stores} workers=${stats.workers} (terminated ${stats.workersTerminated}) huge=${stats.hugeValues} rss=${rss}MB\n`)
  if (Object.keys(stats.known).length) process.stdout.write(`api-fuzz: known divergences: ${JSON.stringify(stats.known)}\n`)
  if (!opts.quiet) process.stdout.write(`api-fuzz: error kinds ${JSON.stringify(stats.errorKinds)}; plain Errors ${JSON.stringify(stats.plainErrors)}\n`)
  if (opts.json) process.stdout.write(`API_FUZZ_SUMMARY ${JSON.stringify(summary)}\n`)
  process.exit(code)
}

let startedAt = Date.now()
async function main() {
  if (!opts.worker) {
    process.stdout.write(`api-fuzz: seed=${opts.seed} calls=${opts.calls}${opts.long ? ' (long)' : ''}${opts.strict ? ' strict' : ''}\n`)
    startWatchdog()
  }
  startedAt = Date.now()
  newStore()
  let nextTurn = 50 + int(400)
  let nextGcToggle = 0
  let nextWorker = opts.long ? 20_000 + int(100_000) : Math.floor(opts.calls / 3)
  while (callNo < opts.calls) {
    callNo++
    Atomics.store(heartbeat, 0, callNo)
    try {
      step()
    } catch (err) {
      // The fuzzer's own bookkeeping threw: treat as a finding, with context.
      if (err && err[USER]) stats.userThrew++
      else fail('unexpected exception escaped an operation', err)
    }
    userCodeRan = false
    if (finished) return
    if (callNo >= nextTurn) {
      nextTurn = callNo + 50 + int(400)
      await turn()
      if (chance(0.05)) await new Promise((r) => setTimeout(r, int(5)))
    }
    if (opts.long && !opts.worker && !opts.quiet && callNo % 100_000 === 0) {
      process.stderr.write(`api-fuzz: ${callNo} calls, ${((Date.now() - startedAt) / 1000).toFixed(0)} s, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB, callbacks ${stats.callbacks}, collects ${stats.collectsResolved}/${stats.collects}\n`)
    }
    if (callNo >= nextGcToggle) {
      nextGcToggle = callNo + 1000 + int(4000)
      exposeGc(chance(0.2))
    }
    if (callNo >= nextWorker) {
      nextWorker = callNo + (opts.long ? 50_000 + int(100_000) : opts.calls)
      opWorker()
    }
  }
  // Drain: every collect() must resolve; callbacks get delivered.
  log('drain')
  const deadline = Date.now() + 60_000
  for (const s of stores) trackCollect(s.store.collect(), s)
  while (pendingCollects.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  if (pendingCollects.size > 0) {
    const t = [...pendingCollects][0]
    fail(`${pendingCollects.size} collect() promises never resolved (first from call #${t.call} on ${t.store})`)
  }
  // Let workers finish or be terminated.
  const wdeadline = Date.now() + 60_000
  while (liveWorkers.size > 0 && Date.now() < wdeadline) await new Promise((r) => setTimeout(r, 20))
  if (liveWorkers.size > 0) fail(`${liveWorkers.size} worker(s) never finished`)
  finish(0)
}

main().catch((err) => { fail('fuzzer crashed', err); finish(1) })
