'use strict'
// Several workers mutate one shared graph while background cycles run and
// other threads read it; afterwards a walk from the pins finds exactly the
// objects that should be there.

const test = require('node:test')
const assert = require('node:assert/strict')
const dc = require('node:diagnostics_channel')
const { Store } = require('..')
const { startWorker } = require('./helpers')

const WORKERS = 3
const ROUNDS = Number(process.env.WEAKSTORE_SHARED_ROUNDS || 6000)
const BAG_KEYS = 50

test(`${WORKERS} workers mutate one graph under background cycles; a checksum walk finds every object`, async () => {
  // A small budget: cycles start on their own, many times, during the run.
  const store = new Store({ budget: 64 * 1024, growth: 25, threads: 2 })
  let background = 0
  const onCycle = ({ store: s, trigger }) => { if (s === store && trigger === 'allocation') background++ }
  dc.subscribe('weakstore:cycle:end', onCycle)
  const bag = store.alloc()
  store.pin('bag', bag)
  const workers = []
  for (let w = 0; w < WORKERS; w++) {
    workers.push(startWorker(`
      const { shared, w, workers, rounds, bagKeys } = workerData
      const store = Store.attach(shared)
      const bag = store.pinned('bag')
      const name = 'list-' + w
      let sum = 0
      let count = 0
      let next = 1
      let checked = 0
      for (let i = 0; i < rounds; i++) {
        // Push a node on our own list (its head is a pin).
        const head = store.pinned(name)
        const node = store.alloc({ v: next, next: head ?? null })
        sum += next++
        count++
        store.pin(name, node)
        node.release()
        head?.release()
        // Every third round pop one: garbage for the collector.
        if (i % 3 === 2) {
          const top = store.pinned(name)
          const below = top.get('next')
          sum -= top.get('v')
          count--
          store.pin(name, below)
          top.release()
          below.release()
        }
        // Overwrite a field of the shared bag, that other threads write too.
        const value = store.alloc({ w, i })
        bag.set('w' + w + '-' + (i % bagKeys), value)
        value.release()
        // Walk a stretch of another worker's list while it changes: every
        // node reached must be alive, values strictly decreasing.
        const other = store.pinned('list-' + ((w + 1 + (i % (workers - 1))) % workers))
        let at = other
        let last = Infinity
        for (let k = 0; at !== undefined && at !== null && k < 16; k++) {
          const v = at.get('v')
          if (!(v < last)) throw new Error('list order broken: ' + v + ' after ' + last)
          last = v
          const n = at.get('next')
          if (at !== other) at.release()
          at = n
          checked++
        }
        if (at && at !== other) at.release()
        other?.release()
        if (i % 500 === 499) await store.collect() // collect() from any thread
      }
      send({ sum, count, checked, cycles: store.stats().collections })
    `, { shared: store.share(), w, workers: WORKERS, rounds: ROUNDS, bagKeys: BAG_KEYS }))
  }
  const results = await Promise.all(workers.map((x) => x.next()))
  await Promise.all(workers.map((x) => x.worker.terminate()))
  await store.collect()
  let objects = 1 + BAG_KEYS * WORKERS // the bag and the values it holds
  for (let w = 0; w < WORKERS; w++) {
    let sum = 0
    let count = 0
    let last = Infinity
    for (let at = store.pinned(`list-${w}`); at !== null; ) {
      const v = at.get('v')
      assert.ok(v < last)
      last = v
      sum += v
      count++
      const next = at.get('next')
      at.release()
      at = next
    }
    assert.deepEqual({ sum, count }, { sum: results[w].sum, count: results[w].count }, `worker ${w}'s list`)
    assert.ok(results[w].checked > ROUNDS, 'the workers read each other\'s lists')
    objects += count
  }
  assert.equal(bag.keys().length, BAG_KEYS * WORKERS)
  for (let w = 0; w < WORKERS; w++) assert.equal(bag.get(`w${w}-0`).get('w'), w)
  const stats = store.stats()
  dc.unsubscribe('weakstore:cycle:end', onCycle)
  if (process.env.WEAKSTORE_SHARED_VERBOSE) console.log(results, stats.collections, background)
  assert.equal(stats.objects, objects, 'exactly the reachable objects are left')
  assert.equal(stats.anomalies, 0)
  assert.equal(stats.failedCycles, 0)
  assert.ok(background >= 3, `cycles started by allocation ran during the test (${background} of ${stats.collections})`)
  assert.equal(stats.attached, 1)
  await store.close()
})
