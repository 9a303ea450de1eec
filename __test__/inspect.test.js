'use strict'
// store.writeHeapSnapshot() read back by Chrome DevTools' own heap snapshot
// code (the heap-snapshot-toolkit package, not ours), and store.whyAlive().
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Store, WeakRef, WeakMap, FinalizationRegistry } = require('..')
const { turn } = require('./helpers')

/** Parses a .heapsnapshot with DevTools' JSHeapSnapshot. */
async function devtools(file) {
  const { parse } = await import('heap-snapshot-toolkit')
  return parse(fs.createReadStream(file, 'utf-8'))
}

/** The snapshot node id of a store object (README: twice its slot plus 2). */
const nodeId = (objectId) => 2 * (objectId % 2 ** 32) + 2

function nodes(snapshot) {
  const out = []
  for (let it = snapshot.allNodes(); it.hasNext(); it.next()) {
    const n = it.item()
    const edges = []
    for (let e = n.edges(); e.hasNext(); e.next()) {
      const edge = e.item()
      edges.push({ type: edge.type(), name: String(edge.name()), to: edge.node().id() })
    }
    const retainers = []
    for (let r = n.retainers(); r.hasNext(); r.next()) retainers.push({ from: r.item().node().id(), type: r.item().type() })
    out.push({ id: n.id(), type: n.type(), name: n.name(), size: n.selfSize(), distance: n.distance(), edges, retainers })
  }
  return out
}

/** DevTools' retainer path to node `id`: nearer strong retainers (distance - 1) back to a root group. */
function devtoolsPath(all, id) {
  const byId = new Map(all.map((n) => [n.id, n]))
  const chain = []
  let n = byId.get(id)
  while (n.type !== 'synthetic') {
    chain.unshift(n.id)
    const closer = n.retainers.filter((r) => r.type !== 'weak').map((r) => byId.get(r.from))
      .filter((r) => r.distance === n.distance - 1)
    assert.equal(closer.length, 1, `one shortest retainer for @${n.id}`)
    n = closer[0]
  }
  return { group: n.name, chain }
}

function tmpFile(t, name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakstore-snapshot-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return path.join(dir, name)
}

