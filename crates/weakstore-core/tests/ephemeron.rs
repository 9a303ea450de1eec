//! Ephemeron tables: a value lives while its key does, and no longer.

mod common;

use common::{manual, obj, Freeze};
use weakstore_core::{EphemeronValue, ObjId, Phase, Value};

fn field(id: ObjId) -> EphemeronValue {
    EphemeronValue::Field(Value::Ref(id))
}

#[test]
fn a_value_lives_exactly_as_long_as_its_key() {
    let store = manual(2);
    let table = store.new_ephemeron_table();
    let key = obj(&store, &[]);
    let value = obj(&store, &[("v", Value::Number(1.0))]);
    store.ephemeron_set(&table, key, field(value)).unwrap();
    store.unroot(value).unwrap();
    store.collect();
    assert!(store.is_alive(value), "kept by its live key");
    assert_eq!(store.ephemeron_get(&table, key), Some(field(value)));
    store.unroot(key).unwrap();
    let stats = store.collect();
    assert!(!store.is_alive(key) && !store.is_alive(value));
    assert_eq!(stats.ephemerons_dropped, 1);
    assert_eq!(store.stats().ephemeron_entries, 0);
}

#[test]
fn a_value_pointing_back_at_its_key_does_not_keep_it() {
    let store = manual(1);
    let table = store.new_ephemeron_table();
    let key = obj(&store, &[]);
    let value = obj(&store, &[]);
    store.set(value, "key", Value::Ref(key)).unwrap();
    store.ephemeron_set(&table, key, field(value)).unwrap();
    store.unroot(key).unwrap();
    store.unroot(value).unwrap();
    store.collect();
    assert!(!store.is_alive(key) && !store.is_alive(value));
}

#[test]
fn long_chains_resolve_in_one_cycle() {
    let store = manual(2);
    let table = store.new_ephemeron_table();
    let n = if cfg!(miri) { 500 } else { 10_000 }; // Miri: the full chain takes >15 min
    let keys: Vec<ObjId> = (0..n).map(|_| obj(&store, &[])).collect();
    for pair in keys.windows(2) {
        store.ephemeron_set(&table, pair[0], field(pair[1])).unwrap();
    }
    for &k in &keys[1..] {
        store.unroot(k).unwrap();
    }
    let stats = store.collect();
    assert_eq!(stats.marked, n, "the rooted head reaches the whole chain");
    assert_eq!(stats.ephemerons_traced, n - 1);
    assert_eq!(stats.mark_rounds, 0);
    store.unroot(keys[0]).unwrap();
    let stats = store.collect();
    assert_eq!(stats.freed, n, "and all of it goes in one cycle");
}

#[test]
fn dropping_a_table_releases_its_values() {
    let store = manual(1);
    let table = store.new_ephemeron_table();
    let other = store.new_ephemeron_table();
    let key = obj(&store, &[]);
    let a = obj(&store, &[]);
    let b = obj(&store, &[]);
    store.ephemeron_set(&table, key, field(a)).unwrap();
    store.ephemeron_set(&other, key, field(b)).unwrap();
    store.unroot(a).unwrap();
    store.unroot(b).unwrap();
    store.drop_ephemeron_table(&table);
    assert_eq!(store.ephemeron_get(&table, key), None);
    assert!(!store.ephemeron_has(&table, key));
    store.collect();
    assert!(!store.is_alive(a));
    assert!(store.is_alive(b), "the other table is untouched");
    assert_eq!(store.stats().ephemeron_entries, 1, "the dead table's entry was purged");
    assert_eq!(store.stats().ephemeron_tables, 1);
}

