'use strict'
// The engine's own weak primitives, captured before anything can shadow
// them: weakstore uses V8's WeakRef and FinalizationRegistry internally to
// learn when a handle *wrapper* (a small JS object) dies.
module.exports = {
  V8WeakRef: globalThis.WeakRef,
  V8FinalizationRegistry: globalThis.FinalizationRegistry,
}
