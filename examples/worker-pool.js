'use strict'
// Recipe: a worker_threads pool sharing ONE cache graph.
//
//   node examples/worker-pool.js
//
// The main thread builds a catalog (products pointing at their categories)
// in a store, pins it under a name, and posts `store.share()` to four
// workers. Each worker attaches the same store (`Store.attach`): no copy of
// the catalog is made, whatever its size, and every worker sees the same
// objects. Workers answer price quotes by reading the graph, and memoize
// each answer into a shared `memo` object, so a quote one worker computed
// is a hit for all the others.
//
// Also shown:
// - passing an object between threads by id: a worker files an order
//   receipt in the graph and answers with `receipt.id`; the main thread
//   turns it back into a handle with `store.resolve(id)`;
// - a FinalizationRegistry in a worker: it hears about the memo entries it
//   wrote once the main thread drops the whole memo and collects. The
//   callbacks run on the worker's own thread.
//
// Handles are roots, per thread: a worker releases what it reads once done
// with it, so that nothing it merely looked at stays alive on its account.

const { Worker, isMainThread, parentPort, workerData, threadId } = require('node:worker_threads')
const { Store, WeakRef, FinalizationRegistry } = require('..')

const WORKERS = 4

// ----------------------------------------------------------- the worker --

function worker() {
  const store = Store.attach(workerData.shared)
  const catalog = store.pinned('catalog') // pinned: lives for as long as we hold it, and the pin
  const orders = store.pinned('orders')
  let evicted = 0
  const evictions = new FinalizationRegistry(() => evicted++)
  // A per-thread shortcut to hot products. Weak: it must not keep a product
  // the catalog has dropped.
  const hot = new Map() // sku -> WeakRef(product handle)

  function product(sku) {
    const cached = hot.get(sku)?.deref()
    if (cached !== undefined) return cached
    const p = catalog.get(sku)
    if (p === undefined) return undefined
    hot.set(sku, new WeakRef(p))
    return p
  }

  function quote(sku, qty) {
    // The memo is read through its pin each time: the main thread may
    // replace it, and our handle would keep the old one alive.
    const memo = store.pinned('memo')
    const key = `${sku}x${qty}`
    let entry = memo.get(key)
    let hit = true
    if (entry === undefined) {
      hit = false
      const p = product(sku)
      const category = p.get('category')
      const total = Math.round(p.get('price') * qty * (1 - category.get('discount')) * 100) / 100
      category.release()
      entry = store.alloc({ total, by: threadId })
      memo.set(key, entry)
      evictions.register(entry, key)
    }
    const answer = { total: entry.get('total'), by: entry.get('by'), hit }
    entry.release()
    memo.release()
    return answer
  }

  function order(sku, qty, n) {
    const receipt = store.alloc({ sku, qty, total: quote(sku, qty).total, worker: threadId, product: product(sku) })
    orders.set(`order-${n}`, receipt) // in the graph: it outlives our handle
    const id = receipt.id
    receipt.release()
    return id
  }

  parentPort.on('message', async (m) => {
    if (m.type === 'quote') parentPort.postMessage({ n: m.n, result: quote(m.sku, m.qty) })
    else if (m.type === 'order') parentPort.postMessage({ n: m.n, result: order(m.sku, m.qty, m.n) })
    else if (m.type === 'evictions') {
      await store.collect() // a cycle, then this thread's callbacks
      parentPort.postMessage({ n: m.n, result: evicted })
    } else if (m.type === 'close') {
      for (const ref of hot.values()) ref.deref()?.release()
      catalog.release()
      orders.release()
      await store.close() // lets go of this thread's roots; the store lives on in the others
      parentPort.close()
    }
  })
}

// -------------------------------------------------------------- the pool --

/** A plain pool: each request goes to the worker with the fewest in flight. */
class Pool {
  #workers = []
  #pending = new Map() // request number -> { resolve, reject }
  #next = 0

  constructor(size, data) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(__filename, { workerData: data })
      const slot = { worker: w, inFlight: 0 }
      w.on('message', ({ n, result }) => {
        slot.inFlight--
        const p = this.#pending.get(n)
        this.#pending.delete(n)
        p.resolve(result)
      })
      w.on('error', (err) => {
        for (const p of this.#pending.values()) p.reject(err)
        this.#pending.clear()
      })
      this.#workers.push(slot)
    }
  }

  run(message) {
    const slot = this.#workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a))
    return this.#send(slot, message)
  }

  /** The same request to every worker. */
  all(message) {
    return Promise.all(this.#workers.map((slot) => this.#send(slot, message)))
  }

  #send(slot, message) {
    const n = this.#next++
    slot.inFlight++
    return new Promise((resolve, reject) => {
      this.#pending.set(n, { resolve, reject })
      slot.worker.postMessage({ ...message, n })
    })
  }

  async close() {
    await Promise.all(this.#workers.map(({ worker }) => {
      const exited = new Promise((resolve) => worker.once('exit', resolve))
      worker.postMessage({ type: 'close' })
      return exited
    }))
  }
}

