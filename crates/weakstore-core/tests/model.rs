//! Model-based property test: random operation sequences run against the
//! store and against a plain reachability model; after every `Collect` the
//! two must agree on which objects live and what they hold, and every
//! delivery batch must hand out exactly the cells the model says fired.
//!
//! Finalization is driven through exactly the protocol the Node binding
//! uses (`src/api.rs`): registrations in batches without tokens (the
//! model keeps tokens, as the JavaScript layer does), unregistration by
//! `(registry, cell)` pairs through `unregister_many`, two-step delivery
//! (`begin_delivery`, operations of the batch's callbacks, then
//! `finish_delivery`), and `drop_registry`, any of them in the middle of a
//! batch.
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
    Alloc,
    SetRef(usize, u8, usize),
    SetNum(usize, u8, i32),
    Delete(usize, u8),
    Root(usize),
    Unroot(usize),
    /// A `registerMany` batch: (registry, target, held, token) each.
    Register(Vec<(usize, usize, Option<usize>, Option<u8>)>),
    /// Unregisters a token: the cells the model keeps for it.
    Unregister(usize, u8),
    /// A `(registry, cell)` pair as `unregister_many` may receive it,
    /// naming a live cell of that registry or not.
    UnregisterCell(usize, u8),
    NewRegistry,
    DropRegistry(usize),
    BeginDelivery,
    /// Ends the batch; with `true` the callbacks took a root on each held
    /// object first, as a held handle does.
    FinishDelivery(bool),
    EphSet(u8, usize, usize),
    EphDelete(u8, usize),
    Collect,
}

