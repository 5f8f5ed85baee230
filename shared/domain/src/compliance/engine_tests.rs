//! The rules one by one, and their order, on hand-picked facts. `properties` checks the
//! invariants on generated ones; both use the fixture here.

use super::*;
use crate::tenant_settings::{QuietHours, Timezone};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// Owned facts, so tests can change one and borrow a `PolicyInput` from them.
#[derive(Debug, Clone)]
pub(super) struct Facts {
    pub now: OffsetDateTime,
    pub suspended: bool,
    pub marketing_suspended: bool,
    pub cap: FrequencyCap,
    pub quiet: Option<QuietHours>,
    pub timezone: Timezone,
    pub connected: bool,
    pub consent: ConsentState,
    pub ever_opted_in: bool,
    pub sends: Vec<OffsetDateTime>,
    pub window: WindowFacts,
    pub wa_id: Option<String>,
    pub kind: MessageKind,
    pub texts: Vec<String>,
}

pub(super) const NOW: OffsetDateTime = datetime!(2026-01-15 15:00 UTC);
pub(super) const MARKETING: MessageKind = MessageKind::Template {
    category: TemplateCategory::Marketing,
    status: TemplateStatus::Approved,
};
pub(super) const UTILITY: MessageKind = MessageKind::Template {
    category: TemplateCategory::Utility,
    status: TemplateStatus::Approved,
};
pub(super) const AUTHENTICATION: MessageKind = MessageKind::Template {
    category: TemplateCategory::Authentication,
    status: TemplateStatus::Approved,
};

impl Default for Facts {
    /// An approved marketing template to an opted-in customer in Madrid at 16:00 local,
    /// outside the window: allowed.
    fn default() -> Self {
        Self {
            now: NOW,
            suspended: false,
            marketing_suspended: false,
            cap: FrequencyCap::default(),
            quiet: Some(QuietHours::default()),
            timezone: Timezone::utc(),
            connected: true,
            consent: ConsentState::OptedIn {
                at: datetime!(2025-12-01 10:00 UTC),
                source: OptInSource::WebForm,
            },
            ever_opted_in: true,
            sends: vec![],
            window: WindowFacts::default(),
            wa_id: Some("34912345678".into()),
            kind: MARKETING,
            texts: vec!["Our winter sale starts today".into()],
        }
    }
}

impl Facts {
    pub fn input(&self) -> PolicyInput<'_> {
        PolicyInput {
            now: self.now,
            tenant: TenantFacts {
                suspended: self.suspended,
                marketing_suspended: self.marketing_suspended,
                frequency_cap: self.cap,
                quiet_hours: self.quiet,
                timezone: &self.timezone,
            },
            channel: ChannelFacts {
                connected: self.connected,
            },
            contact: ContactFacts {
                consent: self.consent,
                ever_opted_in: self.ever_opted_in,
                recent_marketing_sends: &self.sends,
            },
            window: self.window,
            recipient: RecipientFacts {
                wa_id: self.wa_id.as_deref(),
            },
            message: MessageFacts {
                kind: self.kind,
                screening_text: self.texts.iter().map(String::as_str).collect(),
            },
        }
    }

    pub fn decide(&self) -> Decision {
        decide(&self.input())
    }

    pub fn in_window(mut self) -> Self {
        self.window.last_customer_message_at = Some(self.now - Duration::hours(1));
        self
    }

    pub fn with(mut self, change: impl FnOnce(&mut Facts)) -> Self {
        change(&mut self);
        self
    }
}

fn reason(d: &Decision) -> Option<&'static str> {
    d.reason_code()
}

fn opted_out() -> ConsentState {
    ConsentState::OptedOut {
        at: datetime!(2026-01-10 09:00 UTC),
        source: OptOutSource::Keyword,
    }
}

#[test]
fn the_default_facts_are_allowed() {
    assert_eq!(Facts::default().decide(), Decision::Allow);
}

