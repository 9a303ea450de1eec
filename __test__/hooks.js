'use strict'
// The test build's hooks (the addon built with the `test-hooks` Cargo
// feature, as `npm test` builds it). They are not in native.js's exports,
// which are generated from the release build, so they are read off the
// addon itself. Not a test file.

const path = require('node:path')
const { localBinaryName } = require('../lib/platform')

/** The addon's hooks; throws if the addon was built without them. */
function hooks() {
  require('..') // loads the addon through the package's own loader first
  const binding = require(path.join(__dirname, '..', localBinaryName()))
  if (typeof binding.limitThreadStarts !== 'function') {
    throw new Error('the addon was built without the test-hooks feature: run `npm test` (or npm run build:test)')
  }
  return binding
}

module.exports = { hooks }
