'use strict'
// Recipe: a memo cache that does not keep its values alive.
//
//   node --expose-gc examples/cache.js
//
// The cache maps keys to WeakRefs of store objects. While someone uses a
// value (holds its handle), lookups hit; once nobody does, the collector
// frees it and a FinalizationRegistry drops the stale entry, so the Map
// does not fill up with dead WeakRefs.

const { Store, WeakRef, FinalizationRegistry } = require('..')

class WeakCache {
  #entries = new Map() // key -> WeakRef
  #cleaner
  #load

  constructor(load) {
    this.#load = load
    this.#cleaner = new FinalizationRegistry((key) => {
      // The key may have been loaded again since: only drop a dead entry.
      const ref = this.#entries.get(key)
      if (ref !== undefined && ref.deref() === undefined) {
        this.#entries.delete(key)
        console.log(`  [cleaner] ${key}: entry removed`)
      }
    })
  }

  get(key) {
    const cached = this.#entries.get(key)?.deref()
    if (cached !== undefined) {
      console.log(`  get(${key}): hit`)
      return cached
    }
    console.log(`  get(${key}): miss, loading`)
    const value = this.#load(key)
    this.#entries.set(key, new WeakRef(value))
    this.#cleaner.register(value, key)
    return value
  }

  keys() {
    return [...this.#entries.keys()]
  }
}

const store = new Store()

// A pretend expensive load: a "rendered page" of 4 KiB.
const pages = new WeakCache((path) => store.alloc({ path, html: Buffer.alloc(4096, `<p>${path}</p>`) }))

// Uses a page without keeping it: the handle is dropped when this returns.
function pageSize(path) {
  return pages.get(path).get('html').length
}

async function main() {
  console.log('1. Two users of /home share one object; /about is used once.')
  const home = pages.get('/home')
  console.log(`  same object for the second user: ${pages.get('/home') === home}`)
  console.log(`  /about is ${pageSize('/about')} bytes`)
  console.log(`  cached keys: ${pages.keys().join(', ')}`)

  console.log('\n2. collect(): /about had no users left, /home is still held.')
  await store.collect()
  console.log(`  cached keys: ${pages.keys().join(', ')}; store objects: ${store.stats().objects}`)

  console.log('\n3. /home is still a hit; /about is loaded again.')
  console.log(`  /home is ${pageSize('/home')} bytes`)
  console.log(`  /about is ${pageSize('/about')} bytes`)

  console.log('\n4. The last user of /home lets go (release()), then collect().')
  home.release()
  await store.collect()
  console.log(`  cached keys: [${pages.keys().join(', ')}]; store objects: ${store.stats().objects}`)
}

if (typeof global.gc !== 'function') {
  console.log('(run with --expose-gc so that dropped, unreleased handles are collected too)\n')
}
main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
