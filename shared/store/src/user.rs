//! People who sign in: a tenant's admins, managers and agents. A user item holds what the
//! policies allow (name, e-mail, role, password hash); the e-mail claim is the one global item,
//! because a sign-in names an address and not a tenant.

use crate::cursor::Cursors;
use crate::error::StoreError;
use crate::expression::Placeholders;
use crate::item::{Item, from_item, keyed, s};
use crate::keys;
use crate::listing::IndexListing;
use crate::page::Page;
use crate::store::{Conditional, Store};
use crate::tenant::Tenant;
use crate::transaction::{Transacted, put_if_absent};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use switchboard_domain::{Role, TenantId, UserId};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Invited, no password yet: cannot sign in until the invitation is accepted.
    Invited,
    Active,
    /// Signs in no more; kept for the audit trail until the account is deleted.
    Deactivated,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub name: String,
    /// Normalized (trimmed, lowercase).
    pub email: String,
    pub role: Role,
    pub status: UserStatus,
    /// bcrypt; absent while invited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// SHA-256 of the pending invitation's secret, while one is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_digest: Option<String>,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub invitation_expires_at: Option<OffsetDateTime>,
    /// Every access token, refresh token and session carries the generation it was issued
    /// in; raising it (password change, deactivation, role change) refuses them all at once.
    #[serde(default)]
    pub token_generation: u64,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::timestamp")]
    pub updated_at: OffsetDateTime,
}

impl fmt::Debug for UserRecord {
    /// No e-mail, no hash: records end up in logs through errors.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("role", &self.role)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The e-mail claim: which user of which tenant an address signs in as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailClaim {
    pub tenant_id: TenantId,
    pub user_id: UserId,
}

/// Addresses compare without case or surrounding space.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The digest an address is keyed by.
pub fn email_digest(email: &str) -> String {
    hex::encode(Sha256::digest(normalize_email(email).as_bytes()))
}

/// What changes on a user, all at once and only where the user is in the expected state.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub password_hash: Option<String>,
    /// Ends a pending invitation.
    pub clear_invitation: bool,
    /// Refuses every token and session issued until now.
    pub revoke_tokens: bool,
}

impl Store {
    fn user_item(user: &UserRecord) -> Result<Item, StoreError> {
        let mut item = keyed(
            user,
            "user",
            keys::user_pk(&user.tenant_id, &user.id)?,
            keys::USER_SK,
        )?;
        item.insert(
            keys::GSI1PK.to_owned(),
            s(keys::users_gsi1pk(&user.tenant_id)?),
        );
        item.insert(keys::GSI1SK.to_owned(), s(user.id.as_str()));
        Ok(item)
    }

    fn email_item(user: &UserRecord) -> Result<Item, StoreError> {
        keyed(
            &EmailClaim {
                tenant_id: user.tenant_id.clone(),
                user_id: user.id.clone(),
            },
            "email_claim",
            keys::email_pk(&email_digest(&user.email))?,
            keys::EMAIL_SK,
        )
    }

    /// A new tenant and its first admin, together or not at all. `EmailTaken` when the address
    /// already signs in somewhere.
    pub async fn create_tenant_with_admin(
        &self,
        tenant: &Tenant,
        admin: &UserRecord,
    ) -> Result<(), StoreError> {
        let tenant_item = keyed(
            tenant,
            "tenant",
            keys::tenant_pk(&tenant.id)?,
            keys::TENANT_SK,
        )?;
        let items = vec![
            put_if_absent(&self.table, Self::email_item(admin)?)?,
            put_if_absent(&self.table, tenant_item)?,
            put_if_absent(&self.table, Self::user_item(admin)?)?,
        ];
        match self.transact("create_tenant_with_admin", items).await? {
            Transacted::Committed => Ok(()),
            Transacted::ConditionFailed(failed) if failed.contains(&0) => {
                Err(StoreError::EmailTaken)
            }
            Transacted::ConditionFailed(_) => Err(StoreError::InvalidKey {
                kind: "tenant id",
                reason: "already exists",
            }),
        }
    }

