//! A [`Graph`] as a V8 heap snapshot (`.heapsnapshot`), the JSON format
//! Chrome DevTools' Memory panel and memlab read.
//!
//! Layout:
//! - node 0, the synthetic root, with an element edge to each group node;
//! - one synthetic group node per kind of root: `(handles: <thread>)` per
//!   thread, `(pins)`, `(kept for the current job)`, `(registration held values)`,
//!   `(other roots)`, each with an element edge per root it holds;
//! - one synthetic node per finalization registry (weak edges to its
//!   targets) and per `WeakMap`/`WeakSet` table (weak edges to its keys);
//! - one `object` node per store object: its name, its node id (twice its
//!   slot index plus 2: the format's ids are 32-bit), its exact byte count
//!   as self size; a `property` edge per reference field, named by
//!   the key, and an `internal` edge to the value of each ephemeron entry
//!   keyed by it. Primitive field values are part of the object's bytes,
//!   not nodes of their own (the store holds them inside the object).
//!
//! # Invariants
//! - Node count = objects + 1 + groups + registries + tables.
//! - Each object node's `detachedness` is 1 when a strong path from the
//!   root reaches it, 2 when none does (garbage the next cycle frees).

use std::collections::BTreeSet;
use std::io::{self, Write};

use super::path::{roots, RootKind};
use super::{EdgeKind, Graph, RootSets};

const NODE_FIELDS: u32 = 7;
// Indices in the meta's type lists.
const T_OBJECT: u32 = 3;
const T_SYNTHETIC: u32 = 9;
const E_ELEMENT: u32 = 1;
const E_PROPERTY: u32 = 2;
const E_INTERNAL: u32 = 3;
const E_WEAK: u32 = 6;

const META: &str = r#"{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"trace_node_fields":["id","function_info_index","count","size","children"],"sample_fields":["timestamp_us","last_assigned_id"],"location_fields":["object_index","script_id","line","column"]}"#;

/// A synthetic node: name, and edges (type, name or index, target node).
struct Synthetic {
    name: u32,
    edges: Vec<(u32, u32, u32)>,
}

/// What [`write`](fn@write) wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Nodes in the file: objects plus synthetic ones.
    pub nodes: usize,
    /// Synthetic nodes (the root, root groups, registries, tables).
    pub synthetic: usize,
    /// Edges in the file.
    pub edges: usize,
    /// Object nodes no strong path reaches.
    pub unreachable: usize,
}

