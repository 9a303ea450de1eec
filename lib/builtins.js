'use strict'
// The engine's own weak primitives, which weakstore uses internally: V8
// WeakRefs to handles (a handle's SelfRef) and to registries, maps and
// stores' bookkeeping; V8 FinalizationRegistries to learn when a Store,
// registry or map dies; V8 WeakMaps for unregister tokens and per-store
// records. (Handle wrappers' deaths come from Node-API finalizers instead:
// src/wrappers/.)
//
// They are read as properties of globalThis, never as bare names: a script
// that does `const { WeakRef, WeakMap } = require('weakstore')` at its top
// level declares global lexical bindings of those names, which are still
// uninitialised while this package loads.
module.exports = {
  V8WeakRef: globalThis.WeakRef,
  V8FinalizationRegistry: globalThis.FinalizationRegistry,
  V8WeakMap: globalThis.WeakMap,
}
