//! Shapes (hidden classes): the key list objects with the same keys in the
//! same order share.
//!
//! An object in shaped mode is a shape plus a flat vector of values: value
//! `i` belongs to the shape's key `i`. Shapes form a tree from the empty
//! shape: adding key `k` to an object of shape `S` moves it to `S`'s child
//! for `k`, created on first use and shared by every object that takes the
//! same step. A million `{ i, next }` objects thus share one key list.
//!
//! Lookups read only the object's own shape: a linear scan of at most
//! [`INDEXED_FROM`] key ids, or the shape's hash index beyond that, so
//! a field access is O(1) in the number of fields either way.
//!
//! Objects leave shaped mode for dictionary mode (`heap::dict`) when a
//! shape would pass [`MAX_KEYS`] keys, when the store has made
//! [`MAX_SHAPES`] shapes, or when a key other than the last is deleted:
//! the tree stays small whatever the program does.
//!
//! # Invariants
//! - A shape never changes after it is made, except for its transition
//!   map, which only grows, under its own lock.
//! - A shape's keys are distinct; `keys[..n-1]` are its parent's keys.
//! - Shapes live as long as the store: the transition maps hold them
//!   (`Shapes` breaks the parent/child cycles when the store drops), so
//!   the count and the bytes only grow, up to the caps.

use hashbrown::HashMap;

use crate::heap::keys::{KeyId, Keys};
use crate::sync::{Arc, AtomicUsize, Mutex, Ordering};
use crate::value::alloc_bytes;

/// The most keys a shape has; an object that would need more turns into a
/// dictionary.
pub(crate) const MAX_KEYS: usize = 64;
/// Shapes with more keys than this carry a hash index.
pub(crate) const INDEXED_FROM: usize = 8;
/// The most shapes a store makes; past it, new key layouts are
/// dictionaries.
#[cfg(not(loom))]
pub(crate) const MAX_SHAPES: usize = 8192;
#[cfg(loom)]
pub(crate) const MAX_SHAPES: usize = 4;

pub(crate) struct Shape {
    keys: Box<[KeyId]>,
    /// Key to slot, for shapes with more than [`INDEXED_FROM`] keys.
    index: Option<HashMap<KeyId, u32>>,
    parent: Option<Arc<Shape>>,
    transitions: Mutex<HashMap<KeyId, Arc<Shape>>>,
}

impl Shape {
    /// The keys, in slot order.
    #[inline]
    pub(crate) fn keys(&self) -> &[KeyId] {
        &self.keys
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The slot of `key`.
    #[inline]
    pub(crate) fn slot(&self, key: KeyId) -> Option<usize> {
        match &self.index {
            None => self.keys.iter().position(|&k| k == key),
            Some(index) => index.get(&key).map(|&i| i as usize),
        }
    }

    /// The shape this one extends (`None` for the empty shape).
    pub(crate) fn parent(&self) -> Option<&Arc<Shape>> {
        self.parent.as_ref()
    }

    /// What a shape with `n` keys holds.
    fn bytes(n: usize) -> usize {
        let index = if n > INDEXED_FROM { alloc_bytes((n * 8 / 7 + 1).next_power_of_two() * 9 + 16) } else { 0 };
        alloc_bytes(std::mem::size_of::<Shape>() + 16) + alloc_bytes(n * 4) + index
    }
}

/// The store's shape tree.
pub(crate) struct Shapes {
    root: Arc<Shape>,
    pub(crate) keys: Keys,
    /// Hashes dictionary-mode keys (`heap::dict`).
    pub(crate) hasher: hashbrown::DefaultHashBuilder,
    count: AtomicUsize,
    bytes: AtomicUsize,
}

impl Shapes {
    pub(crate) fn new() -> Shapes {
        Shapes {
            root: Arc::new(Shape {
                keys: Box::new([]),
                index: None,
                parent: None,
                transitions: Mutex::new(HashMap::new()),
            }),
            keys: Keys::new(),
            hasher: Default::default(),
            count: AtomicUsize::new(1),
            bytes: AtomicUsize::new(Shape::bytes(0)),
        }
    }

    /// The empty shape, every object's first.
    #[inline]
    pub(crate) fn root(&self) -> &Arc<Shape> {
        &self.root
    }

    /// `shape` plus `name` (which it must not have; `id` is its key id,
    /// if it has one), or `None` if that shape would pass a cap: the
    /// object then turns into a dictionary.
    pub(crate) fn extend(&self, shape: &Arc<Shape>, name: &str, id: Option<KeyId>) -> Option<Arc<Shape>> {
        if shape.len() >= MAX_KEYS {
            return None;
        }
        let key = match id {
            Some(key) => key,
            // Relaxed: a cap, not a synchronisation point (a race lets a
            // few shapes past it, which bounds nothing that matters).
            None if self.count.load(Ordering::Relaxed) >= MAX_SHAPES => return None,
            None => self.keys.intern(name),
        };
        self.extend_by(shape, key)
    }

    /// `shape` plus `key`, which it must not have.
    pub(crate) fn extend_by(&self, shape: &Arc<Shape>, key: KeyId) -> Option<Arc<Shape>> {
        debug_assert!(shape.slot(key).is_none());
        if shape.len() >= MAX_KEYS {
            return None;
        }
        let mut transitions = shape.transitions.lock();
        if let Some(next) = transitions.get(&key) {
            return Some(next.clone());
        }
        // Relaxed: see `extend`.
        if self.count.load(Ordering::Relaxed) >= MAX_SHAPES {
            return None;
        }
        let keys: Box<[KeyId]> = shape.keys.iter().copied().chain([key]).collect();
        let index = (keys.len() > INDEXED_FROM).then(|| keys.iter().enumerate().map(|(i, &k)| (k, i as u32)).collect());
        let bytes = Shape::bytes(keys.len());
        let next =
            Arc::new(Shape { keys, index, parent: Some(shape.clone()), transitions: Mutex::new(HashMap::new()) });
        transitions.insert(key, next.clone());
        // Relaxed: statistics and a cap.
        self.count.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        Some(next)
    }

    /// Shapes made so far.
    pub(crate) fn count(&self) -> usize {
        // Relaxed: statistics.
        self.count.load(Ordering::Relaxed)
    }

    /// Bytes the shapes and the key table hold.
    pub(crate) fn bytes(&self) -> usize {
        // Relaxed: statistics.
        self.bytes.load(Ordering::Relaxed) + self.keys.bytes()
    }
}

impl Drop for Shapes {
    fn drop(&mut self) {
        // Children point at parents and parents (through their transition
        // maps) at children: empty every map, so that each shape is freed
        // once the last object using it is.
        let mut stack = vec![self.root.clone()];
        while let Some(shape) = stack.pop() {
            stack.extend(std::mem::take(&mut *shape.transitions.lock()).into_values());
        }
    }
}
