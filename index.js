'use strict'
// weakstore: an off-heap object store with its own concurrent garbage
// collector, and WeakRef / FinalizationRegistry for its handles.
//
// native.js is the loader napi-rs generates for the compiled addon (loaded
// first, through lib/load.js, which explains a missing addon); the classes
// below are a thin JavaScript layer over its id-based functions (see lib/
// and docs/DESIGN.md).

require('./lib/load')
const { Store } = require('./lib/store')
const { Handle } = require('./lib/handle')
const { Scope } = require('./lib/scope')
const { WeakRef } = require('./lib/weakref')
const { FinalizationRegistry } = require('./lib/finalization')
const { WeakMap, WeakSet } = require('./lib/weakmap')

module.exports = { Store, Handle, Scope, WeakRef, FinalizationRegistry, WeakMap, WeakSet }