    /// Adds a user (an invitation) to an existing tenant. `EmailTaken` as above.
    pub async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        let items = vec![
            put_if_absent(&self.table, Self::email_item(user)?)?,
            put_if_absent(&self.table, Self::user_item(user)?)?,
        ];
        match self.transact("create_user", items).await? {
            Transacted::Committed => Ok(()),
            Transacted::ConditionFailed(failed) if failed.contains(&0) => {
                Err(StoreError::EmailTaken)
            }
            Transacted::ConditionFailed(_) => Err(StoreError::InvalidKey {
                kind: "user id",
                reason: "already exists",
            }),
        }
    }

    /// Who signs in with this address, if anyone.
    pub async fn find_email(&self, email: &str) -> Result<Option<EmailClaim>, StoreError> {
        self.get(
            "find_email",
            keys::email_pk(&email_digest(email))?,
            keys::EMAIL_SK,
        )
        .await?
        .map(from_item)
        .transpose()
    }

    pub async fn get_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
    ) -> Result<Option<UserRecord>, StoreError> {
        let user: Option<UserRecord> = self
            .get("get_user", keys::user_pk(tenant, id)?, keys::USER_SK)
            .await?
            .map(from_item)
            .transpose()?;
        // The key already confines the read to the tenant; this keeps a malformed item out too.
        Ok(user.filter(|u| &u.tenant_id == tenant))
    }

    /// The tenant's people, oldest first.
    pub async fn list_users(
        &self,
        tenant: &TenantId,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<UserRecord>, StoreError> {
        self.list_index_of(
            IndexListing {
                operation: "list_users",
                gsi1pk: keys::users_gsi1pk(tenant)?,
                pk_prefix: keys::tenant_prefix(tenant)?,
                sk: keys::USER_SK,
                newest_first: false,
            },
            limit,
            cursor,
            cursors,
        )
        .await
    }

    /// Applies `change` if the user exists and was last updated at `expected_updated_at` (so
    /// two admins editing one person cannot silently overwrite each other). `NotFound`, or
    /// `Contended` when someone changed the user in between.
    pub async fn update_user(
        &self,
        user: &UserRecord,
        change: &UserChange,
        now: OffsetDateTime,
    ) -> Result<UserRecord, StoreError> {
        let mut updated = user.clone();
        let mut p = Placeholders::default();
        let mut set = vec![format!(
            "{} = {}",
            p.name("updated_at"),
            p.value("now", s(crate::timestamp::encode(now)?))
        )];
        let mut remove = Vec::new();
        if let Some(name) = &change.name {
            set.push(format!(
                "{} = {}",
                p.name("name"),
                p.value("name", s(name.as_str()))
            ));
            updated.name = name.clone();
        }
        if let Some(role) = change.role {
            set.push(format!(
                "{} = {}",
                p.name("role"),
                p.value("role", s(role.as_str()))
            ));
            updated.role = role;
        }
        if let Some(status) = change.status {
            set.push(format!(
                "{} = {}",
                p.name("status"),
                p.value("status", crate::item::to_value(&status)?)
            ));
            updated.status = status;
        }
        if let Some(hash) = &change.password_hash {
            set.push(format!(
                "{} = {}",
                p.name("password_hash"),
                p.value("hash", s(hash.as_str()))
            ));
            updated.password_hash = Some(hash.clone());
        }
        if change.clear_invitation {
            remove.push(p.name("invitation_digest"));
            remove.push(p.name("invitation_expires_at"));
            updated.invitation_digest = None;
            updated.invitation_expires_at = None;
        }
        updated.updated_at = now;
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        if change.revoke_tokens {
            update.push_str(&format!(
                " ADD {} {}",
                p.name("token_generation"),
                p.value("one", crate::item::n(1))
            ));
            updated.token_generation += 1;
        }
        let condition = format!(
            "{} = {}",
            p.name("updated_at"),
            p.value("seen", s(crate::timestamp::encode(user.updated_at)?))
        );
        match self
            .update_if(
                "update_user",
                keys::user_pk(&user.tenant_id, &user.id)?,
                keys::USER_SK,
                &update,
                Some(&condition),
                &p,
            )
            .await?
        {
            Conditional::Written => Ok(updated),
            Conditional::ConditionFailed(_) => Err(StoreError::Contended {
                operation: "update_user",
            }),
        }
    }
}
