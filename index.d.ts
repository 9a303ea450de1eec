// Type definitions for weakstore.

/** Values a field may hold. `Uint8Array` values are copied in; `get` returns a new `Buffer`. */
export type FieldValue = null | boolean | number | string | bigint | Uint8Array | Handle

/** What `Handle.get` returns: bytes come back as a `Buffer`, missing fields as `undefined`. */
export type FieldResult = null | boolean | number | string | bigint | Buffer | Handle | undefined

export interface StoreOptions {
  /** Collector threads for marking and sweeping (1–64; default: cores minus one, 1 to 4). */
  threads?: number
  /**
   * The least allocation (bytes since the last cycle began) that starts the
   * next cycle (default 8 MiB, at least 1024).
   */
  budget?: number
  /**
   * Pacing, in percent of the live bytes the last cycle left: the next cycle
   * starts once the program has allocated `max(budget, live * growth / 100)`
   * (default 100; 0 = always `budget`).
   */
  growth?: number
  /** Only `collect()` starts cycles (default false). */
  manual?: boolean
  /**
   * Run collector threads below the program's priority (Linux: nice +10), so
   * a busy machine time-slices the collector rather than the event loop;
   * they return to normal priority while a cycle falls behind allocation
   * (default true).
   */
  background?: boolean
  /**
   * The most bytes the store may hold, as `stats().bytes` counts them
   * (default `Infinity`: no cap; otherwise at least 1024). An allocation or
   * write that would pass it first waits for a collection (not in a
   * `manual` store), then throws a `RangeError` with code
   * `ERR_WEAKSTORE_OUT_OF_MEMORY` and changes nothing.
   */
  maxBytes?: number
}

/** Figures of one collection cycle. */
export interface CycleFigures {
  cycle: number
  marked: number
  freed: number
  freedBytes: number
  finalizersQueued: number
  markRounds: number
  /**
   * Ephemeron entries whose values marking traced. Entries live with their
   * keys, so marking a key traces its values in the same pass: ephemerons
   * never need extra fixpoint rounds.
   */
  ephemeronsTraced: number
  /** Ephemeron entries dropped because their key was collected. */
  ephemeronsDropped: number
  /** Longest time the collector held the phase lock: the most JavaScript could have waited. */
  maxPauseMs: number
  markMs: number
  sweepMs: number
  totalMs: number
  liveObjects: number
  liveBytes: number
  /** What started the cycle: an explicit request (`collect()`) or the allocation budget. */
  trigger: 'collect' | 'allocation'
  /** The collector left its background priority to keep up with allocation. */
  boosted: boolean
  /** When the cycle started, in ms since the Unix epoch. */
  startedAt: number
  /** Attempts that failed (a collector thread panicked) before the cycle ran on one thread; 0 normally. */
  retries: number
  /**
   * Every attempt failed (a weakstore bug): `collect()` rejects with
   * `ERR_WEAKSTORE_CYCLE_FAILED`, and `freed` counts what the failed
   * attempts freed.
   */
  failed: boolean
}

/** The first step of a `whyAlive` path: why its object is a root. */
export interface RootStep {
  /**
   * A live handle of this thread, a pin, kept for the current job, a
   * registration's held value, or another root (another thread's handle is
   * one).
   */
  root: 'handle' | 'pin' | 'job' | 'held' | 'other'
  /** The thread whose handle it is (`'main'` or `'worker <threadId>'`), for handle roots. */
  thread?: string
  /** The pin's name, for pin roots. */
  pin?: string
  /** The root object's id. */
  id: number
}

/**
 * A step of a `whyAlive` path: the previous object's field `field` holds
 * object `id`. With `count`, a run of `count` steps through fields named
 * `field` (each object of the run holds the next in its field `field`),
 * ending at object `id`.
 */
export interface FieldStep {
  field: string
  id: number
  count?: number
}

/** A step of a `whyAlive` path: the previous object is a live key of a `WeakMap`/`WeakSet` whose value is object `id`. */
export interface EphemeronStep {
  /** The map or set, if it is still alive. */
  ephemeron: WeakMap | WeakSet | undefined
  table: number
  id: number
}

export type PathStep = RootStep | FieldStep | EphemeronStep

