//! Identifiers. Each is a newtype so a tenant id can never be passed where a wamid is expected.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

string_id!(
    /// A business using Switchboard. Every stored key starts with it.
    TenantId
);
string_id!(
    /// Meta's id of a business phone number (`metadata.phone_number_id`).
    PhoneNumberId
);
string_id!(
    /// Meta's message id (`wamid.…`).
    Wamid
);
string_id!(
    /// Switchboard's id of a message, known before Meta assigns a wamid.
    MessageId
);
string_id!(
    /// Switchboard's id of a conversation: one per business number and customer.
    ConversationId
);
string_id!(
    /// Switchboard's id of a customer of a tenant: derived from the tenant and the customer's
    /// WhatsApp identity, so it names one contact without showing their number.
    ContactId
);
string_id!(
    /// A person who signs in to a tenant (admin, manager or agent).
    UserId
);
string_id!(
    /// An API key's public id: it names the key in listings, audit entries and revocation; the
    /// key itself is shown once and never stored.
    ApiKeyId
);

/// `{prefix}_` + a lowercase ULID: unique, sortable by creation, safe in every key segment.
fn generated(prefix: &str) -> String {
    format!("{prefix}_{}", ulid::Ulid::new().to_string().to_lowercase())
}

impl TenantId {
    pub fn generate() -> Self {
        Self(generated("tn"))
    }
}

impl UserId {
    pub fn generate() -> Self {
        Self(generated("usr"))
    }
}

impl ApiKeyId {
    pub fn generate() -> Self {
        Self(generated("key"))
    }
}

impl MessageId {
    pub fn generate() -> Self {
        Self(format!(
            "msg_{}",
            ulid::Ulid::new().to_string().to_lowercase()
        ))
    }

    /// The id of the message a client's idempotency key asks for: a retry with the same key,
    /// after a crash or an expired claim, names the same message and meets the store's
    /// duplicate check and the queue's deduplication id instead of creating a second one.
    pub fn for_idempotency_key(tenant: &TenantId, scope: &str, key: &str) -> Self {
        let mut h = Sha256::new();
        for part in [tenant.as_str(), scope, key] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        let digest = h.finalize();
        Self(format!("msg_k{}", hex::encode(&digest[..13])))
    }
}

impl ConversationId {
    /// Derived, not generated: concurrent first messages from one customer must land in one
    /// conversation without a read-before-write.
    pub fn derive(phone_number_id: &PhoneNumberId, contact: &ContactKey) -> Self {
        let mut h = Sha256::new();
        h.update(phone_number_id.as_str().as_bytes());
        h.update([0u8]);
        h.update(contact.storage_key().as_bytes());
        let digest = h.finalize();
        Self(format!("conv_{}", hex::encode(&digest[..10])))
    }
}

impl ContactId {
    /// Derived, not generated: an inbound message and an import of the same customer must
    /// meet on one contact without a read. The tenant is hashed in, so one phone number has
    /// unrelated ids in different tenants.
    pub fn derive(tenant: &TenantId, contact: &ContactKey) -> Self {
        let mut h = Sha256::new();
        h.update(tenant.as_str().as_bytes());
        h.update([0u8]);
        h.update(contact.storage_key().as_bytes());
        let digest = h.finalize();
        Self(format!("ct_{}", hex::encode(&digest[..10])))
    }
}

/// Who the customer is. WhatsApp identifies users by phone number (`wa_id`) and, since
/// business-scoped user ids arrived, possibly only by a BSUID with no phone number at all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ContactKey {
    WaId(String),
    UserId(String),
}

impl ContactKey {
    pub fn storage_key(&self) -> String {
        match self {
            ContactKey::WaId(id) => format!("wa:{id}"),
            ContactKey::UserId(id) => format!("u:{id}"),
        }
    }

    pub fn parse_storage_key(s: &str) -> Option<Self> {
        if let Some(id) = s.strip_prefix("wa:") {
            Some(ContactKey::WaId(id.to_owned()))
        } else {
            s.strip_prefix("u:")
                .map(|id| ContactKey::UserId(id.to_owned()))
        }
    }

    pub fn id(&self) -> &str {
        match self {
            ContactKey::WaId(id) | ContactKey::UserId(id) => id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_name_one_message_per_tenant_and_scope() {
        let acme = TenantId::new("acme");
        let a = MessageId::for_idempotency_key(&acme, "api:messages", "k1");
        assert_eq!(
            a,
            MessageId::for_idempotency_key(&acme, "api:messages", "k1")
        );
        assert_ne!(
            a,
            MessageId::for_idempotency_key(&acme, "api:messages", "k2")
        );
        assert_ne!(
            a,
            MessageId::for_idempotency_key(&TenantId::new("globex"), "api:messages", "k1")
        );
        assert_ne!(a, MessageId::for_idempotency_key(&acme, "other", "k1"));
        assert!(a.as_str().len() <= 32, "{a}");
    }

    #[test]
    fn conversation_id_is_stable_and_distinguishes_identity_kinds() {
        let p = PhoneNumberId::from("106540352242922");
        let a = ConversationId::derive(&p, &ContactKey::WaId("15551234567".into()));
        let b = ConversationId::derive(&p, &ContactKey::WaId("15551234567".into()));
        let c = ConversationId::derive(&p, &ContactKey::UserId("15551234567".into()));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.as_str().starts_with("conv_"));
    }

    #[test]
    fn contact_ids_are_stable_per_tenant_and_hide_the_number() {
        let key = ContactKey::WaId("15551234567".into());
        let a = ContactId::derive(&TenantId::new("acme"), &key);
        assert_eq!(a, ContactId::derive(&TenantId::new("acme"), &key));
        assert_ne!(a, ContactId::derive(&TenantId::new("globex"), &key));
        assert!(a.as_str().starts_with("ct_") && !a.as_str().contains("5551234567"));
    }

    #[test]
    fn contact_key_round_trips() {
        for k in [
            ContactKey::WaId("1555".into()),
            ContactKey::UserId("US.13491208655302741918".into()),
        ] {
            assert_eq!(ContactKey::parse_storage_key(&k.storage_key()), Some(k));
        }
        assert_eq!(ContactKey::parse_storage_key("x:1"), None);
    }
}
