//! Message ids shaped like Meta's: `wamid.` + base64 of a small binary record holding the
//! counterpart's number and a random hex id. Realistic length and alphabet catch storage and
//! parsing code that assumes short or URL-safe ids.

/// Which side wrote the message; Meta's ids encode it and so do these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Sent by the business (returned by the messages endpoint).
    Outbound,
    /// Written by a customer (carried by incoming message webhooks).
    Inbound,
}

pub fn new_wamid(counterpart: &str, direction: Direction) -> String {
    let (marker, random) = match direction {
        Direction::Outbound => (0x11u8, hex::encode_upper(rand::random::<[u8; 9]>())),
        Direction::Inbound => (0x12u8, hex::encode_upper(rand::random::<[u8; 10]>())),
    };
    let counterpart = &counterpart.as_bytes()[..counterpart.len().min(200)];
    let mut record = Vec::with_capacity(counterpart.len() + random.len() + 10);
    record.extend_from_slice(&[0x1c, 0x18, counterpart.len() as u8]);
    record.extend_from_slice(counterpart);
    record.extend_from_slice(&[0x15, 0x02, 0x00, marker, 0x18, random.len() as u8]);
    record.extend_from_slice(random.as_bytes());
    record.push(0x00);
    format!("wamid.{}", base64(&record))
}

/// Standard alphabet with padding, as in Meta's ids.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn ids_look_like_metas_and_do_not_repeat() {
        let a = new_wamid("16505551234", Direction::Outbound);
        let b = new_wamid("16505551234", Direction::Outbound);
        assert_ne!(a, b);
        // Meta's outbound example for the same kind of record: same prefix, same length.
        let meta = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCOTY3NDc0NDFDRUI3NTA0Q0UA";
        assert_eq!(a.len(), meta.len());
        assert!(a.starts_with("wamid.HBgLMTY1MDU1NTEyMzQVAgARGB"), "{a}");
        let inbound = new_wamid("16505551234", Direction::Inbound);
        assert!(
            inbound.starts_with("wamid.HBgLMTY1MDU1NTEyMzQVAgASGB"),
            "{inbound}"
        );
    }
}
