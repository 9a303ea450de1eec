'use strict'
// FinalizationRegistry's queued registrations and JavaScript-side tokens
// (lib/registrations.js): each path a registration can take between
// register() and its callback or unregister().
const test = require('node:test')
const assert = require('node:assert/strict')
const { Store, FinalizationRegistry, WeakRef } = require('..')
const { stateOf } = require('../lib/store.js')
const { scoped, turn } = require('./helpers')

function recorder() {
  const seen = []
  const reg = new FinalizationRegistry((held) => seen.push(held))
  return { seen, reg }
}

test('a target released in the job that registered it still fires', async () => {
  const store = new Store({ manual: true })
  const { seen, reg } = recorder()
  const a = store.alloc()
  reg.register(a, 'a')
  a.release() // before the job ends: the queued registration goes first
  assert.equal(store.stats().finalizationCells, 1)
  await store.collect()
  assert.deepEqual(seen, ['a'])
})

test('a wrapper dropped in the job that registered it still fires', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  const { seen, reg } = recorder()
  scoped(() => reg.register(store.alloc(), 'dropped'))
  await store.collect()
  assert.deepEqual(seen, ['dropped'])
})

test('register then unregister in one job: nothing reaches the store, nothing fires', async () => {
  const store = new Store({ manual: true })
  const { seen, reg } = recorder()
  const a = store.alloc()
  const token = {}
  reg.register(a, 1, token)
  reg.register(a, 2, token)
  reg.register(a, 3) // no token: stays
  assert.equal(reg.unregister(token), true)
  assert.equal(reg.unregister(token), false, 'already gone')
  assert.equal(store.stats().finalizationCells, 1)
  a.release()
  await store.collect()
  assert.deepEqual(seen, [3])
})

test('a long queue is searched by token (the indexed path), also after later registrations', async () => {
  const store = new Store({ manual: true })
  const { seen, reg } = recorder()
  const targets = Array.from({ length: 100 }, () => store.alloc())
  const tokens = targets.map(() => ({}))
  targets.forEach((h, i) => reg.register(h, i, tokens[i]))
  assert.equal(reg.unregister(tokens[10]), true)
  // Registered after the index was built: found too.
  reg.register(targets[20], 'late', tokens[50])
  assert.equal(reg.unregister(tokens[50]), true)
  assert.equal(reg.unregister(tokens[99]), true)
  assert.equal(reg.unregister(tokens[10]), false)
  targets.forEach((h) => h.release())
  await store.collect()
  const expected = targets.map((_, i) => i).filter((i) => i !== 10 && i !== 50 && i !== 99)
  assert.deepEqual(seen.sort((x, y) => x - y), expected)
})

test('unregister in a later job removes registrations the store has', async () => {
  const store = new Store({ manual: true })
  const { seen, reg } = recorder()
  const a = store.alloc()
  const b = store.alloc()
  const token = {}
  reg.register(a, 'a', token)
  reg.register(b, 'b', token)
  reg.register(b, 'b kept')
  await turn()
  assert.equal(store.stats().finalizationCells, 3)
  assert.equal(reg.unregister(token), true)
  assert.equal(reg.unregister(token), false)
  assert.equal(store.stats().finalizationCells, 1, 'the removal reached the store')
  a.release()
  b.release()
  await store.collect()
  assert.deepEqual(seen, ['b kept'])
})

test('one token spanning queued and stored registrations is removed from both', async () => {
  const store = new Store({ manual: true })
  const { seen, reg } = recorder()
  const a = store.alloc()
  const token = {}
  reg.register(a, 'stored', token)
  await turn()
  reg.register(a, 'queued', token)
  assert.equal(reg.unregister(token), true)
  a.release()
  await store.collect()
  assert.deepEqual(seen, [])
  assert.equal(store.stats().finalizationCells, 0)
})

