'use strict'
// The patterns of fuzz/churn.js: each is what a long-running program does
// over and over. `setup({ short })` returns { job, store?, end? }: `job()` does about
// a thousand operations (an API call counts as one) and returns how many
// (or a promise of that); `store` (if any) is a long-lived store whose
// stats() the driver samples; `end()` checks what the pattern can check
// at the end and returns a string describing a failure, or undefined.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { inspect } = require('node:util')
const { Worker } = require('node:worker_threads')

const ROOT = path.resolve(__dirname, '..', '..')
const { Store, FinalizationRegistry, WeakRef, WeakMap, WeakSet } = require(ROOT)

const TARGETS = 1000
const noop = () => {}

/** A churn failure, thrown from a job: the driver reports it and stops the pattern. */
function check(ok, what) {
  if (!ok) throw new Error(what)
}

/** A long-lived store with TARGETS long-lived handles. */
function longLived() {
  const store = new Store()
  const targets = Array.from({ length: TARGETS }, (_, i) => store.alloc({ i }))
  return { store, targets }
}

/** Register + unregister on the same long-lived targets, tokens from `tokensOf`. */
function sameTargets(tokensOf) {
  return () => {
    const { store, targets } = longLived()
    const tokens = tokensOf(store, targets)
    const reg = new FinalizationRegistry(noop)
    let k = 0
    const job = () => {
      for (let i = 0; i < 500; i++) reg.register(targets[(k + i) % TARGETS], i, tokens[(k + i) % TARGETS])
      for (let i = 0; i < 500; i++) check(reg.unregister(tokens[(k + i) % TARGETS]), 'unregister found no registration')
      k += 500
      return 1000
    }
    return { job, store, end: () => (store.stats().finalizationCells === 0 ? undefined : 'cells left behind') }
  }
}

