'use strict'
// One store, many threads: the JavaScript side of sharing (the binding's
// side is src/sharing.rs and src/attachments.rs).
//
// - store.share() returns a plain object { type: 'weakstore.Store', key,
//   secret } that structured clone carries to another thread (postMessage,
//   workerData); Store.attach(value) there gives a Store over the same
//   native store. `key` names the store in the process and is never reused;
//   `secret` (128 random bits, as 32 hexadecimal digits) is what lets a
//   thread attach: the binding checks it (src/secret.rs), so a value is a
//   capability, and a key alone (public: handle ids start with it) is not.
// - handle.id is the string `<key>:<object id>`: it names one object of one
//   store, for as long as the process runs (object ids are generation-checked,
//   so an id never names a later object in the same slot).
// - Each thread attaches a store at most once through Store.attach: the
//   thread's Store for a key is kept here (weakly), so that a handle of the
//   store has one canonical wrapper per thread.

const { V8WeakRef } = require('./builtins')
const { isObject, typeError, invalidValue } = require('./errors')

const SHARED = 'weakstore.Store'

/** The value share() returns. */
const shareValue = (key, secret) => ({ type: SHARED, key, secret })

/**
 * The key and secret of a value shaped like share()'s (each property read
 * once), or a TypeError. Whether the secret is the store's is the binding's
 * to say.
 */
function sharedValue(value) {
  if (isObject(value)) {
    const { type, key, secret } = value
    if (type === SHARED && Number.isSafeInteger(key) && key >= 1 && typeof secret === 'string') return { key, secret }
  }
  throw typeError('Store.attach', "a value returned by store.share() ({ type: 'weakstore.Store', key, secret })", value)
}

/** The id of object `id` in the store `key`. */
const handleId = (key, id) => `${key}:${id}`

// Store key and object id: positive safe integers without leading zeros.
const ID = /^([1-9][0-9]{0,15}):([1-9][0-9]{0,15})$/

/**
 * The object id that `value` (a handle id) names in the store `key`;
 * a TypeError for anything that is not a handle id of that store.
 */
function objectIdOf(where, key, value) {
  if (typeof value !== 'string') throw typeError(where, 'a handle id string (handle.id)', value)
  const m = ID.exec(value)
  const [store, id] = m === null ? [NaN, NaN] : [Number(m[1]), Number(m[2])]
  if (!Number.isSafeInteger(store) || !Number.isSafeInteger(id)) {
    throw invalidValue(`${where}: ${JSON.stringify(value.slice(0, 40))} is not a handle id (expected '<store>:<object>', as handle.id gives)`)
  }
  if (store !== key) {
    throw invalidValue(`${where}: the id ${value} belongs to another Store (this one's ids start with ${key}:)`)
  }
  return id
}

/** A pin's name: a well-formed string. */
function pinName(where, name) {
  if (typeof name !== 'string') throw typeError(where, 'a name string', name)
  if (!name.isWellFormed()) throw invalidValue(`${where}: names must be well-formed Unicode strings (this one has a lone surrogate)`)
  return name
}

/** This thread's Store for each shared key (weakly). */
const attached = new Map()

const attachedStore = (key) => {
  const store = attached.get(key)?.deref()
  if (store === undefined) attached.delete(key)
  return store
}

const rememberStore = (key, store) => {
  if (attached.get(key)?.deref() !== store) attached.set(key, new V8WeakRef(store))
}

const forgetKey = (key, store) => {
  if (attached.get(key)?.deref() === store) attached.delete(key)
}

module.exports = { shareValue, sharedValue, handleId, objectIdOf, pinName, attachedStore, rememberStore, forgetKey }
