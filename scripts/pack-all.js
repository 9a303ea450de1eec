#!/usr/bin/env node
'use strict'
// npm run pack:all: builds the release addon and writes the tarballs of the
// main package and of this machine's platform package into dist/, with the
// napi CLI's own commands:
//   npm run build -- --output-dir dist/addon
//                                     the addon (napi build --platform --release, without
//                                     the test-only feature test-hooks) and the loader
//                                     native.js / native.d.ts, which are copied to the
//                                     repository; the repository's own addon, which may
//                                     be `npm test`'s build, is left alone
//   napi create-npm-dirs              npm/<platform>/ for every configured target
//   napi artifacts                    copies this machine's .node into its npm/ dir (in a
//                                     copy of the package, dist/napi/)
//   npm pack                          the two tarballs
// The main package is packed from a staged copy (dist/stage/) whose
// package.json lists every platform package as an optional dependency at
// this version, as `napi pre-publish` writes it for a release; the
// repository's own package.json has none, so that a clone never fetches
// them. It fails if the main tarball lacks a file that `require` needs, or
// carries anything it should not (build output, tests, benches, fuzzers).

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const { root, napi, build } = require('./napi')

const dist = path.join(root, 'dist')
const pkg = require('../package.json')
const { platformArchABI } = require('../lib/platform')

function sh(command, args, cwd = root) {
  return execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' })
}

/** `npm pack` of `dir` into dist/; returns npm's report of the tarball. */
function pack(dir) {
  const [report] = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', dist], dir))
  return report
}

const REQUIRED = ['package.json', 'index.js', 'index.mjs', 'index.d.ts', 'index.d.mts', 'native.js', 'native.d.ts',
  'lib/load.js', 'lib/store.js', 'scripts/install.js', 'Cargo.toml', 'Cargo.lock', 'build.rs', 'src/lib.rs',
  'crates/weakstore-core/Cargo.toml', 'crates/weakstore-core/src/lib.rs']
const FORBIDDEN = [/^target\//, /^node_modules\//, /^__test__\//, /^bench\//, /^fuzz\//, /^ci\//, /^dist\//,
  /^npm\//, /\.node$/, /^crates\/weakstore-bench\//, /^crates\/weakstore-core\/tests\//, /^examples\//]

function checkMain(report) {
  const files = report.files.map((f) => f.path)
  const missing = REQUIRED.filter((f) => !files.includes(f))
  const extra = files.filter((f) => FORBIDDEN.some((re) => re.test(f)))
  if (missing.length || extra.length) {
    throw new Error(`the main tarball is wrong:${missing.length ? ` missing ${missing.join(', ')};` : ''}` +
      `${extra.length ? ` should not ship ${extra.join(', ')}` : ''}`)
  }
}

/** Copies what `npm pack` would ship into dist/stage/, with the optional dependencies added. */
function stageMain() {
  const stage = path.join(dist, 'stage')
  fs.rmSync(stage, { recursive: true, force: true })
  const [listing] = JSON.parse(sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts']))
  for (const { path: file } of listing.files) {
    fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true })
    fs.copyFileSync(path.join(root, file), path.join(stage, file))
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
  manifest.optionalDependencies = {}
  for (const dir of fs.readdirSync(path.join(root, 'npm')).sort()) {
    const platform = JSON.parse(fs.readFileSync(path.join(root, 'npm', dir, 'package.json'), 'utf8'))
    if (platform.version !== manifest.version) {
      throw new Error(`npm/${dir} is at ${platform.version}, the main package at ${manifest.version}: run \`npm version\``)
    }
    manifest.optionalDependencies[platform.name] = manifest.version
  }
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  return stage
}

function main() {
  fs.mkdirSync(dist, { recursive: true })
  for (const f of fs.readdirSync(dist)) if (f.endsWith('.tgz')) fs.rmSync(path.join(dist, f))

  // The release build goes to dist/addon/, which then holds only it (and
  // the loader): napi artifacts searches its --output-dir recursively, and
  // other builds of the same binary (the repository's own, ci/valgrind.sh's
  // target/valgrind/out) would be ambiguous.
  const addon = path.join(dist, 'addon')
  fs.rmSync(addon, { recursive: true, force: true })
  build('--output-dir', path.relative(root, addon))
  for (const loader of ['native.js', 'native.d.ts']) fs.copyFileSync(path.join(addon, loader), path.join(root, loader))
  napi('create-npm-dirs')
  // napi artifacts also copies the addon into its package's root: it runs
  // in a copy of the package (dist/napi/: package.json and this platform's
  // npm/ folder), so that the repository's addon stays the one `npm test`
  // built. It copies every configured target's .node; here only this
  // machine's exists, so it runs with a configuration naming just that one.
  const abi = platformArchABI()
  const napiRoot = path.join(dist, 'napi')
  fs.rmSync(napiRoot, { recursive: true, force: true })
  fs.mkdirSync(path.join(napiRoot, 'npm', abi), { recursive: true })
  fs.copyFileSync(path.join(root, 'package.json'), path.join(napiRoot, 'package.json'))
  for (const file of ['package.json', 'README.md']) {
    fs.copyFileSync(path.join(root, 'npm', abi, file), path.join(napiRoot, 'npm', abi, file))
  }
  const host = /^host: (.+)$/m.exec(sh('rustc', ['-vV']))[1]
  const hostConfig = path.join(napiRoot, 'napi-host.json')
  fs.writeFileSync(hostConfig, JSON.stringify({ binaryName: pkg.napi.binaryName, targets: [host] }))
  napi('artifacts', '--cwd', napiRoot, '--config-path', hostConfig, '--output-dir', addon, '--npm-dir', 'npm')

  const main = pack(stageMain())
  checkMain(main)
  const platform = pack(path.join(napiRoot, 'npm', abi))
  for (const r of [main, platform]) {
    console.log(`dist/${r.filename}  ${(r.size / 1024).toFixed(1)} kB packed, ${(r.unpackedSize / 1024).toFixed(1)} kB unpacked, ${r.entryCount} files`)
  }
}

main()
