#!/usr/bin/env node
'use strict'
// Keeps every package's version in step with package.json's. Run by npm's
// `version` lifecycle, so `npm version <new>` bumps them all at once:
// - npm/<platform>/package.json, by `napi version`;
// - the main package's optionalDependencies on them (one per napi target);
// - native.js, whose platform-package version check the napi CLI writes
//   at build time (rebuilt here);
// and stages the files for the commit `npm version` makes.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const napi = path.join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
const pkgPath = path.join(root, 'package.json')

function napiRun(...args) {
  execFileSync(process.execPath, [napi, ...args], { cwd: root, stdio: 'inherit' })
}

napiRun('create-npm-dirs')
napiRun('version')
const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'))
const optional = {}
for (const dir of fs.readdirSync(path.join(root, 'npm')).sort()) {
  const sub = JSON.parse(fs.readFileSync(path.join(root, 'npm', dir, 'package.json'), 'utf8'))
  optional[sub.name] = pkg.version
}
pkg.optionalDependencies = optional
fs.writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`)
if (!process.argv.includes('--no-build')) {
  napiRun('build', '--platform', '--release', '--js', 'native.js', '--dts', 'native.d.ts')
}
if (fs.existsSync(path.join(root, '.git')) && process.env.npm_lifecycle_event === 'version') {
  execFileSync('git', ['add', 'package.json', 'npm', 'native.js', 'native.d.ts'], { cwd: root, stdio: 'inherit' })
}
