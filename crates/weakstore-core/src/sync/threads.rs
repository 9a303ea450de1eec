//! Starting threads: the collector's own thread ([`spawn`]) and the helpers
//! a parallel phase borrows ([`fork_join`]).
//!
//! A thread may fail to start at any time: a pids cgroup or systemd's
//! `TasksMax` is full, `RLIMIT_NPROC` is reached, the address space has no
//! room for another stack. `std::thread::spawn` and `Scope::spawn` panic
//! then; nothing here does. [`spawn`] returns the error, and [`fork_join`]
//! runs its phase with the helpers that did start (the calling thread
//! alone, if none did).
//!
//! The number of workers is therefore only known once the helpers have
//! been started, and a phase that splits its work by worker (blocks of the
//! table, a termination count) must be built for that number. So
//! `fork_join` starts the helpers first, parks them on a gate, builds the
//! phase's shared state with `setup(n)` for the `n` workers it really has,
//! then opens the gate.
//!
//! # Invariants
//! - Every worker counted in `n` exists and runs `work` exactly once: a
//!   helper that could not be started is never counted, so no wait in a
//!   phase (the marker's termination count) is on a thread that does not
//!   exist.
//! - The gate always opens: if `setup` panics, it opens as *aborted* and
//!   the parked helpers return without working, so the scope's join
//!   cannot hang.
//! - A panic in any worker reaches the caller, after every helper has
//!   ended (the scope joins them all first).

use super::{Condvar, Mutex, OnceLock};

/// The name of the helper threads (`top -H`, debuggers, panics).
#[cfg(not(loom))]
const HELPER: &str = "weakstore-gc-worker";

/// Starts a thread named `name` running `f`; the error if the operating
/// system (or a test's injected fault, `crate::faults`) refuses it.
pub(crate) fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<super::thread::JoinHandle<()>> {
    if !crate::faults::thread_start_allowed() {
        return Err(crate::faults::refused());
    }
    #[cfg(not(loom))]
    {
        std::thread::Builder::new().name(name.into()).spawn(f)
    }
    #[cfg(loom)]
    {
        let _ = name;
        Ok(loom::thread::spawn(f))
    }
}

enum Opened {
    No,
    With(usize),
    Aborted,
}

/// Where started helpers wait for the number of workers and the phase's
/// shared state.
struct Gate<S> {
    opened: Mutex<Opened>,
    changed: Condvar,
    state: OnceLock<S>,
}

impl<S> Gate<S> {
    fn new() -> Self {
        Gate { opened: Mutex::new(Opened::No), changed: Condvar::new(), state: OnceLock::new() }
    }

    /// Publishes `state` for `n` workers and lets the helpers in.
    fn open(&self, state: S, n: usize) -> &S {
        let state = self.state.get_or_init(|| state);
        // The mutex orders the `OnceLock` write before every helper's read.
        *self.opened.lock() = Opened::With(n);
        self.changed.notify_all();
        state
    }

    /// The state and worker count, once open; `None` if aborted.
    fn wait(&self) -> Option<(&S, usize)> {
        let mut opened = self.opened.lock();
        loop {
            match *opened {
                Opened::No => opened = self.changed.wait(opened),
                Opened::With(n) => return Some((self.state.get().expect("set before the gate opens"), n)),
                Opened::Aborted => return None,
            }
        }
    }
}

/// Opens the gate as aborted unless it was opened: `setup` or the
/// calling thread panicked before opening it.
struct AbortUnlessOpened<'a, S>(&'a Gate<S>);

impl<S> Drop for AbortUnlessOpened<'_, S> {
    fn drop(&mut self) {
        let mut opened = self.0.opened.lock();
        if matches!(*opened, Opened::No) {
            *opened = Opened::Aborted;
            drop(opened);
            self.0.changed.notify_all();
        }
    }
}

/// Runs a parallel phase on up to `wanted` workers: worker 0 on the
/// calling thread, the others on helper threads, as many as could be
/// started. `setup(n)` builds the state the `n` workers share; each runs
/// `work(&state, worker, n)`. Returns the results in worker order (`n` of
/// them), once every helper has ended.
pub(crate) fn fork_join<S: Send + Sync, T: Send + 'static>(
    wanted: usize,
    setup: impl FnOnce(usize) -> S,
    work: impl Fn(&S, usize, usize) -> T + Sync,
) -> Vec<T> {
    if wanted <= 1 {
        let state = setup(1);
        return vec![work(&state, 0, 1)];
    }
    let gate = Gate::new();
    let helper = |w: usize| gate.wait().map(|(state, n)| work(state, w, n));
    #[cfg(not(loom))]
    {
        std::thread::scope(|scope| {
            let abort = AbortUnlessOpened(&gate);
            let mut helpers = Vec::with_capacity(wanted - 1);
            for w in 1..wanted {
                if !crate::faults::thread_start_allowed() {
                    break;
                }
                let helper = &helper;
                match std::thread::Builder::new().name(HELPER.into()).spawn_scoped(scope, move || helper(w)) {
                    Ok(handle) => helpers.push(handle),
                    Err(_) => break,
                }
            }
            let n = helpers.len() + 1;
            let state = gate.open(setup(n), n);
            drop(abort);
            let mut results = Vec::with_capacity(n);
            results.push(work(state, 0, n));
            let mut panicked = None;
            for handle in helpers {
                match handle.join() {
                    Ok(result) => results.extend(result),
                    Err(payload) => panicked = panicked.or(Some(payload)),
                }
            }
            if let Some(payload) = panicked {
                std::panic::resume_unwind(payload);
            }
            results
        })
    }
    #[cfg(loom)]
    {
        let helper: &(dyn Fn(usize) -> Option<T> + Sync) = &helper;
        // SAFETY: loom has no scoped threads, so the borrow is widened to
        // 'static; every helper started below is joined before this
        // function returns, so before `helper` (and the gate and `work` it
        // borrows) goes out of scope (a panic ends the loom model, which
        // stops all its threads).
        let helper: &'static (dyn Fn(usize) -> Option<T> + Sync) = unsafe { std::mem::transmute(helper) };
        let abort = AbortUnlessOpened(&gate);
        let mut helpers = Vec::new();
        for w in 1..wanted {
            if !crate::faults::thread_start_allowed() {
                break;
            }
            helpers.push(loom::thread::spawn(move || helper(w)));
        }
        let n = helpers.len() + 1;
        let state = gate.open(setup(n), n);
        drop(abort);
        let mut results = vec![work(state, 0, n)];
        for handle in helpers {
            results.extend(handle.join().expect("collector worker panicked"));
        }
        results
    }
}
