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
//
// This file is the entry point (also run in worker threads); the fuzzer
// itself is in fuzz/lib/:
//   options.js           command-line options, seeded PRNG
//   state.js             shared mutable state (options, rng, pools, stats)
//   contract.js          call log, failures, the contract checked on every call
//   model.js             handle records and the field model
//   hostile.js           hostile value, key and junk generators
//   ops-store.js         Store operations (new, collect, stats, misc)
//   ops-handle.js        Handle operations (alloc, set/get/has/delete, release...)
//   ops-finalization.js  WeakRef and FinalizationRegistry operations
//   ops-map.js           WeakMap / WeakSet operations
//   ops-scope.js         Scopes: scoped walks against canonical reads, alloc, escape, close
//   driver.js            workers, watchdog, main loop, summary

const { main, fail, finish } = require('./lib/driver')

main().catch((err) => { fail('fuzzer crashed', err); finish(1) })
