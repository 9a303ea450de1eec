'use strict'
// Churn suite: each realistic long-running pattern (fuzz/lib/churn-patterns.js)
// run for a long time, in jobs of about 1,000 operations separated by
// event-loop turns, checking that it reaches a steady state: neither memory
// nor the time per operation grows.
//
//   node --expose-gc fuzz/churn.js --short     # npm test (__test__/churn.test.js)
//   node --expose-gc fuzz/churn.js             # long mode: 10,000,000 ops per pattern
//   node --expose-gc fuzz/churn.js --ops=2000000 --pattern=fresh --json
//
// Each pattern's run is cut into WINDOWS + 1 equal windows of operations;
// window 0 is warm-up (JIT, pools and tables reaching their size). At the
// end of every window the driver waits a few turns, runs gc() until V8's
// finalization callbacks have run, and samples V8's heapUsed, RSS, the
// process's thread count (/proc/self/task; Linux) and, for a pattern with a
// long-lived store, its live finalization cells and objects (and its
// handles, pins and attached threads). The time per
// operation of a window is the median over its jobs (a job's time divided
// by its operations), so that a GC pause or a noisy neighbour in a few jobs
// does not count. The pattern fails when, between window 1 and the last:
// - heapUsed grows by more than HEAP_SLACK (4 MiB) plus 25%;
// - RSS grows by more than RSS_SLACK (48 MiB) plus 25%;
// - the thread count grows by more than THREAD_SLACK (4);
// - the store's live cells, objects, handles or pins grow by more than
//   2,000 plus 25%, or its attached threads grow at all;
// - the time per operation grows by more than TIME_RATIO (3x), comparing the
//   mean of windows 1 and 2 with the mean of the last two.
// The tolerances are wide (a 2-core VM shared with other work), and still
// far below what the leaks this suite was written for produce (docs/TESTING.md).
//
// Prints a line per pattern and `CHURN_SUMMARY {json}`; exits 1 on failure.

if (typeof globalThis.gc !== 'function') {
  console.error('churn: run with node --expose-gc')
  process.exit(2)
}

const fs = require('node:fs')
const { patterns } = require('./lib/churn-patterns')

const args = process.argv.slice(2)
const flag = (name) => args.includes(`--${name}`)
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)

const SHORT = flag('short')
const JSON_OUT = flag('json')
const WINDOWS = Math.max(3, Number(option('windows') ?? 6))
// Operations per pattern; the slow patterns (stores, workers) do fewer in
// short mode, where the whole suite must stay within about a minute.
const OPS = Number(option('ops') ?? (SHORT ? 400_000 : 10_000_000))
const SHORT_OPS = {
  'short-lived stores': 100_000, workers: 60_000, 'stores opened': 100_000, 'heap snapshots': 100_000, 'attaching and closing': 100_000,
}
const only = option('pattern')

const HEAP_SLACK = 4 * 2 ** 20
const RSS_SLACK = 48 * 2 ** 20
const THREAD_SLACK = 4
const COUNT_SLACK = 2000
const GROWTH = 1.25
const TIME_RATIO = 3

const turn = () => new Promise((resolve) => setImmediate(resolve))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const threads = () => (fs.existsSync('/proc/self/task') ? fs.readdirSync('/proc/self/task').length : null)
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[s.length >> 1]
}
const mib = (b) => (b / 2 ** 20).toFixed(1)

/**
 * A sample at a window's end: after turns and full GCs (V8's finalization
 * callbacks drop dead registries, maps and stores, and what they held goes
 * in the next GC), and a full collection of the pattern's long-lived store;
 * dropped stores' collector threads end on their own, so the thread count
 * is read until it stops falling (at most ~1 s).
 */
async function sample(store) {
  for (let i = 0; i < 4; i++) {
    await turn()
    globalThis.gc()
  }
  // A long-lived store's collector runs on its allocation budget: live
  // cells and objects are compared after a full collection.
  if (store) await store.collect()
  let t = threads()
  for (let i = 0; i < 50 && t !== null; i++) {
    await sleep(20)
    const again = threads()
    if (again >= t) break
    t = again
  }
  globalThis.gc()
  const s = { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, threads: t }
  if (store) {
    const st = store.stats()
    s.cells = st.finalizationCells
    s.objects = st.objects
    s.handles = st.handles
    s.attached = st.attached
    s.pins = st.pins
  }
  return s
}

