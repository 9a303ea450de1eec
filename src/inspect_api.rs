//! Heap snapshots and "why is this alive", computed off the JavaScript
//! thread (libuv's pool) over a graph copy the core takes beside the
//! mutators and the collector (`weakstore_core::inspect`).
//!
//! The JavaScript thread contributes what only it knows, before the task
//! starts: which objects its handles root (the wrapper table) and which it
//! keeps for the current job (its deferred roots). Other threads' handles
//! of a shared store are roots the core counts but this thread cannot
//! name.

use std::fs::File;
use std::io::{BufWriter, Write};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use weakstore_core::inspect::path::{why_alive as shortest_path, RootKind, Step};
use weakstore_core::inspect::snapshot;
use weakstore_core::{Inspector, ObjId, RootSets};

use crate::ids::object_id;
use crate::stores;

/// The root sets the calling thread can name: its handles (canonical and
/// scoped), the store's
/// pins, and the objects it keeps for the current job.
fn root_sets(e: &stores::NativeStore, thread: String) -> RootSets {
    // An object once per root: a canonical handle's, and each scoped
    // handle's (the core counts them off the object's root count).
    let mut handles = e.wrappers.borrow().ids();
    handles.extend(e.scopes.borrow().ids());
    handles.sort_unstable_by_key(|id| id.index());
    RootSets { handles: vec![(thread, handles)], pins: e.store.pinned_objects(), job: e.deferred.borrow().clone() }
}

pub struct SnapshotTask {
    inspector: Inspector,
    sets: RootSets,
    path: String,
}

/// What `writeHeapSnapshot` reports.
#[napi(object)]
pub struct SnapshotInfo {
    pub path: String,
    /// Nodes written: objects plus synthetic nodes.
    pub nodes: f64,
    /// Synthetic nodes: the root, root groups, registries and tables.
    pub synthetic: f64,
    pub edges: f64,
    /// Objects no strong path reaches (garbage for the next cycle).
    pub unreachable: f64,
    /// Edges dropped because their target was freed while the graph was copied.
    pub dangling: f64,
}

impl Task for SnapshotTask {
    type Output = SnapshotInfo;
    type JsValue = SnapshotInfo;

    fn compute(&mut self) -> Result<SnapshotInfo> {
        let g = self.inspector.graph();
        let fail = |e: std::io::Error| Error::from_reason(format!("weakstore: cannot write {}: {e}", self.path));
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&self.path).map_err(fail)?);
        let w = snapshot::write(&g, &self.sets, &mut out).map_err(fail)?;
        out.flush().map_err(fail)?;
        Ok(SnapshotInfo {
            path: self.path.clone(),
            nodes: w.nodes as f64,
            synthetic: w.synthetic as f64,
            edges: w.edges as f64,
            unreachable: w.unreachable as f64,
            dangling: g.dangling as f64,
        })
    }

    fn resolve(&mut self, _env: Env, output: SnapshotInfo) -> Result<SnapshotInfo> {
        Ok(output)
    }
}

/// Writes the store's graph as a V8 heap snapshot at `path`.
#[napi(catch_unwind, ts_return_type = "Promise<SnapshotInfo>")]
pub fn write_heap_snapshot(env: &Env, store: u32, path: String, thread: String) -> Result<AsyncTask<SnapshotTask>> {
    stores::with(env, store, |e| {
        let sets = root_sets(e, thread);
        Ok(AsyncTask::new(SnapshotTask { inspector: e.store.inspector(), sets, path }))
    })
}

pub struct WhyTask {
    inspector: Inspector,
    sets: RootSets,
    target: ObjId,
}

/// One step of a `whyAlive` path, as the binding hands it to `lib/`.
#[napi(object)]
pub struct PathStep {
    /// `'handle' | 'pin' | 'job' | 'held' | 'other'` on the first step.
    pub root: Option<String>,
    pub thread: Option<String>,
    /// The pin's name, for a pin root.
    pub pin: Option<String>,
    /// The field that leads to this step's object.
    pub field: Option<String>,
    /// For a run of more than one step through `field`: its length.
    pub count: Option<u32>,
    /// The ephemeron table whose entry leads to this step's object.
    pub table: Option<u32>,
    /// This step's object.
    pub id: f64,
}

impl Task for WhyTask {
    type Output = Option<Vec<Step>>;
    type JsValue = Option<Vec<PathStep>>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(shortest_path(&self.inspector.graph_without_names(), &self.sets, self.target))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        let step = |s: Step| match s {
            Step::Root { kind, thread, pin, id } => {
                let root = match kind {
                    RootKind::Handle => "handle",
                    RootKind::Pin => "pin",
                    RootKind::Job => "job",
                    RootKind::Held => "held",
                    RootKind::Other => "other",
                };
                PathStep {
                    root: Some(root.to_owned()),
                    thread,
                    pin,
                    field: None,
                    count: None,
                    table: None,
                    id: id.bits() as f64,
                }
            }
            Step::Field { key, id, count } => PathStep {
                root: None,
                thread: None,
                pin: None,
                field: Some(key),
                count: (count > 1).then_some(count),
                table: None,
                id: id.bits() as f64,
            },
            Step::Ephemeron { table, id } => PathStep {
                root: None,
                thread: None,
                pin: None,
                field: None,
                count: None,
                table: Some(table),
                id: id.bits() as f64,
            },
        };
        Ok(output.map(|steps| steps.into_iter().map(step).collect()))
    }
}

/// The shortest path from a root to object `id`, not counting the calling
/// thread's handle of it; `null` when only weak references reach it.
#[napi(catch_unwind, ts_return_type = "Promise<Array<PathStep> | null>")]
pub fn why_alive(env: &Env, store: u32, id: f64, thread: String) -> Result<AsyncTask<WhyTask>> {
    let target = object_id(env, "Store.prototype.whyAlive", id)?;
    stores::with(env, store, |e| {
        let sets = root_sets(e, thread);
        Ok(AsyncTask::new(WhyTask { inspector: e.store.inspector(), sets, target }))
    })
}