#[test]
fn set_replace_delete() {
    let store = manual(1);
    let table = store.new_ephemeron_table();
    let key = obj(&store, &[]);
    store.ephemeron_set(&table, key, EphemeronValue::Field(Value::Number(1.0))).unwrap();
    store.ephemeron_set(&table, key, EphemeronValue::Field(Value::Number(2.0))).unwrap();
    assert_eq!(store.stats().ephemeron_entries, 1);
    assert_eq!(store.ephemeron_get(&table, key), Some(EphemeronValue::Field(Value::Number(2.0))));
    assert!(store.ephemeron_delete(&table, key));
    assert!(!store.ephemeron_delete(&table, key));
    assert_eq!(store.stats().ephemeron_entries, 0);
    let dead = obj(&store, &[]);
    store.unroot(dead).unwrap();
    store.collect();
    assert!(store.ephemeron_set(&table, dead, EphemeronValue::External).is_err());
    assert!(!store.ephemeron_has(&table, dead));
}

#[test]
fn freed_keys_report_their_external_entries() {
    let store = manual(1);
    let table = store.new_ephemeron_table();
    let dropped = store.new_ephemeron_table();
    let key = obj(&store, &[]);
    store.ephemeron_set(&table, key, EphemeronValue::External).unwrap();
    store.ephemeron_set(&dropped, key, EphemeronValue::External).unwrap();
    store.drop_ephemeron_table(&dropped);
    store.unroot(key).unwrap();
    store.collect();
    let mut out = Vec::new();
    store.take_dead_external(&mut out);
    assert_eq!(out, vec![(table.id(), key)]);
}

#[test]
fn an_entry_set_during_marking_keeps_its_value() {
    let (store, freeze) = Freeze::store(Phase::Mark, 1);
    let table = store.new_ephemeron_table();
    let key = obj(&store, &[]);
    let holder = obj(&store, &[]);
    let value = obj(&store, &[("v", Value::Bool(true))]);
    store.set(holder, "v", Value::Ref(value)).unwrap();
    store.unroot(value).unwrap();
    let cycle = freeze.start(&store);
    // The value moves from a field to an ephemeron entry of a live key.
    let v = store.get_rooted(holder, "v").unwrap().unwrap().as_ref().unwrap();
    store.ephemeron_set(&table, key, field(v)).unwrap();
    store.unroot(v).unwrap();
    store.delete(holder, "v").unwrap();
    freeze.resume();
    store.wait_for(cycle);
    assert!(store.is_alive(value));
    store.collect();
    assert!(store.is_alive(value), "and in later cycles, through the entry");
}

/// The store's byte total is the sum over live objects: entries set,
/// replaced, deleted, purged with their dropped table (while the key lives
/// on) and freed with their key all move it, and it returns to where it
/// started. (Objects carry no byte count of their own since the header
/// went to 16 bytes; this catches a path that forgets to report.)
#[test]
fn entry_bytes_return_to_zero_through_every_path() {
    let store = manual(1);
    let base = store.stats().bytes;
    let kept = store.new_ephemeron_table();
    let dropped = store.new_ephemeron_table();
    let key = obj(&store, &[]);
    let other = obj(&store, &[]);
    let with_key = store.stats().bytes;
    let big = EphemeronValue::Field(Value::Bytes(vec![7; 5_000].into()));
    store.ephemeron_set(&kept, key, big.clone()).unwrap();
    let after_set = store.stats().bytes;
    assert!(after_set >= with_key + 5_000, "an entry's value is counted");
    store.ephemeron_set(&kept, key, EphemeronValue::Field(Value::Number(1.0))).unwrap();
    assert!(store.stats().bytes < after_set - 4_000, "replacing the value drops its bytes");
    assert!(store.ephemeron_delete(&kept, key));
    assert_eq!(store.stats().bytes, with_key, "deleting the entry drops all of it");
    store.ephemeron_set(&dropped, key, big.clone()).unwrap();
    store.ephemeron_set(&kept, other, big).unwrap();
    store.drop_ephemeron_table(&dropped);
    store.collect(); // marking purges `dropped`'s entry from the live key
    let purged = store.stats().bytes;
    assert!(purged < with_key + 5_000 + 1_000, "a purged entry's bytes leave the total");
    assert!(purged >= with_key + 5_000, "the other table's entry is still counted");
    store.unroot(key).unwrap();
    store.unroot(other).unwrap();
    store.collect();
    assert_eq!(store.stats().objects, 0);
    assert_eq!(store.stats().bytes, base);
}
