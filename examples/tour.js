'use strict'
// A guided tour of weakstore. Run it with `npm start` (or `node examples/tour.js`).
//
// The tour needs V8's `global.gc` so that store.collect() can also collect
// handle wrappers that JavaScript dropped without release(). If it was
// started without --expose-gc, it runs itself again with the flag.

if (typeof global.gc !== 'function') {
  const { spawnSync } = require('child_process')
  const child = spawnSync(process.execPath, ['--expose-gc', __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  })
  if (child.error) throw child.error
  process.exit(child.status === null ? 1 : child.status)
}

const { inspect } = require('util')
const { Store, Handle, WeakRef, FinalizationRegistry } = require('..')

// ---------------------------------------------------------------- helpers

let section = 0
function title(name, explanation) {
  section++
  console.log(`\n${section}. ${name}`)
  console.log(`   ${explanation}`)
}

function show(label, value) {
  const text = typeof value === 'string' ? value : inspect(value, { breakLength: Infinity, compact: true, depth: 3 })
  console.log(`   ${label.padEnd(34)} ${text}`)
}

function attempt(label, fn) {
  try {
    fn()
    show(label, '(no error)')
  } catch (err) {
    show(label, `${err.constructor.name}: ${err.message}`)
  }
}

const ms = (x) => `${x.toFixed(3)} ms`
const us = (x) => `${(x * 1000).toFixed(2)} µs`
const kb = (x) => `${(x / 1024).toFixed(1)} KiB`

// ---------------------------------------------------------------- the tour

