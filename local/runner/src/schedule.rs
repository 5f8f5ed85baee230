//! EventBridge schedules, locally: a function with a `rate(...)` schedule is invoked that
//! often, the way EventBridge would; `cron(...)` schedules are not run here (tests invoke
//! those functions' handlers themselves).

use std::future::Future;
use std::time::Duration;

/// The period of `rate(N minute|minutes|hour|hours|day|days)`; `None` for anything else.
pub fn rate_period(expression: &str) -> Option<Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let mut parts = inner.split_whitespace();
    let n: u64 = parts.next()?.parse().ok().filter(|n| *n > 0)?;
    let unit = match parts.next()? {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 60 * 60,
        "day" | "days" => 24 * 60 * 60,
        _ => return None,
    };
    parts
        .next()
        .is_none()
        .then(|| Duration::from_secs(n * unit))
}

/// Runs `invoke` every `period`, the first time one period from now, until aborted.
pub async fn every<F, Fut>(period: Duration, mut invoke: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        invoke().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_eventbridge_rates() {
        assert_eq!(rate_period("rate(1 hour)"), Some(Duration::from_secs(3600)));
        assert_eq!(
            rate_period("rate(5 minutes)"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            rate_period("rate(1 day)"),
            Some(Duration::from_secs(86_400))
        );
        for other in [
            "cron(0 3 * * ? *)",
            "rate(0 hours)",
            "rate(1 fortnight)",
            "rate(1 hour",
        ] {
            assert_eq!(rate_period(other), None, "{other}");
        }
    }
}
