'use strict'
// The engine's own weak primitives. weakstore uses V8's WeakRef and
// FinalizationRegistry internally to learn when a handle *wrapper* (a small
// JS object) dies, and a WeakMap to number unregister tokens.
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
