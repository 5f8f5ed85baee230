//! Who may do what inside a tenant: the roles people hold, the scopes API keys carry, and the
//! permissions both are checked against. The business API declares one permission per route;
//! this module alone decides which roles and scopes grant it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A person's role in their tenant. Ordered by reach: every permission of `Agent` is also a
/// `Manager`'s, every permission of `Manager` also an `Admin`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Conversations and messages.
    Agent,
    /// Agents, templates, routing, analytics.
    Manager,
    /// Everything in the tenant: channels, billing, deletion, API keys, settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Agent];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
        }
    }

    /// The least role that holds `permission`; `None` when no person holds it (operator only).
    fn least_for(permission: Permission) -> Option<Role> {
        use Permission::*;
        Some(match permission {
            ConversationsRead | MessagesSend | ContactsRead | ContactsWrite | TemplatesRead
            | ChannelsRead | TenantRead | UsersRead => Role::Agent,
            TemplatesManage | UsersManage | RoutingManage | AnalyticsRead => Role::Manager,
            ChannelsManage | ApiKeysManage | TenantManage | AuditRead | DataDelete
            | BillingManage => Role::Admin,
        })
    }

    pub fn allows(self, permission: Permission) -> bool {
        Role::least_for(permission).is_some_and(|least| self >= least)
    }

    /// Whether someone holding `self` may give `other` to a person (invite, change role):
    /// nobody hands out more than they hold, and only admins make managers.
    pub fn may_assign(self, other: Role) -> bool {
        match self {
            Role::Admin => true,
            Role::Manager => other == Role::Agent,
            Role::Agent => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(UnknownName)
    }
}

/// What an API key may do. A key holds only what its creator chose; no scope reaches people,
/// channels, keys or settings: those stay with the tenant's admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "messages:send")]
    MessagesSend,
    #[serde(rename = "conversations:read")]
    ConversationsRead,
    #[serde(rename = "contacts:read")]
    ContactsRead,
    #[serde(rename = "contacts:write")]
    ContactsWrite,
    #[serde(rename = "templates:read")]
    TemplatesRead,
    #[serde(rename = "templates:manage")]
    TemplatesManage,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::MessagesSend,
        Scope::ConversationsRead,
        Scope::ContactsRead,
        Scope::ContactsWrite,
        Scope::TemplatesRead,
        Scope::TemplatesManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::MessagesSend => "messages:send",
            Scope::ConversationsRead => "conversations:read",
            Scope::ContactsRead => "contacts:read",
            Scope::ContactsWrite => "contacts:write",
            Scope::TemplatesRead => "templates:read",
            Scope::TemplatesManage => "templates:manage",
        }
    }

    /// The one scope that grants `permission` to a key, if any does.
    pub fn granting(permission: Permission) -> Option<Scope> {
        match permission {
            Permission::MessagesSend => Some(Scope::MessagesSend),
            Permission::ConversationsRead => Some(Scope::ConversationsRead),
            Permission::ContactsRead => Some(Scope::ContactsRead),
            Permission::ContactsWrite => Some(Scope::ContactsWrite),
            Permission::TemplatesRead => Some(Scope::TemplatesRead),
            Permission::TemplatesManage => Some(Scope::TemplatesManage),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        Scope::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(UnknownName)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown name")]
pub struct UnknownName;

/// One thing a route does inside a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    ConversationsRead,
    MessagesSend,
    /// See contacts and their consent.
    ContactsRead,
    /// Record contacts, opt-ins and opt-outs.
    ContactsWrite,
    /// See the message templates and their review state (to pick one to send).
    TemplatesRead,
    /// Submit templates to Meta for review, and delete them.
    TemplatesManage,
    /// See the tenant's channels (connected numbers).
    ChannelsRead,
    /// Connect and disconnect WhatsApp numbers.
    ChannelsManage,
    /// See the tenant's settings.
    TenantRead,
    TenantManage,
    /// See the tenant's people.
    UsersRead,
    /// Invite, change role, deactivate (within [`Role::may_assign`]).
    UsersManage,
    ApiKeysManage,
    RoutingManage,
    AnalyticsRead,
    AuditRead,
    DataDelete,
    BillingManage,
}

impl Permission {
    pub const ALL: [Permission; 18] = [
        Permission::ConversationsRead,
        Permission::MessagesSend,
        Permission::ContactsRead,
        Permission::ContactsWrite,
        Permission::TemplatesRead,
        Permission::TemplatesManage,
        Permission::ChannelsRead,
        Permission::ChannelsManage,
        Permission::TenantRead,
        Permission::TenantManage,
        Permission::UsersRead,
        Permission::UsersManage,
        Permission::ApiKeysManage,
        Permission::RoutingManage,
        Permission::AnalyticsRead,
        Permission::AuditRead,
        Permission::DataDelete,
        Permission::BillingManage,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_nest() {
        for p in Permission::ALL {
            if Role::Agent.allows(p) {
                assert!(Role::Manager.allows(p), "{p:?}");
            }
            if Role::Manager.allows(p) {
                assert!(Role::Admin.allows(p), "{p:?}");
            }
        }
    }

    #[test]
    fn least_privilege() {
        assert!(Role::Agent.allows(Permission::MessagesSend));
        assert!(!Role::Agent.allows(Permission::UsersManage));
        assert!(!Role::Manager.allows(Permission::ApiKeysManage));
        assert!(!Role::Manager.allows(Permission::ChannelsManage));
        assert!(Role::Admin.allows(Permission::AuditRead));
        assert!(!Role::Manager.may_assign(Role::Admin));
        assert!(!Role::Manager.may_assign(Role::Manager));
        assert!(Role::Manager.may_assign(Role::Agent));
        assert!(!Role::Agent.may_assign(Role::Agent));
    }

    #[test]
    fn scopes_grant_only_their_own_permission() {
        for p in Permission::ALL {
            let granting: Vec<_> = Scope::ALL
                .into_iter()
                .filter(|s| Scope::granting(p) == Some(*s))
                .collect();
            assert!(granting.len() <= 1);
        }
        assert_eq!(Scope::granting(Permission::ApiKeysManage), None);
        assert_eq!(Scope::granting(Permission::UsersManage), None);
    }

    #[test]
    fn names_round_trip() {
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert!("owner".parse::<Role>().is_err());
    }
}
