'use strict'
// Every error a user can cause carries a Node-style `code` (README, "Errors").
const test = require('node:test')
const assert = require('node:assert/strict')
const { Store, Handle, WeakRef, FinalizationRegistry, WeakMap, WeakSet } = require('..')

const err = (name, code, message) => (message ? { name, code, message } : { name, code })

test('wrong argument types: TypeError ERR_INVALID_ARG_TYPE', () => {
  const store = new Store({ manual: true })
  const a = store.alloc()
  const type = err('TypeError', 'ERR_INVALID_ARG_TYPE')
  assert.throws(() => new Store(5), type)
  assert.throws(() => new Store({ threads: '2' }), type)
  assert.throws(() => store.alloc(5), type)
  assert.throws(() => a.set(1, 1), type)
  assert.throws(() => a.get(Symbol('k')), type)
  // Checked by the binding (src/values.rs), not the JavaScript layer.
  assert.throws(() => a.set('k', { plain: 'object' }), err('TypeError', 'ERR_INVALID_ARG_TYPE', /expected/))
  assert.throws(() => a.set('k', new Float32Array(1)), type)
  assert.throws(() => new WeakRef({}), type)
  assert.throws(() => new FinalizationRegistry('not a function'), type)
  assert.throws(() => new FinalizationRegistry(() => {}).register({}, 1), type)
  assert.throws(() => new FinalizationRegistry(() => {}).unregister(1), type)
  assert.throws(() => new WeakMap().set({}, 1), type)
  assert.throws(() => new WeakSet().add(1), type)
  assert.throws(() => new WeakMap().getOrInsertComputed(a, 1), type)
  assert.throws(() => new WeakMap([1]), type)
})

test('messages name what was given once: undefined, null, primitives, objects', () => {
  const given = (fn) => {
    try {
      fn()
    } catch (e) {
      return e.message.slice(e.message.lastIndexOf(', got ') + 6)
    }
    assert.fail('no throw')
  }
  assert.equal(given(() => new WeakRef(undefined)), 'undefined')
  assert.equal(given(() => Store.attach(undefined)), 'undefined')
  assert.equal(given(() => new FinalizationRegistry(undefined)), 'undefined')
  assert.equal(given(() => new WeakRef(null)), 'null')
  assert.equal(given(() => new WeakRef(5)), 'number 5')
  assert.equal(given(() => new WeakRef({})), 'an instance of Object')
})

test('numbers out of range: RangeError ERR_OUT_OF_RANGE', () => {
  const range = err('RangeError', 'ERR_OUT_OF_RANGE')
  assert.throws(() => new Store({ threads: 0 }), range)
  assert.throws(() => new Store({ threads: 65 }), range)
  assert.throws(() => new Store({ budget: 1 }), range)
  assert.throws(() => new Store({ growth: -1 }), range)
})

test('refused values: TypeError ERR_INVALID_ARG_VALUE', () => {
  const store = new Store({ manual: true })
  const a = store.alloc()
  const other = new Store({ manual: true }).alloc()
  const value = err('TypeError', 'ERR_INVALID_ARG_VALUE')
  assert.throws(() => a.set('\ud800', 1), value)
  assert.throws(() => a.set('k', 'lone \udc00'), value)
  assert.throws(() => a.set('k', other), value)
  assert.throws(() => new FinalizationRegistry(() => {}).register(a, a), value)
})

test('wrong receivers and constructors: ERR_INVALID_THIS, ERR_ILLEGAL_CONSTRUCTOR', () => {
  const wrongThis = err('TypeError', 'ERR_INVALID_THIS')
  assert.throws(() => Store.prototype.alloc.call({}), wrongThis)
  assert.throws(() => Handle.prototype.get.call({}, 'k'), wrongThis)
  assert.throws(() => WeakRef.prototype.deref.call({}), wrongThis)
  assert.throws(() => FinalizationRegistry.prototype.register.call({}, {}, 1), wrongThis)
  assert.throws(() => WeakMap.prototype.get.call({}, {}), wrongThis)
  assert.throws(() => WeakSet.prototype.has.call({}, {}), wrongThis)
  assert.throws(() => new Handle(), err('TypeError', 'ERR_ILLEGAL_CONSTRUCTOR'))
})

test('a released handle says it was released: ERR_WEAKSTORE_RELEASED', () => {
  const store = new Store({ manual: true })
  const a = store.alloc()
  const b = store.alloc()
  a.release()
  const rel = err('TypeError', 'ERR_WEAKSTORE_RELEASED', /released/)
  assert.throws(() => a.get('k'), rel)
  assert.throws(() => a.keys(), rel)
  assert.throws(() => b.set('peer', a), rel)
  assert.throws(() => new WeakRef(a), rel)
  assert.throws(() => new FinalizationRegistry(() => {}).register(a, 1), rel)
  assert.throws(() => new WeakMap().set(a, 1), rel)
  assert.throws(() => new WeakSet().add(a), rel)
})

