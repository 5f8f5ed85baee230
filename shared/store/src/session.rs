//! Web sessions of the agent console: the cookie carries a random token; the item holds its
//! digest's owner, the digest of the CSRF token the console echoes, and the session's end.

use crate::error::StoreError;
use crate::expression::Placeholders;
use crate::item::{from_item, keyed, n};
use crate::keys;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use switchboard_domain::{TenantId, UserId};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub token_digest: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// The user's token generation at sign-in.
    pub generation: u64,
    /// SHA-256 of the CSRF token handed out with the session.
    pub csrf_digest: String,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::timestamp")]
    pub valid_until: OffsetDateTime,
}

impl Store {
    pub async fn put_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let mut item = keyed(
            session,
            "session",
            keys::session_pk(&session.tenant_id, &session.token_digest)?,
            keys::SESSION_SK,
        )?;
        item.insert(
            keys::EXPIRES_AT.to_owned(),
            n(crate::timestamp::epoch_seconds_ceil(session.valid_until)),
        );
        self.put("put_session", item).await
    }

    /// The session, if it exists and has not ended at `now` (TTL deletion lags; this does not).
    pub async fn find_session(
        &self,
        tenant: &TenantId,
        token_digest: &str,
        now: OffsetDateTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let session: Option<SessionRecord> = self
            .get(
                "find_session",
                keys::session_pk(tenant, token_digest)?,
                keys::SESSION_SK,
            )
            .await?
            .map(from_item)
            .transpose()?;
        Ok(session.filter(|s| &s.tenant_id == tenant && s.valid_until > now))
    }

    pub async fn delete_session(
        &self,
        tenant: &TenantId,
        token_digest: &str,
    ) -> Result<(), StoreError> {
        self.delete_if(
            "delete_session",
            keys::session_pk(tenant, token_digest)?,
            keys::SESSION_SK,
            None,
            &Placeholders::default(),
        )
        .await?;
        Ok(())
    }
}