fn op() -> impl Strategy<Value = Op> {
    let i = || 0usize..64;
    let registration = (0usize..4, i(), proptest::option::of(i()), proptest::option::of(0u8..3));
    prop_oneof![
        4 => Just(Op::Alloc),
        4 => (i(), 0u8..3, i()).prop_map(|(a, k, b)| Op::SetRef(a, k, b)),
        1 => (i(), 0u8..3, any::<i32>()).prop_map(|(a, k, n)| Op::SetNum(a, k, n)),
        2 => (i(), 0u8..3).prop_map(|(a, k)| Op::Delete(a, k)),
        1 => i().prop_map(Op::Root),
        4 => i().prop_map(Op::Unroot),
        3 => proptest::collection::vec(registration, 1..4).prop_map(Op::Register),
        1 => (0usize..4, 0u8..3).prop_map(|(r, k)| Op::Unregister(r, k)),
        1 => (0usize..4, 0u8..32).prop_map(|(r, c)| Op::UnregisterCell(r, c)),
        1 => Just(Op::NewRegistry),
        1 => (0usize..4).prop_map(Op::DropRegistry),
        2 => Just(Op::BeginDelivery),
        2 => any::<bool>().prop_map(Op::FinishDelivery),
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
    live: HashMap<ObjId, (BTreeMap<String, MVal>, u32)>,
    /// The live cells: registered, not unregistered, registry not dropped,
    /// delivery not finished.
    cells: HashMap<u32, MCell>,
    /// (table, key) -> value
    ephemerons: HashMap<(u8, ObjId), ObjId>,
}

impl Model {
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
    ops.extend([Op::FinishDelivery(false), Op::Collect, Op::BeginDelivery, Op::FinishDelivery(false), Op::Collect]);
    let store = manual(2);
    let mut registries = vec![store.new_registry(0), store.new_registry(0)];
    let mut dropped: HashSet<u32> = HashSet::new();
    let tables = [store.new_ephemeron_table(), store.new_ephemeron_table()];
    let mut model = Model::default();
    let mut known: Vec<ObjId> = Vec::new();
    // The running delivery batch, as `begin_delivery` handed it out.
    let mut batch: Option<Vec<Fired>> = None;
    let pick = |known: &Vec<ObjId>, i: usize| known.get(i % known.len().max(1)).copied();
    for op in ops {
        match op {
            Op::Alloc => {
                let id = store.alloc(Vec::new()).unwrap();
                model.live.insert(id, (BTreeMap::new(), 1));
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
            Op::Delete(a, k) => {
                let Some(a) = pick(&known, a) else { continue };
                let got = store.delete(a, &k.to_string());
                match model.live.get_mut(&a) {
                    Some((fields, _)) => prop_assert_eq!(got, Ok(fields.remove(&k.to_string()).is_some())),
                    None => prop_assert_eq!(got, Err(Error::Dead(a))),
                }
            }
            Op::Root(a) => {
                let Some(a) = pick(&known, a) else { continue };
                let alive = model.live.contains_key(&a);
                prop_assert_eq!(store.root(a), alive);
                if alive {
                    model.live.get_mut(&a).unwrap().1 += 1;
                }
            }
            Op::Unroot(a) => {
                let Some(a) = pick(&known, a) else { continue };
                let held_by_cell = model.cells.values().any(|c| c.held == Some(a));
                if held_by_cell && matches!(model.live.get(&a), Some((_, 0))) {
                    // Root counts are shared: this would take the cell's
                    // root, which no well-behaved embedder does.
                    continue;
                }
                let got = store.unroot(a);
                match model.live.get_mut(&a) {
                    Some((_, 0)) => prop_assert_eq!(got, Err(Error::NotRooted(a))),
                    Some((_, roots)) => {
                        prop_assert_eq!(got, Ok(()));
                        *roots -= 1;
                    }
                    None => prop_assert_eq!(got, Err(Error::Dead(a))),
                }
            }
            Op::Register(batch_ops) => {
                // As `registerMany` does: one `register` per registration,
                // a refusal leaving the rest of the batch unaffected.
                for (r, t, h, token) in batch_ops {
                    let registry = registries[r % registries.len()];
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
                            batch.iter().flatten().all(|f| f.cell != cell),
                            "cell {} of the running batch reused",
                            cell
                        );
                        model
                            .cells
                            .insert(cell, MCell { registry, target: t, held, token, fired: false, delivering: false });
                    }
                }
            }
            Op::Unregister(r, token) => {
                let registry = registries[r % registries.len()];
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
                let registry = registries[r % registries.len()];
                let cell = u32::from(cell);
                let expected = matches!(model.cells.get(&cell), Some(c) if c.registry == registry);
                prop_assert_eq!(store.unregister_many([(registry, cell)]), usize::from(expected));
                if expected {
                    model.cells.remove(&cell);
                }
            }
            Op::NewRegistry => {
                let registry = store.new_registry(0);
                prop_assert!(!registries.contains(&registry), "registry id {} reused", registry);
                registries.push(registry);
            }
            Op::DropRegistry(r) => {
                let registry = registries[r % registries.len()];
                store.drop_registry(registry);
                dropped.insert(registry);
                model.cells.retain(|_, c| c.registry != registry);
            }
            Op::BeginDelivery => {
                if batch.is_some() {
                    continue; // the pump never nests batches
                }
                let mut fired: Vec<Fired> = Vec::new();
                store.begin_delivery(0, &mut fired);
                let got: HashSet<u32> = fired.iter().map(|f| f.cell).collect();
                prop_assert_eq!(got.len(), fired.len(), "a cell handed out twice in one batch");
                let expected: HashSet<u32> =
                    model.cells.iter().filter(|(_, c)| c.fired && !c.delivering).map(|(id, _)| *id).collect();
                prop_assert_eq!(&got, &expected);
                for f in &fired {
                    let cell = model.cells.get_mut(&f.cell).unwrap();
                    prop_assert_eq!(f.registry, cell.registry);
                    prop_assert_eq!(f.held, cell.held);
                    cell.delivering = true;
                }
                batch = Some(fired);
            }
            Op::FinishDelivery(take_held) => {
                let Some(fired) = batch.take() else { continue };
                for f in &fired {
                    // A cell unregistered or dropped during the batch is
                    // cancelled: its callback does not run.
                    let Some(cell) = model.cells.remove(&f.cell) else { continue };
                    if let (true, Some(held)) = (take_held, cell.held) {
                        prop_assert!(store.root(held), "a batch's held object lives until the batch ends");
                        model.live.get_mut(&held).unwrap().1 += 1;
                    }
                }
                store.finish_delivery(fired.iter().map(|f| f.cell));
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
