//! Bytes the store spends per object, measured with a counting allocator.
//!
//!   cargo run --release -p weakstore-bench --example memory
//!
//! Allocates N objects of a few shapes into a fresh store and reports the
//! heap bytes requested per object (what the allocator was asked for; its
//! own rounding comes on top), split into the fields' share (16 bytes per
//! value, and what a value holds out of line) and the rest, the
//! collector's and the object model's overhead (the slot, the shape
//! pointer ahead of the values, registration bookkeeping, the shapes
//! themselves spread over the objects). The slot table grows in chunks, so
//! the figure includes the unused tail of the last chunk.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use weakstore_core::{Config, NoopHost, Store, Value};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; the counter is bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const N: usize = 1_000_000;

fn per_object(label: &str, fields: impl Fn(usize) -> Vec<(Box<str>, Value)>, register: bool) -> Store {
    let store = Store::new(Config { manual: true, ..Config::default() }, NoopHost);
    let registry = store.new_registry(0);
    // What the fields' values themselves take: the values (16 bytes
    // each) and what they hold out of line, built outside the store. Key
    // names are not the object's: its shape, shared, holds them.
    let before_fields = LIVE.load(Ordering::Relaxed);
    let sample: Vec<Vec<Value>> = (0..N)
        .map(|i| {
            let f = fields(i);
            // A fresh vector of exactly the values (`collect` would reuse
            // the larger (key, value) allocation in place).
            let mut values = Vec::with_capacity(f.len());
            values.extend(f.into_iter().map(|(_, v)| v));
            values
        })
        .collect();
    let field_bytes =
        (LIVE.load(Ordering::Relaxed) - before_fields) as f64 / N as f64 - std::mem::size_of::<Vec<Value>>() as f64;
    drop(sample);
    let before = LIVE.load(Ordering::Relaxed);
    let ids: Vec<_> = (0..N).map(|i| store.alloc(fields(i)).expect("alloc")).collect();
    if register {
        for &id in &ids {
            store.register(registry, id, None).expect("register");
        }
    }
    // The id vector is the benchmark's, not the store's.
    let total = (LIVE.load(Ordering::Relaxed) - before) as f64 / N as f64 - std::mem::size_of::<u64>() as f64;
    println!(
        "{label:<44} {total:>7.1} B/object in all; fields {field_bytes:>6.1}; collector overhead {:>6.1}",
        total - field_bytes
    );
    drop(ids);
    // Returned, not dropped: a dropped store's threads free its memory in
    // the background, which would skew the next shape's count.
    store
}

fn main() {
    println!("{N} objects per shape; heap bytes requested (allocator rounding not included)");
    let mut keep = vec![per_object("no fields", |_| Vec::new(), false)];
    keep.push(per_object("one number field", |i| vec![("n".into(), Value::Number(i as f64))], false));
    keep.push(per_object(
        "two fields (number, 16-byte string)",
        |i| vec![("n".into(), Value::Number(i as f64)), ("s".into(), Value::String("0123456789abcdef".into()))],
        false,
    ));
    keep.push(per_object("one number field + one registration", |i| vec![("n".into(), Value::Number(i as f64))], true));
}
