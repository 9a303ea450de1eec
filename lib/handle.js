'use strict'
// Handle: the JavaScript face of one store object.
//
// A live, unreleased Handle is a *root*: it owns one root count on its
// object in the native store. There is at most one canonical Handle per
// live object per thread (tracked by the binding's wrapper cache,
// src/wrappers/), so `a.get('peer') === b` holds while b's wrapper lives.
// When V8 collects a canonical Handle, a Node-API finalizer drops its
// root; `release()` drops it at once. A scoped Handle (lib/scope.js) has
// its root owned by its scope instead, and is not canonical.

const { inspect } = require('node:util')
const native = require('../native.js')
const { V8WeakRef } = require('./builtins')
const { isObject, typeError, invalidThis, invalidValue, withCode, released, closed } = require('./errors')
const { handleId } = require('./sharing')

const CONSTRUCT = Symbol('weakstore.construct')

/** What util.inspect prints for a live handle: its fields, under the name Handle. */
const HandleView = { Handle: class {} }.Handle

/** An own field of a view (a key such as `__proto__` must not set its prototype). */
const field = (view, key, value) =>
  Object.defineProperty(view, key, { value, writable: true, enumerable: true, configurable: true })

/**
 * A handle's weak reference to itself, made the first time a weakstore
 * WeakRef needs one and shared by all of them: `deref()` of a live handle
 * is then one V8 deref. `id` becomes 0 when the handle is released.
 */
class SelfRef extends V8WeakRef {
  constructor(h, id) {
    super(h)
    this.id = id
  }
}

// Keys and string values are stored as UTF-8, which cannot represent a
// lone surrogate: such a string would come back altered (U+FFFD), and two
// distinct keys could collide. They are refused (set) or cannot match
// (get, has, delete).
function checkKey(where, key) {
  if (typeof key !== 'string') throw typeError(where, 'a string key', key)
  if (!key.isWellFormed()) {
    throw invalidValue(`${where}: keys must be well-formed Unicode strings (this one has a lone surrogate)`)
  }
}

let liveId
let idOf
let stateOf
let markReleased
let keyOf
let setId
let keptOf
let setKept
let selfRefOf
let existingSelfRef
// A handle's ScopeRoots (lib/scope.js), or null for a canonical handle;
// a scoped handle's place in its scope's record (ScopedHandle).
let scopeOf
let placeOf

/** A scoped handle's use after its scope closed. */
const scopeClosed = (where) =>
  released(where, 'was released when its scope closed (scope.escape(handle) gives one that outlives the scope)')

class Handle {
  #state
  #id
  // The object id, kept after release: a released handle still names its
  // object as an unregister token.
  #key
  // The job (StoreState.job) in which deref() or new WeakRef() last
  // returned or targeted this handle: KeepDuringJob, see StoreState.keep.
  #kept = -1
  // Its SelfRef, once a WeakRef needed one (canonical handles only).
  #self = undefined

  constructor(key, state, id) {
    if (key !== CONSTRUCT) {
      throw withCode(new TypeError('Handle is not constructible: create handles with store.alloc()'), 'ERR_ILLEGAL_CONSTRUCTOR')
    }
    this.#state = state
    this.#id = id
    this.#key = id
  }

