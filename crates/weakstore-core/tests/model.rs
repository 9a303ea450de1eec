//! Model-based property test: random operation sequences run against the
//! store and against a plain reachability model; after every `Collect` the
//! two must agree on which objects live and what they hold, and every
//! delivery batch must hand out exactly the cells the model says fired.
//!
//! Finalization is driven through exactly the protocol the Node binding
//! uses (`src/finalization_api.rs`, `src/delivery_api.rs`): registrations
//! in batches without tokens (the model keeps tokens, as the JavaScript
//! layer does), unregistration by `(registry, cell)` pairs through
//! `unregister_many`, two-step delivery (`begin_delivery`, operations of
//! the batch's callbacks, then `finish_delivery`), and `drop_registry`,
//! any of them in the middle of a batch.
//!
//! Fields use a few names, so objects move through shapes, back to a
//! parent shape when their last key is deleted, and into dictionary mode
//! when a middle one is; `Widen` gives an object more keys than a shape
//! may have.
//!
//! Several mutators share the store, as the Node binding's threads do:
//! the operations that take or drop roots, and delivery, name a mutator
//! (0..3), and each mutator owns its roots and its registries (owner =
//! its number). `MutatorEnds` does what a thread exit does (drops every
//! root it holds and calls `drop_owner`, its delivery batch finished or
//! abandoned), after which the number may start a new thread. Delivery
//! must hand each owner exactly its own fired cells, a dropped owner's
//! cells are never handed out, and nothing reachable from any mutator's
//! roots or from a pin (`pin`, `unpin`, `pinned`) is freed. Each sequence
//! ends with every mutator ended and every pin removed, and then the store
//! must be empty.
//!
//! Modes: by default 256 sequences from a fixed seed (what `npm test` and
//! CI run). `PROPTEST_CASES=N` sets the number of sequences,
//! `PROPTEST_RNG_SEED=S` the seed, and `WEAKSTORE_RANDOM_SEED=1` draws a
//! fresh seed. The seed is always printed, so any run can be repeated;
//! failures are shrunk to a minimal sequence by proptest.
//! Long mode: `PROPTEST_CASES=1000000 WEAKSTORE_RANDOM_SEED=1 cargo test
//! --release -p weakstore-core --test model -- --nocapture`.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use common::manual;
use proptest::prelude::*;
use weakstore_core::{EphemeronValue, Error, Fired, ObjId, Value};

#[derive(Clone, Debug)]
enum Op {
    /// An allocation by a mutator, which owns the new root.
    Alloc(usize),
    SetRef(usize, u8, usize),
    SetNum(usize, u8, i32),
    /// Sets number fields `w0`.. on an object: past the shape cap (64
    /// keys), it turns into a dictionary.
    Widen(usize, u8),
    Delete(usize, u8),
    /// A mutator roots an object (a `deref`); the root is its own.
    Root(usize, usize),
    /// A mutator drops one of its roots (skipped if it holds none on that
    /// object and the call would take someone else's).
    Unroot(usize, usize),
    /// A `registerMany` batch: (registry, target, held, token) each.
    Register(Vec<(usize, usize, Option<usize>, Option<u8>)>),
    /// Unregisters a token: the cells the model keeps for it.
    Unregister(usize, u8),
    /// A `(registry, cell)` pair as `unregister_many` may receive it,
    /// naming a live cell of that registry or not.
    UnregisterCell(usize, u8),
    /// A registry of the given mutator.
    NewRegistry(usize),
    DropRegistry(usize),
    /// A mutator's delivery batch begins.
    BeginDelivery(usize),
    /// Ends the mutator's batch; with `true` the callbacks took a root (the
    /// mutator's) on each held object first, as a held handle does.
    FinishDelivery(usize, bool),
    /// The mutator's thread ends: its roots dropped, `drop_owner`, its
    /// running batch finished first (`true`) or abandoned.
    MutatorEnds(usize, bool),
    /// Pins an object under one of a few names.
    Pin(u8, usize),
    Unpin(u8),
    /// A mutator looks a pin up; the root `pinned` returns is its own.
    Pinned(usize, u8),
    EphSet(u8, usize, usize),
    EphDelete(u8, usize),
    Collect,
}

