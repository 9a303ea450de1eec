'use strict'
// The call log (a tail of recent calls for failure reports), failures and
// known divergences, the fuzzer's own hostile errors (UserError), and the
// contract every weakstore call is checked against (checkThrown, attempt).

const { Handle } = require('../..')
const { opts, S, stats, failures, recOf } = require('./state')

// ---------------------------------------------------------------- log, failures

const TAIL = Number(process.env.FUZZ_TAIL || 60)
const tail = new Array(TAIL)
function log(text) {
  const prefix = S.inCallback > 0 ? '[in callback] ' : ''
  const slot = S.callNo % TAIL
  tail[slot] = tail[slot] && tail[slot].startsWith(`#${S.callNo} `) ? `${tail[slot]}; ${prefix}${text}` : `#${S.callNo} ${prefix}${text}`
  S.logging = prefix + text
}

const USER = Symbol('fuzz.userError')
class UserError extends Error {
  constructor(msg) { super(`fuzz user error: ${msg}`); this[USER] = true }
}
const userThrow = (msg) => { throw new UserError(msg) }

function short(v, depth = 0) {
  try {
    if (v === undefined) return 'undefined'
    if (v === null) return 'null'
    const t = typeof v
    if (t === 'string') return v.length > 24 ? `str(${v.length})` : JSON.stringify(v)
    if (t === 'bigint') return v.toString().length > 20 ? `bigint(${v.toString(16).length}h)` : `${v}n`
    if (t === 'symbol') return 'Symbol'
    if (t === 'function') return 'fn'
    if (t !== 'object') return String(v)
    if (v instanceof Handle) return `Handle${recOf.get(v)?.name ?? '?'}`
    if (ArrayBuffer.isView(v)) return `${v.constructor?.name}(${v.byteLength})`
    return depth ? 'obj' : 'obj'
  } catch { return '<hostile>' }
}

function fail(what, extra) {
  const entry = { what, call: S.callNo, op: S.logging, extra: extra === undefined ? undefined : String(extra?.stack ?? extra) }
  failures.push(entry)
  if (failures.length === 1 || opts.worker) {
    report(`FAILURE: ${what}`)
  }
  if (failures.length >= 5) S.finish(1)
}

// weakstore warns (process.emitWarning) only about its own bugs, e.g. the
// store refusing a queued registration whose target died before the
// registration reached it: any such warning is a failure.
process.on('warning', (w) => {
  if (String(w && w.message).startsWith('weakstore')) fail(`warning: ${w.message}`)
})

function report(headline) {
  const lines = [`api-fuzz${opts.worker ? ' (worker)' : ''}: ${headline}`, `  seed=${opts.seed} call=${S.callNo} op: ${S.logging}`]
  const f = failures[failures.length - 1]
  if (f && f.extra) lines.push(`  detail: ${f.extra.split('\n').slice(0, 6).join('\n          ')}`)
  lines.push('  call tail (oldest first):')
  for (let i = Math.max(0, S.callNo - TAIL + 1); i <= S.callNo; i++) if (tail[i % TAIL]) lines.push(`    ${tail[i % TAIL]}`)
  lines.push(`  reproduce: SEED=${opts.seed} CALLS=${opts.calls} node --expose-gc fuzz/api-fuzz.js${opts.workers ? '' : ' --no-workers'}`)
  process.stderr.write(lines.join('\n') + '\n')
}

function known(kind) {
  stats.known[kind] = (stats.known[kind] ?? 0) + 1
  if (opts.strict) fail(`known divergence (strict mode): ${kind}`)
}

// ---------------------------------------------------------------- the contract

const EXPECT_OK = 'ok'
const EXPECT_TYPE = 'type' // TypeError
const EXPECT_RANGE = 'range' // RangeError
const EXPECT_RELEASED = 'released' // error mentioning "released"
const EXPECT_ANY = 'any' // may or may not throw; if it throws, the contract applies

const WEAKSTORE_MESSAGE = /^(new Store|Store\.prototype|Handle|WeakRef|FinalizationRegistry|WeakMap|WeakSet|weakstore:)/

function checkThrown(err, expect, where) {
  stats.threw++
  if (err !== null && typeof err === 'object' && err[USER]) {
    stats.userThrew++
    return
  }
  if (!(err instanceof Error)) return fail(`${where}: threw a non-Error`, short(err))
  const kind = err.constructor === TypeError ? 'TypeError' : err.constructor === RangeError ? 'RangeError' : err.constructor.name
  stats.errorKinds[kind] = (stats.errorKinds[kind] ?? 0) + 1
  if (typeof err.message !== 'string' || err.message.length === 0) return fail(`${where}: ${kind} without a message`, err)
  if (/internal weakstore error|unwrap|panick|RefCell|already borrowed|napi_|Status::/i.test(err.message)) {
    return fail(`${where}: internal error leaked`, err)
  }
  // weakstore's own errors (their messages name the API) carry a Node-style code.
  if ((err instanceof TypeError || err instanceof RangeError) && WEAKSTORE_MESSAGE.test(err.message) &&
      !(typeof err.code === 'string' && /^ERR_[A-Z_]+$/.test(err.code))) {
    return fail(`${where}: a weakstore ${kind} without a Node-style code`, err)
  }
  if (!(err instanceof TypeError) && !(err instanceof RangeError)) {
    // Allowed only if the message says what was wrong; keep a tally of them
    // for the report. Stack/heap exhaustion are not weakstore's.
    stats.plainErrors[err.message.slice(0, 100)] = (stats.plainErrors[err.message.slice(0, 100)] ?? 0) + 1
    if (!/weakstore|expected|released|Store|Handle|Registry|WeakMap|WeakSet|WeakRef|memory/i.test(err.message)) {
      return fail(`${where}: plain Error whose message does not say what was wrong`, err)
    }
  }
  if (expect === EXPECT_OK) return fail(`${where}: threw on valid input`, err)
  if (expect === EXPECT_RELEASED && !/released/.test(err.message)) return fail(`${where}: error for a released handle does not mention "released"`, err)
  if (expect === EXPECT_TYPE && !(err instanceof TypeError)) return fail(`${where}: expected a TypeError`, err)
  if (expect === EXPECT_RANGE && !(err instanceof RangeError) && !(err instanceof TypeError)) return fail(`${where}: expected a RangeError`, err)
}

/** Runs `fn`; returns { ok, value }. Checks the thrown error (or the absence of one) against `expect`. */
function attempt(where, expect, fn) {
  stats.calls++
  // Hostile user code (getters, traps, callbacks) may run inside this call
  // and change the situation the expectation was computed for (release a
  // handle, ...): then only the contract itself is checked.
  const relaxed = S.userCodeRan
  S.userCodeRan = false
  if (relaxed) expect = EXPECT_ANY
  let value
  try {
    value = fn()
  } catch (err) {
    checkThrown(err, expect, where)
    return { ok: false, err }
  }
  if (expect !== EXPECT_OK && expect !== EXPECT_ANY) fail(`${where}: expected a ${expect} error, got none`, short(value))
  return { ok: true, value }
}

module.exports = {
  TAIL, log, USER, UserError, userThrow, short, fail, report, known,
  EXPECT_OK, EXPECT_TYPE, EXPECT_RANGE, EXPECT_RELEASED, EXPECT_ANY, checkThrown, attempt,
}
