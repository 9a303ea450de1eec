'use strict'
// weakstore as a user meets it: `npm run pack:all` writes the tarballs,
// and fresh projects install them offline, the way `npm install weakstore`
// would (see docs/TESTING.md, "Packaging"):
//   1. with the prebuilt platform package and no Rust on PATH: CommonJS,
//      ES module and TypeScript consumers work;
//   2. without the platform package, with cargo on PATH: the install
//      script builds the addon from the shipped sources;
//   3. with neither: the install succeeds, and require() throws
//      ERR_WEAKSTORE_NATIVE_MISSING with what to do.
// Also: the committed loader (native.js, native.d.ts) is what the napi CLI
// generates, the tarball's types pass @arethetypeswrong/cli, and every
// package is publishable (npm publish --dry-run, fields checked by hand).
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const fixtures = path.join(__dirname, 'fixtures', 'package')
const pkg = require('../package.json')
const { platformArchABI } = require('../lib/platform')
const abi = platformArchABI()

function run(command, args, { cwd = root, env = process.env, timeout = 600_000 } = {}) {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 << 20 })
  const output = `$ ${command} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`
  assert.equal(r.error, undefined, `${output}\n${r.error}`)
  return { ...r, output }
}

function ok(command, args, options) {
  const r = run(command, args, options)
  assert.equal(r.status, 0, r.output)
  return r
}

/** PATH without the directories that hold cargo or rustc. */
function pathWithoutRust() {
  return process.env.PATH.split(path.delimiter)
    .filter((dir) => !['cargo', 'rustc'].some((exe) => fs.existsSync(path.join(dir, exe))))
    .join(path.delimiter)
}

/** A new empty project with the smoke fixtures, in the system's temp folder. */
function project(t, name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `weakstore-${name}-`))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `app-${name}`, version: '1.0.0', private: true }))
  for (const f of fs.readdirSync(fixtures)) fs.copyFileSync(path.join(fixtures, f), path.join(dir, f))
  return dir
}

function install(dir, tarballs, env) {
  return ok('npm', ['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', ...tarballs], { cwd: dir, env })
}

/** Which test-only exports the module at `file` (an addon, or a loader) has: none in anything a user installs. */
function testHooksIn(file, env) {
  const probe = `const m = require(${JSON.stringify(file)}); ` +
    "console.log(JSON.stringify(['holdPhase', 'heldPhase', 'holdHandleDeaths'].filter((name) => name in m)))"
  return JSON.parse(ok(process.execPath, ['-e', probe], { env }).stdout)
}

function smoke(dir, env) {
  assert.match(ok(process.execPath, ['--expose-gc', 'smoke.cjs'], { cwd: dir, env }).stdout, /SMOKE_OK cjs/)
  assert.match(ok(process.execPath, ['--expose-gc', 'smoke.mjs'], { cwd: dir, env }).stdout, /SMOKE_OK esm/)
}

/**
 * examples/worker-pool.js, requiring the installed package, run as a user
 * would (no --expose-gc): workers attach the shared store from
 * node_modules, and every memo entry they wrote (the quotes' and the
 * order's) is reported collected once the main thread replaces the memo.
 */
function workerPool(dir, env) {
  const source = fs.readFileSync(path.join(root, 'examples', 'worker-pool.js'), 'utf8')
  fs.writeFileSync(path.join(dir, 'pool.js'), source.replace("require('..')", "require('weakstore')"))
  const out = ok(process.execPath, ['pool.js'], { cwd: dir, env }).stdout
  const computed = Number(/(\d+) computed/.exec(out)?.[1])
  const evicted = Number(/= (\d+) of their entries go/.exec(out)?.[1])
  assert.ok(computed >= 8, out)
  assert.equal(evicted, computed + 1, out)
  assert.match(out, /1 thread attached, .* anomalies 0\./, out)
}

const dist = path.join(root, 'dist')
const mainTarball = path.join(dist, `weakstore-${pkg.version}.tgz`)
const platformTarball = path.join(dist, `weakstore-${abi}-${pkg.version}.tgz`)
const noRust = { ...process.env, PATH: pathWithoutRust() }

test('pack:all writes the main and platform tarballs, and the committed loader is the generated one', () => {
  const r = ok('npm', ['run', 'pack:all'])
  assert.ok(fs.existsSync(mainTarball), r.output)
  assert.ok(fs.existsSync(platformTarball), r.output)
  // pack:all regenerated native.js / native.d.ts; they must equal what git has.
  if (fs.existsSync(path.join(root, '.git'))) {
    const diff = run('git', ['diff', '--exit-code', '--', 'native.js', 'native.d.ts'])
    assert.equal(diff.status, 0, `the committed napi loader is stale: commit the regenerated native.js / native.d.ts\n${diff.output}`)
  }
  const types = fs.readFileSync(path.join(root, 'native.d.ts'), 'utf8')
  assert.doesNotMatch(types, /holdPhase|heldPhase|holdHandleDeaths/, 'the loader is generated from a build without test-hooks')
})