export interface StoreStats {
  objects: number
  bytes: number
  /** The cap on `bytes` (`maxBytes`); `Infinity` when there is none. */
  maxBytes: number
  /** `maxBytes - bytes`: what the store may still grow by (`Infinity` when uncapped). */
  headroom: number
  collections: number
  allocatedSinceCycle: number
  /** `allocatedSinceCycle` at which the next automatic cycle starts (the budget, paced on the live size). */
  nextCycleAt: number
  finalizationCells: number
  /** Registrations whose target was collected and whose callback is still due (not yet taken for delivery, not unregistered), on every thread. */
  pendingFinalizations: number
  /** Live WeakMap/WeakSet tables and the entries they hold. */
  ephemeronTables: number
  ephemeronEntries: number
  slots: number
  freeSlots: number
  threads: number
  phase: 'idle' | 'scan-roots' | 'mark' | 'process-weak' | 'sweep' | 'deliver'
  /** Canonical handles this thread tracks: live, or collected by V8 and not yet finalized by Node. */
  handles: number
  /** Roots this thread's open scopes hold. */
  scopedRoots: number
  /** Named roots (`pin`), of every thread. */
  pins: number
  /** Shapes (key layouts shared by objects with the same keys in the same order) the store has made; capped at 8,192, past which new layouts are kept in dictionary mode. */
  shapes: number
  /** Bytes the shapes and their interned key names hold, beside `bytes` (which counts objects, and which a heap snapshot's sizes add up to). */
  shapeBytes: number
  /** Threads that have the store attached now (1 until it is shared). */
  attached: number
  /** Cycle attempts that failed with a collector panic, each retried on one thread (0 unless weakstore has a bug). */
  failedCycles: number
  /** Rooted objects a sweep found unmarked and kept (0 unless weakstore has a bug). */
  anomalies: number
  /** The figures of the last cycle, or `null` before the first. */
  lastCycle: CycleFigures | null
}

/**
 * What `store.share()` returns: a plain value that `postMessage` and
 * `workerData` carry to another thread. It is a capability: whoever has it
 * (or a copy) can attach to the store.
 */
export interface SharedStore {
  type: 'weakstore.Store'
  /** Names the store in the process (handle ids start with it); not secret. */
  key: number
  /** The store's secret, 128 random bits as 32 hexadecimal digits: `Store.attach` checks it. */
  secret: string
}

