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
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageLocation {
    pub(crate) pk: String,
    pub(crate) sk: String,
}

/// Where one of a tenant's messages is stored, as its pointer said when it was read (or as the
/// caller's own transaction wrote it). A job that reads the pointer once writes the message
/// through this, instead of reading the pointer again for every write; the message id and
/// sort key never change, so what was read stays true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAt {
    tenant: TenantId,
    pointer: MessagePointer,
    location: MessageLocation,
}

impl MessageAt {
    pub fn message_id(&self) -> &MessageId {
        &self.pointer.message_id
    }

    /// The pointer as read, for a call made for `tenant` only.
    pub(crate) fn pointer(&self, tenant: &TenantId) -> Result<&MessagePointer, StoreError> {
        self.location(tenant)?;
        Ok(&self.pointer)
    }

    /// The item's key, for a call made for `tenant` only: a location read for one tenant
    /// never reaches another's items.
    pub(crate) fn location(&self, tenant: &TenantId) -> Result<&MessageLocation, StoreError> {
        if &self.tenant != tenant {
            return Err(StoreError::InvalidKey {
                kind: "message location",
                reason: "belongs to another tenant",
            });
        }
        Ok(&self.location)
    }
}

impl MessagePointer {
    pub(crate) fn location(&self, tenant: &TenantId) -> Result<MessageLocation, StoreError> {
        Ok(MessageLocation {
            pk: keys::conversation_pk(tenant, &self.conversation_id)?,
            sk: self.message_sk.clone(),
        })
    }

    pub(crate) fn at(&self, tenant: &TenantId) -> Result<MessageAt, StoreError> {
        Ok(MessageAt {
            tenant: tenant.clone(),
            pointer: self.clone(),
            location: self.location(tenant)?,
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
