//! After accepting a send, Meta reports its progress by webhook: `sent`, `delivered`, `read`
//! (or `failed`). The sandbox does the same, in order, one status at a time.

use crate::clock::unix_now;
use crate::state::SandboxState;
use crate::webhook_body::{self, Business, Customer, DeliveryStatus, Pricing, StatusUpdate};

#[derive(Debug, Clone)]
pub struct StatusPlan {
    pub business: Business,
    pub wamid: String,
    pub recipient: Customer,
    pub pricing: Pricing,
    pub undeliverable: bool,
    /// The send's `biz_opaque_callback_data`, echoed in every status as Meta does.
    pub callback_data: Option<String>,
}

impl StatusPlan {
    fn sequence(&self) -> &'static [DeliveryStatus] {
        if self.undeliverable {
            &[DeliveryStatus::Sent, DeliveryStatus::Undeliverable]
        } else {
            &[
                DeliveryStatus::Sent,
                DeliveryStatus::Delivered,
                DeliveryStatus::Read,
            ]
        }
    }
}

/// Runs in the background; stops early when the sandbox shuts down.
pub fn spawn(state: SandboxState, plan: StatusPlan) {
    tokio::spawn(async move {
        let stop = state.clone();
        tokio::select! {
            () = report(&state, &plan) => {}
            () = stop.shutting_down() => {}
        }
    });
}

async fn report(state: &SandboxState, plan: &StatusPlan) {
    let delay = state.config().status_delay;
    for &status in plan.sequence() {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let body = webhook_body::status(
            &plan.business,
            &StatusUpdate {
                wamid: plan.wamid.clone(),
                status,
                timestamp: unix_now(),
                recipient: plan.recipient.clone(),
                pricing: plan.pricing.clone(),
                callback_data: plan.callback_data.clone(),
            },
        );
        let bytes = body.to_string().into_bytes();
        let outcome = state.deliver_webhook(&bytes, None).await;
        tracing::debug!(wamid = %plan.wamid, ?status, http_status = outcome.status, "status webhook");
    }
}