/// How many mutators (threads, owners) share the store.
const MUTATORS: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    let i = || 0usize..64;
    let m = || 0usize..MUTATORS;
    let registration = (0usize..6, i(), proptest::option::of(i()), proptest::option::of(0u8..3));
    prop_oneof![
        4 => m().prop_map(Op::Alloc),
        4 => (i(), 0u8..3, i()).prop_map(|(a, k, b)| Op::SetRef(a, k, b)),
        1 => (i(), 0u8..3, any::<i32>()).prop_map(|(a, k, n)| Op::SetNum(a, k, n)),
        2 => (i(), 0u8..3).prop_map(|(a, k)| Op::Delete(a, k)),
        1 => (i(), 0u8..80).prop_map(|(a, n)| Op::Widen(a, n)),
        1 => (m(), i()).prop_map(|(m, a)| Op::Root(m, a)),
        4 => (m(), i()).prop_map(|(m, a)| Op::Unroot(m, a)),
        3 => proptest::collection::vec(registration, 1..4).prop_map(Op::Register),
        1 => (0usize..6, 0u8..3).prop_map(|(r, k)| Op::Unregister(r, k)),
        1 => (0usize..6, 0u8..32).prop_map(|(r, c)| Op::UnregisterCell(r, c)),
        1 => m().prop_map(Op::NewRegistry),
        1 => (0usize..6).prop_map(Op::DropRegistry),
        2 => m().prop_map(Op::BeginDelivery),
        2 => (m(), any::<bool>()).prop_map(|(m, t)| Op::FinishDelivery(m, t)),
        1 => (m(), any::<bool>()).prop_map(|(m, f)| Op::MutatorEnds(m, f)),
        1 => (0u8..3, i()).prop_map(|(k, a)| Op::Pin(k, a)),
        1 => (0u8..3).prop_map(Op::Unpin),
        1 => (m(), 0u8..3).prop_map(|(m, k)| Op::Pinned(m, k)),
        3 => (0u8..2, i(), i()).prop_map(|(t, k, v)| Op::EphSet(t, k, v)),
        1 => (0u8..2, i()).prop_map(|(t, k)| Op::EphDelete(t, k)),
        2 => Just(Op::Collect),
    ]
}

#[derive(Clone, Debug, PartialEq)]
enum MVal {
    Ref(ObjId),
    Num(f64),
}

#[derive(Clone, Debug)]
struct MCell {
    registry: u32,
    /// Its registry's owner.
    owner: usize,
    target: ObjId,
    held: Option<ObjId>,
    token: Option<u8>,
    /// Its target was collected.
    fired: bool,
    /// Handed out by a delivery batch still running.
    delivering: bool,
}

#[derive(Default)]
struct Model {
    /// Each live object's fields and roots (every mutator's and every
    /// pin's; a cell's root on its held object is not counted here).
    live: HashMap<ObjId, (BTreeMap<String, MVal>, u32)>,
    /// The roots each mutator holds: object -> count.
    held: Vec<HashMap<ObjId, u32>>,
    /// Pin name -> object (each pin owns one root, counted in `live`).
    pins: BTreeMap<u8, ObjId>,
    /// The live cells: registered, not unregistered, registry not dropped,
    /// delivery not finished.
    cells: HashMap<u32, MCell>,
    /// (table, key) -> value
    ephemerons: HashMap<(u8, ObjId), ObjId>,
}

impl Model {
    /// Mutator `m` gained a root on the live `id`.
    fn root(&mut self, m: usize, id: ObjId) {
        self.live.get_mut(&id).expect("rooted objects are live").1 += 1;
        *self.held[m].entry(id).or_default() += 1;
    }

    /// Mutator `m` dropped one of its roots on `id`.
    fn unroot(&mut self, m: usize, id: ObjId) {
        self.live.get_mut(&id).expect("rooted objects are live").1 -= 1;
        let count = self.held[m].get_mut(&id).expect("a root of m's");
        *count -= 1;
        if *count == 0 {
            self.held[m].remove(&id);
        }
    }

