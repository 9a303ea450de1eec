//! Tests only: holding a store's collector at the start of a phase, so a
//! test can make something happen (a worker ending, say) while a cycle is
//! in exactly that phase.
//!
//! Built with the Cargo feature `test-hooks` (`npm test`'s build), every
//! store's configuration carries a gate as its phase observer
//! (`Config::on_phase`, which the core calls on the collector thread at
//! the start of `ScanRoots`, `Mark`, `ProcessWeak`, `Sweep` and `Deliver`,
//! outside every pause, so mutators keep running while it waits). Unheld,
//! the observer costs one uncontended lock per phase. Without the feature
//! (every release build) the gate is an empty struct: no observer is
//! installed, and `holdPhase` / `heldPhase` (`crate::phase_gate_api`) are
//! not exported.
//!
//! # Invariants
//! - A held collector waits only while `hold` names the phase it is in;
//!   `release` (also run when the store is dropped or closed) wakes it, so
//!   no collector thread is left waiting on a gate nobody can open.

#[cfg(feature = "test-hooks")]
use std::sync::Arc;

#[cfg(feature = "test-hooks")]
use parking_lot::{Condvar, Mutex};
use weakstore_core::Config;
#[cfg(feature = "test-hooks")]
use weakstore_core::Phase;

/// Without `test-hooks`: a gate that observes nothing and holds nothing.
#[cfg(not(feature = "test-hooks"))]
#[derive(Default)]
pub struct PhaseGate {}

#[cfg(not(feature = "test-hooks"))]
impl PhaseGate {
    /// `config`, unchanged: no phase observer.
    pub fn observe(&self, config: Config) -> Config {
        config
    }

    /// Nothing to let go.
    pub fn hold(&self, _phase: Option<String>) {}
}

#[cfg(feature = "test-hooks")]
#[derive(Default)]
struct State {
    /// The phase to hold the collector in, by name.
    hold: Option<String>,
    /// The phase the collector is held in now.
    held: Option<&'static str>,
}

#[cfg(feature = "test-hooks")]
#[derive(Default)]
pub struct PhaseGate {
    state: Mutex<State>,
    opened: Condvar,
}

#[cfg(feature = "test-hooks")]
impl PhaseGate {
    /// `config` with this gate as its phase observer.
    pub fn observe(self: &Arc<PhaseGate>, mut config: Config) -> Config {
        let gate = Arc::clone(self);
        config.on_phase = Some(Arc::new(move |phase: Phase| gate.arrive(phase.name())));
        config
    }

    fn arrive(&self, phase: &'static str) {
        let mut state = self.state.lock();
        while state.hold.as_deref() == Some(phase) {
            state.held = Some(phase);
            self.opened.wait(&mut state);
        }
        state.held = None;
    }

    /// Holds the collector at the start of `phase` from now on; `None`
    /// lets it go.
    pub fn hold(&self, phase: Option<String>) {
        self.state.lock().hold = phase;
        self.opened.notify_all();
    }

    /// The phase the collector is held in, if it is.
    pub fn held(&self) -> Option<&'static str> {
        self.state.lock().held
    }
}
