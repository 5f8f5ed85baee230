//! Figures the benches compute the same way from what the Meta sandbox accepted.

use time::OffsetDateTime;

/// The most instants within any one second (a window `[t, t + 1 s)` starting at an instant),
/// of instants sorted oldest first: how close a number came to its rate.
pub fn max_in_one_second(sorted: &[OffsetDateTime]) -> usize {
    let mut best = 0;
    let mut end = 0;
    for (start, t) in sorted.iter().enumerate() {
        while end < sorted.len() && sorted[end] < *t + time::Duration::SECOND {
            end += 1;
        }
        best = best.max(end - start);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_busiest_second() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let ms = |n: i64| t0 + time::Duration::milliseconds(n);
        assert_eq!(max_in_one_second(&[]), 0);
        assert_eq!(
            max_in_one_second(&[ms(0), ms(500), ms(999), ms(1000), ms(1400)]),
            4
        );
    }
}
