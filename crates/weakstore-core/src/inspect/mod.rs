//! Looking inside a running store: a copy of its object graph, taken
//! without stopping mutators or the collector, for heap snapshots
//! ([`snapshot`]) and "why is this alive" ([`path`]).
//!
//! [`Inspector::graph`] visits every slot once, in index order. It takes
//! the phase lock for reading over runs of `RUN` slots (never across the
//! whole walk, so a phase change waits for one run at most), and each
//! object's lock while it copies that object's references, size and root
//! count. An object counts if it is live and visible to a mutator in the
//! current phase (an unmarked object after marking has ended is already
//! dead and is left out).
//!
//! # Invariants
//! - Each object's entry is a consistent copy of that object at one moment
//!   (taken under its lock). The graph as a whole is not one instant: an
//!   object freed after its referrer was copied leaves a dangling edge,
//!   which the graph drops (`dangling` counts them); an object allocated
//!   during the walk may be missing. A quiescent store is copied exactly.
//! - No lock is held while another is awaited except the phase read lock
//!   around object locks, the order every mutator uses.

pub mod path;
pub mod snapshot;

use crate::id::ObjId;
use crate::shared::Shared;
use crate::sync::{Arc, Ordering};
use crate::value::Value;

/// Slots visited under one hold of the phase read lock.
const RUN: u32 = 1024;

/// What the embedder knows about roots that the core counts only as
/// numbers: whose handles they are.
#[derive(Clone, Debug, Default)]
pub struct RootSets {
    /// Objects with a live handle, per JavaScript thread: (thread name, ids).
    pub handles: Vec<(String, Vec<ObjId>)>,
    /// Named roots: (name, object), as `Store::pinned_objects` lists them.
    pub pins: Vec<(String, ObjId)>,
    /// Objects kept until the current job ends (released handles whose root
    /// is dropped at the end of the job).
    pub job: Vec<ObjId>,
}

/// The kind of an edge of the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// A field of the object: strong.
    Field,
    /// The value of an ephemeron entry keyed by the object, in table `n`:
    /// strong while the key lives.
    Ephemeron(u32),
}

/// A copy of a store's object graph (see the module docs).
#[derive(Default)]
pub struct Graph {
    /// Per object (node `i`): id, bytes, root count, and name (an index in
    /// `strings`: the object's `type` or `name` string field, else 0, "Object").
    pub ids: Vec<ObjId>,
    pub(crate) bytes: Vec<u64>,
    pub(crate) roots: Vec<u32>,
    pub(crate) names: Vec<u32>,
    /// Edges of node `i`: `edge_start[i]..edge_start[i + 1]`.
    pub(crate) edge_start: Vec<u32>,
    pub(crate) edge_to: Vec<u32>,
    pub(crate) edge_name: Vec<u32>,
    pub(crate) edge_kind: Vec<EdgeKind>,
    /// Interned strings: names, keys.
    pub(crate) strings: Vec<Box<str>>,
    /// Finalization cells: (registry, target node unless it was collected,
    /// held node if a store object).
    pub(crate) cells: Vec<(u32, Option<u32>, Option<u32>)>,
    /// Ephemeron entries: (table, key node).
    pub(crate) entries: Vec<(u32, u32)>,
    /// Edges dropped because their target was freed during the walk.
    pub dangling: usize,
}

impl Graph {
    /// How many objects the graph holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the graph holds no object.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The node of object `id`, if the walk copied it.
    pub fn node_of(&self, id: ObjId) -> Option<u32> {
        self.ids
            .binary_search_by_key(&(id.index(), id.generation()), |i| (i.index(), i.generation()))
            .ok()
            .map(|n| n as u32)
    }

    /// The edges of node `n`: (target node, name, kind).
    pub fn edges(&self, n: u32) -> impl Iterator<Item = (u32, &str, EdgeKind)> + '_ {
        let (from, to) = (self.edge_start[n as usize] as usize, self.edge_start[n as usize + 1] as usize);
        (from..to).map(move |e| (self.edge_to[e], &*self.strings[self.edge_name[e] as usize], self.edge_kind[e]))
    }

    /// Node `n`'s byte count and root count.
    pub fn size_and_roots(&self, n: u32) -> (u64, u32) {
        (self.bytes[n as usize], self.roots[n as usize])
    }

    /// The held objects of live finalization cells (each holds one root).
    pub fn held(&self) -> impl Iterator<Item = u32> + '_ {
        self.cells.iter().filter_map(|&(_, _, held)| held)
    }
}

/// A handle on a store's shared state that may go to another thread (the
/// embedder's worker pool) and copy the graph there.
pub struct Inspector {
    pub(crate) shared: Arc<Shared>,
}

/// An edge as the walk first records it: to an object id, resolved to a
/// node once every object has one.
struct RawEdge {
    to: ObjId,
    name: u32,
    kind: EdgeKind,
}

