//! The secret that makes a `share()` value a capability.
//!
//! A store's key names it in handle ids, so it is public, and keys are
//! counted from 1, so they are easy to guess. What lets a thread attach is
//! the secret: 128 bits from the operating system's random source
//! (`getrandom`), made when the store is first shared, kept beside it in
//! the registry (`crate::sharing`) and carried by every `share()` value as
//! 32 lowercase hexadecimal digits. `Store.attach` compares the secret it
//! is given with the store's in constant time.
//!
//! Object ids are not secret: whoever holds a `Store` can `resolve` any
//! live id of it. Access is decided once, at attach.

use napi::bindgen_prelude::*;

use crate::errors::{type_error, CLOSED, UNKNOWN_STORE};

/// 128 random bits.
pub type Secret = [u8; 16];

/// A new secret, from the operating system's random source.
pub fn generate() -> std::result::Result<Secret, getrandom::Error> {
    let mut secret = [0; 16];
    getrandom::fill(&mut secret)?;
    Ok(secret)
}

/// The secret as a `share()` value carries it: 32 lowercase hexadecimal digits.
pub fn to_hex(secret: &Secret) -> String {
    secret.iter().map(|b| format!("{b:02x}")).collect()
}

/// The secret that `hex` spells (32 lowercase hexadecimal digits), if it
/// spells one. Its time depends on `hex` only, never on a store's secret.
pub fn parse(hex: &str) -> Option<Secret> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let hex = hex.as_bytes();
    if hex.len() != 32 {
        return None;
    }
    let mut secret = [0; 16];
    for (byte, pair) in secret.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(secret)
}

/// Whether `a` and `b` are the same secret, in a time that does not depend
/// on where they differ: every byte is compared, and each difference goes
/// through `black_box`, so the compiler cannot turn the loop into one that
/// stops at the first.
pub fn same(a: &Secret, b: &Secret) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= std::hint::black_box(x ^ y);
    }
    diff == 0
}

/// Why a `share()` value does not attach.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// No store is shared under its key: none ever was, or every thread
    /// that had it let it go (the registry forgets a store when it goes,
    /// so the two cannot be told apart).
    Unknown,
    /// A store is shared under its key, and its secret is another.
    WrongSecret,
    /// The store it names, secret and all, is being dropped by its last
    /// thread.
    Closed,
}

impl Refused {
    /// Throws the error `Store.attach` reports for this refusal.
    pub fn throw<T>(self, env: &Env) -> Result<T> {
        match self {
            Refused::Unknown => type_error(
                env,
                UNKNOWN_STORE,
                "Store.attach: no store is shared under this value: it was closed by every thread that had it, \
                 or the value was not made by store.share() in this process",
            ),
            Refused::WrongSecret => type_error(
                env,
                UNKNOWN_STORE,
                "Store.attach: the value's secret is not the one of the store its key names: \
                 only a value made by store.share() (or a copy of one) attaches",
            ),
            Refused::Closed => {
                type_error(env, CLOSED, "Store.attach: that store was closed by every thread that had it")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_only_lowercase_hex_parses() {
        let secret = generate().unwrap();
        let hex = to_hex(&secret);
        assert_eq!(hex.len(), 32);
        assert_eq!(parse(&hex), Some(secret));
        let bad = ["", "0", &"0".repeat(31), &"0".repeat(33), &format!("+{}", "0".repeat(31)), &"AB".repeat(16)];
        for bad in bad {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        assert_eq!(parse(&"0f".repeat(16)), Some([0x0f; 16]));
    }

    #[test]
    fn secrets_compare_by_every_byte() {
        let a = generate().unwrap();
        assert!(same(&a, &a));
        for i in 0..16 {
            let mut b = a;
            b[i] ^= 0x80;
            assert!(!same(&a, &b));
        }
        assert_ne!(a, generate().unwrap(), "two secrets from the operating system differ");
    }
}
