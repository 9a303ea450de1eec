//! "Why is this object alive": the shortest path from a root to it, over a
//! [`Graph`] copy, by a breadth-first search from every root at once.
//!
//! Roots are attributed by kind ([`RootKind`]): the embedder names the
//! handle, pin and job roots ([`RootSets`]), the graph knows the held values of
//! finalization cells, and whatever the object's root count has beyond
//! those is `Other`. The object asked about is asked about through one of
//! its handles: that one handle is not counted as a reason.
//!
//! # Invariants
//! - A path only follows strong edges (fields, ephemeron values of live
//!   keys); weak references never keep anything alive.
//! - Among roots, the search starts with handles, then pins, job, held and other,
//!   so equal-length paths are reported from the most familiar root.

use std::collections::VecDeque;

use super::{EdgeKind, Graph, RootSets};
use crate::id::ObjId;

/// Why an object is a root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootKind {
    /// A live handle of a JavaScript thread.
    Handle,
    /// A named root (`Store::pin`).
    Pin,
    /// Kept until the current job ends.
    Job,
    /// The held value of a registration.
    Held,
    /// A root the embedder did not name.
    Other,
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The path starts at a root.
    Root {
        /// Why it is a root.
        kind: RootKind,
        /// The thread whose handle it is (handle roots only).
        thread: Option<String>,
        /// The pin's name (pin roots only).
        pin: Option<String>,
        /// The root object.
        id: ObjId,
    },
    /// A field of the previous object holds the next; with `count` n > 1,
    /// a run of n steps through fields of that same key, ending at `id`
    /// (object k of the run holds object k + 1 in its field `key`).
    Field {
        /// The field's key.
        key: String,
        /// The object it holds (the run's last).
        id: ObjId,
        /// How many steps through `key` in a row (1: a single step).
        count: u32,
    },
    /// The previous object is a live key of an ephemeron table whose value
    /// is the next.
    Ephemeron {
        /// The table (`WeakMap` or `WeakSet`).
        table: u32,
        /// The value object.
        id: ObjId,
    },
}

/// Every root of the graph: (node, kind, index in `sets.handles` for a
/// handle root, in `sets.pins` for a pin root).
/// `excluded`: one handle root of this node is not counted.
pub(crate) fn roots(g: &Graph, sets: &RootSets, excluded: Option<u32>) -> Vec<(u32, RootKind, usize)> {
    let mut left: Vec<u32> = g.roots.clone();
    let mut out = Vec::new();
    let mut take = |node: u32, kind: RootKind, thread: usize, left: &mut Vec<u32>| {
        let n = node as usize;
        if left[n] > 0 {
            left[n] -= 1;
            out.push((node, kind, thread));
        }
    };
    let mut skip = excluded;
    for (thread, (_, ids)) in sets.handles.iter().enumerate() {
        for &id in ids {
            if let Some(node) = g.node_of(id) {
                if Some(node) == skip {
                    // The handle asked about: its root is used up, not a reason.
                    skip = None;
                    left[node as usize] = left[node as usize].saturating_sub(1);
                    continue;
                }
                take(node, RootKind::Handle, thread, &mut left);
            }
        }
    }
    for (i, (_, id)) in sets.pins.iter().enumerate() {
        if let Some(node) = g.node_of(*id) {
            take(node, RootKind::Pin, i, &mut left);
        }
    }
    for &id in &sets.job {
        if let Some(node) = g.node_of(id) {
            take(node, RootKind::Job, 0, &mut left);
        }
    }
    for held in g.held() {
        take(held, RootKind::Held, 0, &mut left);
    }
    for (node, &n) in left.iter().enumerate() {
        for _ in 0..n {
            out.push((node as u32, RootKind::Other, 0));
        }
    }
    out
}

/// The shortest path from a root to `target` that does not start with the
/// handle being asked about, or `None` if `target` is not in the graph or
/// only weak references (or nothing) reach it.
pub fn why_alive(g: &Graph, sets: &RootSets, target: ObjId) -> Option<Vec<Step>> {
    let target = g.node_of(target)?;
    let mut roots = roots(g, sets, Some(target));
    roots.sort_by_key(|&(_, kind, _)| kind as u8);
    const UNSEEN: u32 = u32::MAX;
    // parent[n]: the edge index that reached n, or ROOT + root index.
    const ROOT: u32 = 1 << 31;
    let mut parent = vec![UNSEEN; g.len()];
    let mut queue = VecDeque::new();
    for (i, &(node, _, _)) in roots.iter().enumerate() {
        if parent[node as usize] == UNSEEN {
            parent[node as usize] = ROOT | i as u32;
            queue.push_back(node);
        }
    }
    while let Some(n) = queue.pop_front() {
        if n == target {
            break;
        }
        for e in g.edge_start[n as usize]..g.edge_start[n as usize + 1] {
            let to = g.edge_to[e as usize];
            if parent[to as usize] == UNSEEN {
                parent[to as usize] = e;
                queue.push_back(to);
            }
        }
    }
    if parent[target as usize] == UNSEEN {
        return None;
    }
    // Edge e's source: the node whose range holds it.
    let source = |e: u32| (g.edge_start.partition_point(|&s| s <= e) - 1) as u32;
    let mut steps = Vec::new();
    let mut n = target;
    loop {
        let p = parent[n as usize];
        if p & ROOT != 0 {
            let (_, kind, at) = roots[(p & !ROOT) as usize];
            let thread = (kind == RootKind::Handle).then(|| sets.handles[at].0.clone());
            let pin = (kind == RootKind::Pin).then(|| sets.pins[at].0.clone());
            steps.push(Step::Root { kind, thread, pin, id: g.ids[n as usize] });
            break;
        }
        let id = g.ids[n as usize];
        match g.edge_kind[p as usize] {
            EdgeKind::Field => {
                let name = &*g.strings[g.edge_name[p as usize] as usize];
                // Walking back, the step already taken is the next one: the
                // same key again lengthens its run (a list's million `next`
                // fields come back as one step, not a million).
                match steps.last_mut() {
                    Some(Step::Field { key, count, .. }) if key.as_str() == name && *count < u32::MAX => *count += 1,
                    _ => steps.push(Step::Field { key: name.to_owned(), id, count: 1 }),
                }
            }
            EdgeKind::Ephemeron(table) => steps.push(Step::Ephemeron { table, id }),
        }
        n = source(p);
    }
    steps.reverse();
    Some(steps)
}