/** The failures between window samples `a` (early) and `b` (last). */
function judge(a, b, nsA, nsB) {
  const out = []
  const grew = (key, slack) => b[key] > a[key] * GROWTH + slack
  if (grew('heap', HEAP_SLACK)) out.push(`V8 heap grew ${mib(a.heap)} -> ${mib(b.heap)} MiB`)
  if (grew('rss', RSS_SLACK)) out.push(`RSS grew ${mib(a.rss)} -> ${mib(b.rss)} MiB`)
  if (a.threads !== null && b.threads > a.threads + THREAD_SLACK) out.push(`threads grew ${a.threads} -> ${b.threads}`)
  if (a.cells !== undefined && grew('cells', COUNT_SLACK)) out.push(`live cells grew ${a.cells} -> ${b.cells}`)
  if (a.objects !== undefined && grew('objects', COUNT_SLACK)) out.push(`live objects grew ${a.objects} -> ${b.objects}`)
  if (a.handles !== undefined && grew('handles', COUNT_SLACK)) out.push(`handles grew ${a.handles} -> ${b.handles}`)
  if (a.pins !== undefined && grew('pins', COUNT_SLACK)) out.push(`pins grew ${a.pins} -> ${b.pins}`)
  if (a.attached !== undefined && b.attached > a.attached) out.push(`attached threads grew ${a.attached} -> ${b.attached}`)
  if (nsB > nsA * TIME_RATIO) out.push(`time per op grew ${nsA.toFixed(0)} -> ${nsB.toFixed(0)} ns`)
  return out
}

async function runPattern(name, setup) {
  const total = SHORT ? (Object.entries(SHORT_OPS).find(([k]) => name.includes(k))?.[1] ?? OPS) : OPS
  const perWindow = Math.ceil(total / (WINDOWS + 1))
  const { job, store, end } = setup({ short: SHORT })
  const windows = []
  const started = performance.now()
  let ops = 0
  let jobs = 0
  for (let w = 0; w <= WINDOWS; w++) {
    const times = []
    const t0 = performance.now()
    for (let done = 0; done < perWindow;) {
      const j0 = performance.now()
      let n = job()
      if (typeof n !== 'number') n = await n
      times.push(((performance.now() - j0) * 1e6) / n)
      done += n
      ops += n
      jobs++
      await turn()
    }
    const ms = performance.now() - t0
    windows.push({ ns: median(times), ms, ...(await sample(store)) })
  }
  const mean = (a, b) => (windows[a].ns + windows[b].ns) / 2
  const failures = judge(windows[1], windows[WINDOWS], mean(1, 2), mean(WINDOWS - 1, WINDOWS))
  const atEnd = end && end()
  if (atEnd) failures.push(atEnd)
  return { name, ops, jobs, ms: performance.now() - started, windows, failures }
}

async function main() {
  const results = []
  for (const [name, setup] of Object.entries(patterns)) {
    if (only && !name.includes(only)) continue
    let r
    try {
      r = await runPattern(name, setup)
    } catch (err) {
      r = { name, ops: 0, jobs: 0, ms: 0, windows: [], failures: [`threw: ${err && err.stack}`] }
    }
    results.push(r)
    const w = r.windows
    const line = w.length > 1
      ? `ns/op ${w.map((x) => x.ns.toFixed(0)).join(' ')}; heap MiB ${w.map((x) => mib(x.heap)).join(' ')}; ` +
        `RSS MiB ${mib(w[1].rss)} -> ${mib(w[w.length - 1].rss)}; threads ${w[1].threads} -> ${w[w.length - 1].threads}` +
        (w[1].cells !== undefined ? `; cells ${w[1].cells} -> ${w[w.length - 1].cells}, objects ${w[1].objects} -> ${w[w.length - 1].objects}` : '')
      : ''
    console.log(`churn: ${r.failures.length ? 'FAIL' : 'ok  '} ${name}: ${r.ops.toLocaleString('en')} ops in ${(r.ms / 1000).toFixed(1)} s; ${line}`)
    for (const f of r.failures) console.log(`churn:      ${f}`)
  }
  const failures = results.reduce((n, r) => n + r.failures.length, 0)
  const summary = {
    mode: SHORT ? 'short' : 'long', windows: WINDOWS, failures,
    patterns: results.map((r) => ({ name: r.name, ops: r.ops, jobs: r.jobs, ms: Math.round(r.ms), failures: r.failures,
      first: r.windows[1], last: r.windows[r.windows.length - 1] })),
  }
  if (JSON_OUT) console.log(`CHURN_SUMMARY ${JSON.stringify(summary)}`)
  else console.log(`churn: ${results.length} patterns, ${failures} failure(s)`)
  process.exit(failures === 0 ? 0 : 1)
}

main()