test('a heap snapshot DevTools reads: every object, its size, its edges, the root groups', async (t) => {
  const store = new Store({ manual: true })
  const cache = store.alloc({ type: 'Cache' })
  const entry = store.alloc({ name: 'entry', payload: 'x'.repeat(100) })
  const leaf = store.alloc({ name: 'leaf' })
  cache.set('first', entry)
  entry.set('leaf', leaf)
  entry.release()
  leaf.release()
  const map = new WeakMap()
  const key = store.alloc({ name: 'key' })
  const value = store.alloc({ name: 'value' })
  map.set(key, value)
  value.release()
  const registry = new FinalizationRegistry(() => {})
  const target = store.alloc({ name: 'target' })
  const held = store.alloc({ name: 'held' })
  registry.register(target, held)
  held.release()
  const garbage = store.alloc({ name: 'garbage' })
  garbage.set('self', garbage)
  garbage.release()
  await turn()
  const file = tmpFile(t, 'store.heapsnapshot')
  assert.equal(await store.writeHeapSnapshot(file), file)
  const stats = store.stats()
  const all = nodes(await devtools(file))
  const objects = all.filter((n) => n.type === 'object')
  const synthetic = all.filter((n) => n.type === 'synthetic')
  // root, (handles: main), (registration held values), one registry, one table
  assert.deepEqual(synthetic.map((n) => n.name).sort(), ['', '(FinalizationRegistry #1)', '(handles: main)',
    '(registration held values)', '(WeakMap/WeakSet #1)'].sort())
  assert.equal(all.length, stats.objects + synthetic.length)
  assert.equal(objects.reduce((s, n) => s + n.size, 0), stats.bytes, 'self sizes add up to the store\'s bytes')
  const byName = new Map(objects.map((n) => [n.name, n]))
  assert.deepEqual(byName.get('Cache').edges, [{ type: 'property', name: 'first', to: byName.get('entry').id }])
  assert.deepEqual(byName.get('entry').edges, [{ type: 'property', name: 'leaf', to: byName.get('leaf').id }])
  assert.deepEqual(byName.get('key').edges, [{ type: 'internal', name: 'WeakMap #1 value', to: byName.get('value').id }])
  const registryNode = synthetic.find((n) => n.name.startsWith('(FinalizationRegistry'))
  assert.deepEqual(registryNode.edges, [{ type: 'weak', name: 'target', to: byName.get('target').id }])
  const tableNode = synthetic.find((n) => n.name.startsWith('(WeakMap'))
  assert.deepEqual(tableNode.edges, [{ type: 'weak', name: 'key', to: byName.get('key').id }])
  assert.equal(byName.get('Cache').size > byName.get('leaf').size, true)
  // No orphan: every object is retained by something, or is garbage that
  // DevTools finds no distance for.
  for (const n of objects) {
    if (n.name === 'garbage') assert.ok(n.distance < 0, 'garbage is unreachable')
    else assert.ok(n.distance > 0 && n.retainers.length > 0, `${n.name} is reachable`)
  }
  // DevTools' retainer path equals whyAlive's, for objects that had no
  // handle of their own when the snapshot was written. (Asking needs a
  // handle; whyAlive does not count the one asked through.)
  const e = cache.get('first')
  const l = e.get('leaf')
  e.release()
  const ours = await store.whyAlive(l)
  assert.deepEqual(ours.map((s) => s.root ?? s.field), ['handle', 'first', 'leaf'])
  const theirs = devtoolsPath(all, byName.get('leaf').id)
  assert.equal(theirs.group, '(handles: main)')
  assert.deepEqual(theirs.chain, ours.map((s) => nodeId(s.id)))
  const v = map.get(key)
  const viaMap = await store.whyAlive(v)
  assert.deepEqual(viaMap.map((s) => s.root ?? s.table), ['handle', 1])
  assert.equal(viaMap[1].ephemeron, map)
  assert.deepEqual(devtoolsPath(all, byName.get('value').id).chain, viaMap.map((s) => nodeId(s.id)))
  await store.close()
})

test('DevTools groups objects by name: one class per name, with every instance counted', async (t) => {
  const store = new Store({ manual: true })
  const index = store.alloc({ type: 'Index' })
  for (let i = 0; i < 300; i++) {
    const item = store.alloc({ type: 'Item', name: `item ${i}` })
    index.set(`i${i}`, item)
    item.release()
  }
  const file = tmpFile(t, 'classes.heapsnapshot')
  await store.writeHeapSnapshot(file)
  const { DevToolsAPI } = await import('heap-snapshot-toolkit')
  const snapshot = await devtools(file)
  const classes = snapshot.aggregatesWithFilter(new DevToolsAPI.HeapSnapshotModel.NodeFilter())
  const byName = Object.fromEntries(Object.values(classes).map((c) => [c.name, c.count]))
  assert.equal(byName.Item, 300)
  assert.equal(byName.Index, 1)
  await store.close()
})

