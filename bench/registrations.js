'use strict'
// Registration benchmarks that only show over time or beside other
// registrations (bench/index.js, section "registrations"):
//   3c/3d  register + unregister on the same 1,000 long-lived targets and
//          tokens, jobs of 1,000 pairs a turn apart: 100,000 pairs, then
//          1,000,000; the cost per pair must not grow with the total;
//   7a/7b  a registry created, given one registration, and dropped (V8
//          collects it and its cells go), in an empty store and beside
//          100,000 live registrations of another registry in the same store.

const TARGETS = 1000
const DROPS = 1000 // registries per timed drop run
const BESIDE = 100_000 // live registrations beside them in 7b

/** Jobs of TARGETS register + unregister pairs, a turn apart; ns per pair. */
async function pairsOverTime(registry, targets, tokens, pairs, nextTurn, now) {
  const t0 = now()
  for (let done = 0; done < pairs; done += targets.length) {
    for (let i = 0; i < targets.length; i++) registry.register(targets[i], i, tokens[i])
    for (let i = 0; i < targets.length; i++) {
      if (!registry.unregister(tokens[i])) throw new Error('unregister found nothing')
    }
    await nextTurn()
  }
  return ((now() - t0) * 1e6) / pairs
}

/**
 * DROPS registries, each registering one of `targets` and made unreachable
 * at once; then gc() and the turns until `dropped()` says every one is
 * gone. Microseconds per registry, creation and GC included.
 */
async function dropRegistries(Registry, targets, settle, dropped, gc, nextTurn, now) {
  await settle()
  const t0 = now()
  ;(() => {
    for (let i = 0; i < DROPS; i++) new Registry(() => {}).register(targets[i % targets.length], i)
  })()
  await nextTurn() // the registrations reach the store
  gc()
  for (let turns = 0; !dropped(); turns++) {
    if (turns > 100_000) throw new Error('the dropped registries were never finalized')
    await nextTurn()
  }
  return ((now() - t0) * 1e3) / DROPS
}

async function registrations({ ws, BuiltinFinalizationRegistry, settle, row, log, RUNS, median, gc, results }) {
  const { performance } = require('node:perf_hooks')
  const now = () => performance.now()
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

  log(`3c/3d. register+unregister on ${TARGETS} long-lived targets, jobs of ${TARGETS} pairs a turn apart`)
  {
    const store = new ws.Store({ manual: true })
    const handles = Array.from({ length: TARGETS }, (_, i) => store.alloc({ i }))
    const plain = handles.map((_, i) => ({ i }))
    const tokens = handles.map(() => ({}))
    const breg = new BuiltinFinalizationRegistry(() => {})
    const wreg = new ws.FinalizationRegistry(() => {})
    for (const pairs of [100_000, 1_000_000]) {
      const b = []
      const w = []
      for (let r = 0; r < RUNS; r++) {
        await settle()
        b.push(await pairsOverTime(breg, plain, tokens, pairs, nextTurn, now))
        await settle()
        w.push(await pairsOverTime(wreg, handles, tokens, pairs, nextTurn, now))
      }
      row(pairs === 100_000 ? '3c' : '3d', `  register+unregister, ${pairs.toLocaleString('en')} pairs on ${TARGETS.toLocaleString('en')} long-lived targets`,
        'ns/pair', median(b), median(w))
      results.details[`registerUnregisterLongLived_${pairs}`] = { builtin: b, weakstore: w }
    }
    if (wreg.unregister({}) || breg.unregister({})) throw new Error('unreachable')
    for (const h of handles) h.release()
  }

  log(`7a/7b. ${DROPS} registries with one registration each, dropped: empty store vs beside ${BESIDE.toLocaleString('en')} registrations`)
  for (const beside of [0, BESIDE]) {
    const store = new ws.Store({ manual: true })
    const handles = Array.from({ length: TARGETS }, (_, i) => store.alloc({ i }))
    const plain = handles.map((_, i) => ({ i }))
    const bkeep = new BuiltinFinalizationRegistry(() => {})
    const wkeep = new ws.FinalizationRegistry(() => {})
    for (let i = 0; i < beside; i++) {
      bkeep.register(plain[i % TARGETS], i)
      wkeep.register(handles[i % TARGETS], i)
    }
    const live = store.stats().finalizationCells
    const b = []
    const w = []
    for (let r = 0; r < RUNS + 1; r++) {
      // V8 gives no sign that it dropped a registry: one turn after gc().
      let turnsSeen = 0
      b.push(await dropRegistries(BuiltinFinalizationRegistry, plain, settle, () => turnsSeen++ > 0, gc, nextTurn, now))
      w.push(await dropRegistries(ws.FinalizationRegistry, handles, settle, () => store.stats().finalizationCells === live, gc, nextTurn, now))
    }
    b.shift() // the first run warms up
    w.shift()
    row(beside === 0 ? '7a' : '7b', beside === 0
      ? `a registry with one registration, dropped: empty store (${DROPS} per run)`
      : `  the same beside ${BESIDE.toLocaleString('en')} live registrations in the store`, 'µs', median(b), median(w))
    results.details[`registryDrop_${beside}`] = { builtin: b, weakstore: w }
    if (wkeep.unregister({}) || bkeep.unregister({})) throw new Error('unreachable')
    for (const h of handles) h.release()
  }
}

module.exports = { registrations }
