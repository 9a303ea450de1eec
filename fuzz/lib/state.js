'use strict'
// Shared mutable state of the API fuzzer: options, the seeded random stream,
// the counters and stats, the failure list, and the pools of handles, stores,
// WeakRefs, registries and maps that the operations draw from. Scalars that
// several modules reassign live on the object `S`.

const { parseOptions, makeRng } = require('./options')

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

const opts = parseOptions()

const rand = makeRng(opts.seed)
const int = (n) => Math.floor(rand() * n)
const chance = (p) => rand() < p
const pick = (arr) => arr[int(arr.length)]

const S = {
  callNo: 0,
  logging: '', // what the current call is doing (for failure reports)
  inCallback: 0, // depth of cleanup callbacks
  // Set by the generators when the next attempt() runs hostile user code.
  userCodeRan: false,
  pool: [], // recs the fuzzer holds strongly
  finish: null, // set by the driver: finish(code) ends the run
}

const stats = {
  calls: 0, threw: 0, userThrew: 0, callbacks: 0, collects: 0, collectsResolved: 0,
  stores: 0, workers: 0, workersTerminated: 0, hugeValues: 0, known: {}, plainErrors: {},
  errorKinds: {},
}
const failures = []

/** Handle record: the handle, its store record, whether released, a field model (null: unknown). */
const recOf = new V8WeakMap() // Handle -> rec
const stores = [] // store recs { store, name, manual }
const refs = [] // { ref, target: V8WeakRef(handle), rec }
const regs = [] // registry recs
const maps = [] // { map, isSet, name, model: Map<rec, {has, value}> }
const pendingCollects = new Set()
const liveWorkers = new Set()

module.exports = {
  realGc, exposeGc, V8WeakRef, V8WeakMap, opts, rand, int, chance, pick, S,
  stats, failures, recOf, stores, refs, regs, maps, pendingCollects, liveWorkers,
}