// ----------------------------------------------------------- the main thread --

/**
 * Pins a new empty object under `name` and lets go of this thread's handle:
 * only the pin keeps it, so that replacing the pin frees it at the next
 * collection (a dropped, unreleased handle would root it until V8 gets to
 * collect the handle, which `collect()` cannot force without --expose-gc).
 */
function pinNew(store, name) {
  const h = store.alloc()
  store.pin(name, h)
  h.release()
}

function buildCatalog(store) {
  const catalog = store.alloc()
  const categories = [['books', 0.05], ['games', 0.1], ['music', 0], ['tools', 0.2]]
    .map(([name, discount]) => store.alloc({ name, discount }))
  for (let i = 0; i < 1000; i++) {
    const p = store.alloc({ sku: `sku-${i}`, name: `Product ${i}`, price: 5 + (i % 50) * 1.5, category: categories[i % 4] })
    catalog.set(`sku-${i}`, p)
    p.release()
  }
  for (const c of categories) c.release()
  return catalog
}

async function main() {
  const store = new Store()
  const catalog = buildCatalog(store)
  store.pin('catalog', catalog)
  pinNew(store, 'orders')
  pinNew(store, 'memo')
  console.log(`1. The main thread built a catalog of ${catalog.keys().length} products ` +
    `(${store.stats().objects} objects) and pinned it; ${WORKERS} workers attach the same store.`)

  const pool = new Pool(WORKERS, { shared: store.share() })

  // 40 quotes over 8 distinct (sku, qty) pairs: each pair is computed about
  // once, by whichever worker gets it first, and read from the memo after.
  const asks = Array.from({ length: 40 }, (_, i) => ({ type: 'quote', sku: `sku-${(i * 37) % 8}`, qty: 1 + (i % 2) }))
  const quotes = await Promise.all(asks.map((q) => pool.run(q)))
  const byWorker = new Map()
  for (const q of quotes) byWorker.set(q.by, (byWorker.get(q.by) ?? 0) + 1)
  const misses = quotes.filter((q) => !q.hit).length
  console.log(`\n2. 40 quotes answered: ${40 - misses} memo hits, ${misses} computed ` +
    `(8 distinct; two workers may race on one). Entries computed by workers ${[...byWorker.keys()].sort().join(', ')}.`)
  console.log(`  sku-3 x 2 costs ${quotes[asks.findIndex((q) => q.sku === 'sku-3' && q.qty === 2)].total}`)

  // An object passed between threads by id.
  const id = await pool.run({ type: 'order', sku: 'sku-7', qty: 3 })
  const receipt = store.resolve(id)
  const product = receipt.get('product')
  console.log(`\n3. A worker filed an order and answered with its id, ${id}; resolved here:`)
  console.log(`  ${receipt.get('qty')} x ${product.get('name')} (${receipt.get('sku')}) = ${receipt.get('total')}, ` +
    `filed by worker ${receipt.get('worker')}; same object as the catalog's: ${product === catalog.get('sku-7')}`)
  receipt.release()
  product.release()

  // Prices change: drop the whole memo (a new empty one replaces its pin),
  // collect, and each worker's FinalizationRegistry hears of its entries.
  pinNew(store, 'memo')
  await store.collect()
  const evicted = await pool.all({ type: 'evictions' })
  console.log(`\n4. The memo was replaced and collected: the workers' registries saw ${evicted.join(' + ')} = ` +
    `${evicted.reduce((a, b) => a + b, 0)} of their entries go (the quotes' and the order's), on their own threads.`)

  await pool.close()
  await store.collect()
  const s = store.stats()
  console.log(`\n5. Workers closed: ${s.attached} thread attached, pins ${JSON.stringify(store.pins())}, ` +
    `${s.objects} objects left (catalog, products, categories, orders, one receipt, the new memo), anomalies ${s.anomalies}.`)
  catalog.release()
  await store.close()
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
} else {
  worker()
}
