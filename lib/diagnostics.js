'use strict'
// diagnostics_channel events (README, "Diagnostics"). Free when nobody
// subscribes: payloads are only built for a channel with subscribers.
//
//   weakstore:cycle:start   { store, cycle, trigger, startedAt }
//   weakstore:cycle:end     { store, ...the cycle's figures }
//   weakstore:callback:error { error, heldValue, registry }
//
// Cycles run on the collector's threads; their events are published on the
// store's JavaScript thread when its pump runs after the cycle (start then
// end, in cycle order): a subscriber sees every cycle that finished after
// the pump before it subscribed (the store keeps the last 64 cycles' figures).

const dc = require('node:diagnostics_channel')
const native = require('../native.js')

const cycleStart = dc.channel('weakstore:cycle:start')
const cycleEnd = dc.channel('weakstore:cycle:end')
const callbackError = dc.channel('weakstore:callback:error')

/** Called by the pump (delivery.js): publishes the cycles that finished since the last call. */
function publishCycles(delivery) {
  const st = delivery.st
  if (!cycleStart.hasSubscribers && !cycleEnd.hasSubscribers) {
    delivery.publishedCycle = native.completed(st.index)
    return
  }
  const cycles = native.cyclesAfter(st.index, delivery.publishedCycle)
  for (const figures of cycles) {
    delivery.publishedCycle = figures.cycle
    if (cycleStart.hasSubscribers) {
      cycleStart.publish({ store: st.store, cycle: figures.cycle, trigger: figures.trigger, startedAt: figures.startedAt })
    }
    if (cycleEnd.hasSubscribers) cycleEnd.publish({ store: st.store, ...figures })
  }
}

/** A cleanup callback threw `error` (it is still rethrown as an uncaught exception). */
function publishCallbackError(error, heldValue, registry) {
  if (callbackError.hasSubscribers) callbackError.publish({ error, heldValue, registry })
}

module.exports = { publishCycles, publishCallbackError }
