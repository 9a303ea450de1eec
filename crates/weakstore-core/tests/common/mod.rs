//! Fixtures shared by the core's integration tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use weakstore_core::{Config, CycleStats, Host, Phase, Store, Value};

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