/// Writes `g` as a heap snapshot; `sets` names the handle and job roots.
pub fn write(g: &Graph, sets: &RootSets, out: &mut impl Write) -> io::Result<Written> {
    let mut strings: Vec<String> = g.strings.iter().map(|s| s.to_string()).collect();
    let mut intern = |s: String| {
        strings.push(s);
        (strings.len() - 1) as u32
    };
    let n_objects = g.len() as u32;
    // Synthetic nodes come after the objects; node 0 (the root) is moved to
    // the front when written, so object node n is written at index n + 1.
    let obj = |n: u32| n + 1;
    let mut groups: Vec<Synthetic> = Vec::new();
    let mut group_of = std::collections::HashMap::new();
    for (node, kind, thread) in roots(g, sets, None) {
        // One group per thread's handles; one for all pins.
        let key = (kind as u8, if kind == RootKind::Handle { thread } else { 0 });
        let at = *group_of.entry(key).or_insert_with(|| {
            let name = match kind {
                RootKind::Handle => format!("(handles: {})", sets.handles[thread].0),
                RootKind::Pin => "(pins)".to_owned(),
                RootKind::Job => "(kept for the current job)".to_owned(),
                RootKind::Held => "(registration held values)".to_owned(),
                RootKind::Other => "(other roots)".to_owned(),
            };
            groups.push(Synthetic { name: intern(name), edges: Vec::new() });
            groups.len() - 1
        });
        let i = groups[at].edges.len() as u32;
        groups[at].edges.push((E_ELEMENT, i, obj(node)));
    }
    // Weak edges are named (a string index), as V8 names its own.
    let target = intern("target".to_owned());
    let key = intern("key".to_owned());
    let registries: BTreeSet<u32> = g.cells.iter().map(|c| c.0).collect();
    for r in registries {
        let edges = g.cells.iter().filter(|c| c.0 == r).filter_map(|c| c.1);
        let edges = edges.map(|t| (E_WEAK, target, obj(t))).collect();
        groups.push(Synthetic { name: intern(format!("(FinalizationRegistry #{r})")), edges });
    }
    let tables: BTreeSet<u32> = g.entries.iter().map(|e| e.0).collect();
    for t in tables {
        let keys = g.entries.iter().filter(|e| e.0 == t);
        let edges = keys.map(|e| (E_WEAK, key, obj(e.1))).collect();
        groups.push(Synthetic { name: intern(format!("(WeakMap/WeakSet #{t})")), edges });
    }
    let first_group = n_objects + 1;
    let root = Synthetic {
        name: intern(String::new()),
        edges: (0..groups.len() as u32).map(|i| (E_ELEMENT, i, first_group + i)).collect(),
    };
    let reachable = reachability(g, &groups);
    let node_count = 1 + g.len() + groups.len();
    let edge_count = root.edges.len() + g.edge_to.len() + groups.iter().map(|s| s.edges.len()).sum::<usize>();

    write!(
        out,
        r#"{{"snapshot":{{"meta":{META},"node_count":{node_count},"edge_count":{edge_count},"trace_function_count":0}},"#
    )?;
    out.write_all(b"\n\"nodes\":[")?;
    let mut sep = Sep::default();
    // Ids are 32-bit in the format (DevTools keeps them in a Uint32Array):
    // synthetic nodes get odd ones, an object twice its slot index plus 2.
    let synthetic_node = |out: &mut dyn Write, sep: &mut Sep, s: &Synthetic, id: u64| -> io::Result<()> {
        sep.next(out)?;
        write!(out, "{T_SYNTHETIC},{},{id},0,{},0,0", s.name, s.edges.len())
    };
    synthetic_node(out, &mut sep, &root, 1)?;
    for n in 0..n_objects {
        sep.next(out)?;
        let edges = g.edge_start[n as usize + 1] - g.edge_start[n as usize];
        let detached = if reachable[n as usize] { 1 } else { 2 };
        let id = 2 * u64::from(g.ids[n as usize].index()) + 2;
        write!(out, "\n{T_OBJECT},{},{id},{},{edges},0,{detached}", g.names[n as usize], g.bytes[n as usize])?;
    }
    for (i, s) in groups.iter().enumerate() {
        synthetic_node(out, &mut sep, s, 3 + 2 * i as u64)?;
    }
    out.write_all(b"],\n\"edges\":[")?;
    let mut sep = Sep::default();
    for &(kind, name, to) in &root.edges {
        sep.next(out)?;
        write!(out, "{kind},{name},{}", to * NODE_FIELDS)?;
    }
    for e in 0..g.edge_to.len() {
        sep.next(out)?;
        let kind = match g.edge_kind[e] {
            EdgeKind::Field => E_PROPERTY,
            EdgeKind::Ephemeron(_) => E_INTERNAL,
        };
        write!(out, "\n{kind},{},{}", g.edge_name[e], obj(g.edge_to[e]) * NODE_FIELDS)?;
    }
    for s in &groups {
        for &(kind, name, to) in &s.edges {
            sep.next(out)?;
            write!(out, "\n{kind},{name},{}", to * NODE_FIELDS)?;
        }
    }
    out.write_all(
        b"],\n\"trace_function_infos\":[],\"trace_tree\":[],\"samples\":[],\"locations\":[],\n\"strings\":[",
    )?;
    let mut sep = Sep::default();
    for s in &strings {
        sep.next(out)?;
        out.write_all(b"\n")?;
        json_string(out, s)?;
    }
    out.write_all(b"]}\n")?;
    let unreachable = reachable.iter().filter(|&&r| !r).count();
    Ok(Written { nodes: node_count, synthetic: 1 + groups.len(), edges: edge_count, unreachable })
}

/// Which objects a strong path from a root group reaches (weak edges and
/// the registry and table nodes do not count).
fn reachability(g: &Graph, groups: &[Synthetic]) -> Vec<bool> {
    let mut seen = vec![false; g.len()];
    let mut stack: Vec<u32> = Vec::new();
    for s in groups {
        for &(kind, _, to) in &s.edges {
            if kind != E_WEAK && !seen[to as usize - 1] {
                seen[to as usize - 1] = true;
                stack.push(to - 1);
            }
        }
    }
    while let Some(n) = stack.pop() {
        for e in g.edge_start[n as usize]..g.edge_start[n as usize + 1] {
            let to = g.edge_to[e as usize];
            if !seen[to as usize] {
                seen[to as usize] = true;
                stack.push(to);
            }
        }
    }
    seen
}

/// Commas between array items.
#[derive(Default)]
struct Sep(bool);

impl Sep {
    fn next(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.0 {
            out.write_all(b",")?;
        }
        self.0 = true;
        Ok(())
    }
}

fn json_string(out: &mut dyn Write, s: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        out.write_all(&s.as_bytes()[start..i])?;
        match escaped {
            Some(e) => out.write_all(e.as_bytes())?,
            None => write!(out, "\\u{:04x}", c as u32)?,
        }
        start = i + c.len_utf8();
    }
    out.write_all(&s.as_bytes()[start..])?;
    out.write_all(b"\"")
}
