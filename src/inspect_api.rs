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

/// A `whyAlive` path as the binding hands it to `lib/`: its root, then
/// its steps in columns, so that a path of a million steps costs a few
/// typed arrays on the JavaScript thread, not a million objects (built
/// there in slices, `lib/store.js`).
#[napi(object)]
pub struct WhyPath {
    /// `'handle' | 'pin' | 'job' | 'held' | 'other'`.
    pub root: String,
    /// The thread, for a handle root.
    pub thread: Option<String>,
    /// The pin's name, for a pin root.
    pub pin: Option<String>,
    /// The root object.
    pub id: f64,
    /// Each step's object.
    pub ids: Float64Array,
    /// Each step's field, as an index into `names`; `u32::MAX` for an
    /// ephemeron step.
    pub fields: Uint32Array,
    /// The distinct field names of the path.
    pub names: Vec<String>,
    /// Each step's run length (1: a single step; see `Step::Field`).
    pub counts: Uint32Array,
    /// Each ephemeron step's table (0 for a field step).
    pub tables: Uint32Array,
}

/// [`WhyPath`] before its arrays become JavaScript's.
pub struct Columns {
    root: &'static str,
    thread: Option<String>,
    pin: Option<String>,
    id: f64,
    ids: Vec<f64>,
    fields: Vec<u32>,
    names: Vec<String>,
    counts: Vec<u32>,
    tables: Vec<u32>,
}

fn columns(steps: Vec<Step>) -> Option<Columns> {
    let mut steps = steps.into_iter();
    let Some(Step::Root { kind, thread, pin, id }) = steps.next() else { return None };
    let root = match kind {
        RootKind::Handle => "handle",
        RootKind::Pin => "pin",
        RootKind::Job => "job",
        RootKind::Held => "held",
        RootKind::Other => "other",
    };
    let mut c = Columns {
        root,
        thread,
        pin,
        id: id.bits() as f64,
        ids: Vec::with_capacity(steps.len()),
        fields: Vec::with_capacity(steps.len()),
        names: Vec::new(),
        counts: Vec::with_capacity(steps.len()),
        tables: Vec::with_capacity(steps.len()),
    };
    let mut name_of: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for step in steps {
        let (id, field, count, table) = match step {
            Step::Field { key, id, count } => {
                // A name already seen costs a lookup, not a copy.
                let at = match name_of.get(key.as_str()) {
                    Some(&at) => at,
                    None => {
                        let at = c.names.len() as u32;
                        name_of.insert(key.clone(), at);
                        c.names.push(key);
                        at
                    }
                };
                (id, at, count, 0)
            }
            Step::Ephemeron { table, id } => (id, u32::MAX, 1, table),
            Step::Root { .. } => {
                debug_assert!(false, "only a path's first step is a root");
                continue;
            }
        };
        c.ids.push(id.bits() as f64);
        c.fields.push(field);
        c.counts.push(count);
        c.tables.push(table);
    }
    Some(c)
}

impl Task for WhyTask {
    type Output = Option<Columns>;
    type JsValue = Option<WhyPath>;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(shortest_path(&self.inspector.graph_without_names(), &self.sets, self.target).and_then(columns))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.map(|c| WhyPath {
            root: c.root.to_owned(),
            thread: c.thread,
            pin: c.pin,
            id: c.id,
            ids: Float64Array::new(c.ids),
            fields: Uint32Array::new(c.fields),
            names: c.names,
            counts: Uint32Array::new(c.counts),
            tables: Uint32Array::new(c.tables),
        }))
    }
}

/// The shortest path from a root to object `id`, not counting the calling
/// thread's handle of it; `null` when only weak references reach it.
#[napi(catch_unwind, ts_return_type = "Promise<WhyPath | null>")]
pub fn why_alive(env: &Env, store: u32, id: f64, thread: String) -> Result<AsyncTask<WhyTask>> {
    let target = object_id(env, "Store.prototype.whyAlive", id)?;
    stores::with(env, store, |e| {
        let sets = root_sets(e, thread);
        Ok(AsyncTask::new(WhyTask { inspector: e.store.inspector(), sets, target }))
    })
}