test('whyAlive: job, held and weak-only objects; wrong arguments', async () => {
  const store = new Store({ manual: true })
  const registry = new FinalizationRegistry(() => {})
  const target = store.alloc()
  const held = store.alloc({ name: 'held' })
  registry.register(target, held)
  await turn()
  assert.deepEqual((await store.whyAlive(held)).map((s) => s.root), ['held'])
  // (Objects kept for the current job are named 'job': the core's tests
  // check that attribution; here the job would end while the copy is taken
  // on the worker thread, so the answer would depend on timing.)
  // Only weak references: null.
  const lonely = store.alloc()
  const weakOnly = new WeakRef(lonely)
  const m = new WeakMap([[lonely, 1]])
  assert.equal(await store.whyAlive(lonely), null)
  assert.equal(weakOnly.deref(), lonely)
  assert.equal(m.get(lonely), 1)
  await assert.rejects(store.whyAlive({}), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  const gone = store.alloc()
  gone.release()
  await assert.rejects(store.whyAlive(gone), { code: 'ERR_WEAKSTORE_RELEASED' })
  await assert.rejects(store.whyAlive(new Store({ manual: true }).alloc()), { code: 'ERR_INVALID_ARG_VALUE' })
  await assert.rejects(store.writeHeapSnapshot(5), { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(store.writeHeapSnapshot(path.join(os.tmpdir(), 'no-such-dir', 'x', 'y.heapsnapshot')), /cannot write/)
  await store.close()
})

test('the snapshot of a store that changes while it is written is well formed', async (t) => {
  const store = new Store({ budget: 64 << 10 })
  const keep = store.alloc({ name: 'keep' })
  for (let i = 0; i < 20000; i++) keep.set(`k${i % 500}`, store.alloc({ i }))
  const file = tmpFile(t, 'busy.heapsnapshot')
  const writing = store.writeHeapSnapshot(file)
  for (let i = 0; i < 20000; i++) store.alloc({ i }).set('x', keep) // churn while the walk runs
  await writing
  const snapshot = await devtools(file)
  assert.ok(snapshot.nodeCount > 500)
  await store.close()
})

test('writeHeapSnapshot refuses a path that cannot be written as given', async () => {
  const store = new Store({ manual: true })
  store.alloc({ type: 'kept' })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakstore-paths-'))
  try {
    for (const bad of ['lone \ud800 surrogate.heapsnapshot', 'nul\0byte.heapsnapshot']) {
      await assert.rejects(store.writeHeapSnapshot(path.join(dir, bad)), {
        name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /^Store\.prototype\.writeHeapSnapshot: /,
      }, JSON.stringify(bad))
    }
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing was written (under another name either)')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
    await store.close()
  }
})

test('whyAlive: a run through one field comes back as one step with its count; an alternating path comes back whole', async () => {
  const store = new Store({ manual: true })
  // A list: head.next -> ... -> last, 1,000 objects, built in a scope.
  const head = store.alloc({ i: 0 })
  const built = store.scope((scope) => {
    let prev = scope.handle(head)
    const ids = [prev.id]
    for (let i = 1; i < 1000; i++) {
      const h = scope.alloc({ i })
      prev.set('next', h)
      prev = h
      ids.push(h.id)
    }
    return { last: scope.escape(prev), ids }
  })
  const objectId = (handleId) => Number(handleId.split(':')[1])
  const path = await store.whyAlive(built.last)
  assert.deepEqual(path, [
    { root: 'handle', thread: 'main', id: objectId(head.id) },
    { field: 'next', id: objectId(built.last.id), count: 999 },
  ])
  // Fields alternating a, b: no run to fold, 30,000 steps, each exact.
  const start = store.alloc()
  const ids = store.scope((scope) => {
    let prev = scope.handle(start)
    const out = []
    for (let i = 0; i < 30000; i++) {
      const h = scope.alloc()
      prev.set(i % 2 ? 'b' : 'a', h)
      prev = h
      out.push(objectId(h.id))
    }
    return { last: scope.escape(prev), out }
  })
  const long = await store.whyAlive(ids.last)
  assert.equal(long.length, 30001)
  assert.deepEqual(long[0], { root: 'handle', thread: 'main', id: objectId(start.id) })
  for (let i = 0; i < 30000; i++) {
    const step = long[i + 1]
    if (step.field !== (i % 2 ? 'b' : 'a') || step.id !== ids.out[i] || step.count !== undefined) {
      assert.fail(`step ${i + 1}: ${JSON.stringify(step)}, expected field ${i % 2 ? 'b' : 'a'} id ${ids.out[i]}`)
    }
  }
  await store.close()
})