test('a delivered registration leaves its token: a reused cell id is not unregistered by it', async () => {
  const store = new Store({ manual: true })
  const { seen, reg } = recorder()
  const oldToken = {}
  const a = store.alloc()
  reg.register(a, 'old', oldToken)
  a.release()
  await store.collect()
  assert.deepEqual(seen, ['old'])
  // The freed cell id goes to the next registration, with another token.
  const b = store.alloc()
  const newToken = {}
  reg.register(b, 'new', newToken)
  await turn()
  assert.equal(reg.unregister(oldToken), false, 'the old token has nothing left')
  b.release()
  await store.collect()
  assert.deepEqual(seen, ['old', 'new'])
})

test('a handle token works through any wrapper of its object, across jobs', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const store = new Store({ manual: true })
  const { seen, reg } = recorder()
  const target = store.alloc()
  const keeper = store.alloc()
  const ref = scoped(() => {
    const tokenHandle = store.alloc()
    keeper.set('token', tokenHandle) // keeps the object, not the wrapper
    reg.register(target, 'cancelled', tokenHandle)
    return new WeakRef(tokenHandle)
  })
  await store.collect() // the first wrapper dies; the object lives on
  const again = keeper.get('token')
  assert.ok(again, 'the token object is alive')
  assert.equal(reg.unregister(again), true, 'a new wrapper names the same token')
  target.release()
  await store.collect()
  assert.deepEqual(seen, [])
  assert.ok(ref.deref(), 'the WeakRef still reaches the token object')
})

test('an unregister inside a callback cancels a stored registration of a later batch position', async () => {
  const store = new Store({ manual: true })
  const seen = []
  const token = {}
  const reg = new FinalizationRegistry((held) => {
    seen.push(held)
    if (held === 'first') reg.unregister(token)
  })
  const a = store.alloc()
  const b = store.alloc()
  reg.register(a, 'first')
  reg.register(b, 'second', token)
  await turn()
  a.release()
  b.release()
  await store.collect()
  // Both died in one cycle; 'second' is delivered only if it comes first.
  assert.ok(seen.length === 1 ? seen[0] === 'first' : seen[0] === 'second' && seen[1] === 'first', String(seen))
  await store.collect()
  assert.equal(store.stats().finalizationCells, 0)
})

test('a cell of a collected registry delivered before the registry is dropped leaves no record behind', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const native = require('../native.js')
  const { stateOf } = require('../lib/store')
  const store = new Store({ manual: true })
  const st = stateOf(store)
  const x = store.alloc()
  scoped(() => new FinalizationRegistry(() => {}).register(x, 'dropped registry'))
  await turn() // registered in the store; the registry is unreachable
  x.release()
  // In one job: the cycle fires x's cell, V8 collects the registry (its
  // entry is dropped only later, by a finalization task), and the pump
  // delivers the cell, freeing its id.
  const cycle = native.requestCollection(st.index)
  for (let i = 0; i < 1e9 && native.completed(st.index) < cycle; i++);
  assert.ok(native.completed(st.index) >= cycle)
  globalThis.gc()
  st.delivery.pump()
  // The freed id goes to a new registration of another registry.
  const { seen, reg } = recorder()
  const y = store.alloc()
  const token = {}
  reg.register(y, 'y', token)
  store.stats() // flushed
  for (let i = 0; i < 20; i++) {
    globalThis.gc()
    await turn() // the dropped registry's entry goes
  }
  assert.equal(reg.unregister(token), true, "the new registration's record survived")
  reg.register(y, 'y again')
  y.release()
  await store.collect()
  assert.deepEqual(seen, ['y again'])
})

