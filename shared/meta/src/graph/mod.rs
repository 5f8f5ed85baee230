//! The Graph API as Switchboard calls it: sending messages on behalf of a business phone number
//! (and marking the customer's as read), onboarding, managing a WABA's message templates, moving
//! media (info, download, upload, delete), and telling the queues whether a failure is worth
//! another attempt.
//!
//! The client is built once per process around a shared `reqwest::Client`; the business's access
//! token is passed per call because every tenant has its own.

mod classify;
mod client;
mod error;
mod media;
mod onboarding;
mod outbound;
mod response;
mod templates;

pub use classify::{CodeClass, KNOWN_CODES, KnownCode, class_of_code};
pub use client::{DEFAULT_API_VERSION, DEFAULT_BASE_URL, DEFAULT_TIMEOUT, GraphClient};
pub use error::{ErrorClass, GraphError, TransportKind};
pub use media::{
    DEFAULT_DOWNLOAD_TIMEOUT, MediaDownload, MediaDownloadError, MediaInfo, MediaUpload,
};
pub use onboarding::{OnboardingFailure, PHONE_NUMBER_FIELDS, PhoneNumberInfo};
pub use outbound::{
    ButtonSubType, CaptionedMedia, Contact, ContactAddress, ContactEmail, ContactName, ContactOrg,
    ContactPhone, ContactUrl, ContentError, DocumentMedia, Interactive, InteractiveAction,
    InteractiveHeader, ListRow, ListSection, Location, MarkRead, Media, MessageContent,
    OutboundMessage, Reaction, ReplyButton, StoredMediaRef, Template, TemplateComponent,
    TemplateCurrency, TemplateDateTime, TemplateLanguage, TemplateParameter, Text, limits,
    violations,
};
pub use response::SendAccepted;
pub use templates::{
    NewTemplate, TEMPLATE_FIELDS, TEMPLATE_PAGE_LIMIT, TemplateCreated, TemplateFailure,
    TemplateInfo, TemplatePage,
};