test('every package is publishable: npm publish --dry-run, no private flag, license, engines, files', () => {
  const platformDir = path.join(root, 'npm', abi)
  for (const dir of [root, platformDir]) {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    assert.equal(manifest.private, undefined, `${dir}: "private" would refuse the publish`)
    assert.equal(manifest.license, 'MIT')
    assert.equal(manifest.engines.node, pkg.engines.node)
    assert.equal(manifest.version, pkg.version, `${dir}: versions out of step`)
    assert.ok(Array.isArray(manifest.files) && manifest.files.length > 0)
    ok('npm', ['publish', '--dry-run', '--ignore-scripts', '--tag', 'dry-run'], { cwd: dir })
  }
  // The packed main package names every platform package, at its version.
  const packed = JSON.parse(ok('tar', ['-xOzf', mainTarball, 'package/package.json']).stdout)
  assert.equal(packed.version, pkg.version)
  const platforms = fs.readdirSync(path.join(root, 'npm'))
  assert.ok(platforms.length >= 8 && platforms.includes(abi))
  for (const dir of platforms) {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'npm', dir, 'package.json'), 'utf8'))
    assert.equal(manifest.version, pkg.version, `npm/${dir}: versions out of step`)
    assert.equal(packed.optionalDependencies[manifest.name], pkg.version, `${manifest.name} is not an optional dependency in step`)
  }
  assert.equal(Object.keys(packed.optionalDependencies).length, platforms.length)
  assert.equal(pkg.optionalDependencies, undefined, 'a clone must not fetch platform packages')
})

test('the types resolve for require and import consumers (@arethetypeswrong/cli)', () => {
  const attw = path.join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js')
  const r = ok(process.execPath, [attw, mainTarball, '--format', 'json'])
  const report = JSON.parse(r.stdout)
  // `problems`: problem kind -> the problems of that kind; none at all.
  assert.equal(typeof report.problems, 'object', r.stdout.slice(0, 2000))
  assert.deepEqual(Object.keys(report.problems), [], JSON.stringify(report.problems, null, 2))
})

test('installed with the prebuilt package and no Rust: CommonJS, ES modules, TypeScript and the worker-pool example work', (t) => {
  const dir = project(t, 'prebuilt')
  install(dir, [mainTarball, platformTarball], noRust)
  assert.ok(fs.existsSync(path.join(dir, 'node_modules', `weakstore-${abi}`)))
  assert.ok(!fs.existsSync(path.join(dir, 'node_modules', 'weakstore', `weakstore.${abi}.node`)), 'nothing was built locally')
  const addon = path.join(dir, 'node_modules', `weakstore-${abi}`, `weakstore.${abi}.node`)
  assert.deepEqual(testHooksIn(addon, noRust), [], 'the packed addon was built without test-hooks')
  assert.deepEqual(testHooksIn(path.join(dir, 'node_modules', 'weakstore', 'native.js'), noRust), [])
  smoke(dir, noRust)
  workerPool(dir, noRust)
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  ok(process.execPath, [tsc, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--target', 'es2022', '--lib', 'es2022,esnext.disposable', '--types', 'node',
    '--typeRoots', path.join(root, 'node_modules', '@types'), 'types.mts', 'types.cts'], { cwd: dir })
})

test('installed without the platform package, with cargo on PATH: the addon is built from source', (t) => {
  const dir = project(t, 'source')
  const r = install(dir, [mainTarball], process.env)
  assert.match(r.output, /building it from source/)
  const installed = path.join(dir, 'node_modules', 'weakstore')
  assert.ok(fs.existsSync(path.join(installed, `weakstore.${abi}.node`)), r.output)
  assert.ok(!fs.existsSync(path.join(installed, 'target')), 'the build folder was left behind')
  assert.ok(!fs.existsSync(path.join(dir, 'node_modules', `weakstore-${abi}`)))
  assert.deepEqual(testHooksIn(path.join(installed, `weakstore.${abi}.node`), noRust), [], 'built without test-hooks')
  smoke(dir, noRust)
})

test('installed with neither: the install succeeds and require() says what to do', (t) => {
  const dir = project(t, 'neither')
  const r = install(dir, [mainTarball], noRust)
  assert.match(r.output, /no Rust toolchain is on PATH/)
  const probe = 'try { require("weakstore"); console.log("LOADED") } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, cause: String(e.cause) })) }'
  const out = ok(process.execPath, ['-e', probe], { cwd: dir, env: noRust }).stdout
  assert.doesNotMatch(out, /LOADED/)
  const e = JSON.parse(out)
  assert.equal(e.name, 'Error')
  assert.equal(e.code, 'ERR_WEAKSTORE_NATIVE_MISSING')
  assert.match(e.message, new RegExp(`for ${abi} \\(${process.platform}/${process.arch}`))
  assert.match(e.message, new RegExp(`npm install weakstore-${abi}@${pkg.version.replace(/\./g, '\\.')}`))
  assert.match(e.message, /npm\/cli#4828/)
  assert.match(e.message, /install Rust/)
  assert.match(e.cause, /Cannot find native binding/)
  // The ES module entry gives the same error.
  const esm = run(process.execPath, ['--input-type=module', '-e', 'import("weakstore").catch((e) => { console.log(e.code); process.exit(3) })'],
    { cwd: dir, env: noRust })
  assert.equal(esm.status, 3, esm.output)
  assert.match(esm.stdout, /ERR_WEAKSTORE_NATIVE_MISSING/)
})
