'use strict'
// What the release scripts (pack-all.js, sync-version.js) run: the napi CLI
// of the repository's devDependencies, and the addon build, which is
// `npm run build` (package.json holds its flags, once).

const { execFileSync } = require('node:child_process')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const cli = path.join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
const stdio = ['ignore', 'inherit', 'inherit']

function napi(...args) {
  process.stderr.write(`> napi ${args.join(' ')}\n`)
  execFileSync(process.execPath, [cli, ...args], { cwd: root, stdio })
}

/**
 * The release build (without the test-only feature `test-hooks`), which
 * also generates the loader (native.js, native.d.ts); `args` go to
 * `napi build` (`--output-dir <dir>`: the addon and the loader go there).
 */
function build(...args) {
  const npmArgs = ['run', 'build', ...(args.length ? ['--', ...args] : [])]
  process.stderr.write(`> npm ${npmArgs.join(' ')}\n`)
  execFileSync('npm', npmArgs, { cwd: root, stdio })
}

module.exports = { root, napi, build }
