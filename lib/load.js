'use strict'
// Loads the compiled addon through native.js (the loader the napi CLI
// generates: a local build in the package folder, else this platform's
// prebuilt package) and turns its failure into an error that says what to
// do. index.js requires this first; the rest of lib/ then finds native.js
// in require's cache.

const { platformArchABI, platformPackageName, localBinaryName, hasPrebuilt, version } = require('./platform')
const { withCode } = require('./errors')

function missingAddon(cause) {
  const abi = platformArchABI()
  const pkg = platformPackageName(abi)
  const where = `${process.platform}/${process.arch}${abi.endsWith('-musl') ? ' (musl)' : ''}, Node ${process.version}`
  const steps = []
  if (hasPrebuilt(abi)) {
    steps.push(
      `- Install the prebuilt addon for this platform: npm install ${pkg}@${version}`,
      '- If your lockfile was made on another platform, npm may have left it out ' +
        '(npm/cli#4828): delete node_modules and package-lock.json, then npm install again.',
      '- Do not install with --omit=optional / --no-optional: the addon is an optional dependency.',
    )
  } else {
    steps.push(`- No prebuilt addon is published for ${abi}; build it from source (below).`)
  }
  steps.push(
    '- Or build it from source: install Rust (https://rustup.rs), then `npm rebuild weakstore` ' +
      '(pnpm: allow its install script with `pnpm approve-builds`; bun: add it to trustedDependencies), ' +
      'or run `node node_modules/weakstore/scripts/install.js` directly.',
  )
  const error = withCode(new Error(
    `weakstore: no compiled addon could be loaded for ${abi} (${where}).\n` +
      `It looks for ${localBinaryName(abi)} in the weakstore package folder, then the package ${pkg}.\n` +
      `Possible solutions:\n${steps.join('\n')}`,
  ), 'ERR_WEAKSTORE_NATIVE_MISSING')
  error.cause = cause
  return error
}

let native
try {
  native = require('../native.js')
} catch (cause) {
  throw missingAddon(cause)
}

module.exports = native
