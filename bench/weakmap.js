'use strict'
// Benchmark 6: WeakMap with handle keys beside the built-in WeakMap with
// plain-object keys: set / get / has on live keys, and collecting 1M dead
// keys (built-in: gc(); weakstore: collect() after release()).

// Loops are written out per implementation to keep call sites monomorphic.
function builtinSet(map, keys, n) {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) map.set(keys[i], i)
  return ((performance.now() - t0) * 1e6) / n
}
function weakstoreSet(map, keys, n) {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) map.set(keys[i], i)
  return ((performance.now() - t0) * 1e6) / n
}
function builtinGet(map, keys, n) {
  let sum = 0
  const t0 = performance.now()
  for (let i = 0; i < n; i++) sum += map.get(keys[i])
  const ns = ((performance.now() - t0) * 1e6) / n
  if (sum < 0) throw new Error('unreachable')
  return ns
}
function weakstoreGet(map, keys, n) {
  let sum = 0
  const t0 = performance.now()
  for (let i = 0; i < n; i++) sum += map.get(keys[i])
  const ns = ((performance.now() - t0) * 1e6) / n
  if (sum < 0) throw new Error('unreachable')
  return ns
}
function builtinHas(map, keys, n) {
  let hits = 0
  const t0 = performance.now()
  for (let i = 0; i < n; i++) if (map.has(keys[i])) hits++
  const ns = ((performance.now() - t0) * 1e6) / n
  if (hits !== n) throw new Error('builtin has() missed')
  return ns
}
function weakstoreHas(map, keys, n) {
  let hits = 0
  const t0 = performance.now()
  for (let i = 0; i < n; i++) if (map.has(keys[i])) hits++
  const ns = ((performance.now() - t0) * 1e6) / n
  if (hits !== n) throw new Error('weakstore has() missed')
  return ns
}

/**
 * @param ctx {{ ws, BuiltinWeakMap, measure, settle, row, log, BIG, OPS, RUNS, MACRO_RUNS, median, gc, results }}
 */
async function weakmaps(ctx) {
  const { ws, BuiltinWeakMap, measure, settle, row, log, BIG, OPS, RUNS, MACRO_RUNS, median, gc, results } = ctx
  log(`6. WeakMap: ${OPS.toLocaleString('en')} live keys`)
  const store = new ws.Store({ manual: true })
  const plain = Array.from({ length: OPS }, (_, i) => ({ i }))
  const handles = Array.from({ length: OPS }, (_, i) => store.alloc({ i }))
  const bmap = new BuiltinWeakMap()
  const wmap = new ws.WeakMap()
  const set = [await measure(1, RUNS, () => builtinSet(bmap, plain, OPS), true),
    await measure(1, RUNS, () => weakstoreSet(wmap, handles, OPS), true)]
  row('6a', `WeakMap set(), ${OPS.toLocaleString('en')} live keys (overwrite after 1st run)`, 'ns/op', set[0].median, set[1].median)
  const get = [await measure(1, RUNS, () => builtinGet(bmap, plain, OPS), true),
    await measure(1, RUNS, () => weakstoreGet(wmap, handles, OPS), true)]
  row('6b', 'WeakMap get()', 'ns/op', get[0].median, get[1].median)
  const has = [await measure(1, RUNS, () => builtinHas(bmap, plain, OPS), true),
    await measure(1, RUNS, () => weakstoreHas(wmap, handles, OPS), true)]
  row('6c', 'WeakMap has()', 'ns/op', has[0].median, has[1].median)
  for (const h of handles) h.release()

  const b = []
  const w = []
  for (let run = 0; run < MACRO_RUNS; run++) {
    log(`6d. ${BIG.toLocaleString('en')} dead WeakMap keys, run ${run + 1}/${MACRO_RUNS}`)
    await settle()
    {
      const map = new BuiltinWeakMap()
      let keys = Array.from({ length: BIG }, (_, i) => ({ i }))
      for (let i = 0; i < BIG; i++) map.set(keys[i], { v: i })
      await settle()
      keys = null
      const t0 = performance.now()
      gc()
      b.push(performance.now() - t0)
      if (map === null) throw new Error('unreachable')
    }
    await settle()
    {
      const s = new ws.Store({ manual: true })
      const map = new ws.WeakMap()
      let keys = Array.from({ length: BIG }, (_, i) => s.alloc({ i }))
      for (let i = 0; i < BIG; i++) map.set(keys[i], i)
      await settle()
      for (let i = 0; i < BIG; i++) keys[i].release()
      keys = null
      const t0 = performance.now()
      const figures = await s.collect()
      w.push(performance.now() - t0)
      if (figures.ephemeronsDropped !== BIG) throw new Error(`expected ${BIG} dropped entries, got ${figures.ephemeronsDropped}`)
      if (map === null) throw new Error('unreachable')
    }
  }
  row('6d', `${BIG.toLocaleString('en')} dead WeakMap keys collected (built-in: gc(); ws: collect() after release())`, 'ms', median(b), median(w))
  results.details.weakmap = { set, get, has, collectBuiltin: b, collectWeakstore: w }
}

module.exports = { weakmaps }
