'use strict'
// Shared helpers for the Node tests (not a test file itself).

/** Resolves after the current job and one event-loop turn. */
const turn = () => new Promise((resolve) => setImmediate(resolve))

/** Runs `fn` in its own function scope, so nothing it creates stays on our stack. */
const scoped = (fn) => fn()

module.exports = { turn, scoped }