test('a code is a plain own property, as on Node\'s own errors', () => {
  try {
    new Store({ manual: true }).alloc(5)
    assert.fail('did not throw')
  } catch (e) {
    assert.deepEqual(Object.getOwnPropertyDescriptor(e, 'code'),
      { value: 'ERR_INVALID_ARG_TYPE', writable: true, enumerable: true, configurable: true })
  }
})

test('primitive receivers get ERR_INVALID_THIS too, not V8\'s private-field errors', async () => {
  const wrongThis = err('TypeError', 'ERR_INVALID_THIS')
  for (const receiver of [undefined, null, 1, 'x', Symbol('s')]) {
    assert.throws(() => Store.prototype.alloc.call(receiver), wrongThis)
    assert.throws(() => Reflect.get(Store.prototype, 'closed', receiver), wrongThis)
    await assert.rejects(Store.prototype.close.call(receiver), wrongThis)
    assert.throws(() => Handle.prototype.set.call(receiver, 'k', 1), wrongThis)
    assert.throws(() => Handle.prototype.release.call(receiver), wrongThis)
    assert.throws(() => Reflect.get(Handle.prototype, 'released', receiver), wrongThis)
    assert.throws(() => WeakRef.prototype.deref.call(receiver), wrongThis)
    assert.throws(() => FinalizationRegistry.prototype.unregister.call(receiver, {}), wrongThis)
    assert.throws(() => WeakMap.prototype.set.call(receiver, {}, 1), wrongThis)
    assert.throws(() => WeakSet.prototype.add.call(receiver, {}), wrongThis)
  }
})

test('alloc names the field it cannot hold, and says how to nest an object', () => {
  const store = new Store({ manual: true })
  const objects = store.stats().objects
  assert.throws(() => store.alloc({ id: 1, user: { name: 'bob' } }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: /^Store\.prototype\.alloc: field 'user' is an object; .*allocate it and store its handle: alloc\(\{ "user": store\.alloc/,
  })
  assert.throws(() => store.alloc({ list: [1, 2] }), { code: 'ERR_INVALID_ARG_TYPE', message: /field 'list' is an array; .*Arrays are not supported yet/ })
  assert.throws(() => store.alloc({ u: undefined }), { code: 'ERR_INVALID_ARG_TYPE', message: /field 'u' is undefined;/ })
  assert.throws(() => store.alloc({ f: () => 1 }), { code: 'ERR_INVALID_ARG_TYPE', message: /field 'f' is a function;/ })
  assert.throws(() => store.alloc({ t: new Float64Array(1) }), { code: 'ERR_INVALID_ARG_TYPE', message: /field 't' is a Float64Array \(only Uint8Array and Buffer are\)/ })
  assert.throws(() => store.scope().alloc({ user: {} }), { code: 'ERR_INVALID_ARG_TYPE', message: /^Scope\.prototype\.alloc: field 'user'/ })
  assert.equal(store.stats().objects, objects, 'nothing was allocated')
  const h = store.alloc({ b: Buffer.from('x'), n: null, peer: store.alloc() })
  assert.deepEqual(h.keys(), ['b', 'n', 'peer'])
})

test('new Store refuses an option it does not know, naming the nearest one', () => {
  assert.throws(() => new Store({ manul: true }), {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: "new Store: unknown option 'manul' (did you mean 'manual'?); the options are threads, budget, growth, manual, background, maxBytes",
  })
  assert.throws(() => new Store({ maxbytes: 1 << 20 }), { message: /unknown option 'maxbytes' \(did you mean 'maxBytes'\?\)/ })
  assert.throws(() => new Store({ colour: 'red' }), { code: 'ERR_INVALID_ARG_VALUE', message: /^new Store: unknown option 'colour'; the options are/ })
  const inherited = Object.create({ unknown: 1 })
  inherited.manual = true
  assert.doesNotThrow(() => new Store(inherited).close(), 'only own options are read')
})

test('JSON.stringify of a handle gives its id, which resolve() turns back into the handle', () => {
  const store = new Store({ manual: true })
  const h = store.alloc({ n: 1 })
  const text = JSON.stringify({ h })
  assert.equal(text, JSON.stringify({ h: h.id }))
  assert.equal(store.resolve(JSON.parse(text).h), h)
  assert.throws(() => Handle.prototype.toJSON.call({}), { code: 'ERR_INVALID_THIS' })
})