  static {
    // A method's receiver: a brand check (a private method would throw V8's
    // own error on a foreign receiver before we could), then its object id,
    // if it was neither released nor its store closed (from the close()
    // call on: a write then would be lost with the store).
    liveId = (self, where) => {
      if (!isObject(self) || !(#id in self)) {
        throw invalidThis(`Handle.prototype.${where}`, 'a weakstore Handle', self)
      }
      if (self.#id === 0) throw released(`Handle.prototype.${where}`)
      const scope = scopeOf(self)
      if (scope !== null && !scope.open) throw scopeClosed(`Handle.prototype.${where}`)
      if (self.#state.closing !== null) throw closed(`Handle.prototype.${where}`)
      return self.#id
    }
    // Brand-checked accessors for the rest of the package; `undefined` for
    // anything that is not a Handle, 0 for a released one.
    idOf = (h) => {
      if (h === null || typeof h !== 'object' || !(#id in h)) return undefined
      const scope = scopeOf(h)
      return scope === null || scope.open ? h.#id : 0
    }
    stateOf = (h) => h.#state
    keyOf = (h) => (h !== null && typeof h === 'object' && #key in h ? h.#key : undefined)
    markReleased = (h) => {
      h.#id = 0
      if (h.#self !== undefined) h.#self.id = 0
    }
    setId = (h, id) => {
      h.#id = id
      h.#key = id
    }
    keptOf = (h) => h.#kept
    setKept = (h, job) => {
      h.#kept = job
    }
    existingSelfRef = (h) => h.#self
    selfRefOf = (h) => {
      if (h.#self === undefined) h.#self = new SelfRef(h, h.#id)
      return h.#self
    }
  }


  /** Sets field `key` to `value`; returns this handle. */
  set(key, value) {
    const id = liveId(this, 'set')
    const st = this.#state
    // A name the store gave an id to (a well-formed string: it was written
    // by name before) goes to the native side as that number.
    const k = st.keyIds.get(key)
    if (k === undefined) checkKey('Handle.prototype.set', key)
    else if (typeof value === 'number') {
      native.setNumberAt(st.index, id, k, value)
      return this
    }
    const ref = idOf(value)
    let learned
    if (ref !== undefined) {
      if (ref === 0) throw released('Handle.prototype.set (value)')
      if (value.#state !== st) {
        throw invalidValue('Handle.prototype.set: the value is a handle of another Store; fields may only refer to objects of the same store')
      }
      if (k !== undefined) native.setRefAt(st.index, id, k, ref)
      else learned = native.setRef(st.index, id, key, ref)
    } else {
      if (typeof value === 'string' && !value.isWellFormed()) {
        throw invalidValue('Handle.prototype.set: string values must be well-formed Unicode (this one has a lone surrogate)')
      }
      if (k !== undefined) native.setValueAt(st.index, id, k, value)
      else learned = native.setValue(st.index, id, key, value)
    }
    if (learned >= 0) st.keyIds.set(key, learned)
    return this
  }

  /**
   * The value of field `key`, or undefined. A reference comes back as the
   * canonical handle of its object, or, read through a scoped handle, as
   * that scope's handle.
   */
  get(key) {
    const id = liveId(this, 'get')
    const st = this.#state
    const k = st.keyIds.get(key)
    if (k === undefined) {
      if (typeof key !== 'string') throw typeError('Handle.prototype.get', 'a string key', key)
      if (!key.isWellFormed()) return undefined // no stored key can match
    }
    const scope = scopeOf(this)
    if (scope !== null) return scopedGet(scope, id, k, key)
    const value = k !== undefined ? native.getAt(st.index, id, k) : native.get(st.index, id, key)
    if (!Array.isArray(value)) return value
    return value.length === 1 ? st.wrap(value[0]) : st.adopt(value[0])
  }

  /** Whether field `key` exists. */
  has(key) {
    const id = liveId(this, 'has')
    const st = this.#state
    const k = st.keyIds.get(key)
    if (k !== undefined) return native.hasAt(st.index, id, k)
    if (typeof key !== 'string') throw typeError('Handle.prototype.has', 'a string key', key)
    if (!key.isWellFormed()) return false // no stored key can match
    return native.has(st.index, id, key)
  }

  /** Removes field `key`; whether it existed. */
  delete(key) {
    const id = liveId(this, 'delete')
    const st = this.#state
    const k = st.keyIds.get(key)
    if (k !== undefined) return native.delAt(st.index, id, k)
    if (typeof key !== 'string') throw typeError('Handle.prototype.delete', 'a string key', key)
    if (!key.isWellFormed()) return false // no stored key can match
    return native.del(st.index, id, key)
  }

  /** Field names, in insertion order. */
  keys() {
    const id = liveId(this, 'keys')
    return native.keys(this.#state.index, id)
  }

  /** How many fields the object has. */
  get size() {
    const id = liveId(this, 'size')
    return native.fieldCount(this.#state.index, id)
  }

  /** The fields' values, in insertion order (as `get` returns them). */
  values() {
    liveId(this, 'values')
    return this.keys().map((key) => this.get(key))
  }

  /** The fields as `[key, value]` pairs, in insertion order. */
  entries() {
    liveId(this, 'entries')
    return this.keys().map((key) => [key, this.get(key)])
  }

  /** `for (const [key, value] of handle)`: the entries. */
  [Symbol.iterator]() {
    return this.entries()[Symbol.iterator]()
  }

  /**
   * The object's id, `'<store>:<object>'`: a string another thread can
   * turn back into a handle with `store.resolve(id)` while the object
   * lives. It stays the same after `release()`.
   */
  get id() {
    if (!isObject(this) || !(#key in this)) throw invalidThis('Handle.prototype.id', 'a weakstore Handle', this)
    return handleId(this.#state.key, this.#key)
  }

  /**
   * JSON.stringify: the object's id (see `id`), which `store.resolve(id)`
   * turns back into a handle while the object lives. A handle's fields
   * are not copied: they live in the store, and may refer to other objects.
   */
  toJSON() {
    if (!isObject(this) || !(#key in this)) throw invalidThis('Handle.prototype.toJSON', 'a weakstore Handle', this)
    return handleId(this.#state.key, this.#key)
  }

  /** Whether this handle was released. */
  get released() {
    if (!isObject(this) || !(#id in this)) throw invalidThis('Handle.prototype.released', 'a weakstore Handle', this)
    const scope = scopeOf(this)
    return this.#id === 0 || (scope !== null && !scope.open)
  }

  /**
   * Drops this handle's root now (a scoped handle's: the roots its scope
   * took for it). Idempotent.
   */
  release() {
    if (!isObject(this) || !(#id in this)) throw invalidThis('Handle.prototype.release', 'a weakstore Handle', this)
    if (this.#id === 0) return
    const scope = scopeOf(this)
    if (scope === null) return this.#state.release(this, this.#id)
    markReleased(this)
    scope.release(placeOf(this))
  }

  [Symbol.dispose]() {
    this.release()
  }

  /**
   * `util.inspect` / `console.log`: the fields, like an object's, nested to
   * the usual depth, a cycle as `[Circular]`. The nested objects are read
   * through scoped handles, released when the printing is done.
   */
  [inspect.custom](depth, options, inspect) {
    if (!isObject(this) || !(#id in this)) return this
    const owner = scopeOf(this)
    if (this.#id === 0 || (owner !== null && !owner.open)) return options.stylize('Handle <released>', 'special')
    if (this.#state.closing !== null) return options.stylize('Handle <closed>', 'special')
    if (depth < 0) return options.stylize('[Handle]', 'special')
    const limit = options.depth === null ? Infinity : depth
    // The walk reads through a scope of its own, closed when it is done:
    // printing makes no canonical handle and leaves no root behind.
    const scope = require('./scope').openScope(this.#state)
    try {
      const views = new Map() // object id -> its view, so that a cycle shows as [Circular]
      const view = (h, level) => {
        let v = views.get(h.#key)
        if (v !== undefined) return v
        v = new HandleView()
        views.set(h.#key, v)
        if (level > limit) {
          // Beyond the depth inspect prints [Handle] for an object with keys
          // (and Handle {} for one without): the keys are enough.
          for (const key of h.keys()) field(v, key, undefined)
          return v
        }
        for (const key of h.keys()) {
          const value = h.get(key)
          field(v, key, idOf(value) !== undefined ? view(value, level + 1) : value)
        }
        return v
      }
      return inspect(view(scope.handle(this), 0), { ...options, depth: options.depth === null ? null : depth })
    } finally {
      scope.close()
    }
  }

}

/**
 * The object id of `handle`, an argument of method `where` that must be a
 * live handle of the store whose state is `st` (`releasedAt` names it in
 * the error for a released one).
 */
function argumentId(where, st, handle, releasedAt = where) {
  const id = idOf(handle)
  if (id === undefined) throw typeError(where, 'a weakstore Handle', handle)
  if (id === 0) throw released(releasedAt)
  if (stateOf(handle) !== st) throw invalidValue(`${where}: the handle belongs to another Store`)
  return id
}

/**
 * A scoped handle (lib/scope.js): a Handle whose root the scope it names
 * owns, at a place in that scope's record. A subclass, so that canonical
 * handles carry no scope fields (a million live handles are V8 heap).
 */
class ScopedHandle extends Handle {
  #scope
  #place

  constructor(key, state, id, scope, place) {
    super(key, state, id)
    this.#scope = scope
    this.#place = place
  }

  static {
    scopeOf = (h) => (#scope in h ? h.#scope : null)
    placeOf = (h) => h.#place
  }
}

/**
 * Handle.prototype.get through a handle of scope `scope`: one native call
 * reads the field and, for a reference, roots its object in the scope's
 * next place (src/scope_api.rs), returning its id as a bigint; a bigint
 * value comes boxed, as [value].
 */
function scopedGet(scope, id, k, key) {
  const index = scope.st.index
  const value = k !== undefined
    ? native.getScopedAt(index, scope.number, scope.next, id, k)
    : native.getScoped(index, scope.number, scope.next, id, key)
  if (typeof value === 'bigint') return scope.took(Number(value))
  return Array.isArray(value) ? value[0] : value
}

Object.defineProperty(Handle.prototype, Symbol.toStringTag, {
  value: 'Handle', writable: false, enumerable: false, configurable: true,
})

module.exports = {
  Handle, CONSTRUCT, idOf, keyOf, stateOf, markReleased, setId, keptOf, setKept, selfRefOf, existingSelfRef,
  scopeOf, ScopedHandle, argumentId,
}
