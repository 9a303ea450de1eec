//! Objects against a model: a list of (key, value) in insertion order.
//! Random writes, reads and deletes, over few keys (shaped mode, shape
//! transitions, deletes of the last key) and many (dictionary mode, holes,
//! compaction), with the measure checked against the deltas every
//! operation reports.

use proptest::prelude::*;

use super::{Key, Object};
use crate::collector::barrier::Admitted;
use crate::heap::shape::{Shapes, MAX_KEYS};
use crate::value::Value;

#[derive(Clone, Debug)]
enum Op {
    Set(u16, u8),
    Delete(u16),
    Get(u16),
}

fn name(k: u16) -> String {
    // Some names long enough to live out of line.
    if k.is_multiple_of(7) {
        format!("a-long-key-name-number-{k}")
    } else {
        format!("k{k}")
    }
}

fn value(v: u8) -> Value {
    match v % 4 {
        0 => Value::Number(f64::from(v)),
        1 => Value::String("short".into()),
        2 => Value::String("a string longer than fourteen bytes".into()),
        _ => Value::Null,
    }
}

fn key<'a>(shapes: &Shapes, name: &'a str, by_id: bool) -> Key<'a> {
    match (by_id, shapes.keys.find(name)) {
        (true, Some(id)) => Key::Id(id),
        (_, id) => Key::Name(name, id),
    }
}

fn run(ops: &[Op], by_id: bool) {
    let shapes = Shapes::new();
    let mut object = Object::new();
    let mut model: Vec<(String, Value)> = Vec::new();
    let mut bytes = object.measure() as isize;
    for op in ops {
        match *op {
            Op::Set(k, v) => {
                let n = name(k);
                let (old, delta) = object.insert(&shapes, key(&shapes, &n, by_id), Admitted::unchecked(value(v)));
                let old = old.map(|o| o.unchecked());
                let expected_old = match model.iter_mut().find(|(mk, _)| *mk == n) {
                    Some((_, slot)) => Some(std::mem::replace(slot, value(v))),
                    None => {
                        model.push((n, value(v)));
                        None
                    }
                };
                assert_eq!(old, expected_old);
                bytes += delta;
            }
            Op::Delete(k) => {
                let n = name(k);
                let removed = object.remove(&shapes, key(&shapes, &n, by_id));
                let at = model.iter().position(|(mk, _)| *mk == n);
                let removed = removed.map(|(v, d)| (v.unchecked(), d));
                assert_eq!(removed.as_ref().map(|(v, _)| v), at.map(|i| &model[i].1));
                if let (Some((_, delta)), Some(i)) = (removed, at) {
                    model.remove(i);
                    bytes += delta;
                }
            }
            Op::Get(k) => {
                let n = name(k);
                let expected = model.iter().find(|(mk, _)| *mk == n).map(|(_, v)| v);
                assert_eq!(object.get(&shapes, key(&shapes, &n, by_id)), expected);
            }
        }
        assert_eq!(object.keys(&shapes), model.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>());
        assert_eq!(object.len(), model.len());
        assert_eq!(object.measure() as isize, bytes, "the reported deltas add up to the measure");
    }
}

fn ops(keys: u16, len: usize) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (0..keys, any::<u8>()).prop_map(|(k, v)| Op::Set(k, v)),
        1 => (0..keys).prop_map(Op::Delete),
        2 => (0..keys).prop_map(Op::Get),
    ];
    proptest::collection::vec(op, 0..len)
}

proptest! {
    #[test]
    fn few_keys_match_the_model(ops in ops(6, 60), by_id in any::<bool>()) {
        run(&ops, by_id);
    }

    #[test]
    fn many_keys_match_the_model(ops in ops(3 * MAX_KEYS as u16, if cfg!(miri) { 150 } else { 400 }), by_id in any::<bool>()) {
        run(&ops, by_id);
    }
}

#[test]
fn objects_with_the_same_keys_share_one_shape() {
    let shapes = Shapes::new();
    let make = || {
        let mut o = Object::new();
        for k in ["i", "next"] {
            let _ = o.insert(&shapes, Key::Name(k, shapes.keys.find(k)), Admitted::unchecked(Value::Null));
        }
        o
    };
    let (a, b) = (make(), make());
    assert!(std::ptr::eq(&**a.values.shape(shapes.root()), &**b.values.shape(shapes.root())));
    assert_eq!(shapes.count(), 3, "the empty shape, {{i}} and {{i, next}}");
    assert!(a.side.is_none(), "shaped objects need no side box");
}

#[test]
fn deleting_the_last_key_returns_to_the_shared_parent_and_others_make_a_dictionary() {
    let shapes = Shapes::new();
    let mut o = Object::new();
    for k in ["a", "b", "c"] {
        let _ = o.insert(&shapes, Key::Name(k, shapes.keys.find(k)), Admitted::unchecked(Value::Null));
    }
    let ab = shapes.extend(&shapes.extend(shapes.root(), "a", None).unwrap(), "b", None).unwrap();
    let _ = o.remove(&shapes, Key::Name("c", shapes.keys.find("c")));
    assert!(std::ptr::eq(&**o.values.shape(shapes.root()), &*ab), "back to {{a, b}}");
    let _ = o.remove(&shapes, Key::Name("a", shapes.keys.find("a")));
    assert!(o.dict_mut().is_some(), "a middle delete leaves the tree");
    assert_eq!(o.keys(&shapes), ["b"]);
}

#[test]
fn past_the_key_cap_an_object_is_a_dictionary() {
    let shapes = Shapes::new();
    let mut o = Object::new();
    for i in 0..=MAX_KEYS {
        let n = format!("k{i}");
        let _ = o.insert(&shapes, Key::Name(&n, shapes.keys.find(&n)), Admitted::unchecked(Value::Number(i as f64)));
    }
    assert!(o.dict_mut().is_some());
    assert_eq!(o.len(), MAX_KEYS + 1);
    assert_eq!(shapes.count(), MAX_KEYS + 1, "no shape past the cap");
}