const patterns = {
  'register/unregister, object tokens': sameTargets(() => Array.from({ length: TARGETS }, () => ({}))),
  'register/unregister, target as token': sameTargets((store, targets) => targets),
  'register/unregister, handle tokens': sameTargets((store) => Array.from({ length: TARGETS }, () => store.alloc())),

  'register, unregister in the next job': () => {
    const { store, targets } = longLived()
    const tokens = Array.from({ length: TARGETS }, () => ({}))
    const reg = new FinalizationRegistry(noop)
    let k = 0
    const job = () => {
      for (let i = 0; i < 500; i++) reg.register(targets[(k + i) % TARGETS], i, tokens[(k + i) % TARGETS])
      if (k > 0) for (let i = 0; i < 500; i++) check(reg.unregister(tokens[(k - 500 + i) % TARGETS]), 'unregister of a stored registration found nothing')
      k += 500
      return 1000
    }
    return { job, store }
  },

  'fresh targets registered and released': () => {
    const store = new Store()
    let called = 0
    const reg = new FinalizationRegistry(() => called++)
    let n = 0
    const job = () => {
      for (let i = 0; i < 250; i++) {
        const h = store.alloc({ n: n++ })
        reg.register(h, n, i % 3 === 0 ? {} : undefined)
        if (i % 5 === 0) reg.register(h, store.alloc({ held: n })) // a held handle
        if (i % 10 !== 0) h.release() // the rest are dropped for V8 to collect
      }
      return 1000
    }
    return { job, store, end: () => (called > 0 ? undefined : 'no cleanup callback ran') }
  },

  'new WeakRef + deref on long-lived targets': () => {
    const { store, targets } = longLived()
    let k = 0
    const job = () => {
      for (let i = 0; i < 500; i++) {
        const t = targets[(k + i) % TARGETS]
        check(new WeakRef(t).deref() === t, 'deref() of a live target')
      }
      k += 500
      return 1000
    }
    return { job, store }
  },

  'WeakMap/WeakSet set/delete on the same keys': () => {
    const { store, targets } = longLived()
    const map = new WeakMap()
    const set = new WeakSet()
    let k = 0
    const job = () => {
      for (let i = 0; i < 200; i++) {
        const key = targets[(k + i) % TARGETS]
        map.set(key, i % 2 ? { i } : i)
        check(map.delete(key), 'WeakMap.delete of a present key')
        set.add(key)
        check(set.has(key) && set.delete(key), 'WeakSet.delete of a present key')
      }
      k += 200
      return 1000
    }
    return { job, store }
  },

  'WeakMap/WeakSet on fresh keys that die': () => {
    const store = new Store()
    const map = new WeakMap()
    const set = new WeakSet()
    const job = () => {
      for (let i = 0; i < 250; i++) {
        const key = store.alloc()
        map.set(key, { i, payload: 'x'.repeat(i % 64) })
        set.add(key)
        if (i % 10 !== 0) key.release()
      }
      return 1000
    }
    return { job, store }
  },

  'registries, maps and sets created and dropped': () => {
    const { store, targets } = longLived()
    let k = 0
    const job = () => {
      for (let i = 0; i < 50; i++) {
        const a = targets[(k + i) % TARGETS]
        const b = targets[(k + i + 1) % TARGETS]
        const reg = new FinalizationRegistry(noop)
        reg.register(a, 1, {})
        reg.register(b, targets[(k + i + 2) % TARGETS])
        new WeakMap().set(a, { i }).set(b, i)
        new WeakSet().add(a)
      }
      k += 50
      return 50 * 9
    }
    return { job, store }
  },

  'short-lived stores seen by one long-lived registry and map': () => {
    const reg = new FinalizationRegistry(noop)
    const map = new WeakMap()
    const set = new WeakSet()
    const job = () => {
      let ops = 0
      for (let s = 0; s < 4; s++) {
        const store = new Store({ threads: 1 })
        let prev = store.alloc()
        for (let i = 0; i < 40; i++) {
          const h = store.alloc({ i })
          h.set('prev', prev)
          reg.register(h, i % 2 ? prev : { i }, i % 3 ? h : undefined)
          map.set(h, i % 2 ? { i } : prev)
          set.add(prev)
          prev = h
        }
        ops += 1 + 1 + 40 * 5
      }
      return ops
    }
    return { job, end: () => (reg.unregister({}) === false ? undefined : 'unregister of a new token found something') }
  },

  'handles made by get() and dropped': () => {
    const { store, targets } = longLived()
    let k = 0
    const job = () => {
      for (let i = 0; i < 250; i++) {
        const parent = targets[(k + i) % TARGETS]
        const child = store.alloc({ i })
        parent.set('child', child)
        child.release()
        check(parent.get('child').get('i') === i, 'a new wrapper of a live object')
        // The second wrapper is dropped for V8 to collect; the next job's
        // set() replaces the field, and the child dies.
      }
      k += 250
      return 1000
    }
    return { job, store }
  },

  'stores opened, used and closed': () => {
    const reg = new FinalizationRegistry(noop)
    const map = new WeakMap()
    const job = async () => {
      let ops = 0
      for (let s = 0; s < 4; s++) {
        const store = new Store({ threads: 1 })
        let prev = store.alloc()
        for (let i = 0; i < 40; i++) {
          const h = store.alloc({ i }).set('prev', prev)
          reg.register(h, i, i % 2 ? h : undefined)
          map.set(h, { i })
          prev.release()
          prev = h
        }
        await store.close()
        check(store.closed && map.get(prev) === undefined, 'a closed store\'s key still maps')
        ops += 2 + 40 * 5
      }
      return ops
    }
    return { job, end: () => (reg.unregister({}) === false ? undefined : 'unregister of a new token found something') }
  },

  'whyAlive and util.inspect on a long-lived graph': () => {
    const { store, targets } = longLived()
    let k = 0
    const job = async () => {
      for (let i = 0; i < 900; i++) targets[(k + i) % TARGETS].set('next', targets[(k + 7 * i + 1) % TARGETS])
      for (let i = 0; i < 99; i++) check(inspect(targets[(k + i) % TARGETS], { depth: 1 }).startsWith('Handle {'), 'inspect of a live handle')
      const path = await store.whyAlive(targets[k % TARGETS])
      check(path === null || path[0].root === 'handle', 'a path from a handle')
      k += 900
      return 1000
    }
    return { job, store }
  },

  'heap snapshots of a long-lived store': () => {
    const { store, targets } = longLived()
    const file = path.join(os.tmpdir(), `weakstore-churn-${process.pid}.heapsnapshot`)
    let k = 0
    const job = async () => {
      for (let i = 0; i < 999; i++) targets[(k + i) % TARGETS].set('peer', targets[(k + 3 * i) % TARGETS])
      check((await store.writeHeapSnapshot(file)) === file, 'the snapshot\'s path')
      k += 999
      return 1000
    }
    return { job, store, end: () => { fs.rmSync(file, { force: true }) } }
  },

  'field set/delete with strings and Buffers': () => {
    const { store, targets } = longLived()
    const strings = Array.from({ length: 16 }, (_, i) => 's'.repeat(1 << (i % 11)))
    let k = 0
    const job = () => {
      for (let i = 0; i < 200; i++) {
        const h = targets[(k + i) % TARGETS]
        h.set('s', strings[(k + i) % 16])
        h.set('b', Buffer.alloc(1 << ((k + i) % 13)))
        check(h.get('s').length === strings[(k + i) % 16].length, 'a string field reads back')
        check(h.delete('s'), 'delete of a present string field')
        check(h.delete('b'), 'delete of a present Buffer field')
      }
      k += 200
      return 1000
    }
    return { job, store }
  },

  'workers that use a store and exit': ({ short }) => {
    const source = `
      const { parentPort, workerData } = require('node:worker_threads')
      const { Store, FinalizationRegistry, WeakRef, WeakMap } = require(workerData.root)
      const store = new Store({ threads: 1 })
      const reg = new FinalizationRegistry(() => {})
      const map = new WeakMap()
      const keep = []
      let ops = 1
      for (let i = 0; i < workerData.ops / 5; i++) {
        const h = store.alloc({ i, s: 'v' + i })
        reg.register(h, i, i % 2 ? h : undefined)
        map.set(h, { i })
        if (new WeakRef(h).deref() !== h) throw new Error('deref')
        if (i % 4 === 0) keep.push(h); else h.release()
        ops += 5
      }
      store.collect().then(() => parentPort.postMessage(ops))
    `
    const job = () => new Promise((resolve, reject) => {
      let ops = 0
      const w = new Worker(source, { eval: true, workerData: { root: ROOT, ops: short ? 1000 : 20_000 } })
      w.on('message', (n) => { ops = n })
      w.on('error', reject)
      w.on('exit', (code) => (code === 0 && ops > 0 ? resolve(ops) : reject(new Error(`worker exited with ${code} after ${ops} ops`))))
    })
    return { job }
  },

  // ------------------------------------------------ one store, many threads

  'pin/pinned/unpin under churning names': () => {
    const { store, targets } = longLived()
    store.share()
    let n = 0
    let kept = [] // names pinned in the previous job, unpinned in this one
    const job = () => {
      let ops = 0
      for (const name of kept) check(store.unpin(name), 'unpin of a name pinned in the previous job')
      ops += kept.length
      kept = []
      for (let i = 0; i < 150; i++) {
        const name = `churn-${n++}`
        if (i % 3 === 0) {
          // A fresh object that only its pin keeps: pinned() makes a new handle.
          const h = store.alloc({ n })
          store.pin(name, h)
          h.release()
          check(store.pinned(name).get('n') === n, 'pinned() of a fresh object')
          ops += 5
        } else {
          const t = targets[n % TARGETS]
          store.pin(name, t)
          check(store.pinned(name) === t, 'pinned() of a long-lived target')
          ops += 2
        }
        if (i % 2) {
          check(store.unpin(name), 'unpin of a fresh pin')
          ops++
        } else kept.push(name)
      }
      check(store.pins().length === kept.length, 'pins() lists the pins of this job')
      return ops + 1
    }
    return { job, store, end: () => (store.stats().pins === kept.length ? undefined : `${store.stats().pins} pins, ${kept.length} expected`) }
  },

  'resolve(id) of live and dead ids': () => {
    const { store, targets } = longLived()
    store.share()
    const liveIds = targets.map((h) => h.id)
    const dead = [] // ids of released objects, oldest first (collected once a cycle ran)
    let k = 0
    let misses = 0
    const job = () => {
      for (let i = 0; i < 200; i++) {
        const h = store.alloc({ i })
        dead.push(h.id)
        h.release()
      }
      for (let i = 0; i < 300; i++) {
        const j = (k + i) % TARGETS
        check(store.resolve(liveIds[j]) === targets[j], 'resolve() of a live id gives its canonical handle')
      }
      for (let i = 0; i < 300; i++) {
        const h = store.resolve(dead[(k + 7 * i) % dead.length])
        if (h === undefined) misses++
        else h.release() // not collected yet: a handle again, and released again
      }
      if (dead.length > 20_000) dead.splice(0, 200)
      k += 300
      return 1000
    }
    return { job, store, end: () => (misses > 0 ? undefined : 'resolve() never missed a dead id') }
  },

  'shared store get/set of references': () => {
    const { store, targets } = longLived()
    store.share() // field reads of a shared store come back rooted
    let k = 0
    const job = () => {
      for (let i = 0; i < 140; i++) {
        const a = targets[(k + i) % TARGETS]
        const b = targets[(k + 3 * i + 1) % TARGETS]
        a.set('peer', b)
        check(a.get('peer') === b, 'get() of a reference gives the canonical handle')
        const child = store.alloc({ i })
        a.set('child', child)
        child.release()
        check(a.get('child').get('i') === i, 'get() of a fresh reference') // a new handle, dropped for V8
      }
      k += 140
      return 140 * 7
    }
    return { job, store }
  },

  // A cache that evicts when its store is full: the cap refuses (after a
  // collection), half the entries go, allocation goes on.
  'a capped store kept at its limit': () => {
    const maxBytes = 1 << 20
    const store = new Store({ maxBytes })
    const ring = []
    let refused = 0
    const job = () => {
      for (let i = 0; i < 1000; i++) {
        try {
          ring.push(store.alloc({ i, s: 'cached value' }))
        } catch (e) {
          check(e.code === 'ERR_WEAKSTORE_OUT_OF_MEMORY', `unexpected error ${e.code}: ${e.message}`)
          refused++
          // The oldest 2,000 go: the ring then swings by a fixed count
          // whatever an object costs (half of it swung by thousands once
          // objects got small enough for ten thousand to fit the cap,
          // more than the driver's count slack).
          for (const h of ring.splice(0, 2000)) h.release()
        }
      }
      const s = store.stats()
      check(s.bytes <= maxBytes && s.headroom === maxBytes - s.bytes, `bytes ${s.bytes} past maxBytes ${maxBytes}`)
      check(ring.every((h, k) => k > 0 || h.get('s') === 'cached value'), 'a kept entry changed')
      return 1000
    }
    return { job, store, end: () => (refused > 0 ? undefined : 'the cap never refused an allocation') }
  },

  'workers attaching to a shared store and exiting': ({ short }) => {
    const store = new Store()
    const shared = store.share()
    const bag = store.alloc()
    store.pin('bag', bag)
    let n = 0
    const source = `
      const { parentPort, workerData } = require('node:worker_threads')
      const { Store, FinalizationRegistry, WeakRef, WeakMap } = require(workerData.root)
      const store = Store.attach(workerData.shared)
      const bag = store.pinned('bag')
      const reg = new FinalizationRegistry(() => {})
      const map = new WeakMap()
      const keep = []
      let ops = 2
      for (let i = 0; i < workerData.ops / 8; i++) {
        const h = store.alloc({ i, s: 'v' + i })
        reg.register(h, i % 3 ? i : store.alloc({ held: i }), i % 2 ? h : undefined)
        map.set(h, { i })
        if (new WeakRef(h).deref() !== h) throw new Error('deref')
        if (i % 50 === 0) { store.pin('w' + workerData.n, h); store.unpin('w' + workerData.n) }
        bag.set('b' + (i % 8), h) // the main thread's bag: overwritten, bounded
        if (i % 4 === 0) keep.push(h); else h.release()
        ops += 8
      }
      // Half close their attachment, half just exit (the thread's end detaches it).
      const end = workerData.n % 2 ? store.close() : Promise.resolve()
      end.then(() => parentPort.postMessage(ops))
    `
    const job = () => new Promise((resolve, reject) => {
      let ops = 0
      const w = new Worker(source, { eval: true, workerData: { root: ROOT, shared, n: n++, ops: short ? 1000 : 20_000 } })
      w.on('message', (m) => { ops = m })
      w.on('error', reject)
      w.on('exit', (code) => {
        if (code !== 0 || ops === 0) return reject(new Error(`worker exited with ${code} after ${ops} ops`))
        const s = store.stats()
        if (s.attached !== 1) return reject(new Error(`${s.attached} threads attached after the worker exited`))
        if (s.handles > 1) return reject(new Error(`${s.handles} main-thread handles (the bag's at most)`))
        if (s.anomalies !== 0) return reject(new Error(`${s.anomalies} anomalies`))
        resolve(ops)
      })
    })
    return { job, store, end: () => (store.stats().pins === 1 ? undefined : `${store.stats().pins} pins left`) }
  },

  'a worker attaching and closing in a loop': () => {
    const store = new Store()
    const shared = store.share()
    store.pin('bag', store.alloc()) // the handle is dropped: the pin keeps it
    const source = `
      const { parentPort, workerData } = require('node:worker_threads')
      const { Store, FinalizationRegistry, WeakMap } = require(workerData.root)
      const reg = new FinalizationRegistry(() => {})
      let round = 0
      parentPort.on('message', async (rounds) => {
        let ops = 0
        for (let r = 0; r < rounds; r++, round++) {
          const store = Store.attach(workerData.shared)
          const h = store.alloc({ round })
          reg.register(h, round % 2 ? round : store.alloc({ held: round }))
          new WeakMap().set(h, { round })
          store.pinned('bag').set('last', h)
          // Alternately: wait for close(), or attach again while it is pending.
          const closing = store.close()
          if (round % 2) await closing
          ops += 7
        }
        parentPort.postMessage(ops)
      })
    `
    const worker = new Worker(source, { eval: true, workerData: { root: ROOT, shared } })
    worker.unref()
    let pending = null
    worker.on('message', (ops) => { const p = pending; pending = null; p.resolve(ops) })
    worker.on('error', (err) => pending && pending.reject(err))
    const job = () => new Promise((resolve, reject) => {
      pending = { resolve, reject }
      worker.postMessage(143)
    }).then(async (ops) => {
      // The worker's last close() may still be under way.
      for (let i = 0; i < 100 && store.stats().attached !== 1; i++) await new Promise((r) => setTimeout(r, 1))
      const s = store.stats()
      check(s.attached === 1, `${s.attached} threads attached between rounds`)
      check(s.handles <= 1, `${s.handles} main-thread handles (at most the bag's, until V8 collects it)`)
      check(s.anomalies === 0, `${s.anomalies} anomalies`)
      return ops
    })
    return { job, store, end: () => { worker.terminate() } }
  },
}

// The object model's own patterns (shapes, dictionary mode), and
Object.assign(patterns, require('./churn-shapes').patterns)
// Scopes' (handles released together).
Object.assign(patterns, require('./churn-scopes').patterns)

module.exports = { patterns }