/** An off-heap object store with its own concurrent garbage collector. */
export class Store implements AsyncDisposable {
  constructor(options?: StoreOptions)
  /**
   * Allocates an object with the own enumerable fields of `fields` (a plain
   * object, a null-prototype one or a class instance; not an array, `Map`,
   * `Set`, `Date`, `Buffer`, …).
   */
  alloc(fields?: Record<string, FieldValue>): Handle
  /**
   * A scope: handles that are released together, each without a finalizer
   * (see `Scope`). Without `fn`, the open scope, to `close()` (or `using`).
   * With `fn`, calls `fn(scope)` and closes the scope when `fn` returns or
   * throws, or when the promise it returns settles; returns what `fn` returns.
   */
  scope(): Scope
  scope<R>(fn: (scope: Scope) => R): R
  /**
   * Lets the calling job end, lets V8 collect dead handle wrappers (when
   * `global.gc` is exposed), runs a full cycle and delivers this thread's
   * finalization callbacks for it.
   */
  collect(): Promise<CycleFigures>
  stats(): StoreStats
  /**
   * Closes the store: its methods and its handles' throw
   * `ERR_WEAKSTORE_CLOSED` from now on.
   * After the current job it waits for `collect()` calls in flight, delivers
   * the finalization callbacks already due and lets go of this thread's roots
   * and registrations; if no other thread has the store attached, it stops
   * the collector threads and frees every object. Idempotent: every call
   * returns the same promise.
   */
  close(): Promise<void>
  /**
   * Writes the store's object graph as a V8 heap snapshot (Chrome DevTools'
   * Memory panel loads it), off the JavaScript thread; resolves with the path.
   * Default name: `Store-<date>-<time>-<pid>-<thread>-<n>.heapsnapshot`.
   */
  writeHeapSnapshot(path?: string): Promise<string>
  /**
   * The shortest path from a root to `handle`'s object, not counting `handle`
   * itself, computed off the JavaScript thread; `null` when only weak
   * references (or nothing) reach it.
   */
  whyAlive(handle: Handle): Promise<[RootStep, ...Array<FieldStep | EphemeronStep>] | null>
  /** Whether `close()` was called. */
  readonly closed: boolean
  /**
   * A value to post to another thread (`postMessage`, `workerData`), where
   * `Store.attach(value)` gives a `Store` over this same store. It carries
   * the store's secret: give it only to threads that may use the store.
   */
  share(): SharedStore
  /**
   * The calling thread's `Store` for the store `shared` names (the same one
   * each time within a thread, until it is closed). Throws
   * `ERR_WEAKSTORE_UNKNOWN_STORE` if no store is shared under its key with
   * its secret: a forged or altered value, or a store that every thread
   * that had it closed or left.
   */
  static attach(shared: SharedStore): Store
  /** Pins `handle`'s object under `name`, for every thread: it lives until unpinned (or replaced). */
  pin(name: string, handle: Handle): void
  /** The handle, in this thread, of the object pinned under `name`; `undefined` if none. */
  pinned(name: string): Handle | undefined
  /** Removes the pin `name`; whether there was one. */
  unpin(name: string): boolean
  /** The pinned names, sorted. */
  pins(): string[]
  /**
   * The handle, in this thread, of the object `id` (a `handle.id`, from any
   * thread) names; `undefined` once the object was collected. An id of
   * another store is a `TypeError` (`ERR_INVALID_ARG_VALUE`).
   */
  resolve(id: string): Handle | undefined
  /** `await using store = new Store()` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>
  readonly [Symbol.toStringTag]: 'Store'
}

/** A root: the JavaScript face of one store object. Created by `Store.alloc` and `get`. */
export class Handle implements Disposable {
  private constructor()
  set(key: string, value: FieldValue): this
  get(key: string): FieldResult
  has(key: string): boolean
  delete(key: string): boolean
  keys(): string[]
  /** How many fields the object has. */
  readonly size: number
  /** The fields' values, in insertion order (as `get` returns them). */
  values(): FieldResult[]
  /** The fields as `[key, value]` pairs, in insertion order. */
  entries(): Array<[string, FieldResult]>
  /** The entries: `for (const [key, value] of handle)`. */
  [Symbol.iterator](): IterableIterator<[string, FieldResult]>
  /**
   * The object's id, `'<store>:<object>'`: any thread of the store can turn
   * it back into a handle with `store.resolve(id)` while the object lives.
   */
  readonly id: string
  /** Whether `release()` was called. */
  readonly released: boolean
  /** `JSON.stringify`: the object's id, as `id`. */
  toJSON(): string
  /** Drops this handle's root now. Idempotent; later use throws a TypeError mentioning "released". */
  release(): void
  [Symbol.dispose](): void
  readonly [Symbol.toStringTag]: 'Handle'
}

/**
 * Handles that are released together. A scoped handle works as any handle;
 * its root belongs to its scope, a reference read through it (`get`) comes
 * back as a handle of the same scope, and releasing it drops its own root
 * only. Within a scope an object has one handle; the canonical handle
 * (`store.alloc()`, `deref()`) is another object: `escape()` gives it.
 */
export class Scope implements Disposable {
  private constructor()
  /** Allocates an object, as `Store.prototype.alloc`; its handle belongs to this scope. */
  alloc(fields?: Record<string, FieldValue>): Handle
  /** This scope's handle of the object `handle` names (a live handle of the same store). */
  handle(handle: Handle): Handle
  /** The canonical handle of the object `handle` names: it outlives the scope. */
  escape(handle: Handle): Handle
  /** Handles this scope holds. */
  readonly size: number
  readonly closed: boolean
  /** Releases every handle of this scope. Idempotent. */
  close(): void
  [Symbol.dispose](): void
  readonly [Symbol.toStringTag]: 'Scope'
}

/** The built-in `WeakRef`, for handles. */
export class WeakRef<T extends Handle = Handle> {
  constructor(target: T)
  /** The target's canonical handle, or `undefined` once its object was collected. */
  deref(): T | undefined
  readonly [Symbol.toStringTag]: 'WeakRef'
}

/** The built-in `FinalizationRegistry`, for handle targets. */
export class FinalizationRegistry<H = unknown> {
  constructor(cleanupCallback: (heldValue: H) => void)
  /**
   * Calls the callback with `heldValue` after `target`'s object is collected.
   * A handle held value keeps its object alive until delivered; the token is held weakly.
   */
  register(target: Handle, heldValue: H, unregisterToken?: object | symbol): void
  /** Removes every registration made with `unregisterToken`; whether any was removed. */
  unregister(unregisterToken: object | symbol): boolean
  readonly [Symbol.toStringTag]: 'FinalizationRegistry'
}

/**
 * The built-in `WeakMap`, keyed by store objects through their handles. An
 * entry keeps its value alive only while its key's object lives (ephemeron
 * semantics). Primitives and same-store handles are kept off-heap; other
 * values are held by JavaScript until the key is collected.
 */
export class WeakMap<K extends Handle = Handle, V = unknown> {
  constructor(entries?: Iterable<readonly [K, V]> | null)
  get(key: K): V | undefined
  set(key: K, value: V): this
  has(key: K): boolean
  delete(key: K): boolean
  getOrInsert(key: K, value: V): V
  getOrInsertComputed(key: K, callbackfn: (key: K) => V): V
  readonly [Symbol.toStringTag]: 'WeakMap'
}

/** The built-in `WeakSet`, for handles: membership by store object. */
export class WeakSet<T extends Handle = Handle> {
  constructor(values?: Iterable<T> | null)
  add(value: T): this
  has(value: T): boolean
  delete(value: T): boolean
  readonly [Symbol.toStringTag]: 'WeakSet'
}
