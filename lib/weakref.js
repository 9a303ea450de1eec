'use strict'
// WeakRef for handles: the surface of the built-in WeakRef, for store
// objects. It holds the object's id (generation-checked: once collected,
// it can never name another object) and the store's state.

const native = require('../native.js')
const { typeError, released } = require('./errors')
const { idOf, stateOf, cellOf } = require('./handle')

class WeakRef {
  #state
  #id
  // The wrapper cache's V8 WeakRef for this object's canonical handle, when
  // one exists: deref() of a live handle is then one V8 deref, no lookup.
  #cell

  constructor(target) {
    const id = idOf(target)
    if (id === undefined) throw typeError('WeakRef', 'a weakstore Handle as target', target)
    if (id === 0) throw released('WeakRef (target)')
    const st = stateOf(target)
    this.#state = st
    this.#id = id
    const cell = cellOf(target)
    this.#cell = cell
    st.keep(cell)
  }

  /** The target's canonical handle, or undefined once it was collected. */
  deref() {
    if (!(#id in this)) throw typeError('WeakRef.prototype.deref', 'a weakstore WeakRef as this', this)
    const id = this.#id
    if (id === 0) return undefined
    const st = this.#state
    const cell = this.#cell
    // A released handle's cache entry has id 0 (StoreState.release).
    let h = cell === undefined || cell.id === 0 ? undefined : cell.deref()
    if (h === undefined) {
      // The cached handle died or was released: the canonical one, if any.
      const ref = st.entry(id)
      h = ref === undefined ? undefined : ref.deref()
      if (h === undefined) {
        if (!native.root(st.index, id)) {
          this.#id = 0
          this.#state = undefined
          this.#cell = undefined
          return undefined
        }
        h = st.adopt(id)
      }
      this.#cell = st.entry(id)
    }
    st.keep(this.#cell)
    return h
  }
}

Object.defineProperty(WeakRef.prototype, Symbol.toStringTag, {
  value: 'WeakRef', writable: false, enumerable: false, configurable: true,
})

module.exports = { WeakRef }
