'use strict'
// Recipe: finding a leak in the store with whyAlive() and a heap snapshot.
//
//   node --expose-gc examples/leak-hunt.js
//
// A session registry caches each session's user profile in a store object
// `index` (field per session id), and forgets to delete the field when the
// session ends. Sessions end, the program drops their handles, and the
// store keeps growing. Two ways to see why:
//   1. store.whyAlive(handle): the path from a root to an object that
//      should be gone, computed off the event loop;
//   2. store.writeHeapSnapshot(): a .heapsnapshot to open in Chrome
//      DevTools (Memory > Load profile), where the Retainers view shows
//      the same path, and "Statistics"/"Summary" show what piles up.

const { Store } = require('..')

async function main() {
  const store = new Store()
  const index = store.alloc({ type: 'SessionIndex' })

  function openSession(id) {
    const profile = store.alloc({ type: 'Profile', name: `user-${id}`, avatar: Buffer.alloc(256) })
    const session = store.alloc({ type: 'Session', name: `session-${id}`, profile })
    index.set(`s${id}`, session) // the cache...
    profile.release()
    return session
  }

  function closeSession(session) {
    // ...that nobody cleans up: the bug is the missing
    //   index.delete(session.get('name').replace('session-', 's'))
    session.release()
  }

  for (let id = 0; id < 1000; id++) closeSession(openSession(id))
  await store.collect()
  const { objects, bytes } = store.stats()
  console.log(`after 1000 closed sessions: ${objects} objects, ${bytes} bytes still live`)

  // 1. Ask about one closed session's profile (a handle is needed to ask;
  //    whyAlive does not count the handle it is asked through).
  const session = index.get('s42')
  const profile = session.get('profile')
  session.release() // our own handle would be the first reason found
  const path = await store.whyAlive(profile)
  console.log('why is user-42\'s profile alive?')
  for (const step of path) {
    if (step.root) console.log(`  root: a ${step.root} (thread ${step.thread ?? '-'}) -> object ${step.id}`)
    else if (step.field) console.log(`  .${step.field} -> object ${step.id}`)
    else console.log(`  WeakMap value -> object ${step.id}`)
  }
  console.log('  => SessionIndex.s42.profile: the index still holds closed sessions')
  profile.release()

  // 2. The same, for DevTools.
  const keep = process.argv.includes('--keep') // for ci/devtools-screenshot.mjs
  const file = await store.writeHeapSnapshot(keep ? 'leak.heapsnapshot' : undefined)
  console.log(`wrote ${file}: open it in Chrome DevTools, Memory > Load profile;`)
  console.log('  in Summary, "Profile" and "Session" have 1000 instances each; the')
  console.log('  Retainers of any Profile lead to SessionIndex through (handles: main).')

  // The fix, and the proof.
  for (const key of index.keys()) index.delete(key)
  await store.collect()
  console.log(`after the fix: ${store.stats().objects} object(s) live`)
  if (!keep) require('node:fs').rmSync(file)
  await store.close()
}

main()
