// Type definitions for weakstore's ES module entry (index.mjs): the same
// classes and types as the CommonJS entry, plus its default export.
import * as weakstore from './index.js'

export { Store, Handle, Scope, WeakRef, FinalizationRegistry, WeakMap, WeakSet } from './index.js'
export type { FieldValue, FieldResult, StoreOptions, CycleFigures, StoreStats, RootStep, FieldStep, EphemeronStep, PathStep, SharedStore } from './index.js'
export default weakstore
