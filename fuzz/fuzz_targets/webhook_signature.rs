//! `X-Hub-Signature-256`: any app secret, header and body through `signature::verify`, which
//! must never panic and must accept exactly the signature `sign` makes (its hex digits in
//! either case, surrounding whitespace ignored). Headers are either arbitrary or the right
//! one with one byte replaced, so near misses are tried as well as noise.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_meta::signature::{self, SignatureError, Verifier};

const PREFIX: &str = "sha256=";

/// An app secret, an arbitrary header, an optional edit of the right header (position and
/// byte), and a body.
type SignatureCase = (Vec<u8>, String, Option<(u8, u8)>, Vec<u8>);

fuzz_target!(|input: SignatureCase| {
    let (secret, header, edit, body) = input;
    let verifier = Verifier::new(&secret);
    let expected = signature::sign(&secret, &body);
    let header = match edit {
        Some((at, byte)) if byte.is_ascii() => {
            let mut near = expected.clone().into_bytes();
            let at = usize::from(at) % near.len();
            near[at] = byte;
            String::from_utf8(near).expect("ASCII stays UTF-8")
        }
        _ => header,
    };

    let result = signature::verify(&secret, &body, Some(&header));
    assert_eq!(verifier.verify(&body, Some(&header)), result);
    let right = header
        .trim()
        .strip_prefix(PREFIX)
        .is_some_and(|hex| hex.to_ascii_lowercase() == expected[PREFIX.len()..]);
    assert_eq!(result.is_ok(), right, "verify disagrees with sign");
    assert_ne!(result, Err(SignatureError::Missing), "a header was given");

    assert_eq!(verifier.verify(&body, Some(&expected)), Ok(()));
    let upper = format!("{PREFIX}{}", expected[PREFIX.len()..].to_ascii_uppercase());
    assert_eq!(verifier.verify(&body, Some(&upper)), Ok(()));
    assert_eq!(verifier.verify(&body, None), Err(SignatureError::Missing));
});
