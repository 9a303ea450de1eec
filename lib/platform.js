'use strict'
// Which prebuilt addon this process needs, named as napi-rs names its
// platform packages (`<binaryName>-<platformArchABI>`): the loader that the
// napi CLI generates (native.js) looks for exactly these names, and
// scripts/install.js and lib/load.js use them to say what is missing.

const pkg = require('../package.json')

/** True on a Linux whose C library is musl rather than glibc. */
function isMusl() {
  if (process.platform !== 'linux') return false
  try {
    const report = process.report && process.report.getReport()
    if (report && report.header && report.header.glibcVersionRuntime) return false
    const libs = (report && report.sharedObjects) || []
    return libs.some((f) => f.includes('libc.musl-') || f.includes('ld-musl-'))
  } catch {
    return false
  }
}

/** napi-rs's platform-arch-ABI string for this process, e.g. `linux-x64-gnu`. */
function platformArchABI() {
  const { platform, arch } = process
  if (platform === 'linux') {
    if (arch === 'arm') return `linux-arm-${isMusl() ? 'musleabihf' : 'gnueabihf'}`
    return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/** The name, in the package folder, of a locally built addon. */
function localBinaryName(abi = platformArchABI()) {
  return `${pkg.napi.binaryName}.${abi}.node`
}

/** The npm package that carries this platform's prebuilt addon. */
function platformPackageName(abi = platformArchABI()) {
  return `${pkg.name}-${abi}`
}

/**
 * Whether a prebuilt package is published for `abi`: the packed package
 * lists each as an optional dependency (scripts/pack-all.js); a clone of
 * the repository lists none.
 */
function hasPrebuilt(abi = platformArchABI()) {
  return Object.prototype.hasOwnProperty.call(pkg.optionalDependencies || {}, platformPackageName(abi))
}

module.exports = { isMusl, platformArchABI, localBinaryName, platformPackageName, hasPrebuilt, version: pkg.version }
