//! Faults queued by tests and consumed by send requests, one per matching request.

use crate::graph_error::GraphErrorAnswer;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::Duration;

/// How long a `delay` fault sleeps when the request does not say.
pub const DEFAULT_FAULT_DELAY: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 500, code 2.
    ServerError,
    /// HTTP 503, code 131016.
    ServiceUnavailable,
    /// HTTP 429, code 130429 (throughput).
    RateLimit,
    /// HTTP 400, code 131056.
    PairRateLimit,
    /// HTTP 400, code 131047 (customer service window closed).
    Reengagement,
    /// HTTP 400, code 131050 (the customer stopped marketing messages from the business).
    MarketingStopped,
    /// Sleeps `delay_ms`, then answers normally: for client timeouts.
    Delay,
    /// Accepts the send, then reports `failed` with code 131026 instead of delivery.
    Undeliverable,
    /// Accepts the send (and reports its statuses), then holds the answer `delay_ms`: the
    /// client times out on a message that did go out.
    LoseAnswer,
}

impl FaultKind {
    pub fn parse(name: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(name.trim().to_owned())).ok()
    }
}

/// What a send request should do instead of succeeding plainly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultEffect {
    Reject(GraphErrorAnswer),
    Delay(Duration),
    AcceptThenFail,
    AcceptThenHang(Duration),
}

impl FaultKind {
    pub fn effect(self, delay: Option<Duration>) -> FaultEffect {
        match self {
            FaultKind::ServerError => {
                FaultEffect::Reject(GraphErrorAnswer::service_temporarily_unavailable())
            }
            FaultKind::ServiceUnavailable => {
                FaultEffect::Reject(GraphErrorAnswer::service_unavailable())
            }
            FaultKind::RateLimit => FaultEffect::Reject(GraphErrorAnswer::throughput_reached()),
            FaultKind::PairRateLimit => FaultEffect::Reject(GraphErrorAnswer::pair_rate_limit()),
            FaultKind::Reengagement => FaultEffect::Reject(GraphErrorAnswer::reengagement()),
            FaultKind::MarketingStopped => {
                FaultEffect::Reject(GraphErrorAnswer::marketing_stopped())
            }
            FaultKind::Delay => FaultEffect::Delay(delay.unwrap_or(DEFAULT_FAULT_DELAY)),
            FaultKind::Undeliverable => FaultEffect::AcceptThenFail,
            FaultKind::LoseAnswer => {
                FaultEffect::AcceptThenHang(delay.unwrap_or(DEFAULT_FAULT_DELAY))
            }
        }
    }
}

/// A queued fault, as posted to `POST /sandbox/faults`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub kind: FaultKind,
    /// How many matching requests it affects.
    #[serde(default = "one")]
    pub times: u32,
    /// Only requests to this recipient (`to` or `recipient`); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            times: 1,
            to: None,
            delay_ms: None,
        }
    }

    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    pub fn to(mut self, recipient: impl Into<String>) -> Self {
        self.to = Some(recipient.into());
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay_ms = Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        self
    }

    pub fn effect(&self) -> FaultEffect {
        self.kind.effect(self.delay_ms.map(Duration::from_millis))
    }

    fn matches(&self, recipient: &str) -> bool {
        self.to.as_deref().is_none_or(|to| to == recipient)
    }
}

/// Faults in the order they were queued.
#[derive(Debug, Default)]
pub struct FaultQueue {
    pending: VecDeque<Fault>,
}

impl FaultQueue {
    pub fn push(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.pending.push_back(fault);
        }
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }

    pub fn pending(&self) -> Vec<Fault> {
        self.pending.iter().cloned().collect()
    }

    /// Uses up one application of the oldest fault that applies to `recipient`.
    pub fn take_for(&mut self, recipient: &str) -> Option<Fault> {
        let index = self.pending.iter().position(|f| f.matches(recipient))?;
        let fault = self.pending.get_mut(index)?;
        fault.times -= 1;
        let taken = fault.clone();
        if fault.times == 0 {
            self.pending.remove(index);
        }
        Some(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_in_order_per_recipient_and_run_out() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::new(FaultKind::Reengagement).to("111"));
        queue.push(Fault::new(FaultKind::RateLimit).times(2));
        queue.push(Fault::new(FaultKind::ServerError).times(0));

        assert_eq!(queue.take_for("222").unwrap().kind, FaultKind::RateLimit);
        assert_eq!(queue.take_for("111").unwrap().kind, FaultKind::Reengagement);
        assert_eq!(queue.take_for("111").unwrap().kind, FaultKind::RateLimit);
        assert_eq!(queue.take_for("111"), None);
        assert!(queue.pending().is_empty());
    }

    #[test]
    fn reads_the_documented_request_shape() {
        let fault: Fault =
            serde_json::from_str(r#"{"kind":"delay","delay_ms":50,"to":"15551234567"}"#).unwrap();
        assert_eq!(fault.times, 1);
        assert_eq!(
            fault.effect(),
            FaultEffect::Delay(Duration::from_millis(50))
        );
        assert_eq!(
            FaultKind::parse("pair_rate_limit"),
            Some(FaultKind::PairRateLimit)
        );
        assert_eq!(FaultKind::parse("nonsense"), None);
        match FaultKind::RateLimit.effect(None) {
            FaultEffect::Reject(answer) => assert_eq!(answer.code, 130429),
            other => panic!("{other:?}"),
        }
    }
}