#[test]
fn a_suspended_tenant_and_a_disconnected_number_come_first() {
    let worst = Facts::default().with(|f| {
        f.suspended = true;
        f.connected = false;
        f.texts = vec!["cocaine".into()];
        f.kind = MessageKind::Template {
            category: TemplateCategory::Marketing,
            status: TemplateStatus::Paused,
        };
    });
    assert_eq!(reason(&worst.decide()), Some("tenant_suspended"));
    let f = worst.with(|f| f.suspended = false);
    assert_eq!(reason(&f.decide()), Some("channel_disconnected"));
    let f = f.with(|f| f.connected = true);
    assert_eq!(reason(&f.decide()), Some("prohibited_content"));
}

#[test]
fn prohibited_content_is_refused_even_as_a_reply_and_names_its_category() {
    let f = Facts::default().in_window().with(|f| {
        f.kind = MessageKind::FreeForm;
        f.texts = vec!["Hi!".into(), "Replica watches from 20€".into()];
    });
    let Decision::Deny { reason, detail } = f.decide() else {
        panic!("not denied");
    };
    assert_eq!(reason, DenyReason::ProhibitedContent);
    assert!(detail.contains("counterfeit"), "{detail}");
    assert!(!detail.contains("Replica watches"), "{detail}");
}

#[test]
fn a_template_not_approved_is_refused_even_inside_the_window() {
    for status in [
        TemplateStatus::Pending,
        TemplateStatus::Rejected,
        TemplateStatus::Paused,
        TemplateStatus::Disabled,
        TemplateStatus::Unknown,
    ] {
        for category in [TemplateCategory::Utility, TemplateCategory::Marketing] {
            let f = Facts::default().in_window().with(|f| {
                f.kind = MessageKind::Template { category, status };
            });
            assert_eq!(
                reason(&f.decide()),
                Some("template_not_approved"),
                "{status:?}"
            );
        }
    }
}

#[test]
fn free_form_goes_only_inside_the_window_whatever_the_consent() {
    let free = Facts::default().with(|f| {
        f.kind = MessageKind::FreeForm;
        f.consent = opted_out();
        f.ever_opted_in = false;
    });
    // The opt-out confirmation is such a reply.
    assert_eq!(free.clone().in_window().decide(), Decision::Allow);
    assert_eq!(reason(&free.decide()), Some("window_closed"));
    let expired = free.clone().with(|f| {
        f.window.last_customer_message_at = Some(NOW - Duration::hours(24));
    });
    let Decision::Deny { detail, .. } = expired.decide() else {
        panic!("allowed")
    };
    assert!(detail.contains("24 hours"), "{detail}");
    let closed = free.in_window().with(|f| {
        f.window.closed_by_error_at = Some(NOW - Duration::minutes(5));
    });
    let Decision::Deny { reason, detail } = closed.decide() else {
        panic!("allowed")
    };
    assert_eq!(reason, DenyReason::WindowClosed);
    assert!(detail.contains("re-engagement"), "{detail}");
}

#[test]
fn inside_the_window_templates_answer_the_customer_but_marketing_obeys_opt_out() {
    let unknown = Facts::default().in_window().with(|f| {
        f.consent = ConsentState::Unknown;
        f.ever_opted_in = false;
    });
    for kind in [UTILITY, AUTHENTICATION, MARKETING] {
        assert_eq!(
            unknown.clone().with(|f| f.kind = kind).decide(),
            Decision::Allow
        );
    }
    let out = unknown.with(|f| f.consent = opted_out());
    assert_eq!(reason(&out.clone().decide()), Some("opted_out"));
    assert_eq!(out.with(|f| f.kind = UTILITY).decide(), Decision::Allow);
}

#[test]
fn outside_the_window_a_template_needs_an_opt_in_ever_recorded() {
    let never = Facts::default().with(|f| {
        f.consent = ConsentState::Unknown;
        f.ever_opted_in = false;
    });
    for kind in [UTILITY, AUTHENTICATION, MARKETING] {
        assert_eq!(
            reason(&never.clone().with(|f| f.kind = kind).decide()),
            Some("no_opt_in")
        );
    }
    // OptedIn is itself an opt-in recorded, whatever the flag says.
    let inconsistent = never.clone().with(|f| f.consent = Facts::default().consent);
    assert_eq!(inconsistent.decide(), Decision::Allow);
}

