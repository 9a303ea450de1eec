'use strict'
// What the benchmarks record about the machine they ran on (bench/index.js,
// bench/objects.js).

const fs = require('node:fs')
const os = require('node:os')

/** Node and V8 versions, platform, CPU model and count, memory. */
function machine() {
  const cpu = (() => {
    try {
      const m = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))
      return m ? m[1] : os.cpus()[0]?.model
    } catch {
      return os.cpus()[0]?.model
    }
  })()
  return {
    node: process.version, v8: process.versions.v8, platform: `${process.platform}-${process.arch}`,
    cpu, nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
  }
}

module.exports = { machine }