    /// Frees the unreachable objects and marks the cells of freed targets
    /// fired.
    fn collect(&mut self) {
        let mut stack: Vec<ObjId> = self.live.iter().filter(|(_, (_, r))| *r > 0).map(|(id, _)| *id).collect();
        // A live cell owns a root on its held object until it is removed.
        stack.extend(self.cells.values().filter_map(|c| c.held));
        let mut reached = HashSet::new();
        // Plain reachability, then ephemerons to a fixpoint (the slow,
        // obviously-correct way).
        loop {
            while let Some(id) = stack.pop() {
                if reached.insert(id) {
                    for v in self.live[&id].0.values() {
                        if let MVal::Ref(c) = v {
                            stack.push(*c);
                        }
                    }
                }
            }
            stack.extend(
                self.ephemerons
                    .iter()
                    .filter(|((_, k), v)| reached.contains(k) && !reached.contains(*v))
                    .map(|(_, v)| *v),
            );
            if stack.is_empty() {
                break;
            }
        }
        self.live.retain(|id, _| reached.contains(id));
        self.ephemerons.retain(|(_, k), _| reached.contains(k));
        for cell in self.cells.values_mut() {
            if !reached.contains(&cell.target) {
                cell.fired = true;
            }
        }
    }
}

fn run(mut ops: Vec<Op>) -> Result<(), TestCaseError> {
    // Every sequence ends by delivering everything it left behind.
    let every = |op: fn(usize) -> Op| (0..MUTATORS).map(op).collect::<Vec<_>>();
    ops.extend(every(|m| Op::FinishDelivery(m, false)));
    ops.push(Op::Collect);
    ops.extend(every(Op::BeginDelivery));
    ops.extend(every(|m| Op::FinishDelivery(m, false)));
    ops.push(Op::Collect);
    // Then every thread ends and every pin goes: nothing may be left.
    ops.extend(every(|m| Op::MutatorEnds(m, true)));
    ops.extend((0..3).map(Op::Unpin));
    ops.push(Op::Collect);
    let store = manual(2);
    // (registry, owner)
    let mut registries: Vec<(u32, usize)> =
        [0, 0, 1, 2].into_iter().map(|m| (store.new_registry(m as u32), m)).collect();
    let mut dropped: HashSet<u32> = HashSet::new();
    let tables = [store.new_ephemeron_table(), store.new_ephemeron_table()];
    let mut model = Model { held: vec![HashMap::new(); MUTATORS], ..Model::default() };
    let mut known: Vec<ObjId> = Vec::new();
    // Each mutator's running delivery batch, as `begin_delivery` handed it
    // out.
    let mut batches: Vec<Option<Vec<Fired>>> = vec![None; MUTATORS];
    let pick = |known: &Vec<ObjId>, i: usize| known.get(i % known.len().max(1)).copied();
    for op in ops {
        match op {
            Op::Alloc(m) => {
                let id = store.alloc(Vec::new()).unwrap();
                model.live.insert(id, (BTreeMap::new(), 0));
                model.root(m, id);
                known.push(id);
            }
            Op::SetRef(a, k, b) => {
                let (Some(a), Some(b)) = (pick(&known, a), pick(&known, b)) else { continue };
                let got = store.set(a, &k.to_string(), Value::Ref(b));
                if model.live.contains_key(&a) && model.live.contains_key(&b) {
                    prop_assert_eq!(got, Ok(()));
                    model.live.get_mut(&a).unwrap().0.insert(k.to_string(), MVal::Ref(b));
                } else {
                    prop_assert!(matches!(got, Err(Error::Dead(_))));
                }
            }
            Op::SetNum(a, k, n) => {
                let Some(a) = pick(&known, a) else { continue };
                let got = store.set(a, &k.to_string(), Value::Number(n.into()));
                if let Some((fields, _)) = model.live.get_mut(&a) {
                    prop_assert_eq!(got, Ok(()));
                    fields.insert(k.to_string(), MVal::Num(n.into()));
                } else {
                    prop_assert_eq!(got, Err(Error::Dead(a)));
                }
            }
            Op::Widen(a, n) => {
                let Some(a) = pick(&known, a) else { continue };
                for w in 0..n {
                    let key = format!("w{w}");
                    let got = store.set(a, &key, Value::Number(w.into()));
                    if let Some((fields, _)) = model.live.get_mut(&a) {
                        prop_assert_eq!(got, Ok(()));
                        fields.insert(key, MVal::Num(w.into()));
                    } else {
                        prop_assert_eq!(got, Err(Error::Dead(a)));
                    }
                }
            }
            Op::Delete(a, k) => {
                let Some(a) = pick(&known, a) else { continue };
                let got = store.delete(a, &k.to_string());
                match model.live.get_mut(&a) {
                    Some((fields, _)) => prop_assert_eq!(got, Ok(fields.remove(&k.to_string()).is_some())),
                    None => prop_assert_eq!(got, Err(Error::Dead(a))),
                }
            }
            Op::Root(m, a) => {
                let Some(a) = pick(&known, a) else { continue };
                let alive = model.live.contains_key(&a);
                prop_assert_eq!(store.root(a), alive);
                if alive {
                    model.root(m, a);
                }
            }
            Op::Unroot(m, a) => {
                let Some(a) = pick(&known, a) else { continue };
                if model.held[m].contains_key(&a) {
                    prop_assert_eq!(store.unroot(a), Ok(()));
                    model.unroot(m, a);
                    continue;
                }
                let held_by_cell = model.cells.values().any(|c| c.held == Some(a));
                match model.live.get(&a) {
                    // Root counts are shared: this would take another
                    // mutator's, a pin's or a cell's root, which no
                    // well-behaved embedder does.
                    Some((_, roots)) if *roots > 0 || held_by_cell => continue,
                    Some(_) => prop_assert_eq!(store.unroot(a), Err(Error::NotRooted(a))),
                    None => prop_assert_eq!(store.unroot(a), Err(Error::Dead(a))),
                }
            }
            Op::Register(batch_ops) => {
                // As `registerMany` does: one `register` per registration,
                // a refusal leaving the rest of the batch unaffected.
                for (r, t, h, token) in batch_ops {
                    let (registry, owner) = registries[r % registries.len()];
                    let Some(t) = pick(&known, t) else { continue };
                    let held = h.and_then(|h| pick(&known, h));
                    let got = store.register(registry, t, held);
                    let ok = !dropped.contains(&registry)
                        && model.live.contains_key(&t)
                        && held.is_none_or(|h| model.live.contains_key(&h))
                        && held != Some(t);
                    prop_assert_eq!(got.is_ok(), ok, "register {:?} {:?}: {:?}", t, held, got);
                    if let Ok(cell) = got {
                        prop_assert!(!model.cells.contains_key(&cell), "cell {} handed out twice", cell);
                        prop_assert!(
                            batches.iter().flatten().flatten().all(|f| f.cell != cell),
                            "cell {} of a running batch reused",
                            cell
                        );
                        model.cells.insert(
                            cell,
                            MCell { registry, owner, target: t, held, token, fired: false, delivering: false },
                        );
                    }
                }
            }
            Op::Unregister(r, token) => {
                let (registry, _) = registries[r % registries.len()];
                let pairs: Vec<(u32, u32)> = model
                    .cells
                    .iter()
                    .filter(|(_, c)| c.registry == registry && c.token == Some(token))
                    .map(|(id, _)| (registry, *id))
                    .collect();
                prop_assert_eq!(store.unregister_many(pairs.iter().copied()), pairs.len());
                for (_, id) in pairs {
                    model.cells.remove(&id);
                }
            }
            Op::UnregisterCell(r, cell) => {
                let (registry, _) = registries[r % registries.len()];
                let cell = u32::from(cell);
                let expected = matches!(model.cells.get(&cell), Some(c) if c.registry == registry);
                prop_assert_eq!(store.unregister_many([(registry, cell)]), usize::from(expected));
                if expected {
                    model.cells.remove(&cell);
                }
            }
            Op::NewRegistry(m) => {
                let registry = store.new_registry(m as u32);
                prop_assert!(registries.iter().all(|&(r, _)| r != registry), "registry id {} reused", registry);
                registries.push((registry, m));
            }
            Op::DropRegistry(r) => {
                let (registry, _) = registries[r % registries.len()];
                store.drop_registry(registry);
                dropped.insert(registry);
                model.cells.retain(|_, c| c.registry != registry);
            }
            Op::BeginDelivery(m) => {
                if batches[m].is_some() {
                    continue; // the pump never nests batches
                }
                let mut fired: Vec<Fired> = Vec::new();
                store.begin_delivery(m as u32, &mut fired);
                let got: HashSet<u32> = fired.iter().map(|f| f.cell).collect();
                prop_assert_eq!(got.len(), fired.len(), "a cell handed out twice in one batch");
                let expected: HashSet<u32> = model
                    .cells
                    .iter()
                    .filter(|(_, c)| c.fired && !c.delivering && c.owner == m)
                    .map(|(id, _)| *id)
                    .collect();
                prop_assert_eq!(&got, &expected, "mutator {}'s batch", m);
                for f in &fired {
                    let cell = model.cells.get_mut(&f.cell).unwrap();
                    prop_assert_eq!(f.registry, cell.registry);
                    prop_assert_eq!(f.held, cell.held);
                    cell.delivering = true;
                }
                batches[m] = Some(fired);
            }
            Op::FinishDelivery(m, take_held) => {
                let Some(fired) = batches[m].take() else { continue };
                for f in &fired {
                    // A cell unregistered or dropped during the batch is
                    // cancelled: its callback does not run.
                    let Some(cell) = model.cells.remove(&f.cell) else { continue };
                    if let (true, Some(held)) = (take_held, cell.held) {
                        prop_assert!(store.root(held), "a batch's held object lives until the batch ends");
                        model.root(m, held);
                    }
                }
                store.finish_delivery(fired.iter().map(|f| f.cell));
            }
            Op::MutatorEnds(m, finish_batch) => {
                // A batch left running is abandoned: `drop_owner` frees its
                // cells, and no cell of it is handed out again.
                if let (true, Some(fired)) = (finish_batch, batches[m].take()) {
                    for f in &fired {
                        model.cells.remove(&f.cell);
                    }
                    store.finish_delivery(fired.iter().map(|f| f.cell));
                }
                batches[m] = None;
                let roots: Vec<ObjId> =
                    model.held[m].iter().flat_map(|(&id, &n)| std::iter::repeat_n(id, n as usize)).collect();
                prop_assert_eq!(store.unroot_many(roots.iter().copied()), 0, "mutator {}'s roots", m);
                for id in roots {
                    model.unroot(m, id);
                }
                store.drop_owner(m as u32);
                for &(registry, owner) in &registries {
                    if owner == m {
                        dropped.insert(registry);
                    }
                }
                model.cells.retain(|_, c| c.owner != m);
                let mut none = Vec::new();
                store.begin_delivery(m as u32, &mut none);
                prop_assert_eq!(none, Vec::new(), "a dropped owner's cells are never handed out");
            }
            Op::Pin(k, a) => {
                let Some(a) = pick(&known, a) else { continue };
                let got = store.pin(&k.to_string(), a);
                if model.live.contains_key(&a) {
                    prop_assert_eq!(got, Ok(()));
                    model.live.get_mut(&a).unwrap().1 += 1;
                    if let Some(old) = model.pins.insert(k, a) {
                        model.live.get_mut(&old).unwrap().1 -= 1;
                    }
                } else {
                    prop_assert_eq!(got, Err(Error::Dead(a)));
                }
            }
            Op::Unpin(k) => {
                let old = model.pins.remove(&k);
                prop_assert_eq!(store.unpin(&k.to_string()), old.is_some());
                if let Some(old) = old {
                    model.live.get_mut(&old).unwrap().1 -= 1;
                }
            }
            Op::Pinned(m, k) => {
                let got = store.pinned(&k.to_string());
                prop_assert_eq!(got, model.pins.get(&k).copied());
                if let Some(id) = got {
                    model.root(m, id);
                }
            }
            Op::EphSet(t, k, v) => {
                let (Some(k), Some(v)) = (pick(&known, k), pick(&known, v)) else { continue };
                let got = store.ephemeron_set(&tables[t as usize], k, EphemeronValue::Field(Value::Ref(v)));
                if model.live.contains_key(&k) && model.live.contains_key(&v) {
                    prop_assert_eq!(got, Ok(()));
                    model.ephemerons.insert((t, k), v);
                } else {
                    prop_assert!(got.is_err());
                }
            }
            Op::EphDelete(t, k) => {
                let Some(k) = pick(&known, k) else { continue };
                let got = store.ephemeron_delete(&tables[t as usize], k);
                prop_assert_eq!(got, model.ephemerons.remove(&(t, k)).is_some());
            }
            Op::Collect => {
                model.collect();
                store.collect();
                for id in &known {
                    match model.live.get(id) {
                        Some((fields, roots)) => {
                            prop_assert!(store.is_alive(*id), "{:?} should be alive", id);
                            prop_assert!(store.root_count(*id) >= *roots);
                            let keys = store.keys(*id).unwrap();
                            prop_assert_eq!(keys.len(), fields.len());
                            for (k, v) in fields {
                                let got = store.get(*id, k).unwrap();
                                let want = match v {
                                    MVal::Ref(r) => Value::Ref(*r),
                                    MVal::Num(n) => Value::Number(*n),
                                };
                                prop_assert_eq!(got, Some(want));
                            }
                        }
                        None => prop_assert!(!store.is_alive(*id), "{:?} should be dead", id),
                    }
                }
                let stats = store.stats();
                prop_assert_eq!(stats.objects, model.live.len());
                prop_assert_eq!(stats.finalization_cells, model.cells.len());
                prop_assert_eq!(stats.ephemeron_entries, model.ephemerons.len());
                prop_assert_eq!(stats.pins, model.pins.len());
                let pins: Vec<(String, ObjId)> = model.pins.iter().map(|(k, id)| (k.to_string(), *id)).collect();
                prop_assert_eq!(store.pinned_objects(), pins);
                for ((t, k), v) in &model.ephemerons {
                    prop_assert_eq!(
                        store.ephemeron_get(&tables[*t as usize], *k),
                        Some(EphemeronValue::Field(Value::Ref(*v)))
                    );
                }
                prop_assert_eq!(stats.failed_cycles, 0);
                prop_assert_eq!(stats.anomalies, 0);
            }
        }
    }
    Ok(())
}

