// ES module entry: `import { Store, WeakRef } from 'weakstore'`.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const weakstore = require('./index.js')

export const { Store, Handle, Scope, WeakRef, FinalizationRegistry, WeakMap, WeakSet } = weakstore
export default weakstore
