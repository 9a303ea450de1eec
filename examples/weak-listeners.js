'use strict'
// Recipe: weak listeners, an event source that does not keep its
// subscribers alive.
//
//   node --expose-gc examples/weak-listeners.js
//
// Subscribers are store objects (say, widgets). The source keeps a WeakRef
// to each and a handler that gets the subscriber as an argument. A widget
// that goes away without unsubscribing simply stops receiving events, and
// a FinalizationRegistry removes its entry.
//
// The pitfall: a handler that *captures* its subscriber holds the handle,
// and a live handle is a root, so that subscriber is never collected.

const { Store, WeakRef, FinalizationRegistry } = require('..')

class WeakEmitter {
  #listeners = new Set() // { ref, handler, name }
  #cleanup = new FinalizationRegistry((entry) => {
    this.#listeners.delete(entry)
    console.log(`  [cleanup] ${entry.name}'s listener removed`)
  })

  /** handler(subscriber, event) runs while `subscriber` is alive. */
  subscribe(subscriber, handler) {
    const entry = { ref: new WeakRef(subscriber), handler, name: subscriber.get('name') }
    this.#listeners.add(entry)
    this.#cleanup.register(subscriber, entry, entry)
    return () => {
      this.#listeners.delete(entry)
      this.#cleanup.unregister(entry)
    }
  }

  emit(event) {
    for (const entry of this.#listeners) {
      const subscriber = entry.ref.deref()
      if (subscriber !== undefined) entry.handler(subscriber, event)
    }
  }

  get size() {
    return this.#listeners.size
  }
}

const store = new Store()
const clock = new WeakEmitter()

function render(widget, time) {
  widget.set('renders', (widget.get('renders') ?? 0) + 1)
  console.log(`  ${widget.get('name')} shows ${time}`)
}

// Mounts a widget nobody keeps: only the emitter (weakly) knows about it.
function mountTemporary(name) {
  clock.subscribe(store.alloc({ name }), render)
}

async function main() {
  const header = store.alloc({ name: 'header' })
  const sidebar = store.alloc({ name: 'sidebar' })
  clock.subscribe(header, render)
  clock.subscribe(sidebar, render)
  mountTemporary('tooltip')

  // The pitfall: this handler closes over `leaky`, so it stays alive.
  const leaky = store.alloc({ name: 'leaky' })
  clock.subscribe(leaky, () => console.log(`  ${leaky.get('name')} (captured) ticks`))

  console.log(`1. Four listeners (${clock.size}); everyone gets 10:00.`)
  clock.emit('10:00')

  console.log('\n2. The sidebar is released, the tooltip was never held; collect().')
  sidebar.release()
  await store.collect()

  console.log(`\n3. ${clock.size} listeners left; 10:01.`)
  clock.emit('10:01')
  console.log(`  header rendered ${header.get('renders')} times`)

  console.log('\n4. The header adds a second listener, then unsubscribes it and is released; 10:02.')
  const unsubscribe = clock.subscribe(header, () => console.log('  header (second listener) ticks'))
  clock.emit('10:02')
  unsubscribe()
  header.release()
  await store.collect()
  console.log(`  ${clock.size} listener(s) left: only the captured one, which keeps 'leaky' alive`)
  console.log(`  store objects: ${store.stats().objects}`)
}

if (typeof global.gc !== 'function') {
  console.log('(run with --expose-gc so that dropped, unreleased handles are collected too)\n')
}
main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
