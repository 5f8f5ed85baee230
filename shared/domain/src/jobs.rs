//! Messages between functions on queues. Small on purpose: the message itself is stored
//! first, the job only points at it, so a redelivered job always sees the latest state.

use crate::ids::{MessageId, TenantId};
use serde::{Deserialize, Serialize};

/// On the outbound FIFO queue: send this stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundJob {
    pub tenant_id: TenantId,
    pub message_id: MessageId,
}

impl OutboundJob {
    /// One FIFO group per tenant and recipient: a customer sees messages in order, and one
    /// slow recipient does not hold up the rest.
    pub fn group_id(tenant: &TenantId, recipient: &str) -> String {
        format!("{tenant}:{recipient}")
    }
}
