//! The facts one decision is made from. The caller gathers them (store reads, the template
//! list, the clock); the engine only reads them, so the same facts always give the same
//! answer.
//!
//! Mapping from [`TenantSettings`]: `timezone` is borrowed as it is, `marketing.quiet_hours`
//! becomes `Some(quiet_hours)` (settings cannot turn quiet hours off yet; `None` here is for
//! when they can), and `marketing.cap_per_recipient` / `cap_window_days` become
//! [`FrequencyCap`]: see [`TenantFacts::from_settings`].

use super::consent::ConsentState;
use crate::ids::ContactKey;
use crate::tenant_settings::{
    DEFAULT_CAP_PER_RECIPIENT, DEFAULT_CAP_WINDOW_DAYS, MarketingSettings, QuietHours,
    TenantSettings, Timezone,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInput<'a> {
    /// The clock's reading: every window, cap and quiet hour is measured from it.
    pub now: OffsetDateTime,
    pub tenant: TenantFacts<'a>,
    pub channel: ChannelFacts,
    pub contact: ContactFacts<'a>,
    pub window: WindowFacts,
    pub recipient: RecipientFacts<'a>,
    pub message: MessageFacts<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantFacts<'a> {
    /// Everything refused, pending review (P22).
    pub suspended: bool,
    /// Marketing refused, pending review; the rest still goes.
    pub marketing_suspended: bool,
    pub frequency_cap: FrequencyCap,
    /// `None`: no quiet hours.
    pub quiet_hours: Option<QuietHours>,
    /// Where the recipient's own zone is unknown (a BSUID, an unlisted country), quiet hours
    /// are read in this zone.
    pub timezone: &'a Timezone,
}

impl<'a> TenantFacts<'a> {
    pub fn from_settings(
        settings: &'a TenantSettings,
        suspended: bool,
        marketing_suspended: bool,
    ) -> Self {
        Self {
            suspended,
            marketing_suspended,
            frequency_cap: FrequencyCap::from(&settings.marketing),
            quiet_hours: Some(settings.marketing.quiet_hours),
            timezone: &settings.timezone,
        }
    }
}

/// At most `max_per_recipient` marketing templates to one recipient in any `period_days`
/// days. A `max_per_recipient` of 0 turns marketing off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrequencyCap {
    pub max_per_recipient: u16,
    pub period_days: u16,
}

impl FrequencyCap {
    /// Settings validation keeps the period at one day or more; a record that slipped past it
    /// still gets a real window rather than none at all.
    pub fn period(self) -> Duration {
        Duration::days(i64::from(self.period_days.max(1)))
    }
}

impl Default for FrequencyCap {
    fn default() -> Self {
        Self {
            max_per_recipient: DEFAULT_CAP_PER_RECIPIENT,
            period_days: DEFAULT_CAP_WINDOW_DAYS,
        }
    }
}

