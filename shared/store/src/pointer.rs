//! Pointers to a message item, which lives in its conversation's partition: one keyed by our
//! message id, one by Meta's wamid. Each pointer is its own partition, so a tenant's lookups
//! spread across the table instead of piling onto one key.

use crate::error::StoreError;
use crate::item::{Item, from_item, keyed};
use crate::keys;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use switchboard_domain::{ConversationId, MessageId, TenantId, Wamid};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MessagePointer {
    pub(crate) conversation_id: ConversationId,
    pub(crate) message_id: MessageId,
    pub(crate) message_sk: String,
}

/// Where a message item is.
#[derive(Debug, Clone)]
pub(crate) struct MessageLocation {
    pub(crate) pk: String,
    pub(crate) sk: String,
}

impl MessagePointer {
    pub(crate) fn location(&self, tenant: &TenantId) -> Result<MessageLocation, StoreError> {
        Ok(MessageLocation {
            pk: keys::conversation_pk(tenant, &self.conversation_id)?,
            sk: self.message_sk.clone(),
        })
    }

    pub(crate) fn by_message_id_item(&self, tenant: &TenantId) -> Result<Item, StoreError> {
        keyed(
            self,
            "message_pointer",
            keys::message_pointer_pk(tenant, &self.message_id)?,
            keys::POINTER_SK,
        )
    }

    pub(crate) fn by_wamid_item(
        &self,
        tenant: &TenantId,
        wamid: &Wamid,
    ) -> Result<Item, StoreError> {
        keyed(
            self,
            "wamid_pointer",
            keys::wamid_pk(tenant, wamid)?,
            keys::POINTER_SK,
        )
    }
}

impl Store {
    pub(crate) async fn message_pointer(
        &self,
        tenant: &TenantId,
        id: &MessageId,
    ) -> Result<Option<MessagePointer>, StoreError> {
        self.get(
            "get_message_pointer",
            keys::message_pointer_pk(tenant, id)?,
            keys::POINTER_SK,
        )
        .await?
        .map(from_item)
        .transpose()
    }

    pub(crate) async fn wamid_pointer(
        &self,
        tenant: &TenantId,
        wamid: &Wamid,
    ) -> Result<Option<MessagePointer>, StoreError> {
        self.get(
            "get_wamid_pointer",
            keys::wamid_pk(tenant, wamid)?,
            keys::POINTER_SK,
        )
        .await?
        .map(from_item)
        .transpose()
    }
}
