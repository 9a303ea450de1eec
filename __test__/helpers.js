'use strict'
// Shared helpers for the Node tests (not a test file itself).

/** Resolves after the current job and one event-loop turn. */
const turn = () => new Promise((resolve) => setImmediate(resolve))

/** Runs `fn` in its own function scope, so nothing it creates stays on our stack. */
const scoped = (fn) => fn()

/**
 * The ending of the "new handle for an object whose old handle died" tests:
 * once `parent` no longer points at the child, only `child`'s root keeps
 * it; then both go and nothing is left. Returns the final stats.
 */
async function assertOnlyChildRootsIt(assert, store, parent, child) {
  parent.delete('child') // only the new handle's root keeps the child now
  await store.collect()
  assert.equal(child.get('v'), 1, 'the new handle still roots its object')
  assert.equal(store.stats().objects, 2)
  child.release()
  parent.release()
  await store.collect()
  const stats = store.stats()
  assert.equal(stats.objects, 0, 'no root was left behind')
  assert.equal(stats.anomalies, 0)
  return stats
}

module.exports = { turn, scoped, assertOnlyChildRootsIt }
