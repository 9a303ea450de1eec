//! Fixtures shared by the core's integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use weakstore_core::{Config, CycleStats, Fired, Host, ObjId, Phase, Store, Value};

/// A host that counts wake-ups.
#[derive(Clone, Default)]
pub struct CountingHost(pub Arc<AtomicU64>);

impl Host for CountingHost {
    fn wake_cleanup(&self, _cycle: &CycleStats) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

pub fn manual(threads: usize) -> Store {
    Store::new(Config { threads, manual: true, ..Config::default() }, CountingHost::default())
}

pub fn obj(store: &Store, fields: &[(&str, Value)]) -> weakstore_core::ObjId {
    store.alloc(fields.iter().map(|(k, v)| ((*k).into(), v.clone())).collect()).unwrap()
}

/// Freezes the collector the first time it enters `at` while armed, until
/// `resume`.
pub struct Freeze {
    arrived: mpsc::Receiver<()>,
    go: mpsc::Sender<()>,
    armed: Arc<AtomicBool>,
}

impl Freeze {
    /// A manual store whose next cycle stops on entering `at`.
    pub fn store(at: Phase, threads: usize) -> (Store, Freeze) {
        let (store, freeze) = Freeze::with_config(at, Config { threads, manual: true, ..Config::default() });
        freeze.arm();
        (store, freeze)
    }

    /// A store with `config` (its phase observer replaced) whose first
    /// cycle to enter `at` after `arm` stops there.
    pub fn with_config(at: Phase, config: Config) -> (Store, Freeze) {
        let (arrived_tx, arrived) = mpsc::channel();
        let (go, go_rx) = mpsc::channel::<()>();
        let armed = Arc::new(AtomicBool::new(false));
        let gate = Mutex::new((arrived_tx, go_rx));
        let observer = {
            let armed = Arc::clone(&armed);
            move |phase: Phase| {
                if phase == at && armed.swap(false, Ordering::SeqCst) {
                    let gate = gate.lock().unwrap();
                    gate.0.send(()).unwrap();
                    gate.1.recv().unwrap();
                }
            }
        };
        let config = Config { on_phase: Some(Arc::new(observer)), ..config };
        (Store::new(config, CountingHost::default()), Freeze { arrived, go, armed })
    }

    /// The next cycle to enter the phase stops there.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Starts a cycle and returns once the collector is frozen; the cycle's
    /// number is returned for `Store::wait_for`.
    pub fn start(&self, store: &Store) -> u64 {
        let cycle = store.request_collection();
        self.arrived.recv().unwrap();
        cycle
    }

    pub fn resume(&self) {
        self.go.send(()).unwrap();
    }
}

/// The embedder's side of finalization, as the Node binding's JavaScript
/// layer keeps it: unregister tokens map to the cell ids `register`
/// returned, unregistering names cells by `(registry, cell)`, and delivery
/// runs in two steps.
#[derive(Default)]
pub struct Embedder {
    tokens: HashMap<(u32, u64), Vec<u32>>,
    token_of: HashMap<(u32, u32), u64>,
}

impl Embedder {
    /// Registers `target` in `registry`, remembering `token`.
    pub fn register(
        &mut self,
        store: &Store,
        registry: u32,
        target: ObjId,
        held: Option<ObjId>,
        token: Option<u64>,
    ) -> weakstore_core::Result<u32> {
        let cell = store.register(registry, target, held)?;
        if let Some(token) = token {
            self.tokens.entry((registry, token)).or_default().push(cell);
            self.token_of.insert((registry, cell), token);
        }
        Ok(cell)
    }

    /// Removes the cells of `registry` registered with `token`; how many.
    pub fn unregister(&mut self, store: &Store, registry: u32, token: u64) -> usize {
        let cells = self.tokens.remove(&(registry, token)).unwrap_or_default();
        for &cell in &cells {
            self.token_of.remove(&(registry, cell));
        }
        store.unregister_many(cells.into_iter().map(|cell| (registry, cell)))
    }

    /// A whole delivery batch in one call: hands out every fired cell
    /// (appended to `out`), roots each held object for the caller (as a
    /// callback's handle does), forgets the cells' tokens and finishes the
    /// batch. The caller owns one root on each `held`.
    pub fn deliver(&mut self, store: &Store, out: &mut Vec<Fired>) {
        let start = out.len();
        store.begin_delivery(0, out);
        for fired in &out[start..] {
            if let Some(held) = fired.held {
                assert!(store.root(held), "a batch's held object is alive until the batch ends");
            }
            if let Some(token) = self.token_of.remove(&(fired.registry, fired.cell)) {
                if let Some(cells) = self.tokens.get_mut(&(fired.registry, token)) {
                    cells.retain(|&c| c != fired.cell);
                }
            }
        }
        store.finish_delivery(out[start..].iter().map(|f| f.cell));
    }
}