impl From<&MarketingSettings> for FrequencyCap {
    fn from(m: &MarketingSettings) -> Self {
        Self {
            max_per_recipient: m.cap_per_recipient,
            period_days: m.cap_window_days,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelFacts {
    /// The business number still routes to this tenant (not deregistered, not moved to
    /// another provider, token not revoked).
    pub connected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactFacts<'a> {
    pub consent: ConsentState,
    /// An opt-in was recorded at some point, even if later withdrawn (P15).
    pub ever_opted_in: bool,
    /// When marketing templates went to this recipient, at least the last cap period's worth;
    /// any order. Older entries are ignored.
    pub recent_marketing_sends: &'a [OffsetDateTime],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WindowFacts {
    /// Meta's timestamp of the customer's last inbound message.
    pub last_customer_message_at: Option<OffsetDateTime>,
    /// When Meta answered 131047 (re-engagement required): the window is closed from then
    /// until the customer writes again.
    pub closed_by_error_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecipientFacts<'a> {
    /// E.164 digits without `+`; `None` for a recipient known only by BSUID.
    pub wa_id: Option<&'a str>,
}

impl<'a> RecipientFacts<'a> {
    pub fn from_contact(contact: &'a ContactKey) -> Self {
        Self {
            wa_id: match contact {
                ContactKey::WaId(id) => Some(id),
                ContactKey::UserId(_) => None,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFacts<'a> {
    pub kind: MessageKind,
    /// Every text the recipient would read: body, caption, template parameters, button
    /// labels, list rows. Screened against the Commerce Policy lexicon.
    pub screening_text: Vec<&'a str>,
}

/// A reaction, a read receipt, media or interactive message is free-form: only a template
/// may open a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageKind {
    FreeForm,
    Template {
        category: TemplateCategory,
        status: TemplateStatus,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateCategory {
    Marketing,
    Utility,
    Authentication,
}

impl TemplateCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateCategory::Marketing => "marketing",
            TemplateCategory::Utility => "utility",
            TemplateCategory::Authentication => "authentication",
        }
    }

    /// Meta's `category` (`MARKETING`, `UTILITY`, `AUTHENTICATION`, any case).
    pub fn from_meta(category: &str) -> Option<Self> {
        match category.to_ascii_uppercase().as_str() {
            "MARKETING" => Some(TemplateCategory::Marketing),
            "UTILITY" => Some(TemplateCategory::Utility),
            "AUTHENTICATION" => Some(TemplateCategory::Authentication),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateStatus {
    Approved,
    Pending,
    Rejected,
    Paused,
    Disabled,
    /// Not in our copy of the tenant's template list.
    Unknown,
}

impl TemplateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateStatus::Approved => "approved",
            TemplateStatus::Pending => "pending",
            TemplateStatus::Rejected => "rejected",
            TemplateStatus::Paused => "paused",
            TemplateStatus::Disabled => "disabled",
            TemplateStatus::Unknown => "unknown",
        }
    }

    /// Meta's template `status`. Anything that is not `APPROVED` must never read as approved:
    /// statuses Meta adds later land on `Unknown`, and those that end a template's life on
    /// `Disabled`.
    pub fn from_meta(status: &str) -> Self {
        match status.to_ascii_uppercase().as_str() {
            "APPROVED" => TemplateStatus::Approved,
            "PENDING" | "IN_APPEAL" => TemplateStatus::Pending,
            "REJECTED" => TemplateStatus::Rejected,
            "PAUSED" => TemplateStatus::Paused,
            "DISABLED" | "PENDING_DELETION" | "DELETED" | "ARCHIVED" | "LIMIT_EXCEEDED" => {
                TemplateStatus::Disabled
            }
            _ => TemplateStatus::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_facts_follow_the_settings() {
        let mut s = TenantSettings::default();
        s.marketing.cap_per_recipient = 3;
        s.marketing.cap_window_days = 30;
        let t = TenantFacts::from_settings(&s, false, true);
        assert_eq!(
            t.frequency_cap,
            FrequencyCap {
                max_per_recipient: 3,
                period_days: 30
            }
        );
        assert_eq!(t.quiet_hours, Some(QuietHours::default()));
        assert_eq!(t.timezone.as_str(), "UTC");
        assert!(t.marketing_suspended && !t.suspended);
        assert_eq!(FrequencyCap::default().period(), Duration::days(7));
        let zero = FrequencyCap {
            max_per_recipient: 1,
            period_days: 0,
        };
        assert_eq!(zero.period(), Duration::days(1));
    }

    #[test]
    fn only_approved_reads_as_approved() {
        assert_eq!(
            TemplateStatus::from_meta("APPROVED"),
            TemplateStatus::Approved
        );
        assert_eq!(
            TemplateStatus::from_meta("approved"),
            TemplateStatus::Approved
        );
        assert_eq!(
            TemplateStatus::from_meta("IN_APPEAL"),
            TemplateStatus::Pending
        );
        assert_eq!(
            TemplateStatus::from_meta("DELETED"),
            TemplateStatus::Disabled
        );
        assert_eq!(
            TemplateStatus::from_meta("SOMETHING_NEW"),
            TemplateStatus::Unknown
        );
        assert_eq!(
            TemplateCategory::from_meta("marketing"),
            Some(TemplateCategory::Marketing)
        );
        assert_eq!(TemplateCategory::from_meta("SERVICE"), None);
    }

    #[test]
    fn bsuid_recipients_have_no_number() {
        let wa = ContactKey::WaId("34600111222".into());
        assert_eq!(RecipientFacts::from_contact(&wa).wa_id, Some("34600111222"));
        let u = ContactKey::UserId("US.123".into());
        assert_eq!(RecipientFacts::from_contact(&u).wa_id, None);
    }
}
