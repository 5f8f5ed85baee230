//! The answer to "record this message": stored now, or stored before.

use switchboard_domain::{ConversationId, MessageId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    New {
        conversation_id: ConversationId,
        message_id: MessageId,
    },
    /// Already recorded: nothing was written twice.
    Duplicate {
        conversation_id: ConversationId,
        message_id: MessageId,
    },
}

impl Recorded {
    pub fn is_new(&self) -> bool {
        matches!(self, Recorded::New { .. })
    }

    pub fn conversation_id(&self) -> &ConversationId {
        match self {
            Recorded::New {
                conversation_id, ..
            }
            | Recorded::Duplicate {
                conversation_id, ..
            } => conversation_id,
        }
    }

    pub fn message_id(&self) -> &MessageId {
        match self {
            Recorded::New { message_id, .. } | Recorded::Duplicate { message_id, .. } => message_id,
        }
    }
}
