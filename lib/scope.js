'use strict'
// Scope: handles that are released together.
//
// A scoped handle is a Handle like any other for reading, writing, weak
// references, registries and weak collections, with three differences:
// - it costs no Node-API reference and no finalizer: its root is owned by
//   its scope, and dropped when the scope closes (or by its own release());
// - a reference read through it (`get`) returns a new handle of the same
//   scope, so a walk leaves no root behind once the scope closes, and V8
//   has nothing to clean up;
// - it is not canonical: each alloc(), get() or handle() returns a new
//   handle, so compare objects by `handle.id`, not `===`. scope.escape(h)
//   gives the canonical handle (the one store.alloc(), a canonical
//   handle's get() and WeakRef.prototype.deref() return), which outlives
//   the scope.
// Releasing a scoped handle drops its own root only; no other handle of
// the object is affected.
//
// The roots are recorded natively (src/scoped.rs), in the order the
// scope's handles took them: a handle knows its scope's number and its
// place in that record, and the scope counts the places it handed out.
// Closing the store or ending the thread drops them even if a scope is
// never closed. An unclosed scope is not closed by V8's collector: its
// handles may still be in use, and nothing tells. Store.prototype.scope(fn)
// closes it for you, and stats().scopedRoots shows what open scopes hold.

const native = require('../native.js')
const { isObject, invalidThis, withCode, released, closed } = require('./errors')
const { ScopedHandle, CONSTRUCT, argumentId } = require('./handle')
const { allocWith } = require('./fields')

/**
 * What a scoped handle points to (ScopedHandle's #scope): its scope's number
 * and state, not the Scope object, which handles do not keep reachable.
 */
class ScopeRoots {
  constructor(st) {
    this.st = st
    this.number = native.openScope(st.index)
    this.open = true
    this.next = 0 // the next place in the scope's native record
  }

  /** A new empty object rooted at place `next`, and its handle. */
  alloc() {
    return this.took(native.allocScoped(this.st.index, this.number, this.next))
  }

  /** The handle of object `id`, whose root was just recorded at place `next`. */
  took(id) {
    return new ScopedHandle(CONSTRUCT, this.st, id, this, this.next++)
  }

  /**
   * Handle.prototype.release of this scope's handle at `place` (already
   * marked released): queued, the root goes with the store's next batch
   * (StoreState.releaseScoped).
   */
  release(place) {
    if (!this.open || this.st.closed) return
    this.st.releaseScoped(this.number, place)
  }

  close() {
    if (!this.open) return
    this.open = false
    const st = this.st
    if (st.closed) return
    // Queued releases name scopes by number, and this one's may be given
    // to the next scope opened: they go first.
    st.flushReleases()
    st.registrations.flush()
    native.closeScope(st.index, this.number)
  }
}

let rootsOf

const scopeClosedError = (where) => withCode(new Error(`${where}: this scope was closed`), 'ERR_WEAKSTORE_SCOPE_CLOSED')

class Scope {
  #roots

  constructor(key, st) {
    if (key !== CONSTRUCT) {
      throw withCode(new TypeError('Scope is not constructible: open scopes with store.scope()'), 'ERR_ILLEGAL_CONSTRUCTOR')
    }
    this.#roots = new ScopeRoots(st)
  }

  static {
    rootsOf = (self, where) => {
      if (!isObject(self) || !(#roots in self)) throw invalidThis(`Scope.prototype.${where}`, 'a weakstore Scope', self)
      return self.#roots
    }
  }

  /** An open scope's roots and its store's state, for method `where`. */
  static #open(self, where) {
    const roots = rootsOf(self, where)
    if (!roots.open) throw scopeClosedError(`Scope.prototype.${where}`)
    if (roots.st.closing !== null) throw closed(`Scope.prototype.${where}`)
    return roots
  }

  /** Allocates an object with the own enumerable fields of `fields`; its handle belongs to this scope. */
  alloc(fields = undefined) {
    const roots = Scope.#open(this, 'alloc')
    const st = roots.st
    if (fields === undefined || fields === null) return roots.alloc()
    return allocWith('Scope.prototype.alloc', st, fields, () => {
      // Reading `fields` ran getters, which may have closed the scope.
      if (!roots.open) throw scopeClosedError('Scope.prototype.alloc')
      return roots.alloc()
    })
  }

  /** A new handle of this scope for the object `handle` (a live handle of the same store) names. */
  handle(handle) {
    const roots = Scope.#open(this, 'handle')
    const id = Scope.#target(roots, 'handle', handle)
    // `handle` is live, so it holds a root: the object cannot be gone.
    if (!native.rootScoped(roots.st.index, roots.number, roots.next, id)) throw released('Scope.prototype.handle (argument)')
    return roots.took(id)
  }

  /**
   * The canonical handle of the object `handle` names (see Store.prototype.alloc):
   * it outlives this scope, and V8 or its release() drops its root.
   */
  escape(handle) {
    const roots = Scope.#open(this, 'escape')
    return roots.st.wrap(Scope.#target(roots, 'escape', handle))
  }

  static #target(roots, where, handle) {
    return argumentId(`Scope.prototype.${where}`, roots.st, handle, `Scope.prototype.${where} (argument)`)
  }

  /** Whether this scope was closed. */
  get closed() {
    return !rootsOf(this, 'closed').open
  }

  /** Releases every handle of this scope. Idempotent. */
  close() {
    rootsOf(this, 'close').close()
  }

  [Symbol.dispose]() {
    this.close()
  }
}

Object.defineProperty(Scope.prototype, Symbol.toStringTag, {
  value: 'Scope', writable: false, enumerable: false, configurable: true,
})

/** A new open scope of the store whose state is `st`. */
const openScope = (st) => new Scope(CONSTRUCT, st)

module.exports = { Scope, openScope }