async function main() {
  console.log('weakstore tour: an off-heap object store with its own collector,')
  console.log('plus WeakRef and FinalizationRegistry for store handles.')

  const store = new Store()

  // 1 ---------------------------------------------------------------------
  title('Allocating and fields',
    'alloc() copies plain data into the store; get() returns copies (a new Buffer each time).')
  {
    const bytes = Buffer.from('hello')
    const a = store.alloc({
      nothing: null, yes: true, count: 42, ratio: 0.5, name: 'alice',
      big: 2n ** 70n, bytes, view: new Uint8Array([1, 2, 3]),
    })
    show('a', a)
    show('a instanceof Handle', a instanceof Handle)
    show('a.keys()', a.keys())
    for (const k of a.keys()) show(`a.get(${inspect(k)})`, a.get(k))
    show('a.get("bytes") === bytes', a.get('bytes') === bytes)
    show('a.get("bytes") twice identical?', a.get('bytes') === a.get('bytes'))
    bytes[0] = 0x4a // 'J': the store kept its own copy
    show('after mutating the source Buffer', a.get('bytes').toString())
    show('a.get("missing")', a.get('missing'))
    show('a.set("count", 43) returns a', a.set('count', 43) === a)
    show('a.has("count"), a.get("count")', [a.has('count'), a.get('count')])
    show('a.delete("view"), again', [a.delete('view'), a.delete('view')])
    show('a.keys()', a.keys())
    a.release()
  }

  // 2 ---------------------------------------------------------------------
  title('Canonical handles',
    'a field that refers to another object comes back as the same Handle wrapper.')
  {
    const a = store.alloc({ name: 'a' })
    const b = store.alloc({ name: 'b' })
    a.set('peer', b)
    show('a.get("peer") === b', a.get('peer') === b)
    show('a.get("peer") === a.get("peer")', a.get('peer') === a.get('peer'))
    show('a.get("peer").get("name")', a.get('peer').get('name'))
    a.release()
    b.release()
  }

  // 3 ---------------------------------------------------------------------
  title('Release and the "released" error',
    'release() drops the root at once; the handle is then unusable (release is idempotent).')
  {
    const h = store.alloc({ name: 'temp' })
    show('h.released before', h.released)
    h.release()
    h.release()
    show('h.released after', h.released)
    attempt('h.get("name")', () => h.get('name'))
    attempt('h.set("x", 1)', () => h.set('x', 1))
    const g = store.alloc({ name: 'disposable' })
    g[Symbol.dispose]()
    show('after g[Symbol.dispose]()', `g.released = ${g.released}`)
  }

  // 4 ---------------------------------------------------------------------
  title('TypeErrors for bad values',
    'fields hold plain data or handles of the same store; anything else throws.')
  {
    const other = new Store()
    const h = store.alloc()
    const foreign = other.alloc({ name: 'foreign' })
    attempt('h.set("obj", { x: 1 })', () => h.set('obj', { x: 1 }))
    attempt('h.set("fn", () => {})', () => h.set('fn', () => {}))
    attempt('h.set("peer", <other store>)', () => h.set('peer', foreign))
    attempt('h.set(42, "x")', () => h.set(42, 'x'))
    attempt('store.alloc({ nested: { x: 1 } })', () => store.alloc({ nested: { x: 1 } }).release())
    attempt('store.alloc(h)', () => store.alloc(h).release())
    show('h.keys() (nothing was stored)', h.keys())
    h.release()
    foreign.release()
  }

  // 5 ---------------------------------------------------------------------
  title('Cycles are collected',
    'a 2-object cycle with no root is garbage like anything else.')
  {
    await store.collect() // first clear the garbage of the sections above
    const before = store.stats().objects
    const a = store.alloc({ name: 'a' })
    const b = store.alloc({ name: 'b' })
    a.set('peer', b)
    b.set('peer', a)
    const ref = new WeakRef(a)
    show('objects (after building the cycle)', store.stats().objects - before + ' new')
    a.release()
    b.release()
    const figures = await store.collect()
    show('collect() freed', figures.freed)
    show('ref.deref()', ref.deref())
    const s = store.stats()
    show('stats: objects, handles', { objects: s.objects, handles: s.handles, collections: s.collections })
  }

  // 6 ---------------------------------------------------------------------
  title('WeakRef deref before/after',
    'an object lives while reachable from a root through fields, even without its own handle.')
  {
    const parent = store.alloc({ name: 'parent' })
    const ref = new WeakRef(store.alloc({ name: 'child' }))
    parent.set('child', ref.deref())
    ref.deref().release() // no handle of our own any more; reachable through parent
    await store.collect()
    show('ref.deref() after collect', ref.deref())
    show('ref.deref().get("name")', ref.deref().get('name'))
    parent.delete('child')
    await store.collect()
    show('ref.deref() after delete+collect', ref.deref())
    parent.release()
  }

  // 7 ---------------------------------------------------------------------
  title('FinalizationRegistry: held value and unregister token',
    'the callback gets the held value after the target is collected, unless unregistered.')
  {
    const calls = []
    const registry = new FinalizationRegistry((held) => calls.push(held))
    const token = {}
    const t1 = store.alloc({ name: 't1' })
    const t2 = store.alloc({ name: 't2' })
    registry.register(t1, 'held value of t1')
    registry.register(t2, 'held value of t2', token)
    show('registry.unregister(token)', registry.unregister(token))
    show('registry.unregister(token) again', registry.unregister(token))
    t1.release()
    t2.release()
    await store.collect()
    show('callbacks run', calls)
  }

  // 8 ---------------------------------------------------------------------
  title('A handle as the held value',
    'the held object stays alive for the callback and arrives as a usable handle.')
  {
    let delivered
    const registry = new FinalizationRegistry((held) => { delivered = held })
    const session = store.alloc({ user: 'alice' })
    const log = store.alloc({ entries: 3 })
    registry.register(session, log)
    log.release() // the registration keeps it alive
    session.release()
    await store.collect()
    show('delivered instanceof Handle', delivered instanceof Handle)
    show('delivered.get("entries")', delivered.get('entries'))
    delivered.set('closed', true)
    show('delivered.keys()', delivered.keys())
    delivered.release()
  }

  // 9 ---------------------------------------------------------------------
  title('Cache pattern',
    'a memo cache of WeakRefs; a FinalizationRegistry removes the entries of dead objects.')
  {
    const cache = new Map() // key -> WeakRef
    let loads = 0
    const cleaner = new FinalizationRegistry((key) => {
      const ref = cache.get(key)
      if (ref !== undefined && ref.deref() === undefined) {
        cache.delete(key)
        console.log(`   (cleaner) dropped cache entry ${inspect(key)}`)
      }
    })
    function load(key) {
      const hit = cache.get(key)?.deref()
      if (hit !== undefined) return hit
      loads++
      const h = store.alloc({ key, body: Buffer.alloc(1024, key) })
      cache.set(key, new WeakRef(h))
      cleaner.register(h, key)
      return h
    }
    const x = load('x')
    const y = load('y')
    show('load("x") === x (hit)', load('x') === x)
    show('loads, cache keys', [loads, [...cache.keys()]])
    y.release() // nobody uses y any more
    await store.collect()
    show('cache keys after collect', [...cache.keys()])
    show('load("x") still a hit', load('x') === x && loads === 2)
    load('y').release() // a miss: y is loaded again (and dropped again)
    show('loads after reloading y', loads)
    x.release()
    await store.collect()
    show('cache keys at the end', [...cache.keys()])
  }

  // 10 --------------------------------------------------------------------
  title('Weak-listener pattern',
    'an event source that does not keep its subscribers alive.')
  {
    const listeners = new Set() // { ref, fn }
    const unsubscribe = new FinalizationRegistry((entry) => {
      listeners.delete(entry)
      console.log(`   (registry) removed the listener of ${entry.name}`)
    })
    function subscribe(subscriber, fn) {
      // fn receives the subscriber, so it must not capture it (that would
      // keep the wrapper, and so the object, alive).
      const entry = { ref: new WeakRef(subscriber), fn, name: subscriber.get('name') }
      listeners.add(entry)
      unsubscribe.register(subscriber, entry, entry)
    }
    function emit(event) {
      for (const entry of listeners) {
        const subscriber = entry.ref.deref()
        if (subscriber !== undefined) entry.fn(subscriber, event)
      }
    }
    const onEvent = (subscriber, event) => {
      subscriber.set('seen', (subscriber.get('seen') ?? 0) + 1)
      console.log(`   ${subscriber.get('name')} got ${inspect(event)}`)
    }
    const w1 = store.alloc({ name: 'widget-1' })
    const w2 = store.alloc({ name: 'widget-2' })
    subscribe(w1, onEvent)
    subscribe(w2, onEvent)
    emit('first')
    w2.release() // the widget goes away without unsubscribing
    await store.collect()
    emit('second')
    show('listeners left', listeners.size)
    show('widget-1 saw', w1.get('seen'))
    w1.release()
    await store.collect()
  }

  // 11 --------------------------------------------------------------------
  title('Safety-net pattern',
    'a resource registered on open and unregistered on close; a forgotten one is reported.')
  {
    const leaks = new FinalizationRegistry(({ path, fd }) => {
      console.log(`   (safety net) ${path} (fd ${fd}) was never closed: closing it now`)
    })
    let nextFd = 10
    function open(path) {
      const file = store.alloc({ path, fd: nextFd++ })
      leaks.register(file, { path, fd: file.get('fd') }, file) // the file is its own token
      return file
    }
    function close(file) {
      show(`close(${file.get('path')}) unregistered`, leaks.unregister(file))
      file.release()
    }
    const good = open('good.log')
    const forgotten = open('forgotten.log')
    close(good)
    forgotten.release() // dropped without close()
    await store.collect()
  }

  // 12 --------------------------------------------------------------------
  title('Automatic collection by allocation budget',
    'with a budget, the store runs cycles in the background as allocation passes it.')
  {
    const small = new Store({ budget: 64 * 1024 })
    const before = small.stats().collections
    let maxBytes = 0
    let maxObjects = 0
    const N = 200_000
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < N; i++) {
      small.alloc({ i, label: 'temporary' }).release()
      if (i % 1000 === 0) {
        const s = small.stats()
        maxBytes = Math.max(maxBytes, s.bytes)
        maxObjects = Math.max(maxObjects, s.objects)
      }
    }
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e6
    const after = small.stats()
    show('allocated and released', `${N.toLocaleString('en-US')} objects in ${ms(elapsed)}`)
    show('automatic collections ran', after.collections > before ? 'yes (count rose)' : 'NO')
    show('memory stayed bounded', maxObjects < N / 2
      ? `yes (peak sampled: ${kb(maxBytes)}, far below what ${N} live objects need)`
      : `NO (peak ${maxObjects} objects)`)
    show('collections (varies)', after.collections - before)
    await small.collect()
    show('after a final collect(), objects', small.stats().objects)
  }

  // 13 --------------------------------------------------------------------
  title('Figures of a collect() cycle',
    'collect() resolves with what the cycle did and how long it took (times vary).')
  {
    const keep = store.alloc({ name: 'root' })
    let node = keep
    for (let i = 0; i < 1000; i++) {
      const next = store.alloc({ i })
      node.set('next', next)
      if (node !== keep) node.release()
      node = next
    }
    node.release()
    for (let i = 0; i < 500; i++) store.alloc({ i }).release()
    const f = await store.collect()
    show('cycle, marked, freed', { cycle: f.cycle, marked: f.marked, freed: f.freed })
    show('freedBytes, liveObjects, liveBytes', { freedBytes: f.freedBytes, liveObjects: f.liveObjects, liveBytes: f.liveBytes })
    show('finalizersQueued', f.finalizersQueued)
    show('longest pause of JavaScript', us(f.maxPauseMs))
    show('mark / sweep / total', [f.markMs, f.sweepMs, f.totalMs].map(ms).join(' / '))
    keep.release()
    await store.collect()
    const s = store.stats()
    show('at the end: objects, handles', { objects: s.objects, handles: s.handles, phase: s.phase })
  }

  console.log('\nEnd of the tour.')
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
