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

/** The release build, which also regenerates the loader (native.js, native.d.ts). */
function build() {
  process.stderr.write('> npm run build\n')
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio })
}

module.exports = { root, napi, build }
