'use strict'
// WeakRef and FinalizationRegistry look like the built-ins to code that
// inspects them. The global classes are the reference.
const test = require('node:test')
const assert = require('node:assert/strict')
const ws = require('..')

const pairs = [
  ['WeakRef', globalThis.WeakRef, ws.WeakRef, ['deref']],
  ['FinalizationRegistry', globalThis.FinalizationRegistry, ws.FinalizationRegistry, ['register', 'unregister']],
]

const shape = (d) => d && { writable: d.writable, enumerable: d.enumerable, configurable: d.configurable, get: typeof d.get, set: typeof d.set }

for (const [name, Builtin, Ours, methods] of pairs) {
  test(`${name}: constructor name, length and prototype descriptors match the built-in`, () => {
    assert.equal(Ours.name, Builtin.name)
    assert.equal(Ours.length, Builtin.length)
    assert.deepEqual(shape(Object.getOwnPropertyDescriptor(Ours, 'prototype')), shape(Object.getOwnPropertyDescriptor(Builtin, 'prototype')))
    assert.deepEqual(shape(Object.getOwnPropertyDescriptor(Ours.prototype, 'constructor')), shape(Object.getOwnPropertyDescriptor(Builtin.prototype, 'constructor')))
    assert.deepEqual(Object.keys(Ours.prototype), Object.keys(Builtin.prototype), 'no enumerable methods')
    assert.deepEqual(
      Object.getOwnPropertyNames(Ours.prototype).sort(),
      Object.getOwnPropertyNames(Builtin.prototype).sort(),
    )
  })

  test(`${name}: methods have the built-in's name, length, descriptor, and are not constructors`, () => {
    for (const m of methods) {
      const ours = Object.getOwnPropertyDescriptor(Ours.prototype, m)
      const theirs = Object.getOwnPropertyDescriptor(Builtin.prototype, m)
      assert.deepEqual(shape(ours), shape(theirs), m)
      assert.equal(ours.value.name, theirs.value.name, m)
      assert.equal(ours.value.length, theirs.value.length, m)
      assert.throws(() => new ours.value(), TypeError, `${m} is not a constructor`)
      assert.equal(Object.hasOwn(ours.value, 'prototype'), Object.hasOwn(theirs.value, 'prototype'))
    }
  })

  test(`${name}: Symbol.toStringTag matches`, () => {
    assert.deepEqual(
      Object.getOwnPropertyDescriptor(Ours.prototype, Symbol.toStringTag),
      Object.getOwnPropertyDescriptor(Builtin.prototype, Symbol.toStringTag),
    )
  })

  test(`${name}: calling without new throws TypeError, as the built-in does`, () => {
    assert.throws(() => Builtin(() => {}), TypeError)
    assert.throws(() => Ours(() => {}), TypeError)
  })

  test(`${name}: a wrong this throws TypeError, as the built-in does`, () => {
    for (const m of methods) {
      for (const self of [undefined, null, {}, 1, new (name === 'WeakRef' ? ws.FinalizationRegistry : ws.WeakRef)(
        name === 'WeakRef' ? () => {} : new ws.Store({ manual: true }).alloc())]) {
        assert.throws(() => Builtin.prototype[m].call(self, {}), TypeError, `built-in ${m}`)
        assert.throws(() => Ours.prototype[m].call(self, {}), TypeError, `ours ${m}`)
      }
    }
  })
}

test('toString tags of instances', () => {
  const store = new ws.Store({ manual: true })
  const h = store.alloc()
  assert.equal(Object.prototype.toString.call(new ws.WeakRef(h)), '[object WeakRef]')
  assert.equal(Object.prototype.toString.call(new ws.FinalizationRegistry(() => {})), '[object FinalizationRegistry]')
})

test('subclassing and new.target work', async () => {
  const store = new ws.Store({ manual: true })
  class TaggedRef extends ws.WeakRef {
    constructor(target, tag) {
      super(target)
      this.tag = tag
      this.made = new.target.name
    }
    derefTag() {
      return this.deref() && this.tag
    }
  }
  const h = store.alloc()
  const r = new TaggedRef(h, 'x')
  assert.ok(r instanceof ws.WeakRef)
  assert.equal(r.made, 'TaggedRef')
  assert.equal(r.derefTag(), 'x')
  assert.equal(r.deref(), h)

  const seen = []
  class LoggingRegistry extends ws.FinalizationRegistry {
    constructor() {
      super((held) => seen.push(held))
    }
  }
  const reg = new LoggingRegistry()
  reg.register(h, 'sub')
  h.release()
  await store.collect()
  assert.deepEqual(seen, ['sub'])
  assert.equal(r.derefTag(), undefined)
  // Reflect.construct with another new.target.
  function Other() {}
  Other.prototype = Object.create(ws.WeakRef.prototype)
  const o = Reflect.construct(ws.WeakRef, [store.alloc()], Other)
  assert.equal(Object.getPrototypeOf(o), Other.prototype)
  assert.equal(typeof o.deref(), 'object')
})

test('Reflect.construct with a new.target whose prototype is not an object: the class\'s own prototype, as the built-ins fall back to theirs', () => {
  const store = new ws.Store({ manual: true })
  const h = store.alloc()
  const args = {
    WeakRef: [[{}], [h]],
    FinalizationRegistry: [[() => {}], [() => {}]],
    WeakMap: [[], []],
    WeakSet: [[], []],
  }
  const vm = require('node:vm')
  const otherContext = vm.createContext()
  const otherRealm = vm.runInContext('(function F() {})', otherContext)
  Object.assign(otherContext, vm.runInContext('({ WeakRef, FinalizationRegistry, WeakMap, WeakSet })', otherContext))
  for (const name of Object.keys(args)) {
    const [builtinArgs, ourArgs] = args[name]
    for (const proto of [undefined, null, 1, 'str', Symbol('p'), true]) {
      // A plain function, another realm's, a bound function (no own prototype).
      for (const newTarget of [function F() {}, otherRealm, function () {}.bind()]) {
        newTarget.prototype = proto
        const theirs = Reflect.construct(globalThis[name], builtinArgs, newTarget)
        const ours = Reflect.construct(ws[name], ourArgs, newTarget)
        // The built-in falls back to newTarget's realm's intrinsic; weakstore
        // has one realm.
        const intrinsic = newTarget === otherRealm ? otherContext[name].prototype : globalThis[name].prototype
        assert.equal(Object.getPrototypeOf(theirs), intrinsic, `built-in ${name}, prototype ${String(proto)}`)
        assert.equal(Object.getPrototypeOf(ours), ws[name].prototype, `weakstore ${name}, prototype ${String(proto)}`)
      }
    }
    // An object prototype is used as it is, Object.prototype and a
    // null-prototype object included.
    for (const proto of [Object.prototype, Object.create(null), Object.create(ws[name].prototype)]) {
      function F() {}
      F.prototype = proto
      assert.equal(Object.getPrototypeOf(Reflect.construct(globalThis[name], builtinArgs, F)), proto)
      assert.equal(Object.getPrototypeOf(Reflect.construct(ws[name], ourArgs, F)), proto)
    }
  }
  const wm = Reflect.construct(ws.WeakMap, [[[h, 1]]], function () {}.bind())
  assert.equal(wm.get(h), 1, 'the iterable is added through the weakstore prototype')
  const r = Reflect.construct(ws.WeakRef, [h], Object.assign(function F() {}, { prototype: null }))
  assert.equal(r.deref(), h)
})
