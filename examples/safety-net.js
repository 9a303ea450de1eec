'use strict'
// Recipe: a FinalizationRegistry as a safety net for resources.
//
//   node --expose-gc examples/safety-net.js
//
// Each open log file is described by a store object. The file descriptor
// is registered when the file is opened and unregistered when it is closed
// properly. If a caller forgets close(), the collector eventually frees the
// store object and the callback closes the descriptor and reports the leak.
// (A safety net, not a substitute for close(): callbacks run only when a
// cycle collects the object, which may be late or, at exit, never.)

const fs = require('fs')
const os = require('os')
const path = require('path')
const { Store, FinalizationRegistry } = require('..')

const store = new Store()
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weakstore-safety-net-'))

const leaks = new FinalizationRegistry(({ file, fd }) => {
  console.log(`  [safety net] ${file} (fd ${fd}) was never closed; closing it`)
  fs.closeSync(fd)
})

function openLog(name) {
  const file = path.join(dir, name)
  const fd = fs.openSync(file, 'a')
  const log = store.alloc({ file: name, fd, lines: 0 })
  // The held value must not refer to the handle (that would keep it alive);
  // the handle itself is the unregister token.
  leaks.register(log, { file: name, fd }, log)
  console.log(`  opened ${name} (fd ${fd})`)
  return log
}

function write(log, line) {
  fs.writeSync(log.get('fd'), line + '\n')
  log.set('lines', log.get('lines') + 1)
}

function closeLog(log) {
  const name = log.get('file')
  fs.closeSync(log.get('fd'))
  const unregistered = leaks.unregister(log)
  console.log(`  closed ${name} after ${log.get('lines')} line(s); unregistered: ${unregistered}`)
  log.release()
}

// Writes one line through a log nobody closes: the handle is simply dropped
// (collected by V8 under --expose-gc) when this function returns.
function careless() {
  write(openLog('careless.log'), 'fire and forget')
}

async function main() {
  console.log('1. A careful caller closes its log.')
  const audit = openLog('audit.log')
  write(audit, 'user alice logged in')
  write(audit, 'user alice logged out')
  closeLog(audit)

  console.log('\n2. A caller releases its handle but forgets close().')
  const forgotten = openLog('forgotten.log')
  write(forgotten, 'started')
  forgotten.release()

  console.log('\n3. A caller drops its handle without release() or close().')
  careless()

  console.log('\n4. A collection finds the forgotten logs.')
  const figures = await store.collect()
  console.log(`  cycle ${figures.cycle}: freed ${figures.freed} object(s), queued ${figures.finalizersQueued} callback(s)`)
  console.log(`  store objects left: ${store.stats().objects}`)

  for (const name of fs.readdirSync(dir).sort()) {
    console.log(`  ${name}: ${JSON.stringify(fs.readFileSync(path.join(dir, name), 'utf8'))}`)
  }
  fs.rmSync(dir, { recursive: true, force: true })
}

if (typeof global.gc !== 'function') {
  console.log('(run with --expose-gc so that dropped, unreleased handles are collected too)\n')
}
main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
