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
}

export interface StoreStats {
  objects: number
  bytes: number
  collections: number
  allocatedSinceCycle: number
  /** `allocatedSinceCycle` at which the next automatic cycle starts (the budget, paced on the live size). */
  nextCycleAt: number
  finalizationCells: number
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
  lastCycle: CycleFigures
}

/** An off-heap object store with its own concurrent garbage collector. */
export class Store implements AsyncDisposable {
  constructor(options?: StoreOptions)
  /** Allocates an object with the own enumerable fields of `fields`. */
  alloc(fields?: Record<string, FieldValue>): Handle
  /**
   * Lets the calling job end, lets V8 collect dead handle wrappers (when
   * `global.gc` is exposed), runs a full cycle and delivers this thread's
   * finalization callbacks for it.
   */
  collect(): Promise<CycleFigures>
  stats(): StoreStats
  /**
   * Closes the store: its methods throw `ERR_WEAKSTORE_CLOSED` from now on.
   * After the current job it waits for `collect()` calls in flight, delivers
   * the finalization callbacks already due, stops the collector threads and
   * frees every object. Idempotent: every call returns the same promise.
   */
  close(): Promise<void>
  /** Whether `close()` was called. */
  readonly closed: boolean
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
  /** Whether `release()` was called. */
  readonly released: boolean
  /** Drops this handle's root now. Idempotent; later use throws a TypeError mentioning "released". */
  release(): void
  [Symbol.dispose](): void
  readonly [Symbol.toStringTag]: 'Handle'
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
