'use strict'
// Hostile value generators: subclasses of the weakstore classes, hostile
// objects (throwing getters, Proxies, toPrimitive...), junk of every type,
// keys for Handle fields, and values for Handle.set with what set should do.

const { Store, Handle, WeakRef, FinalizationRegistry, WeakMap, WeakSet } = require('../..')
const { opts, rand, int, chance, pick, stats, stores, refs, regs, maps } = require('./state')
const { userThrow, EXPECT_OK, EXPECT_TYPE, EXPECT_RELEASED, EXPECT_ANY } = require('./contract')
const { randomRec } = require('./model')

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

module.exports = {
  SubStore, SubRef, SubReg, SubMap, SubSet, hostileObject, junk, COMMON_KEYS, randomString, hugeString, genKey, genValue,
}
