//! Physical names for local resources: `{prefix}-{logical id, lowercased}`, so every prefix
//! (one per developer stack or test) gets its own resources in the one emulator.

/// Longest accepted prefix: leaves room for the logical id within S3's 63 characters.
pub const MAX_PREFIX_LEN: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "stack prefix {0:?} must be 1 to {MAX_PREFIX_LEN} characters of a-z, 0-9 and '-', start with a letter and not end with '-'"
)]
pub struct InvalidPrefix(pub String);

/// Prefixes double as `AWS::StackName` and as the start of bucket names, so they follow the
/// stricter of both rules.
pub fn check_prefix(prefix: &str) -> Result<(), InvalidPrefix> {
    let valid = !prefix.is_empty()
        && prefix.len() <= MAX_PREFIX_LEN
        && prefix.starts_with(|c: char| c.is_ascii_lowercase())
        && !prefix.ends_with('-')
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(InvalidPrefix(prefix.to_owned()))
    }
}

/// `{prefix}-{logical id}` lowercased, plus `suffix` (e.g. `.fifo`), at most `max_len` long.
/// Too-long names keep their start and end in a hash of the full name, so they stay unique.
pub fn physical_name(prefix: &str, logical_id: &str, suffix: &str, max_len: usize) -> String {
    let base: String = format!("{prefix}-{logical_id}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if base.len() + suffix.len() <= max_len {
        return format!("{base}{suffix}");
    }
    let hash = format!("{:08x}", fnv1a(base.as_bytes()) as u32);
    let keep = max_len.saturating_sub(suffix.len() + hash.len() + 1);
    format!("{}-{hash}{suffix}", base[..keep].trim_end_matches('-'))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prefix_dash_lowercased_logical_id() {
        assert_eq!(
            physical_name("switchboard-dev", "DataBucket", "", 63),
            "switchboard-dev-databucket"
        );
        assert_eq!(
            physical_name("switchboard-dev", "OutboundQueue", ".fifo", 80),
            "switchboard-dev-outboundqueue.fifo"
        );
    }

    #[test]
    fn long_names_are_shortened_uniquely() {
        let prefix = "a".repeat(40);
        let one = physical_name(&prefix, "InboundDeadLetterQueueNumberOne", "", 63);
        let two = physical_name(&prefix, "InboundDeadLetterQueueNumberTwo", "", 63);
        assert_eq!(one.len(), 63);
        assert_ne!(one, two);
        let fifo = physical_name(
            &prefix,
            "OutboundDeadLetterQueueWithAVeryLongName",
            ".fifo",
            80,
        );
        assert!(fifo.len() <= 80 && fifo.ends_with(".fifo"), "{fifo}");
    }

    #[test]
    fn prefixes_are_checked() {
        for ok in ["switchboard-dev", "e2e-01jabc", "p"] {
            assert_eq!(check_prefix(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "Dev",
            "9lives",
            "dev-",
            "dev_x",
            "dev.x",
            &"a".repeat(41),
        ] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }
}