fn config() -> ProptestConfig {
    let seed = std::env::var("PROPTEST_RNG_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        if std::env::var_os("WEAKSTORE_RANDOM_SEED").is_some() {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
        } else {
            0x5eed_cafe
        }
    });
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256);
    eprintln!("model test: {cases} sequences, PROPTEST_RNG_SEED={seed}");
    ProptestConfig {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        // Regressions are reported with the seed instead of written to the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn store_matches_reachability_model(ops in proptest::collection::vec(op(), 1..120)) {
        run(ops)?;
    }
}

/// The cross-owner id reuse the random sequences rarely reach, run through
/// the same model: owner 0's cell fires and is unregistered before owner 0
/// drains its queue; owner 1's registration reuses the id and fires; owner
/// 0's stale queue entry must not hand it owner 1's cell.
#[test]
fn a_reused_cell_id_is_delivered_to_its_new_owner_only() {
    run(vec![
        Op::Alloc(0),
        Op::Register(vec![(0, 0, None, Some(0))]),
        Op::Unroot(0, 0),
        Op::Collect,
        Op::Unregister(0, 0),
        Op::Alloc(1),
        Op::Register(vec![(2, 1, None, None)]),
        Op::Unroot(1, 1),
        Op::Collect,
        Op::BeginDelivery(0),
        Op::BeginDelivery(1),
    ])
    .unwrap();
}