#[test]
fn marketing_needs_a_current_opt_in_transactional_templates_survive_an_opt_out() {
    let out = Facts::default().with(|f| f.consent = opted_out());
    let Decision::Deny { reason, detail } = out.decide() else {
        panic!("allowed")
    };
    assert_eq!(reason, DenyReason::OptedOut);
    assert!(detail.contains("2026-01-10"), "{detail}");
    // Opted out without ever opting in: the opt-out is what the merchant sees.
    let never = out.clone().with(|f| f.ever_opted_in = false);
    assert_eq!(never.decide().reason_code(), Some("opted_out"));
    assert_eq!(
        never.with(|f| f.kind = UTILITY).decide().reason_code(),
        Some("no_opt_in")
    );
    for kind in [UTILITY, AUTHENTICATION] {
        assert_eq!(
            out.clone().with(|f| f.kind = kind).decide(),
            Decision::Allow
        );
    }
    let lapsed = Facts::default().with(|f| f.consent = ConsentState::Unknown);
    assert_eq!(lapsed.decide().reason_code(), Some("no_opt_in"));
}

#[test]
fn suspended_marketing_stops_marketing_only() {
    let f = Facts::default().with(|f| f.marketing_suspended = true);
    assert_eq!(reason(&f.decide()), Some("marketing_suspended"));
    assert_eq!(f.with(|f| f.kind = UTILITY).decide(), Decision::Allow);
}

#[test]
fn the_cap_comes_before_quiet_hours() {
    let capped = Facts::default().with(|f| {
        f.sends = vec![NOW - Duration::days(1), NOW - Duration::days(2)];
    });
    assert_eq!(reason(&capped.decide()), Some("frequency_cap"));
    // 23:00 in Madrid: the cap is still the answer, not a deferral.
    let night = capped
        .clone()
        .with(|f| f.now = datetime!(2026-01-15 22:00 UTC));
    assert_eq!(reason(&night.decide()), Some("frequency_cap"));
    let one_left = night.with(|f| {
        f.sends.pop();
    });
    assert_eq!(
        one_left.decide(),
        Decision::Defer {
            until: datetime!(2026-01-16 07:00 UTC),
            reason: DeferReason::QuietHours
        }
    );
    // Utility templates have neither cap nor quiet hours.
    let utility = capped.with(|f| {
        f.kind = UTILITY;
        f.now = datetime!(2026-01-15 23:30 UTC);
    });
    assert_eq!(utility.decide(), Decision::Allow);
}

#[test]
fn quiet_hours_follow_the_recipient_or_else_the_tenant_zone() {
    // 02:00 UTC: 21:00 in New York.
    let ny = Facts::default().with(|f| {
        f.now = datetime!(2026-01-15 02:00 UTC);
        f.wa_id = Some("12125551234".into());
    });
    assert_eq!(
        ny.decide(),
        Decision::Defer {
            until: datetime!(2026-01-15 13:00 UTC),
            reason: DeferReason::QuietHours
        }
    );
    // A BSUID recipient of a Tokyo business: 11:00 in Tokyo, allowed.
    let bsuid = ny.clone().with(|f| {
        f.wa_id = None;
        f.timezone = Timezone::parse("Asia/Tokyo").unwrap();
    });
    assert_eq!(bsuid.decide(), Decision::Allow);
    // Quiet hours off.
    assert_eq!(ny.with(|f| f.quiet = None).decide(), Decision::Allow);
}

#[test]
fn details_are_sentences_without_the_number_or_the_text() {
    let f = Facts::default().with(|f| {
        f.consent = ConsentState::Unknown;
        f.ever_opted_in = false;
    });
    let Decision::Deny { detail, .. } = f.decide() else {
        panic!("allowed")
    };
    assert!(detail.ends_with('.'));
    assert!(!detail.contains("34912345678"));
    assert!(!detail.contains("winter sale"));
}
