'use strict'
// WeakRef for handles: the surface of the built-in WeakRef, for store
// objects. It holds the object's id (generation-checked: once collected,
// it can never name another object) and the store's state.

const { isObject, typeError, invalidThis, released, closed } = require('./errors')
const { fallbackPrototype } = require('./construct')
const { idOf, stateOf, selfRefOf, existingSelfRef } = require('./handle')

class WeakRef {
  #state
  #id
  // The canonical handle's SelfRef (a V8 WeakRef to it, shared by every
  // weakstore WeakRef to that handle): deref() of a live handle is then
  // one V8 deref, no native call. Taken at the first deref() that needs
  // it, so that the constructor makes no V8 weak reference.
  #selfRef

  constructor(target) {
    if (new.target !== WeakRef) fallbackPrototype(this, new.target, WeakRef.prototype)
    const id = idOf(target)
    if (id === undefined) throw typeError('WeakRef', 'a weakstore Handle as target', target)
    if (id === 0) throw released('WeakRef (target)')
    const st = stateOf(target)
    if (st.closing !== null) throw closed('WeakRef (target)')
    this.#state = st
    this.#id = id
    this.#selfRef = existingSelfRef(target)
    st.keep(target)
  }

  /** The target's canonical handle, or undefined once it was collected. */
  deref() {
    if (!isObject(this) || !(#id in this)) throw invalidThis('WeakRef.prototype.deref', 'a weakstore WeakRef', this)
    const id = this.#id
    if (id === 0) return undefined
    const st = this.#state
    if (st.closing !== null) {
      // The store was closed (in this thread), from the close() call on:
      // its objects are gone here, even while a handle of them is still
      // reachable.
      this.#id = 0
      this.#state = undefined
      this.#selfRef = undefined
      return undefined
    }
    const selfRef = this.#selfRef
    // A released handle's SelfRef has id 0 (markReleased).
    let h = selfRef === undefined || selfRef.id === 0 ? undefined : selfRef.deref()
    if (h === undefined) {
      // No SelfRef yet, or its handle died or was released: the canonical
      // handle, or a new one if the object is still alive.
      h = st.wrap(id)
      if (h === undefined) {
        this.#id = 0
        this.#state = undefined
        this.#selfRef = undefined
        return undefined
      }
      const c = selfRefOf(h)
      c.deref() // V8 keeps the handle until the end of the job, as above
      this.#selfRef = c
    }
    st.keep(h)
    return h
  }
}

Object.defineProperty(WeakRef.prototype, Symbol.toStringTag, {
  value: 'WeakRef', writable: false, enumerable: false, configurable: true,
})

module.exports = { WeakRef }