test('two registries interleaved in one store: removals in any order, then one is dropped; the other keeps exactly its registrations', async (t) => {
  if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc')
  const { stateOf } = require('../lib/store')
  const store = new Store({ manual: true })
  const st = stateOf(store)
  const { seen, reg } = recorder()
  const targets = Array.from({ length: 60 }, (_, i) => store.alloc({ i }))
  const tokens = targets.map(() => ({}))
  scoped(() => {
    const doomed = new FinalizationRegistry(() => assert.fail('a dropped registry called back'))
    targets.forEach((h, i) => {
      reg.register(h, i, tokens[i])
      doomed.register(h, -i, tokens[i])
    })
  })
  await turn() // both registries' cells are in the store, interleaved
  // Removals in mixed order: unregistered ones, and a few targets die.
  for (let i = 0; i < 60; i += 4) assert.equal(reg.unregister(tokens[i]), true)
  for (let i = 1; i < 60; i += 10) targets[i].release()
  await store.collect() // the dead ones fire; the doomed registry is collected
  for (let i = 0; i < 5; i++) {
    globalThis.gc()
    await turn() // ... and dropped, by a V8 finalization task
  }
  const expected = []
  for (let i = 1; i < 60; i += 10) expected.push(i)
  assert.deepEqual(seen.sort((x, y) => x - y), expected)
  const live = 60 - 15 - expected.length
  assert.equal(store.stats().finalizationCells, live, "only reg's live registrations are left")
  const entries = new Set(st.registrations.cellEntry.filter((e) => e !== undefined))
  assert.equal(entries.size, 1, 'one registry has records')
  const [entry] = entries
  assert.equal(entry.cells.length, live)
  for (const cell of entry.cells) assert.equal(st.registrations.cellEntry[cell], entry, 'every listed cell is the entry\'s')
  entry.cells.forEach((cell, at) => assert.equal(st.registrations.cellPos[cell], at))
  // Every remaining registration still works: unregister half, the rest fire.
  seen.length = 0
  const rest = []
  for (let i = 0; i < 60; i++) {
    if (i % 4 === 0 || expected.includes(i)) continue
    if (i % 2) assert.equal(reg.unregister(tokens[i]), true, `token ${i}`)
    else rest.push(i)
  }
  targets.forEach((h) => h.release())
  await store.collect()
  assert.deepEqual(seen.sort((x, y) => x - y), rest)
  assert.equal(store.stats().finalizationCells, 0)
})

test('the per-cell arrays shrink after a peak of registrations', async () => {
  const store = new Store({ manual: true })
  const regs = stateOf(store).registrations
  const lengths = () => [regs.cellEntry.length, regs.cellHeld.length, regs.cellTokens.length, regs.cellPos.length]
  const seen = []
  const reg = new FinalizationRegistry((held) => seen.push(held))
  const PEAK = 10_000
  const peak = () => {
    for (let i = 0; i < PEAK; i++) {
      const target = store.alloc()
      reg.register(target, i, {})
      target.release()
    }
  }
  const kept = store.alloc()
  reg.register(kept, 'kept') // the lowest cell id stays live throughout
  peak()
  assert.ok(regs.cellEntry.length > PEAK)
  await store.collect()
  assert.equal(seen.length, PEAK)
  assert.deepEqual(lengths(), [1, 1, 1, 1], 'the free entries at the end went')
  // A cell with a high id holds the end; new registrations meanwhile take
  // the lowest free ids, so the end can go with it.
  peak()
  const late = store.alloc()
  reg.register(late, 'late')
  await store.collect()
  assert.ok(regs.cellEntry.length > PEAK, 'the late cell holds the end')
  const fresh = []
  for (let i = 0; i < 100; i++) fresh.push(store.alloc())
  for (const h of fresh) reg.register(h, 'fresh')
  late.release()
  await store.collect()
  assert.ok(regs.cellEntry.length <= 128, `${lengths()} entries for 101 live cells`)
  assert.deepEqual(new Set(lengths()).size, 1)
  for (const h of [kept, ...fresh]) h.release()
  await store.collect()
  assert.equal(seen.length, 2 * PEAK + 102)
  assert.deepEqual(lengths(), [0, 0, 0, 0])
  assert.equal(regs.liveCells, 0)
  await store.close()
})
