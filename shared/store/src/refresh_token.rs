//! Refresh tokens, rotated on every use. Each sign-in starts a family; a refresh marks the
//! presented token used and adds its successor in the same transaction. A used token presented
//! again means it was copied: the whole family is revoked, so the thief's successor dies too.

use crate::error::StoreError;
use crate::expression::Placeholders;
use crate::item::{Item, from_item, key, keyed, n, s};
use crate::keys;
use crate::store::Store;
use crate::transaction::{Transacted, put_if_absent};
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use switchboard_domain::{TenantId, UserId};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshTokenRecord {
    /// SHA-256 of the whole token.
    pub token_digest: String,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub family_id: String,
    #[serde(with = "crate::timestamp")]
    pub issued_at: OffsetDateTime,
    /// The family's end: rotation never extends a sign-in past it.
    #[serde(with = "crate::timestamp")]
    pub valid_until: OffsetDateTime,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub used_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshFamily {
    pub family_id: String,
    pub user_id: UserId,
    /// The user's token generation at sign-in.
    pub generation: u64,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::timestamp")]
    pub valid_until: OffsetDateTime,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub revoked_at: Option<OffsetDateTime>,
}

/// How a refresh ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    Rotated,
    /// Unknown, expired, or from a revoked family: refused, nothing changed.
    Refused,
}

fn with_ttl(mut item: Item, at: OffsetDateTime) -> Item {
    item.insert(
        keys::EXPIRES_AT.to_owned(),
        n(crate::timestamp::epoch_seconds_ceil(at)),
    );
    item
}

impl Store {
    fn refresh_item(record: &RefreshTokenRecord) -> Result<Item, StoreError> {
        Ok(with_ttl(
            keyed(
                record,
                "refresh_token",
                keys::refresh_token_pk(&record.tenant_id, &record.token_digest)?,
                keys::REFRESH_TOKEN_SK,
            )?,
            record.valid_until,
        ))
    }

    /// A sign-in: the family and its first token.
    pub async fn start_refresh_family(
        &self,
        family: &RefreshFamily,
        first: &RefreshTokenRecord,
    ) -> Result<(), StoreError> {
        let family_item = with_ttl(
            keyed(
                family,
                "refresh_family",
                keys::refresh_family_pk(&first.tenant_id, &family.family_id)?,
                keys::REFRESH_FAMILY_SK,
            )?,
            family.valid_until,
        );
        let items = vec![
            put_if_absent(&self.table, family_item)?,
            put_if_absent(&self.table, Self::refresh_item(first)?)?,
        ];
        match self.transact("start_refresh_family", items).await? {
            Transacted::Committed => Ok(()),
            Transacted::ConditionFailed(_) => Err(StoreError::InvalidKey {
                kind: "refresh token",
                reason: "already exists",
            }),
        }
    }

    pub async fn find_refresh_token(
        &self,
        tenant: &TenantId,
        token_digest: &str,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let record: Option<RefreshTokenRecord> = self
            .get(
                "find_refresh_token",
                keys::refresh_token_pk(tenant, token_digest)?,
                keys::REFRESH_TOKEN_SK,
            )
            .await?
            .map(from_item)
            .transpose()?;
        Ok(record.filter(|r| &r.tenant_id == tenant))
    }

    pub async fn get_refresh_family(
        &self,
        tenant: &TenantId,
        family_id: &str,
    ) -> Result<Option<RefreshFamily>, StoreError> {
        self.get(
            "get_refresh_family",
            keys::refresh_family_pk(tenant, family_id)?,
            keys::REFRESH_FAMILY_SK,
        )
        .await?
        .map(from_item)
        .transpose()
    }

    /// Exchanges `old` (as read) for `next`: `old` must be unused and unexpired and its family
    /// not revoked, all checked in the writing transaction. A token already used is reuse: the
    /// family is revoked and `RefreshTokenReused` returned.
    pub async fn rotate_refresh_token(
        &self,
        old: &RefreshTokenRecord,
        next: &RefreshTokenRecord,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        if old.used_at.is_some() {
            self.revoke_refresh_family(&old.tenant_id, &old.family_id, now)
                .await?;
            return Err(StoreError::RefreshTokenReused);
        }
        let now_s = crate::timestamp::encode(now)?;
        let mut p = Placeholders::default();
        let update_expr = format!(
            "SET {used} = {now}",
            used = p.name("used_at"),
            now = p.value("now", s(now_s.as_str())),
        );
        let condition = format!(
            "attribute_exists({pk}) AND attribute_not_exists({used}) AND {expires} > {now}",
            pk = p.name(keys::PK),
            used = p.name("used_at"),
            expires = p.name("valid_until"),
            now = p.value("now", s(now_s.as_str())),
        );
        let update = Update::builder()
            .table_name(self.table.as_ref())
            .set_key(Some(key(
                keys::refresh_token_pk(&old.tenant_id, &old.token_digest)?,
                keys::REFRESH_TOKEN_SK,
            )))
            .update_expression(update_expr)
            .condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .build()
            .map_err(|e| StoreError::Encode(e.to_string()))?;
        let mut fp = Placeholders::default();
        let family_condition = format!(
            "attribute_exists({pk}) AND attribute_not_exists({revoked})",
            pk = fp.name(keys::PK),
            revoked = fp.name("revoked_at"),
        );
        let family_check = ConditionCheck::builder()
            .table_name(self.table.as_ref())
            .set_key(Some(key(
                keys::refresh_family_pk(&old.tenant_id, &old.family_id)?,
                keys::REFRESH_FAMILY_SK,
            )))
            .condition_expression(family_condition)
            .set_expression_attribute_names(fp.names())
            .build()
            .map_err(|e| StoreError::Encode(e.to_string()))?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder()
                .condition_check(family_check)
                .build(),
            put_if_absent(&self.table, Self::refresh_item(next)?)?,
        ];
        match self.transact("rotate_refresh_token", items).await? {
            Transacted::Committed => Ok(Rotation::Rotated),
            Transacted::ConditionFailed(failed) => {
                // A concurrent refresh with the same token won the race: that is reuse too.
                if failed.contains(&0)
                    && let Some(current) = self
                        .find_refresh_token(&old.tenant_id, &old.token_digest)
                        .await?
                    && current.used_at.is_some()
                {
                    self.revoke_refresh_family(&old.tenant_id, &old.family_id, now)
                        .await?;
                    return Err(StoreError::RefreshTokenReused);
                }
                Ok(Rotation::Refused)
            }
        }
    }

    /// Ends every token of the family (sign-out, detected reuse).
    pub async fn revoke_refresh_family(
        &self,
        tenant: &TenantId,
        family_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let update = format!(
            "SET {revoked} = if_not_exists({revoked}, {now})",
            revoked = p.name("revoked_at"),
            now = p.value("now", s(crate::timestamp::encode(now)?)),
        );
        let condition = format!("attribute_exists({})", p.name(keys::PK));
        self.update_if(
            "revoke_refresh_family",
            keys::refresh_family_pk(tenant, family_id)?,
            keys::REFRESH_FAMILY_SK,
            &update,
            Some(&condition),
            &p,
        )
        .await?;
        Ok(())
    }
}