/// Distinct strings, numbered in order of arrival (one allocation each).
/// Hashed with hashbrown's default (foldhash): with SipHash, hashing the
/// names of a 4,000,000-object snapshot took 13 % of writing it.
#[derive(Default)]
struct Interner {
    index: hashbrown::HashMap<Box<str>, u32>,
}

impl Interner {
    fn new() -> Interner {
        let mut i = Interner::default();
        i.get("Object");
        i
    }

    fn get(&mut self, s: &str) -> u32 {
        if let Some(&n) = self.index.get(s) {
            return n;
        }
        let n = self.index.len() as u32;
        self.index.insert(s.into(), n);
        n
    }

    /// The strings, by number.
    fn into_strings(self) -> Vec<Box<str>> {
        let mut strings: Vec<Box<str>> = vec![Box::from(""); self.index.len()];
        for (s, n) in self.index {
            strings[n as usize] = s;
        }
        strings
    }
}

impl Inspector {
    /// Copies the graph (see the module docs), with object names.
    pub fn graph(&self) -> Graph {
        self.copy(true)
    }

    /// Copies the graph without object names (every name is "Object"):
    /// enough for paths, and cheaper (names are mostly distinct strings).
    pub fn graph_without_names(&self) -> Graph {
        self.copy(false)
    }

    fn copy(&self, with_names: bool) -> Graph {
        let shared = &*self.shared;
        let mut g = Graph::default();
        let mut strings = Interner::new();
        let mut raw: Vec<RawEdge> = Vec::new();
        let mut raw_start: Vec<u32> = Vec::new();
        let mut raw_entries: Vec<(u32, ObjId)> = Vec::new();
        let high = shared.table.high_water();
        let mut index = 0;
        while index < high {
            let state = shared.phase.read();
            for i in index..(index + RUN).min(high) {
                let Some(slot) = shared.table.slot(i) else { continue };
                // Acquire; pairs with the Release in `Table::publish`.
                let word = slot.state.load(Ordering::Acquire);
                if word & 1 == 0 || !state.sees(slot) {
                    continue;
                }
                let id = ObjId::new(i, word >> 1);
                let Some(guard) = slot.lock_if(id) else { continue };
                let Some(object) = &*guard else { continue };
                let mut name = 0;
                raw_start.push(raw.len() as u32);
                object.for_each_field(&shared.shapes, |key, value| {
                    match value {
                        Value::Ref(to) => raw.push(RawEdge { to: *to, name: strings.get(key), kind: EdgeKind::Field }),
                        Value::String(s) if with_names && name == 0 && (key == "type" || key == "name") => {
                            // Interned: DevTools groups objects by the string
                            // index of their name.
                            name = strings.get(s)
                        }
                        _ => {}
                    }
                });
                for entry in object.entries() {
                    if !entry.table.is_alive() {
                        continue;
                    }
                    let table = entry.table.id();
                    raw_entries.push((table, id));
                    if let Some(to) = entry.value.as_ref() {
                        let label = strings.get(&format!("WeakMap #{table} value"));
                        raw.push(RawEdge { to, name: label, kind: EdgeKind::Ephemeron(table) });
                    }
                }
                g.ids.push(id);
                g.bytes.push(object.measure() as u64);
                // Relaxed: a figure for the report; the lock orders nothing here.
                g.roots.push(slot.roots.load(Ordering::Relaxed));
                g.names.push(name);
            }
            drop(state);
            index = index.saturating_add(RUN);
        }
        raw_start.push(raw.len() as u32);
        // Resolve ids to nodes (ids are in slot order, so sorted by index).
        g.edge_start.reserve(g.ids.len() + 1);
        for n in 0..g.ids.len() {
            g.edge_start.push(g.edge_to.len() as u32);
            for e in &raw[raw_start[n] as usize..raw_start[n + 1] as usize] {
                match g.node_of(e.to) {
                    Some(to) => {
                        g.edge_to.push(to);
                        g.edge_name.push(e.name);
                        g.edge_kind.push(e.kind);
                    }
                    None => g.dangling += 1,
                }
            }
        }
        g.edge_start.push(g.edge_to.len() as u32);
        g.entries = raw_entries.into_iter().filter_map(|(t, key)| Some((t, g.node_of(key)?))).collect();
        let cells = shared.weak.finalization.lock().cells();
        g.cells = cells
            .into_iter()
            .map(|(registry, target, held)| (registry, g.node_of(target), held.and_then(|h| g.node_of(h))))
            .collect();
        g.strings = strings.into_strings();
        g
    }
}

impl crate::Store {
    /// An [`Inspector`] of this store, for another thread.
    pub fn inspector(&self) -> Inspector {
        Inspector { shared: Arc::clone(&self.shared) }
    }
}
