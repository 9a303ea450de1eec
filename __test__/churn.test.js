'use strict'
// The churn suite's short mode (fuzz/churn.js): every long-running API
// pattern reaches a steady state (V8 heap, RSS, threads, live cells and
// objects, time per operation). In a child process, like the fuzzers. See
// docs/TESTING.md, "Churn suite".
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const root = path.resolve(__dirname, '..')

test('churn suite, short mode: every pattern is flat between an early window and the last', (t) => {
  const result = spawnSync(process.execPath, ['--expose-gc', 'fuzz/churn.js', '--short', '--json'], {
    cwd: root, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20,
  })
  assert.equal(result.error, undefined, `child did not finish: ${result.error}\n${result.stdout}\n${result.stderr}`)
  assert.equal(result.signal, null, `child killed by ${result.signal}\n${result.stdout}\n${result.stderr}`)
  const line = result.stdout.split('\n').find((l) => l.startsWith('CHURN_SUMMARY '))
  assert.ok(line, `no CHURN_SUMMARY line in\n${result.stdout}\n${result.stderr}`)
  const s = JSON.parse(line.slice('CHURN_SUMMARY '.length))
  for (const l of result.stdout.split('\n')) if (l.startsWith('churn: ')) t.diagnostic(l)
  assert.ok(s.patterns.length >= 12, `${s.patterns.length} patterns ran`)
  for (const p of s.patterns) {
    assert.deepEqual(p.failures, [], p.name)
    assert.ok(p.ops >= 40_000, `${p.name}: ${p.ops} operations`)
    assert.ok(p.jobs > s.windows, `${p.name}: ${p.jobs} jobs, at least one per window`)
  }
  assert.equal(s.failures, 0)
  assert.equal(result.status, 0, result.stderr)
})
