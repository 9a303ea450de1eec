'use strict'
// Command-line / environment options of the API fuzzer (or a worker's
// workerData), and the seeded PRNG (sfc32 through splitmix32).

const { isMainThread, workerData } = require('node:worker_threads')

// ---------------------------------------------------------------- options

function parseOptions() {
  if (!isMainThread) return { ...workerData, worker: true }
  const args = process.argv.slice(2)
  const flag = (name) => args.includes(`--${name}`)
  const val = (name) => {
    const a = args.find((x) => x.startsWith(`--${name}=`))
    return a === undefined ? undefined : a.slice(name.length + 3)
  }
  const long = flag('long')
  const seedText = val('seed') ?? process.env.SEED
  const callsText = val('calls') ?? process.env.CALLS
  const seed = seedText !== undefined ? Number(seedText) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0
  const calls = callsText !== undefined ? Number(callsText) : long ? 1_000_000 : 30_000
  return {
    seed,
    calls,
    long: long || calls >= 500_000,
    strict: flag('strict') || process.env.STRICT === '1',
    workers: !flag('no-workers') && process.env.NO_WORKERS !== '1',
    quiet: flag('quiet'),
    json: flag('json'),
    worker: false,
  }
}

// ---------------------------------------------------------------- PRNG

function makeRng(seed) {
  // sfc32 seeded through splitmix32.
  let s = seed >>> 0
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  let a = split(), b = split(), c = split(), d = split()
  return () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0
    const t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    const r = (t + d) | 0
    c = (c + r) | 0
    return (r >>> 0) / 4294967296
  }
}

module.exports = { parseOptions, makeRng }
