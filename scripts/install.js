#!/usr/bin/env node
'use strict'
// weakstore's install script.
//
// - In a source checkout (the repository, with its devDependencies), it
//   builds the addon with the napi CLI as `npm test` does
//   (`npm run build:test`: a release build with the test-only Cargo feature
//   `test-hooks`), so that `npm test` finds it built.
// - Installed as a dependency, it does nothing when an addon loads (this
//   platform's prebuilt package, or an earlier local build). Otherwise, if a
//   Rust toolchain is on PATH, it builds the addon from the sources shipped
//   in the package with plain `cargo` (no devDependencies needed, default
//   features only) and puts it where native.js looks first. Without Rust it
//   only warns: the install succeeds, and `require('weakstore')` then
//   throws an error that says what to do (lib/load.js).
//
// WEAKSTORE_SKIP_INSTALL=1 skips all of it.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const { platformArchABI, localBinaryName, platformPackageName } = require('../lib/platform')

function log(message) {
  process.stderr.write(`weakstore: ${message}\n`)
}

function run(command, args, options = {}) {
  return spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32', ...options })
}

/** The repository itself (its tests are never shipped), with the napi CLI installed. */
function napiCli() {
  if (!fs.existsSync(path.join(root, '__test__'))) return null
  try {
    return require.resolve('@napi-rs/cli/package.json', { paths: [root] })
  } catch {
    return null
  }
}

/** Whether the addon loads, in a child process (so this one holds no addon). */
function addonLoads() {
  const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', path.join(root, 'native.js')], {
    cwd: root, stdio: 'ignore',
  })
  return r.status === 0
}

function hasCargo() {
  const r = spawnSync('cargo', ['--version'], { stdio: 'ignore', shell: process.platform === 'win32' })
  return r.status === 0
}

/** Builds the addon with cargo; returns the path of the library it wrote. */
function cargoBuild() {
  const r = spawnSync('cargo', ['build', '--release', '--lib', '-p', 'weakstore', '--message-format=json-render-diagnostics'], {
    cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 256 << 20,
    shell: process.platform === 'win32',
  })
  if (r.status !== 0) return null
  let library = null
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const message = JSON.parse(line)
    if (message.reason !== 'compiler-artifact' || message.target.name !== 'weakstore') continue
    if (!message.target.kind.includes('cdylib')) continue
    library = message.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) ?? library
  }
  return library
}

function main() {
  if (process.env.WEAKSTORE_SKIP_INSTALL) return 0
  if (napiCli() !== null) {
    // The repository's own flow: the release build `npm test` uses, with the napi CLI.
    return run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build:test']).status ?? 1
  }
  if (addonLoads()) return 0
  const abi = platformArchABI()
  if (!hasCargo()) {
    log(`no prebuilt addon for ${abi} was installed (the optional package ${platformPackageName(abi)}), ` +
      'and no Rust toolchain is on PATH to build one. require("weakstore") will say what to do.')
    return 0
  }
  log(`no prebuilt addon for ${abi}: building it from source with cargo (a few minutes)...`)
  const ownTarget = !process.env.CARGO_TARGET_DIR
  const library = cargoBuild()
  if (library === null) {
    log('the build from source failed (see the cargo output above).')
    return 1
  }
  fs.copyFileSync(library, path.join(root, localBinaryName(abi)))
  // The build directory holds hundreds of MB that nothing needs any more.
  if (ownTarget) fs.rmSync(path.join(root, 'target'), { recursive: true, force: true })
  if (!addonLoads()) {
    log(`built ${localBinaryName(abi)}, but it does not load.`)
    return 1
  }
  log(`built ${localBinaryName(abi)} from source.`)
  return 0
}

process.exitCode = main()
