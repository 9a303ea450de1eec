#!/usr/bin/env node
'use strict'
// Keeps every package's version in step with package.json's. Run by npm's
// `version` lifecycle, so `npm version <new>` bumps them all at once:
// - npm/<platform>/package.json, by `napi version`;
// - native.js, whose platform-package version check the napi CLI writes
//   at build time (rebuilt here);
// and stages the files for the commit `npm version` makes. (The main
// package's optionalDependencies on the platform packages are written at
// packing time, from the same version: scripts/pack-all.js, or
// `napi pre-publish` for a real release.)

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { root, napi, build } = require('./napi')

napi('create-npm-dirs')
napi('version')
if (!process.argv.includes('--no-build')) build()
if (fs.existsSync(path.join(root, '.git')) && process.env.npm_lifecycle_event === 'version') {
  execFileSync('git', ['add', 'package.json', 'npm', 'native.js', 'native.d.ts'], { cwd: root, stdio: 'inherit' })
}
