'use strict'
// The built-in WeakRef, FinalizationRegistry, WeakMap and WeakSet create
// their instance with GetPrototypeFromConstructor(newTarget, intrinsic):
// when `newTarget.prototype` is not an object, the instance gets the
// constructor's own intrinsic prototype (%WeakRef.prototype%, ...). A class
// falls back to %Object.prototype% (of newTarget's realm) instead; weakstore's
// constructors call this to fall back as the built-ins do.

/**
 * Gives `self` the prototype `intrinsic` if its class made it with an
 * %Object.prototype% because `newTarget.prototype` is not an object.
 * Called only when newTarget is not the class itself.
 */
function fallbackPrototype(self, newTarget, intrinsic) {
  const proto = Object.getPrototypeOf(self)
  // Any realm's %Object.prototype% has a null prototype: only then can the
  // prototype be the fallback, and newTarget.prototype is read again.
  if (proto === null || Object.getPrototypeOf(proto) !== null) return
  const p = newTarget.prototype
  if ((typeof p !== 'object' || p === null) && typeof p !== 'function') Object.setPrototypeOf(self, intrinsic)
}

module.exports = { fallbackPrototype }
