//! The API's description: an OpenAPI 3.0.3 document, built here from the limits the handlers
//! check, and served at `GET /v1/openapi.json`.
//!
//! It is hand-built JSON rather than derived from the handlers' types: those types live in the
//! store and domain crates, which must not learn about HTTP, and several answers are shaped by
//! code (problem types, headers) rather than by a struct. What keeps it truthful instead: a test
//! holds its operations equal to the routes the router serves and each operation's security
//! equal to the access table, and the end-to-end suite runs schemathesis against the running
//! API (tests/tests/api_schema.rs), which fails on any answer the document does not allow.
//!
//! Version 3.0.3 rather than 3.1: its `nullable` keyword is what every tool, schemathesis
//! included, has handled longest.

use crate::access::Access;
use crate::accounts::{MAX_EMAIL_BYTES, MAX_NAME_CHARS};
use crate::campaigns::MAX_CAMPAIGN_BYTES;
use crate::contacts::{MAX_IMPORT_BYTES, MAX_IMPORT_ROWS};
use crate::conversations::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::messages::MAX_TEXT_CHARS;
use crate::password::{MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS};
use crate::{MAX_BODY_BYTES, MAX_ID_BYTES};
use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::sync::OnceLock;
use switchboard_domain::compliance::DenyReason;
use switchboard_domain::consent::OptInSource;
use switchboard_domain::{Permission, Role, Scope};

use Access::{Allowed, Operator, Person, Public};
use Permission as P;

/// `GET /v1/openapi.json`. The document never changes while the function runs: it is
/// serialized once.
pub(crate) async fn serve() -> Response {
    static BODY: OnceLock<Bytes> = OnceLock::new();
    let body = BODY.get_or_init(|| {
        // Serializing a `Value` cannot fail: its keys are strings and it holds no floats.
        Bytes::from(serde_json::to_vec(&document()).unwrap_or_default())
    });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body.clone(),
    )
        .into_response()
}

/// One operation: where it is, who may call it, and its OpenAPI operation object without
/// `security` (which follows from `access`).
struct Op {
    method: &'static str,
    path: &'static str,
    access: Access,
    spec: Value,
}

pub(crate) fn document() -> Value {
    let mut paths = Map::new();
    for op in operations() {
        let mut spec = op.spec;
        if let Value::Object(o) = &mut spec {
            o.insert("security".into(), security(op.access, op.method));
            o.insert("x-access".into(), access_extension(op.access));
            let described = o
                .get("description")
                .and_then(Value::as_str)
                .map(|d| format!("{d}\n\n"))
                .unwrap_or_default();
            o.insert(
                "description".into(),
                Value::String(format!("{described}{}", who_may(op.access))),
            );
        }
        let item = paths
            .entry(op.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(op.method.to_lowercase(), spec);
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Switchboard business API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": intro(),
        },
        "servers": [{ "url": "/" }],
        "tags": [
            { "name": "meta", "description": "Health and this description." },
            { "name": "auth", "description": "Sign-up, sign-in, tokens, sessions, passwords." },
            { "name": "conversations", "description": "Conversations and their messages." },
            { "name": "messages", "description": "Sending messages and reading them." },
            { "name": "contacts", "description": "Customers and their marketing consent." },
            { "name": "templates", "description": "Message templates and Meta's review of them." },
            { "name": "campaigns", "description": "One approved template to many recipients." },
            { "name": "media", "description": "Files agents upload to send." },
            { "name": "users", "description": "The tenant's people." },
            { "name": "api-keys", "description": "Keys for the business's servers." },
            { "name": "audit", "description": "Who did what." },
            { "name": "channels", "description": "Connected WhatsApp numbers." },
            { "name": "tenant", "description": "The tenant's own settings." },
            { "name": "abuse", "description": "Reports of suspected abuse, from anyone." },
            { "name": "operator", "description": "The platform operator's routes." },
        ],
        "paths": paths,
        "components": {
            "securitySchemes": security_schemes(),
            "schemas": schemas(),
            "parameters": parameters(),
            "responses": responses(),
        },
    })
}

fn intro() -> String {
    format!(
        "\
The HTTP API of Switchboard, a multi-tenant WhatsApp Business platform. Every answer is JSON; \
every error is an RFC 9457 `application/problem+json` object whose `type` names the problem \
(see the error responses). Request bodies are JSON (at most {MAX_BODY_BYTES} bytes; a contact \
import may be CSV and up to {MAX_IMPORT_BYTES} bytes, a campaign up to {MAX_CAMPAIGN_BYTES}) \
and unknown fields are refused.\n\n\
Credentials: a person signs in with `POST /v1/auth/login` and sends the access token as \
`Authorization: Bearer …`; the console may ask for a session instead (cookie \
`__Host-sb_session`, with the CSRF token repeated in `X-CSRF-Token` on unsafe requests). A \
business's server sends an API key (`sk_…`) as a bearer token or in `X-API-Key`. Which of \
these an operation takes, and which role or key scope it needs, its `security` and \
description say. A method a path does not list is answered 405 \
(`/problems/method-not-allowed`) with an `Allow` header."
    )
}

/// What OpenAPI says about who may call: any one of the listed requirements suffices.
fn security(access: Access, method: &str) -> Value {
    // A cookie is sent by the browser on its own; an unsafe request must prove it comes from
    // the console by repeating the CSRF token.
    let session = if matches!(method, "GET" | "HEAD" | "OPTIONS") {
        json!({ "session": [] })
    } else {
        json!({ "session": [], "csrf": [] })
    };
    match access {
        Public => json!([]),
        Person => json!([{ "bearer": [] }, session]),
        Allowed(p) if Scope::granting(p).is_some() => {
            json!([{ "bearer": [] }, { "apiKey": [] }, session])
        }
        // No scope grants it, so no key can: only people, by role.
        Allowed(_) => json!([{ "bearer": [] }, session]),
        Operator => json!([{ "operator": [] }]),
    }
}

fn roles_allowing(p: Permission) -> Vec<&'static str> {
    Role::ALL
        .into_iter()
        .filter(|r| r.allows(p))
        .map(Role::as_str)
        .collect()
}

/// `x-access`: the access rule in machine-readable form.
fn access_extension(access: Access) -> Value {
    match access {
        Public => json!({ "kind": "public" }),
        Person => json!({ "kind": "person", "roles": roles_of_all() }),
        Allowed(p) => json!({
            "kind": "allowed",
            "permission": format!("{p:?}"),
            "roles": roles_allowing(p),
            "api_key_scope": Scope::granting(p).map(Scope::as_str),
        }),
        Operator => json!({ "kind": "operator" }),
    }
}

fn roles_of_all() -> Vec<&'static str> {
    Role::ALL.into_iter().map(Role::as_str).collect()
}

fn who_may(access: Access) -> String {
    match access {
        Public => "No credentials needed.".to_owned(),
        Person => "For signed-in people of any role (access token or session); API keys are \
                   refused with 403."
            .to_owned(),
        Allowed(p) => {
            let roles = roles_allowing(p).join(", ");
            match Scope::granting(p) {
                Some(scope) => format!(
                    "Roles: {roles}; API keys with the `{}` scope.",
                    scope.as_str()
                ),
                None => format!("Roles: {roles}. API keys cannot call this."),
            }
        }
        Operator => "Only the platform operator's key, as a bearer token; no tenant's \
                     credentials."
            .to_owned(),
    }
}

fn security_schemes() -> Value {
    json!({
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": format!(
                "An access token from `POST /v1/auth/login` or `/v1/auth/refresh` (a JWT, valid \
                 {} minutes), or an API key (`sk_…`).",
                crate::tokens::ACCESS_TOKEN_TTL.whole_minutes()
            ),
        },
        "apiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "An API key (`sk_…`), as an alternative to the bearer header.",
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": crate::SESSION_COOKIE,
            "description": "The console's session cookie, set by `POST /v1/auth/login` with \
                            `session: true`.",
        },
        "csrf": {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRF-Token",
            "description": "The `csrf_token` of the sign-in that started the session; required \
                            with the session cookie on every request but GET.",
        },
        "operator": {
            "type": "http",
            "scheme": "bearer",
            "description": "The platform operator's key.",
        },
    })
}

/// One object of the entries of several (`json!` recurses once per entry, so a long object
/// is written in parts).
fn merge<const N: usize>(parts: [Value; N]) -> Value {
    let mut out = Map::new();
    for part in parts {
        if let Value::Object(o) = part {
            out.extend(o);
        }
    }
    Value::Object(out)
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A schema that may also be `null`. In 3.0 the siblings of a `$ref` are ignored, so a
/// referenced schema is wrapped.
fn nullable(schema: Value) -> Value {
    match schema {
        Value::Object(mut o) if !o.contains_key("$ref") => {
            o.insert("nullable".into(), Value::Bool(true));
            Value::Object(o)
        }
        other => json!({ "allOf": [other], "nullable": true }),
    }
}

/// An object with exactly these properties: answers never carry others, and bodies with others
/// are refused (`deny_unknown_fields`).
fn object(required: &[&str], properties: Value) -> Value {
    json!({
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": false,
    })
}

fn page_of(item: &str) -> Value {
    object(
        &["data", "next_cursor"],
        json!({
            "data": { "type": "array", "items": schema_ref(item) },
            "next_cursor": {
                "type": "string",
                "nullable": true,
                "description": "Pass as `cursor` for the next page; `null` on the last page. \
                                Valid for 24 hours and only for this listing.",
            },
        }),
    )
}

fn time() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

fn string() -> Value {
    json!({ "type": "string" })
}

/// Control characters anywhere, or nothing but spaces, are refused ([`crate::accounts`]).
const PRINTABLE_NOT_BLANK: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// As [`PRINTABLE_NOT_BLANK`], with line breaks allowed ([`crate::operator`]'s reasons).
const PRINTABLE_LINES_NOT_BLANK: &str = "^[^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f]*$";

fn schemas() -> Value {
    let name = || {
        json!({
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_NAME_CHARS,
            "pattern": PRINTABLE_NOT_BLANK,
            "description": format!("1 to {MAX_NAME_CHARS} printable characters (surrounding spaces are trimmed)."),
        })
    };
    let email = || {
        json!({
            "type": "string",
            "format": "email",
            "maxLength": MAX_EMAIL_BYTES,
            "description": "An e-mail address; stored trimmed and in lower case.",
        })
    };
    let new_password = || {
        json!({
            "type": "string",
            "format": "password",
            "minLength": MIN_PASSWORD_CHARS,
            "maxLength": MAX_PASSWORD_BYTES,
            "pattern": "^\\S(.*\\S)?$",
            "description": format!(
                "At least {MIN_PASSWORD_CHARS} characters and at most {MAX_PASSWORD_BYTES} bytes, no \
                 surrounding spaces, at least 5 different characters, and not containing the e-mail \
                 address."
            ),
        })
    };
    let user_view = object(
        &["id", "name", "email", "role", "status", "created_at"],
        json!({
            "id": string(),
            "name": string(),
            "email": string(),
            "role": schema_ref("Role"),
            "status": schema_ref("UserStatus"),
            "created_at": time(),
        }),
    );
    let api_key_properties = json!({
        "id": string(),
        "name": string(),
        "prefix": { "type": "string", "description": "The key's first characters, to tell keys apart." },
        "scopes": { "type": "array", "items": schema_ref("Scope") },
        "created_by": { "type": "string", "description": "`user:{id}` or `api_key:{id}`; absent for seeded keys." },
        "created_at": time(),
        "last_used_at": nullable(time()),
        "revoked_at": nullable(time()),
    });
    let api_key_required = [
        "id",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "last_used_at",
        "revoked_at",
    ];
    let mut created_properties = api_key_properties.clone();
    if let Value::Object(o) = &mut created_properties {
        o.insert(
            "secret".into(),
            json!({ "type": "string", "description": "The key itself, shown this once." }),
        );
    }
    let mut created_required = api_key_required.to_vec();
    created_required.push("secret");
    let text_body = object(
        &["body"],
        json!({
            "body": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_TEXT_CHARS,
                "pattern": "\\S",
                "description": format!("1 to {MAX_TEXT_CHARS} characters, not only spaces."),
            },
            "preview_url": { "type": "boolean", "default": false },
        }),
    );
    let message_type = || {
        let mut kinds: Vec<Value> = MESSAGE_TYPES.iter().map(|(t, _)| json!(t)).collect();
        // `null` is listed: OpenAPI 3.0 lets an enum forbid it despite `nullable`.
        kinds.push(Value::Null);
        json!({
            "type": "string",
            "enum": kinds,
            "nullable": true,
            "default": "text",
            "description": "What kind of message; the object under the key of this name holds it. Absent or null: `text`.",
        })
    };
    // The message's own fields: its type, the object under that type's key (Meta's Cloud API
    // shape), and what it replies to.
    let message_content = || {
        let mut out = Map::new();
        out.insert("type".into(), message_type());
        for (kind, description) in MESSAGE_TYPES {
            let schema = if *kind == "text" {
                schema_ref("TextBody")
            } else {
                json!({
                    "type": "object",
                    "description": format!("{description} In the shape of Meta's Cloud API `{kind}` object; required when `type` is `{kind}`."),
                })
            };
            out.insert((*kind).into(), schema);
        }
        out.insert("context".into(), nullable(schema_ref("MessageContext")));
        // Accepted so that a body written for the Cloud API works unchanged.
        out.insert(
            "messaging_product".into(),
            json!({ "type": "string", "enum": ["whatsapp", null], "nullable": true }),
        );
        out.insert(
            "recipient_type".into(),
            json!({ "type": "string", "enum": ["individual", null], "nullable": true }),
        );
        out
    };
    let create_message = |target: Value| {
        let mut properties = message_content();
        if let Value::Object(t) = target {
            properties.extend(t);
        }
        Value::Object(properties)
    };
    let live = |what: &str| json!({ "type": "string", "nullable": true, "description": format!("{what}, as Meta says now; `null` when Meta cannot be asked.") });
    let channel = object(
        &[
            "kind",
            "phone_number_id",
            "waba_id",
            "display_phone_number",
            "verified_name",
            "quality_rating",
            "throughput_level",
            "messages_per_second",
            "verification_status",
            "connected_at",
        ],
        json!({
            "kind": { "type": "string", "enum": [crate::channels::WHATSAPP] },
            "phone_number_id": string(),
            "waba_id": string(),
            "display_phone_number": nullable(string()),
            "verified_name": live("The verified business name"),
            "quality_rating": live("The number's quality rating"),
            "throughput_level": live("The number's throughput level"),
            "messages_per_second": { "type": "integer", "minimum": 1, "description": "The most messages a second Switchboard sends from the number: Meta's throughput for it (80 by default, 1,000 at level HIGH, 20 for a number shared with the WhatsApp Business app), learned when it was connected." },
            "verification_status": nullable(string()),
            "connected_at": time(),
        }),
    );
    let reason = || {
        json!({
            "type": "string",
            "minLength": 1,
            "maxLength": crate::operator::MAX_REASON_CHARS,
            "pattern": PRINTABLE_LINES_NOT_BLANK,
            "description": format!(
                "Shown to the tenant's people: 1 to {} printable characters (line breaks allowed).",
                crate::operator::MAX_REASON_CHARS
            ),
        })
    };
    let recipient = || {
        json!({
            "type": "string",
            "pattern": "^(\\+?[0-9]{6,15}|[A-Z]{2}\\.[A-Za-z0-9]+)$",
            "description": "A phone number in international format (digits, optional `+`) or a business-scoped user id (`CC.…`).",
        })
    };
    let digits = |max: u32| json!({ "type": "string", "pattern": format!("^[0-9]{{1,{max}}}$") });
    merge([
        json!({
        "Problem": problem_schema(&[], &[]),
        "FieldError": object(&["field", "message"], json!({
            "field": { "type": "string", "description": "The field, query parameter or header at fault (`text.body`, `limit`, `Idempotency-Key`)." },
            "message": string(),
        })),
        "Health": object(&["status"], json!({ "status": { "type": "string", "enum": ["ok"] } })),
        "Role": { "type": "string", "enum": roles_of_all() },
        "UserStatus": { "type": "string", "enum": ["invited", "active", "deactivated"] },
        "Scope": { "type": "string", "enum": Scope::ALL.map(Scope::as_str) },
        "MessageStatus": {
            "type": "string",
            "enum": ["queued", "deferred", "denied", "received", "sent", "delivered", "read", "played", "failed"],
            "description": "`deferred`: held by the compliance policy until `decision.until` (quiet hours), then sent. `denied`: refused by the policy and never sent; `decision` says why.",
        },
        "PolicyDecision": object(&["outcome", "at"], json!({
            "outcome": { "type": "string", "enum": ["allow", "deny", "defer"] },
            "reason": {
                "type": "string",
                "description": "A stable reason code: for a deny `window_closed`, `no_opt_in`, `opted_out`, …; for a deferral `quiet_hours`. Absent for an allow.",
            },
            "detail": { "type": "string", "description": "A sentence for the business." },
            "until": { "type": "string", "format": "date-time", "description": "With `defer`: when the message is sent." },
            "at": time(),
        })),
        "Direction": { "type": "string", "enum": ["inbound", "outbound"] },
        "ContactKey": object(&["kind", "id"], json!({
            "kind": { "type": "string", "enum": ["wa_id", "user_id"], "description": "A phone number (`wa_id`) or a business-scoped user id." },
            "id": string(),
        })),
        "SignUp": object(&["business_name", "name", "email", "password"], json!({
            "business_name": name(),
            "name": name(),
            "email": email(),
            "password": new_password(),
        })),
        "SignUpAccepted": object(&["status", "detail"], json!({
            "status": { "type": "string", "enum": ["accepted"] },
            "detail": string(),
        })),
        "Login": object(&["email", "password"], json!({
            "email": { "type": "string", "minLength": 1, "maxLength": MAX_EMAIL_BYTES },
            "password": { "type": "string", "format": "password" },
            "session": { "type": "boolean", "default": false, "description": "Also start a console session: a `__Host-sb_session` cookie and a `csrf_token`." },
        })),
        "Tokens": object(&["access_token", "token_type", "expires_in", "refresh_token"], json!({
            "access_token": string(),
            "token_type": { "type": "string", "enum": ["Bearer"] },
            "expires_in": { "type": "integer", "description": "Seconds the access token is valid." },
            "refresh_token": { "type": "string", "description": "Single use: each refresh returns the next one; a reused one ends the sign-in." },
            "csrf_token": { "type": "string", "description": "Only with `session: true`." },
        })),
        "Refresh": object(&["refresh_token"], json!({ "refresh_token": string() })),
        "Logout": object(&[], json!({ "refresh_token": nullable(string()) })),
        "AcceptInvitation": object(&["token", "password"], json!({
            "token": string(),
            "password": new_password(),
            "name": nullable(name()),
        })),
        "ChangePassword": object(&["current_password", "new_password"], json!({
            "current_password": { "type": "string", "format": "password" },
            "new_password": new_password(),
        })),
        "Me": object(&["user", "tenant", "signed_in_with"], json!({
            "user": schema_ref("User"),
            "tenant": object(&["id", "name", "suspension"], json!({
                "id": string(),
                "name": string(),
                "suspension": {
                    "allOf": [schema_ref("Suspension")],
                    "nullable": true,
                    "description": "Set while the operator has suspended the tenant: why sending is refused.",
                },
            })),
            "signed_in_with": { "type": "string", "enum": ["access_token", "session"] },
        })),
        }),
        json!({
        "User": user_view,
        "UserPage": page_of("User"),
        "Invite": object(&["name", "email", "role"], json!({
            "name": name(),
            "email": email(),
            "role": schema_ref("Role"),
        })),
        "Invited": object(&["user", "invitation_token", "invitation_expires_at"], json!({
            "user": schema_ref("User"),
            "invitation_token": { "type": "string", "description": "Shown once: hand it to the person." },
            "invitation_expires_at": time(),
        })),
        "UserChange": object(&[], json!({
            "name": nullable(name()),
            "role": nullable(schema_ref("Role")),
            "status": {
                "type": "string",
                // `null` is listed: OpenAPI 3.0 lets an enum forbid it despite `nullable`.
                "enum": ["active", "deactivated", null],
                "nullable": true,
                "description": "An invited person becomes active only by accepting the invitation.",
            },
        })),
        "Conversation": object(&[
            "id", "phone_number_id", "contact", "profile_name", "created_at", "last_message_at",
            "last_message_preview", "last_customer_message_at", "window_expires_at", "message_count",
            "window_closed_by_error_at",
        ], json!({
            "id": string(),
            "phone_number_id": string(),
            "contact": schema_ref("ContactKey"),
            "profile_name": nullable(string()),
            "created_at": time(),
            "last_message_at": time(),
            "last_message_preview": nullable(string()),
            "last_customer_message_at": nullable(time()),
            "window_expires_at": { "type": "string", "format": "date-time", "nullable": true, "description": "When free-form replies stop being allowed: 24 hours after the customer's latest message." },
            "message_count": { "type": "integer", "minimum": 0 },
            "window_closed_by_error_at": { "type": "string", "format": "date-time", "nullable": true, "description": "When Meta refused a free-form message because the window had closed (131047); it stays closed until the customer writes again." },
        })),
        "ConversationPage": page_of("Conversation"),
        "DeliveryError": object(&["code", "title", "details"], json!({
            "code": { "type": "integer", "format": "int64" },
            "title": nullable(string()),
            "details": nullable(string()),
        })),
        "Message": object(&[
            "id", "conversation_id", "direction", "message_type", "text", "status", "wamid",
            "created_at", "sent_at", "delivered_at", "read_at", "played_at", "failed_at",
            "denied_at", "error", "decision", "phone_number_id", "contact",
        ], json!({
            "id": string(),
            "conversation_id": string(),
            "direction": schema_ref("Direction"),
            "message_type": string(),
            "text": nullable(string()),
            "status": schema_ref("MessageStatus"),
            "wamid": nullable(string()),
            "created_at": time(),
            "sent_at": nullable(time()),
            "delivered_at": nullable(time()),
            "read_at": nullable(time()),
            "played_at": nullable(time()),
            "failed_at": nullable(time()),
            "denied_at": nullable(time()),
            "error": nullable(schema_ref("DeliveryError")),
            "decision": {
                "allOf": [schema_ref("PolicyDecision")],
                "nullable": true,
                "description": "The compliance policy's latest decision on an outbound message; `null` before there is one and for inbound messages.",
            },
            "phone_number_id": string(),
            "contact": schema_ref("ContactKey"),
            "campaign_id": { "type": "string", "description": "The campaign this message was sent for." },
            "media": object(&["state", "mime_type", "at"], json!({
                "state": { "type": "string", "enum": ["stored", "quarantined", "unavailable"], "description": "`stored`: our checked copy is kept; `quarantined`: it failed a check (`reason`) and is never shown; `unavailable`: Meta no longer had it." },
                "size": { "type": "integer", "minimum": 0 },
                "sha256": { "type": "string", "description": "Lowercase hex SHA-256 of what is stored." },
                "mime_type": string(),
                "filename": string(),
                "reason": { "type": "string", "description": "Why it is not stored: `sha256_mismatch`, `too_large`, `executable`, `type_mismatch`, `unsupported_type`, `empty`, `media_gone`." },
                "at": time(),
            })),
        })),
        }),
        json!({
        "MessagePage": page_of("Message"),
        "MediaUploadCreate": object(&["type", "mime_type", "size"], json!({
            "type": { "type": "string", "enum": ["image", "video", "audio", "document", "sticker"] },
            "mime_type": { "type": "string", "description": "One WhatsApp takes for `type` (e.g. `application/pdf` for a document); the upload must be of this type." },
            "size": { "type": "integer", "minimum": 1, "maximum": 104_857_600, "description": "The file's exact length in bytes, within Meta's limit for `type`." },
            "filename": { "type": "string", "minLength": 1, "maxLength": 240, "description": "The name the recipient sees (documents), without a path." },
        })),
        "MediaUpload": object(&["id", "type", "mime_type", "size", "state", "created_at"], json!({
            "id": string(),
            "type": { "type": "string", "enum": ["image", "video", "audio", "document", "sticker"] },
            "mime_type": string(),
            "size": { "type": "integer", "minimum": 1 },
            "filename": string(),
            "state": { "type": "string", "enum": ["pending", "ready", "rejected"], "description": "`pending`: declared, waiting for its file; `ready`: checked, can be sent; `rejected`: a check refused it (`reason`) and the file was deleted." },
            "reason": { "type": "string", "description": "Why it was refused: `size_mismatch`, `executable`, `type_mismatch`, `unsupported_type`, `too_large`, `empty`." },
            "sha256": string(),
            "created_at": time(),
            "completed_at": time(),
            "upload": object(&["url", "fields", "expires_at"], json!({
                "url": { "type": "string", "format": "uri", "description": "POST a multipart/form-data body here: every member of `fields`, then the file as `file`." },
                "fields": { "type": "object", "additionalProperties": { "type": "string" } },
                "expires_at": time(),
            })),
        })),
        "MediaLink": object(&["url", "expires_at", "mime_type"], json!({
            "url": { "type": "string", "format": "uri", "description": "A presigned GET of our copy, valid until `expires_at` (at most 5 minutes); it needs no other credentials." },
            "expires_at": time(),
            "mime_type": string(),
            "size": { "type": "integer", "minimum": 0 },
            "filename": string(),
            "sha256": { "type": "string", "description": "Lowercase hex SHA-256 of the file." },
        })),
        "TextBody": text_body,
        "CreateMessage": {
            "description": "A reply in an existing conversation, or a message to a recipient from one of the tenant's numbers. `type` names the kind of message and the key that holds it, in the shape of Meta's Cloud API (`{\"type\": \"image\", \"image\": {\"link\": …}}`); `context` makes it a reply to one of the customer's messages.",
            "oneOf": [
                object(&["conversation_id"], create_message(json!({
                    "conversation_id": id_schema(),
                }))),
                object(&["phone_number_id", "to"], create_message(json!({
                    "phone_number_id": id_schema(),
                    "to": recipient(),
                }))),
            ],
        },
        "MessageContext": object(&["message_id"], json!({
            "message_id": { "type": "string", "maxLength": 256, "pattern": "\\S", "description": "The `wamid` of the message replied to." },
        })),
        "MessageAccepted": object(&["id", "conversation_id", "status"], json!({
            "id": string(),
            "conversation_id": string(),
            "status": schema_ref("MessageStatus"),
            "decision": {
                "description": "Present when the policy held the message at once (`status` `deferred`): why and until when.",
                "allOf": [schema_ref("PolicyDecision")],
            },
        })),
        "MarkRead": object(&[], json!({
            "typing_indicator": { "type": "boolean", "default": true, "description": "Show the customer \"typing…\" until the reply is sent or 25 seconds pass." },
        })),
        "MessageMarkedRead": object(&["id", "status", "typing_indicator"], json!({
            "id": string(),
            "status": { "type": "string", "enum": ["read"] },
            "typing_indicator": { "type": "boolean", "description": "Whether \"typing…\" was asked for." },
        })),
        "ApiKey": object(&api_key_required, api_key_properties),
        "ApiKeyPage": page_of("ApiKey"),
        "ApiKeyCreate": object(&["name", "scopes"], json!({
            "name": name(),
            "scopes": { "type": "array", "minItems": 1, "items": schema_ref("Scope") },
        })),
        "ApiKeyCreated": object(&created_required, created_properties),
        "AuditEntry": object(&["id", "at", "actor", "action"], json!({
            "id": string(),
            "at": time(),
            "actor": { "type": "string", "description": "`user:{id}`, `api_key:{id}` or `operator`." },
            "action": { "type": "string", "description": "`auth.login`, `api_key.created`, …" },
            "source_ip": string(),
            "target": string(),
            "detail": string(),
        })),
        }),
        json!({
        "AuditPage": page_of("AuditEntry"),
        "NewAbuseReport": object(&["category", "description"], json!({
            "category": { "type": "string", "enum": crate::abuse_reports::CATEGORIES },
            "description": {
                "type": "string",
                "minLength": 1,
                "maxLength": crate::abuse_reports::MAX_DESCRIPTION_CHARS,
                "pattern": "\\S",
                "description": "What happened: the messages received, when, what they offered.",
            },
            "business_phone_number": {
                "type": "string",
                "pattern": "^\\+?[1-9][0-9]{7,14}$",
                "nullable": true,
                "description": "The WhatsApp number the messages came from, in international format; null or absent when not known.",
            },
            "reporter_email": { "type": "string", "format": "email", "maxLength": MAX_EMAIL_BYTES, "nullable": true, "description": "Where the operator may answer; null or absent for none." },
        })),
        "AbuseReportReceived": object(&["id", "status", "received_at"], json!({
            "id": { "type": "string", "description": "Derived from the report and its sender: the same report sent again has the same id." },
            "status": { "type": "string", "enum": ["received"] },
            "received_at": time(),
        })),
        "AbuseReport": object(&["id", "category", "description", "received_at"], json!({
            "id": string(),
            "category": { "type": "string", "enum": crate::abuse_reports::CATEGORIES },
            "business_phone_number": { "type": "string", "description": "Digits only." },
            "description": string(),
            "reporter_email": string(),
            "received_at": time(),
        })),
        "AbuseReportPage": page_of("AbuseReport"),
        "Channel": channel,
        "ChannelList": object(&["channels"], json!({
            "channels": { "type": "array", "items": schema_ref("Channel") },
        })),
        "ConnectWhatsApp": object(&["code", "waba_id", "phone_number_id"], json!({
            "code": { "type": "string", "minLength": 1, "maxLength": 2048, "pattern": "^\\S+$", "description": "The code Embedded Signup returned to the console." },
            "waba_id": digits(32),
            "phone_number_id": digits(32),
            "pin": { "type": "string", "pattern": "^[0-9]{6}$", "description": "The number's two-step verification PIN; generated when not given." },
            "business_app": { "type": "boolean", "description": "Embedded Signup finished as `FINISH_WHATSAPP_BUSINESS_APP_ONBOARDING`: the number stays in use with the WhatsApp Business app, and Meta fixes its throughput at 20 messages a second." },
        })),
        "ChannelConnected": object(&["channel"], json!({
            "channel": schema_ref("Channel"),
            "pin": { "type": "string", "description": "Only when the PIN was generated: keep it, it is shown once." },
        })),
        "TenantSettings": settings_schema(false),
        "TenantChange": object(&[], json!({
            "name": name(),
            "settings": settings_schema(true),
        })),
        "Tenant": object(&["id", "name", "created_at", "settings", "suspension", "marketing_suspension"], json!({
            "id": string(),
            "name": string(),
            "created_at": time(),
            "settings": schema_ref("TenantSettings"),
            "suspension": nullable(schema_ref("Suspension")),
            "marketing_suspension": nullable(schema_ref("MarketingSuspension")),
        })),
        "MarketingSuspension": object(&["reason", "since"], json!({
            "reason": {
                "type": "string",
                "enum": ["prohibited_content", "template_quality_red"],
                "description": "Why marketing templates are refused (`marketing_suspended`) until the operator lifts it: repeated prohibited-content refusals, or a template Meta rated RED.",
            },
            "since": time(),
        })),
        "Suspension": object(&["reason", "at"], json!({
            "reason": { "type": "string", "description": "Written by the operator for the tenant's people." },
            "at": time(),
        })),
        "Suspend": object(&["reason"], json!({ "reason": reason() })),
        }),
        contact_schemas(recipient()),
        template_schemas(),
        campaign_schemas(),
        json!({
        "Resume": object(&[], json!({
            "reason": {
                "type": "string",
                "nullable": true,
                "maxLength": crate::operator::MAX_REASON_CHARS,
                "pattern": "^[^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f]*$",
                "description": "For the audit log; absent, null or blank: none.",
            },
        })),
        }),
    ])
}

/// The name of a template: Meta's rule.
fn template_name_schema() -> Value {
    json!({
        "type": "string",
        "pattern": format!("^[a-z0-9_]{{1,{}}}$", crate::templates::MAX_NAME_LEN),
        "description": "Lowercase letters, digits and underscores, as Meta requires.",
    })
}

fn template_language_schema() -> Value {
    json!({
        "type": "string",
        "pattern": "^[a-z]{2,3}(_[A-Za-z0-9]{2,4})?$",
        "description": "Meta's language code: `en`, `en_US`, `pt_BR`, …",
    })
}

fn campaign_schemas() -> Value {
    let components = json!({
        "type": "array",
        "items": { "type": "object", "additionalProperties": true },
        "description": "Meta's template `components` with their parameters, as in a single template send.",
    });
    let count = || json!({ "type": "integer", "minimum": 0 });
    json!({
        "CampaignCreate": object(&["phone_number_id", "template", "recipients"], json!({
            "name": { "type": "string", "minLength": 1, "maxLength": 128 },
            "phone_number_id": { "type": "string", "minLength": 1, "maxLength": 64 },
            "template": object(&["name", "language"], json!({
                "name": template_name_schema(),
                "language": {
                    "description": "A language code, or Meta's `{\"code\": …}`.",
                    "oneOf": [
                        template_language_schema(),
                        object(&["code"], json!({ "code": template_language_schema() })),
                    ],
                },
                "components": components.clone(),
            })),
            "recipients": {
                "type": "array",
                "minItems": 1,
                // The count is bounded by the body size first: no maxItems, or an over-long
                // list would read as a schema violation the API answers with 413.
                "description": format!(
                    "Phone numbers in international format (or BSUIDs), at most {} (more: 422); a recipient may carry its own `components`. A number listed twice is sent to once. The body may be up to {} bytes.",
                    switchboard_store::MAX_CAMPAIGN_RECIPIENTS,
                    crate::campaigns::MAX_CAMPAIGN_BYTES,
                ),
                "items": {
                    "oneOf": [
                        { "type": "string", "minLength": 1, "maxLength": 64 },
                        object(&["to"], json!({
                            "to": { "type": "string", "minLength": 1, "maxLength": 64 },
                            "components": components,
                        })),
                    ],
                },
            },
            "send_at": { "type": "string", "format": "date-time", "description": "When to start; absent or past: now. At most 28 days ahead." },
        })),
        "Campaign": object(
            &["id", "name", "status", "phone_number_id", "template", "recipients", "send_at", "created_at"],
            json!({
                "id": { "type": "string" },
                "name": { "type": "string" },
                "status": { "type": "string", "enum": ["scheduled", "sending", "dispatched", "completed", "cancelled"] },
                "phone_number_id": { "type": "string" },
                "template": object(&["name", "language"], json!({
                    "name": { "type": "string" },
                    "language": { "type": "string" },
                })),
                "recipients": count(),
                "send_at": time(),
                "created_at": time(),
                "started_at": nullable(time()),
                "dispatched_at": nullable(time()),
                "cancelled_at": time(),
                "duplicates_removed": count(),
                "counts": object(
                    &["queued", "deferred", "sent", "delivered", "read", "failed", "denied"],
                    json!({
                        "queued": count(), "deferred": count(), "sent": count(),
                        "delivered": count(), "read": count(), "failed": count(), "denied": count(),
                    }),
                ),
            }),
        ),
        "CampaignPage": page_of("Campaign"),
    })
}

fn template_schemas() -> Value {
    let meta_digits = json!({ "type": "string", "pattern": "^[0-9]{1,32}$" });
    let component = json!({
        "type": "object",
        "required": ["type"],
        "description": format!(
            "One of Meta's template components, in Meta's own shape (`format`, `text`, `example`, \
             `buttons`, …). A template has at most one of each type and, unless it is an \
             AUTHENTICATION template, a BODY with its text. Texts: the body at most \
             {body} characters, a text header and the footer at most {short}.",
            body = crate::templates::MAX_BODY_CHARS,
            short = crate::templates::MAX_HEADER_CHARS,
        ),
        "properties": {
            "type": {
                "type": "string",
                "enum": crate::templates::COMPONENT_TYPES
                    .iter()
                    .flat_map(|t| [t.to_string(), t.to_ascii_lowercase()])
                    .collect::<Vec<_>>(),
            },
            "text": { "type": "string", "maxLength": crate::templates::MAX_BODY_CHARS },
        },
        "additionalProperties": true,
    });
    json!({
        "Template": object(
            &["waba_id", "name", "language", "id", "category", "status", "reason", "quality",
              "components", "created_at", "status_at", "created_by"],
            json!({
                "waba_id": string(),
                "name": string(),
                "language": string(),
                "id": { "type": "string", "nullable": true, "description": "Meta's id of the template; `null` while Meta has not confirmed the submission." },
                "category": { "type": "string", "description": "As Meta last categorized it: MARKETING, UTILITY or AUTHENTICATION." },
                "status": { "type": "string", "description": "Meta's review status: PENDING, APPROVED, REJECTED, PAUSED, DISABLED, …; SUBMITTING while Meta has not answered, DELETED once Meta no longer lists it. Only APPROVED templates are sent." },
                "reason": { "type": "string", "nullable": true, "description": "Why Meta rejected, paused or disabled it." },
                "quality": { "type": "string", "nullable": true, "description": "Meta's quality score: GREEN, YELLOW, RED or UNKNOWN." },
                "components": { "type": "array", "items": { "type": "object" } },
                "created_at": time(),
                "status_at": { "type": "string", "format": "date-time", "nullable": true, "description": "When Meta last changed the status; `null` while it is the one Meta gave at creation." },
                "created_by": { "type": "string", "nullable": true },
            }),
        ),
        "TemplatePage": page_of("Template"),
        "TemplateCreate": merge([
            object(&["name", "language", "category", "components"], json!({
                "waba_id": merge([meta_digits.clone(), json!({ "description": "A WABA connected to this account." })]),
                "phone_number_id": merge([meta_digits, json!({ "description": "A connected number: the template goes to its WABA." })]),
                "name": template_name_schema(),
                "language": template_language_schema(),
                "category": { "type": "string", "enum": crate::templates::CATEGORIES },
                "components": { "type": "array", "minItems": 1, "items": component },
            })),
            json!({ "oneOf": [{ "required": ["waba_id"] }, { "required": ["phone_number_id"] }] }),
        ]),
    })
}

/// The kinds of message `POST /v1/messages` takes, each under the key of its name.
const MESSAGE_TYPES: &[(&str, &str)] = &[
    ("text", "Text."),
    (
        "image",
        "An image: `link`, a Meta media `id` or one of the account's ready uploads as `media` (`med_…`), optional `caption`.",
    ),
    (
        "video",
        "A video: `link`, a Meta media `id` or a ready upload as `media`, optional `caption`.",
    ),
    (
        "audio",
        "An audio file or voice note: `link`, a Meta media `id` or a ready upload as `media`.",
    ),
    (
        "document",
        "A document: `link`, a Meta media `id` or a ready upload as `media`, optional `caption` and `filename`.",
    ),
    (
        "sticker",
        "A sticker: `link`, a Meta media `id` or a ready upload as `media`.",
    ),
    (
        "location",
        "A location: `latitude`, `longitude`, optional `name` and `address`.",
    ),
    ("contacts", "Contact cards (an array in Meta's shape)."),
    (
        "reaction",
        "An emoji reaction: `message_id` (the wamid reacted to) and `emoji`.",
    ),
    (
        "template",
        "A template message: `name`, `language`, optional `components`. Templates must be approved by Meta. A header's image, video or document parameter may name a ready upload as `media`.",
    ),
    (
        "interactive",
        "Buttons, a list, or another interactive message: `type`, `body`, `action`, …; a media header may name a ready upload as `media`.",
    ),
];

/// Contacts, their marketing consent, and the bodies of `/v1/contacts`.
fn contact_schemas(recipient: Value) -> Value {
    let declarable: Vec<&str> = OptInSource::ALL
        .into_iter()
        .filter(|s| s.declarable())
        .map(OptInSource::as_str)
        .collect();
    let loose_string = |description: &str| json!({ "type": "string", "nullable": true, "description": description });
    let recorded_by = || json!({ "type": "string", "description": "Who recorded it: `user:…`, `api_key:…`, `customer` or `meta`." });
    json!({
        "ProofInput": object(&[], json!({
            "text": loose_string("The wording the customer agreed to, at most 2000 characters."),
            "url": loose_string("Where it was collected: an http(s) URL of at most 2048 characters."),
            "captured_at": loose_string("When the customer agreed, as an RFC 3339 time (2026-11-01T10:00:00Z)."),
        })),
        "OptInInput": {
            "description": "An opt-in the business declares: where it was collected and what proves it (`proof.text` or `proof.url`, or both). Refused (409, or `refused` in an import) for a customer who opted out: only their own action on WhatsApp opts them back in.",
            "type": "object",
            "required": ["source", "proof"],
            "properties": {
                "source": {
                    "type": "string",
                    "enum": declarable,
                    "description": "Where the opt-in was collected. `keyword` and `user_preferences` are recorded by Switchboard when the customer acts on WhatsApp and cannot be declared.",
                },
                "proof": schema_ref("ProofInput"),
            },
            "additionalProperties": false,
        },
        "ContactInput": object(&["phone"], json!({
            "phone": recipient,
            "opt_in": nullable(schema_ref("OptInInput")),
            "opted_out": {
                "type": "boolean",
                "default": false,
                "description": "Record that the customer asked not to receive marketing (e.g. from another system's suppression list). Not together with `opt_in`.",
            },
        })),
        "ContactImport": object(&["contacts"], json!({
            "contacts": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_IMPORT_ROWS,
                "description": format!("1 to {MAX_IMPORT_ROWS} contacts, each shaped as `ContactInput`. A row that is not valid does not refuse the import: its result is `invalid`, with `errors`."),
                "items": { "description": "A `ContactInput`." },
            },
        })),
        "ContactImportRow": object(&["row", "status"], json!({
            "row": { "type": "integer", "minimum": 1, "description": "1-based position in the import (for CSV, the data row, not counting the header)." },
            "status": {
                "type": "string",
                "enum": ["recorded", "opted_in", "already_opted_in", "opted_out", "already_opted_out", "refused", "invalid"],
                "description": "`recorded`: stored without a consent change; `already_opted_in`: the new proof was added to the history; `refused`: an opt-in for a customer who opted out, not recorded; `invalid`: nothing stored, `errors` says why.",
            },
            "contact_id": { "type": "string", "description": "Absent for an invalid row." },
            "errors": { "type": "array", "items": schema_ref("FieldError") },
        })),
        "ContactImportResult": object(&["results", "summary"], json!({
            "results": { "type": "array", "items": schema_ref("ContactImportRow") },
            "summary": object(&["rows", "recorded", "opted_in", "opted_out", "refused", "invalid"], json!({
                "rows": { "type": "integer", "minimum": 0 },
                "recorded": { "type": "integer", "minimum": 0, "description": "Stored without a change of consent (including already opted in or out)." },
                "opted_in": { "type": "integer", "minimum": 0 },
                "opted_out": { "type": "integer", "minimum": 0 },
                "refused": { "type": "integer", "minimum": 0 },
                "invalid": { "type": "integer", "minimum": 0 },
            })),
        })),
        "ConsentProof": object(&["recorded_by"], json!({
            "text": { "type": "string", "description": "The wording the customer agreed to, or the keyword they sent." },
            "url": { "type": "string", "description": "Where it was collected." },
            "captured_at": { "type": "string", "description": "When the customer agreed, as the business stated it (RFC 3339)." },
            "recorded_by": recorded_by(),
        })),
        "ConsentChange": object(&["change", "source", "recorded_by", "at"], json!({
            "change": { "type": "string", "enum": ["opted_in", "opt_in_renewed", "opt_in_refused", "opted_out"] },
            "source": { "type": "string", "description": "An opt-in source (`web_form`, `keyword`, …) or an opt-out source (`keyword`, `user_preferences`, `meta_error`, `business_recorded`)." },
            "proof": schema_ref("ConsentProof"),
            "recorded_by": recorded_by(),
            "at": time(),
        })),
        "MarketingConsent": object(&["state", "ever_opted_in", "history"], json!({
            "state": { "type": "string", "enum": ["unknown", "opted_in", "opted_out"] },
            "source": { "type": "string", "description": "The source of the change in force: an opt-in source while opted in, an opt-out source while opted out." },
            "proof": schema_ref("ConsentProof"),
            "opted_in_at": time(),
            "opted_out_at": time(),
            "opted_out_by": { "type": "string", "description": "The customer's own message whose keyword (STOP, …) opted them out, while that opt-out is in force." },
            "ever_opted_in": { "type": "boolean", "description": "An opt-in was recorded at some point, even if later withdrawn." },
            "history": { "type": "array", "items": schema_ref("ConsentChange"), "description": "Every consent change." },
        })),
        "Contact": object(&["id", "wa_id", "user_id", "profile_name", "first_seen_at", "last_inbound_at", "consent"], json!({
            "id": { "type": "string", "pattern": "^ct_[0-9a-f]{20}$", "description": "Our id for the customer, the same for every number of the tenant." },
            "wa_id": { "type": "string", "nullable": true, "description": "The customer's WhatsApp number (digits), when known." },
            "user_id": { "type": "string", "nullable": true, "description": "The customer's business-scoped user id, when that is all WhatsApp gave." },
            "profile_name": nullable(string()),
            "first_seen_at": time(),
            "last_inbound_at": nullable(time()),
            "consent": object(&["marketing"], json!({ "marketing": schema_ref("MarketingConsent") })),
        })),
    })
}

/// The tenant's settings as answered (`partial: false`: every field present), or as a change
/// (`partial: true`: only the fields to change), with the rules
/// [`switchboard_domain::TenantSettings::validate`] checks.
fn settings_schema(partial: bool) -> Value {
    use switchboard_domain::tenant_settings as ts;
    let required = |names: &[&'static str]| if partial { Vec::new() } else { names.to_vec() };
    let range = |r: &std::ops::RangeInclusive<u16>| json!({ "type": "integer", "minimum": r.start(), "maximum": r.end() });
    let hh_mm = "^([01][0-9]|2[0-3]):[0-5][0-9]$";
    let time_of_day = || json!({ "type": "string", "pattern": hh_mm, "description": "HH:MM in the tenant's time zone." });
    let closing = json!({
        "type": "string",
        "pattern": "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        "description": "HH:MM in the tenant's time zone; 24:00 is the end of the day.",
    });
    let interval = object(
        &["open", "close"],
        json!({ "open": time_of_day(), "close": closing }),
    );
    let day = json!({
        "type": "array",
        "maxItems": ts::MAX_INTERVALS_PER_DAY,
        "items": interval,
        "description": "Opening intervals in order, not overlapping; empty: closed.",
    });
    let mut days = Map::new();
    for name in ts::BusinessHours::DAYS {
        days.insert(name.to_owned(), day.clone());
    }
    let business_hours = object(&required(&ts::BusinessHours::DAYS), Value::Object(days));
    let marketing = object(
        &required(&["cap_per_recipient", "cap_window_days", "quiet_hours"]),
        json!({
            "cap_per_recipient": range(&ts::CAP_PER_RECIPIENT),
            "cap_window_days": range(&ts::CAP_WINDOW_DAYS),
            "quiet_hours": object(&required(&["start", "end"]), json!({
                "start": time_of_day(),
                "end": time_of_day(),
            })),
        }),
    );
    let mut alert_email = json!({ "type": "string", "nullable": true, "description": "Where operational alerts are mailed; `null`: nowhere." });
    if partial {
        alert_email["format"] = json!("email");
        alert_email["maxLength"] = json!(MAX_EMAIL_BYTES);
    }
    object(
        &required(&[
            "timezone",
            "business_hours",
            "retention_months",
            "marketing",
            "ai_enabled",
            "alert_email",
        ]),
        json!({
            "timezone": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "pattern": "^[A-Za-z0-9/_+-]+$",
                "description": "An IANA time zone name (Europe/Berlin, UTC).",
            },
            "business_hours": business_hours,
            "retention_months": range(&ts::RETENTION_MONTHS),
            "marketing": marketing,
            "ai_enabled": { "type": "boolean" },
            "alert_email": alert_email,
        }),
    )
}

/// Every id in a path: what [`crate::conversations::valid_path_ids`] lets through, less ids
/// that start with a dot (ours never do, and `.`/`..` are path segments, not ids).
fn id_schema() -> Value {
    json!({
        "type": "string",
        "pattern": format!("^[A-Za-z0-9_-][A-Za-z0-9_.-]{{0,{}}}$", MAX_ID_BYTES - 1),
    })
}

/// A problem+json object; `kinds` and `statuses` narrow `type` and `status` when not empty.
fn problem_schema(kinds: &[&str], statuses: &[u16]) -> Value {
    let mut kind =
        json!({ "type": "string", "description": "What went wrong, as a path under /problems/." });
    if !kinds.is_empty() {
        kind["enum"] = json!(kinds);
    }
    let mut status = json!({ "type": "integer" });
    if !statuses.is_empty() {
        status["enum"] = json!(statuses);
    }
    let mut properties = json!({
        "type": kind,
        "title": string(),
        "status": status,
        "detail": string(),
        "errors": {
            "type": "array",
            "items": schema_ref("FieldError"),
            "description": "Each field, parameter or header at fault.",
        },
    });
    let mut codes: Vec<&str> = Vec::new();
    let mut said = Vec::new();
    if kinds.contains(&"/problems/embedded-signup") {
        codes.extend(EMBEDDED_SIGNUP_CODES);
        said.push("why Embedded Signup failed (with `/problems/embedded-signup`)");
    }
    if kinds.contains(&"/problems/policy-denied") {
        codes.extend(DenyReason::ALL.iter().map(|r| r.as_str()));
        said.push("why the compliance policy refuses the message (with `/problems/policy-denied`)");
    }
    if kinds.contains(&"/problems/meta-refused") {
        codes.extend(META_REFUSED_CODES);
        said.push("what Meta refused (with `/problems/meta-refused`)");
    }
    if !codes.is_empty() {
        properties["code"] = json!({
            "type": "string",
            "enum": codes,
            "description": format!("A machine-readable reason: {}.", said.join("; ")),
        });
    }
    if kinds.contains(&"/problems/policy-denied") {
        properties["reason"] = json!({
            "type": "string",
            "enum": DenyReason::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "description": "With `/problems/policy-denied`: why the compliance policy refuses \
                            the message, the same reason code a denied message's \
                            `decision.reason` shows.",
        });
    }
    object(&["type", "title", "status"], properties)
}

const EMBEDDED_SIGNUP_CODES: &[&str] = &[
    "code_invalid",
    "token_invalid",
    "code_expired",
    "code_used",
    "pin_mismatch",
    "too_many_attempts",
    "number_registered_elsewhere",
    "no_access",
    "number_not_registered",
];

/// The `code`s of `/problems/meta-refused` (`crate::templates`).
const META_REFUSED_CODES: &[&str] = &["template_invalid", "no_access"];

/// The error answers, by status: what each means and the problem types it carries.
const ERRORS: &[(u16, &str, &[&str])] = &[
    (
        400,
        "The request is malformed: its JSON does not parse, a query parameter is unknown, \
         repeated or out of range, the page cursor is not this listing's or expired, or an id \
         cannot be one of ours.",
        &[
            "/problems/malformed-request",
            "/problems/invalid-query",
            "/problems/invalid-cursor",
            "/problems/invalid-id",
        ],
    ),
    (
        401,
        "No valid credentials, or (sign-in) a wrong e-mail address or password.",
        &["/problems/unauthorized", "/problems/invalid-credentials"],
    ),
    (
        403,
        "Signed in, but the role or the key's scopes do not allow this, a cookie request lacks \
         its CSRF token, or the tenant is suspended.",
        &[
            "/problems/forbidden",
            "/problems/csrf",
            "/problems/suspended",
        ],
    ),
    (
        404,
        "No such item in this tenant (another tenant's items are not found either).",
        &["/problems/not-found"],
    ),
    (
        409,
        "Conflict: an item with this identity exists, it was changed at the same time, a \
         request with this Idempotency-Key is still running, the number is connected to \
         another tenant, or an opt-in was declared for a customer who opted out (only their \
         own action on WhatsApp opts them back in), or a message's media that is not shown          (quarantined after a failed check, or gone at Meta before it was fetched).",
        &[
            "/problems/conflict",
            "/problems/channel-in-use",
            "/problems/opted-out",
            "/problems/media-withheld",
        ],
    ),
    (
        413,
        "The body is larger than the limit the API description states.",
        &["/problems/payload-too-large"],
    ),
    (
        415,
        "A JSON body sent without `Content-Type: application/json`.",
        &["/problems/unsupported-media-type"],
    ),
    (
        422,
        "Well-formed but invalid: `errors` names each field. Also an Idempotency-Key reused with \
         another body, an Embedded Signup or a template that Meta refused, and a message or \
         template the compliance policy refuses at once, and an uploaded file a check refused \
         (`code` says why for these).",
        &[
            "/problems/validation",
            "/problems/idempotency-key-reused",
            "/problems/embedded-signup",
            "/problems/policy-denied",
            "/problems/meta-refused",
            "/problems/media-rejected",
        ],
    ),
    (
        429,
        "Too many failed sign-ins for this address or from this source; `Retry-After` says \
         when to try again.",
        &["/problems/too-many-requests"],
    ),
    (
        502,
        "Meta's Graph API failed or could not be reached; retry later.",
        &["/problems/meta-unavailable"],
    ),
    (
        503,
        "A dependency is temporarily unavailable; retry later.",
        &["/problems/unavailable"],
    ),
];

fn responses() -> Value {
    let mut out = Map::new();
    for (status, description, kinds) in ERRORS {
        let description = if *status == 413 {
            format!(
                "The body is larger than {MAX_BODY_BYTES} bytes ({MAX_IMPORT_BYTES} for \
                 `POST /v1/contacts`, {MAX_CAMPAIGN_BYTES} for `POST /v1/campaigns`)."
            )
        } else {
            (*description).to_owned()
        };
        let mut response = json!({
            "description": description,
            "content": {
                crate::problem::CONTENT_TYPE: { "schema": problem_schema(kinds, &[*status]) },
            },
        });
        if *status == 429 {
            response["headers"] = json!({
                "Retry-After": {
                    "required": true,
                    "description": "Seconds to wait before trying again.",
                    "schema": { "type": "integer", "minimum": 0 },
                },
            });
        }
        out.insert(status.to_string(), response);
    }
    Value::Object(out)
}

fn parameters() -> Value {
    json!({
        "limit": {
            "name": "limit",
            "in": "query",
            "description": "Items per page.",
            "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT },
        },
        "cursor": {
            "name": "cursor",
            "in": "query",
            "description": "The `next_cursor` of the previous page.",
            "schema": { "type": "string", "minLength": 1 },
        },
        "month": {
            "name": "month",
            "in": "query",
            "description": "`YYYY-MM` (UTC); this month when not given.",
            "schema": { "type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$" },
        },
        "id": {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": id_schema(),
        },
    })
}

/// `{name}` and the optional `language` and `waba_id` of the template routes.
fn template_selector_params() -> Value {
    json!([
        { "name": "name", "in": "path", "required": true, "schema": template_name_schema() },
        { "name": "language", "in": "query", "schema": template_language_schema() },
        { "name": "waba_id", "in": "query", "schema": { "type": "string", "pattern": "^[0-9]{1,32}$" } },
    ])
}

fn param_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

fn page_params() -> Value {
    json!([param_ref("limit"), param_ref("cursor")])
}

fn body(schema: &str) -> Value {
    json!({
        "required": true,
        "content": { "application/json": { "schema": schema_ref(schema) } },
    })
}

fn json_response(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": schema_ref(schema) } },
    })
}

/// The responses object: the successes given, then the shared error answers for `errors`.
fn answers(successes: &[(u16, Value)], errors: &[u16]) -> Value {
    let mut out = Map::new();
    for (status, response) in successes {
        out.insert(status.to_string(), response.clone());
    }
    for status in errors {
        out.insert(
            status.to_string(),
            json!({ "$ref": format!("#/components/responses/{status}") }),
        );
    }
    Value::Object(out)
}

/// A response with `links`: where its ids lead (schemathesis follows them in its stateful phase).
fn linked(mut response: Value, links: Value) -> Value {
    response["links"] = links;
    response
}

fn link(operation_id: &str, parameters: Value) -> Value {
    json!({ "operationId": operation_id, "parameters": parameters })
}

fn replayed_header() -> Value {
    json!({
        "description": "`true` when this answers a retry from what the first request stored.",
        "schema": { "type": "string", "enum": ["true"] },
    })
}

/// The optional `Idempotency-Key` header of an operation that takes one.
fn idempotency_key(what: &str) -> Value {
    json!({
        "name": "Idempotency-Key",
        "in": "header",
        "description": format!("Makes the {what} idempotent for 24 hours; reusing it with another body is a 422."),
        "schema": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$" },
    })
}

fn no_content(description: &str) -> Value {
    json!({ "description": description })
}

/// The operation object's common part.
fn op(
    method: &'static str,
    path: &'static str,
    access: Access,
    tag: &str,
    operation_id: &str,
    summary: &str,
    mut rest: Value,
) -> Op {
    rest["tags"] = json!([tag]);
    rest["operationId"] = json!(operation_id);
    rest["summary"] = json!(summary);
    Op {
        method,
        path,
        access,
        spec: rest,
    }
}

/// Store errors a caller can meet anywhere: the store's dependency failing.
const READ: &[u16] = &[401, 403, 503];
const READ_ID: &[u16] = &[400, 401, 403, 404, 503];
const LIST: &[u16] = &[400, 401, 403, 503];

fn operations() -> Vec<Op> {
    let tenant_view = || json_response("The tenant.", "Tenant");
    vec![
        op(
            "GET",
            "/healthz",
            Public,
            "meta",
            "health",
            "Liveness",
            json!({
                "responses": answers(&[(200, json_response("Up.", "Health"))], &[]),
            }),
        ),
        op(
            "GET",
            "/v1/openapi.json",
            Public,
            "meta",
            "openapi",
            "This description",
            json!({
                "responses": answers(&[(200, json!({
                    "description": "The OpenAPI 3.0.3 document.",
                    "content": { "application/json": { "schema": { "type": "object" } } },
                }))], &[]),
            }),
        ),
        op(
            "POST",
            "/v1/auth/signup",
            Public,
            "auth",
            "signUp",
            "Open a business account",
            json!({
                "description": "Creates the tenant and its first admin. The answer is the same \
                                whether or not the address already has an account; sign in to continue.",
                "requestBody": body("SignUp"),
                "responses": answers(&[(202, json_response("Accepted.", "SignUpAccepted"))], &[400, 413, 422, 503]),
            }),
        ),
        op(
            "POST",
            "/v1/auth/login",
            Public,
            "auth",
            "logIn",
            "Sign in",
            json!({
                "description": format!(
                    "A wrong password and an unknown address get the same 401. After {} \
                     failures for an address ({} from one source) within an hour, attempts \
                     wait: 429 with Retry-After.",
                    crate::login_limits::EMAIL_FREE_FAILURES,
                    crate::login_limits::SOURCE_FREE_FAILURES,
                ),
                "requestBody": body("Login"),
                "responses": answers(&[(200, json!({
                    "description": "Signed in.",
                    "headers": {
                        "Set-Cookie": {
                            "description": "With `session: true`: the `__Host-sb_session` cookie (HttpOnly, Secure, SameSite=Strict).",
                            "schema": { "type": "string" },
                        },
                    },
                    "content": { "application/json": { "schema": schema_ref("Tokens") } },
                }))], &[400, 401, 413, 422, 429, 503]),
            }),
        ),
        op(
            "POST",
            "/v1/auth/refresh",
            Public,
            "auth",
            "refresh",
            "Trade a refresh token for new tokens",
            json!({
                "description": "Each refresh token works once; presenting a used one again ends \
                                the whole sign-in (401).",
                "requestBody": body("Refresh"),
                "responses": answers(&[(200, json_response("New tokens.", "Tokens"))], &[400, 401, 413, 422, 503]),
            }),
        ),
        op(
            "POST",
            "/v1/auth/logout",
            Public,
            "auth",
            "logOut",
            "Sign out",
            json!({
                "description": "Ends the sign-in of the refresh token given and the session of the \
                                cookie sent. The body may be empty. Always 204: a token that is not \
                                valid any more is already signed out.",
                "requestBody": {
                    "required": false,
                    "content": { "application/json": { "schema": schema_ref("Logout") } },
                },
                "responses": answers(&[(204, json!({
                    "description": "Signed out.",
                    "headers": {
                        "Set-Cookie": {
                            "required": true,
                            "description": "Expires the session cookie.",
                            "schema": { "type": "string" },
                        },
                    },
                }))], &[400, 413, 422, 503]),
            }),
        ),
        op(
            "POST",
            "/v1/auth/invitations/accept",
            Public,
            "auth",
            "acceptInvitation",
            "Accept an invitation",
            json!({
                "description": "Sets the invited person's password (and optionally name); they sign in afterwards.",
                "requestBody": body("AcceptInvitation"),
                "responses": answers(&[(204, no_content("Accepted; sign in."))], &[400, 413, 422, 503]),
            }),
        ),
        op(
            "POST",
            "/v1/auth/password",
            Person,
            "auth",
            "changePassword",
            "Change your password",
            json!({
                "description": "Ends every sign-in and session of the caller, this one included. A \
                                wrong current password counts as a failed sign-in.",
                "requestBody": body("ChangePassword"),
                "responses": answers(&[(204, no_content("Changed; sign in again."))], &[400, 401, 403, 413, 422, 429, 503]),
            }),
        ),
        op(
            "GET",
            "/v1/me",
            Person,
            "auth",
            "me",
            "Who am I",
            json!({
                "responses": answers(&[(200, json_response("The caller and their tenant.", "Me"))], &[401, 403, 404, 503]),
            }),
        ),
        op(
            "GET",
            "/v1/conversations",
            Allowed(P::ConversationsRead),
            "conversations",
            "listConversations",
            "List conversations",
            json!({
                "description": "Most recent activity first.",
                "parameters": page_params(),
                "responses": answers(&[(200, linked(json_response("A page of conversations.", "ConversationPage"), json!({
                    "GetConversation": link("getConversation", json!({ "id": "$response.body#/data/0/id" })),
                    "ListItsMessages": link("listConversationMessages", json!({ "id": "$response.body#/data/0/id" })),
                    "Reply": {
                        "operationId": "sendMessage",
                        "requestBody": {
                            "conversation_id": "$response.body#/data/0/id",
                            "text": { "body": "Thanks for writing, we are on it." },
                        },
                    },
                })))], LIST),
            }),
        ),
        op(
            "GET",
            "/v1/conversations/{id}",
            Allowed(P::ConversationsRead),
            "conversations",
            "getConversation",
            "Get a conversation",
            json!({
                "parameters": [param_ref("id")],
                "responses": answers(&[(200, json_response("The conversation.", "Conversation"))], READ_ID),
            }),
        ),
        op(
            "GET",
            "/v1/conversations/{id}/messages",
            Allowed(P::ConversationsRead),
            "conversations",
            "listConversationMessages",
            "List a conversation's messages",
            json!({
                "description": "Oldest first.",
                "parameters": [param_ref("id"), param_ref("limit"), param_ref("cursor")],
                "responses": answers(&[(200, linked(json_response("A page of messages.", "MessagePage"), json!({
                    "GetMessage": link("getMessage", json!({ "id": "$response.body#/data/0/id" })),
                    "MarkRead": link("markMessageRead", json!({ "id": "$response.body#/data/0/id" })),
                })))], READ_ID),
            }),
        ),
        op(
            "POST",
            "/v1/messages",
            Allowed(P::MessagesSend),
            "messages",
            "sendMessage",
            "Send a message",
            json!({
                "description": "Stores the message as queued and hands it to the sender; its \
                                status then follows Meta's. With an Idempotency-Key, a retry names \
                                the message the first request created (and is answered with \
                                `Idempotent-Replayed: true`). The compliance policy decides \
                                before the send: where it can tell at once, a message it refuses \
                                is answered 422 `/problems/policy-denied` with the reason in \
                                `reason` (also `code`) and nothing is stored; the outbound \
                                function decides again right before the send, and a message it \
                                refuses then becomes `denied`, one it holds `deferred`. A \
                                message the policy holds at once (quiet hours) is answered 202 \
                                with `status` `deferred` and its `decision`.",
                "parameters": [idempotency_key("send")],
                "requestBody": body("CreateMessage"),
                "responses": answers(&[(202, json!({
                    "description": "Accepted for sending.",
                    "headers": {
                        "Idempotent-Replayed": {
                            "description": "`true` when this answers a retry from what the first request stored.",
                            "schema": { "type": "string", "enum": ["true"] },
                        },
                    },
                    "content": { "application/json": { "schema": schema_ref("MessageAccepted") } },
                    "links": {
                        "GetMessage": link("getMessage", json!({ "id": "$response.body#/id" })),
                        "GetConversation": link("getConversation", json!({ "id": "$response.body#/conversation_id" })),
                    },
                }))], &[400, 401, 403, 409, 413, 422, 503]),
            }),
        ),
        op(
            "GET",
            "/v1/messages/{id}",
            Allowed(P::ConversationsRead),
            "messages",
            "getMessage",
            "Get a message",
            json!({
                "parameters": [param_ref("id")],
                "responses": answers(&[(200, json_response("The message.", "Message"))], READ_ID),
            }),
        ),
        op(
            "GET",
            "/v1/messages/{id}/media",
            Allowed(P::ConversationsRead),
            "messages",
            "getMessageMedia",
            "Get a link to a message's media",
            json!({
                "description": "A presigned link to Switchboard's copy of the media a customer \
                                sent, valid for 5 minutes; each link handed out is audit-logged \
                                (`media.link_issued`). Only a file that passed its checks is \
                                handed out: a quarantined file or media Meta no longer had is a \
                                409, a message without media (or whose file is still being \
                                fetched) a 404. With `redirect=true` the answer is a 302 to the \
                                link.",
                "parameters": [
                    param_ref("id"),
                    { "name": "redirect", "in": "query", "schema": { "type": "boolean", "default": false } },
                ],
                "responses": answers(
                    &[
                        (200, json_response("The link.", "MediaLink")),
                        (302, json!({
                            "description": "Redirects to the link (with `redirect=true`).",
                            "headers": { "Location": { "schema": { "type": "string", "format": "uri" } } },
                        })),
                    ],
                    &[400, 401, 403, 404, 409, 503],
                ),
            }),
        ),
        op(
            "POST",
            "/v1/media",
            Allowed(P::MessagesSend),
            "media",
            "createMediaUpload",
            "Declare a file to upload and send",
            json!({
                "description": "Answers an upload form (a presigned S3 POST, valid 15 minutes) that \
                                takes exactly the declared type and size; the browser uploads \
                                the file there, then calls `POST /v1/media/{id}/complete`. An \
                                upload never completed is forgotten after a day.",
                "parameters": [idempotency_key("upload declaration")],
                "requestBody": body("MediaUploadCreate"),
                "responses": answers(&[(201, json!({
                    "description": "Declared; `upload` says where the file goes.",
                    "headers": { "Idempotent-Replayed": replayed_header() },
                    "content": { "application/json": { "schema": schema_ref("MediaUpload") } },
                }))], &[400, 401, 403, 409, 413, 422, 503]),
            }),
        ),
        op(
            "GET",
            "/v1/media/{id}",
            Allowed(P::ConversationsRead),
            "media",
            "getMediaUpload",
            "Get an uploaded file",
            json!({
                "parameters": [param_ref("id")],
                "responses": answers(&[(200, json_response("The upload.", "MediaUpload"))], READ_ID),
            }),
        ),
        op(
            "POST",
            "/v1/media/{id}/complete",
            Allowed(P::MessagesSend),
            "media",
            "completeMediaUpload",
            "Check an uploaded file before it can be sent",
            json!({
                "description": "Checks what arrived: its exact size, and its type by its first \
                                bytes, never by its name (an executable is refused whatever it \
                                is called). A refused file is deleted and answers 422 \
                                `/problems/media-rejected` with `code` the reason; nothing \
                                uploaded yet is a 409. Completing again answers the same outcome.",
                "parameters": [param_ref("id")],
                "responses": answers(&[(200, json_response("Ready to send.", "MediaUpload"))], &[400, 401, 403, 404, 409, 422, 503]),
            }),
        ),
        op(
            "POST",
            "/v1/messages/{id}/read",
            Allowed(P::MessagesSend),
            "messages",
            "markMessageRead",
            "Mark a customer's message read",
            json!({
                "description": "Shows the customer blue ticks on their message (and every earlier \
                                one of the chat) and, unless `typing_indicator` is false, \
                                \"typing…\" until the reply is sent or 25 seconds pass. The body \
                                may be empty. Only a customer's (inbound) message on a number the \
                                tenant still holds can be marked: a message the business sent is \
                                a 422. Marking again is harmless; with an Idempotency-Key a retry \
                                is answered from what the first request stored (with \
                                `Idempotent-Replayed: true`).",
                "parameters": [param_ref("id"), idempotency_key("request")],
                "requestBody": {
                    "required": false,
                    "content": { "application/json": { "schema": schema_ref("MarkRead") } },
                },
                "responses": answers(&[(200, json!({
                    "description": "Marked read at Meta.",
                    "headers": { "Idempotent-Replayed": replayed_header() },
                    "content": { "application/json": { "schema": schema_ref("MessageMarkedRead") } },
                }))], &[400, 401, 403, 404, 409, 413, 422, 502, 503]),
            }),
        ),
        op(
            "POST",
            "/v1/contacts",
            Allowed(P::ContactsWrite),
            "contacts",
            "createContacts",
            "Record a contact, or import many",
            json!({
                "description": format!(
                    "One contact (`ContactInput`: 201 with the contact), or an import of up to \
                     {MAX_IMPORT_ROWS} (`{{\"contacts\": [...]}}`, or `text/csv`: 200 with a result \
                     per row). A CSV import has a header naming its columns, of `phone` \
                     (required), `opt_in_source`, `opt_in_text`, `opt_in_url`, \
                     `opt_in_captured_at` and `opted_out` (true/false), then one contact a line. \
                     The body may be up to {MAX_IMPORT_BYTES} bytes. A customer who opted out \
                     stays opted out whatever is declared: a single contact's opt-in is answered \
                     409 `/problems/opted-out`, an import's row is `refused`; either way the \
                     refusal is kept in the contact's history."
                ),
                "parameters": [idempotency_key("request")],
                "requestBody": {
                    "required": true,
                    "content": {
                        "application/json": {
                            "schema": { "oneOf": [schema_ref("ContactInput"), schema_ref("ContactImport")] },
                        },
                        "text/csv": {
                            "schema": {
                                "type": "string",
                                "description": "A header line naming the columns, then one contact a line.",
                            },
                        },
                    },
                },
                "responses": answers(&[
                    (201, json!({
                        "description": "The contact, as recorded (the single form).",
                        "headers": { "Idempotent-Replayed": replayed_header() },
                        "content": { "application/json": { "schema": schema_ref("Contact") } },
                        "links": {
                            "GetContact": link("getContact", json!({ "id": "$response.body#/id" })),
                            "OptIn": link("optInContact", json!({ "id": "$response.body#/id" })),
                        },
                    })),
                    (200, json!({
                        "description": "The import's result: one entry per row, in order, and the totals.",
                        "headers": { "Idempotent-Replayed": replayed_header() },
                        "content": { "application/json": { "schema": schema_ref("ContactImportResult") } },
                    })),
                ], &[400, 401, 403, 409, 413, 422, 503]),
            }),
        ),
        op(
            "GET",
            "/v1/contacts/{id}",
            Allowed(P::ContactsRead),
            "contacts",
            "getContact",
            "Get a contact and its consent",
            json!({
                "description": "`id` is our contact id (`ct_…`), the customer's `wa_id` (digits) or their business-scoped user id.",
                "parameters": [param_ref("id")],
                "responses": answers(&[(200, json_response("The contact, with its consent history.", "Contact"))], READ_ID),
            }),
        ),
        op(
            "POST",
            "/v1/contacts/{id}/opt-in",
            Allowed(P::ContactsWrite),
            "contacts",
            "optInContact",
            "Record a contact's marketing opt-in",
            json!({
                "description": "`id` is our contact id (`ct_…`, which must exist), or a phone number or business-scoped user id (the contact is created if needed). For a customer who opted out the opt-in is refused (409 `/problems/opted-out`) and the refusal kept in the history.",
                "parameters": [param_ref("id"), idempotency_key("request")],
                "requestBody": body("OptInInput"),
                "responses": answers(&[(200, json!({
                    "description": "The contact, opted in.",
                    "headers": { "Idempotent-Replayed": replayed_header() },
                    "content": { "application/json": { "schema": schema_ref("Contact") } },
                }))], &[400, 401, 403, 404, 409, 413, 422, 503]),
            }),
        ),
        op(
            "POST",
            "/v1/campaigns",
            Allowed(P::TemplatesManage),
            "campaigns",
            "createCampaign",
            "Send an approved template to a list of recipients, now or at a time",
            json!({
                "description": "The whole list is checked first (each recipient and their parameters); one bad entry refuses the request, naming it. The template must be APPROVED for the number's WABA (422 `template_not_approved` otherwise). Each recipient then becomes a message that meets the same policy as a single send (consent, opt-out, frequency cap, quiet hours), queued at the number's messages-per-second.",
                "parameters": [idempotency_key("campaign")],
                "requestBody": body("CampaignCreate"),
                "responses": answers(&[(202, json!({
                    "description": "Accepted: stored and scheduled.",
                    "headers": { "Idempotent-Replayed": replayed_header() },
                    "content": { "application/json": { "schema": schema_ref("Campaign") } },
                    "links": {
                        "GetCampaign": link("getCampaign", json!({ "id": "$response.body#/id" })),
                    },
                }))], &[400, 401, 403, 409, 413, 422, 503]),
            }),
        ),
        op(
            "GET",
            "/v1/campaigns",
            Allowed(P::TemplatesRead),
            "campaigns",
            "listCampaigns",
            "List campaigns",
            json!({
                "description": "Newest first, without counts (read one campaign for those).",
                "parameters": page_params(),
                "responses": answers(&[(200, json_response("A page of campaigns, newest first.", "CampaignPage"))], LIST),
            }),
        ),
        op(
            "GET",
            "/v1/campaigns/{id}",
            Allowed(P::TemplatesRead),
            "campaigns",
            "getCampaign",
            "A campaign and its recipients counted by outcome",
            json!({
                "parameters": [param_ref("id")],
                "responses": answers(&[(200, json_response("The campaign.", "Campaign"))], READ_ID),
            }),
        ),
        op(
            "POST",
            "/v1/campaigns/{id}/cancel",
            Allowed(P::TemplatesManage),
            "campaigns",
            "cancelCampaign",
            "Cancel a campaign",
            json!({
                "description": "No further recipient is queued, and every message of the campaign not sent yet is refused right before its send (`denied`, reason `campaign_cancelled`). What was sent stays sent. Cancelling again answers the same; a campaign whose every message already has an outcome is a 409.",
                "parameters": [param_ref("id")],
                "responses": answers(&[(200, json_response("The cancelled campaign.", "Campaign"))], &[400, 401, 403, 404, 409, 503]),
            }),
        ),
        op(
            "GET",
            "/v1/templates",
            Allowed(P::TemplatesRead),
            "templates",
            "listTemplates",
            "List message templates",
            json!({
                "description": "By name, then language, then WABA. With `status`, only the templates Meta gave that status (a page may then hold fewer than `limit`; follow `next_cursor`).",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "description": "Meta's review status, e.g. APPROVED, PENDING, REJECTED, PAUSED (any case).",
                        "schema": { "type": "string", "pattern": "^[A-Za-z_]{1,32}$" },
                    },
                    param_ref("limit"),
                    param_ref("cursor"),
                ],
                "responses": answers(&[(200, json_response("A page of templates.", "TemplatePage"))], LIST),
            }),
        ),
        op(
            "POST",
            "/v1/templates",
            Allowed(P::TemplatesManage),
            "templates",
            "createTemplate",
            "Submit a message template to Meta for review",
            json!({
                "description": "Submits the template to Meta with the WABA's own token and stores it with Meta's id and status (`PENDING`); Meta's webhooks and the hourly sync move it on. Only `APPROVED` templates are ever sent. A name and language already held in the WABA is a 409.",
                "parameters": [idempotency_key("submission")],
                "requestBody": body("TemplateCreate"),
                "responses": answers(&[(201, json!({
                    "description": "Submitted: the template as stored, usually `PENDING`.",
                    "headers": { "Idempotent-Replayed": replayed_header() },
                    "content": { "application/json": { "schema": schema_ref("Template") } },
                    "links": {
                        "GetTemplate": link("getTemplate", json!({
                            "name": "$response.body#/name",
                            "language": "$response.body#/language",
                            "waba_id": "$response.body#/waba_id",
                        })),
                        "DeleteTemplate": link("deleteTemplate", json!({
                            "name": "$response.body#/name",
                            "language": "$response.body#/language",
                            "waba_id": "$response.body#/waba_id",
                        })),
                    },
                }))], &[400, 401, 403, 409, 413, 422, 502, 503]),
            }),
        ),
        op(
            "GET",
            "/v1/templates/{name}",
            Allowed(P::TemplatesRead),
            "templates",
            "getTemplate",
            "Get a message template and its review state",
            json!({
                "description": "A name held in several languages or WABAs needs `language` (and `waba_id`) to say which; without them that is a 400 naming the choices.",
                "parameters": template_selector_params(),
                "responses": answers(&[(200, json_response("The template.", "Template"))], READ_ID),
            }),
        ),
        op(
            "DELETE",
            "/v1/templates/{name}",
            Allowed(P::TemplatesManage),
            "templates",
            "deleteTemplate",
            "Delete a message template at Meta and here",
            json!({
                "description": "Without `language`, every language of the name (Meta deletes by name); with it, that one template. Meta refuses the name for new templates for a while after.",
                "parameters": template_selector_params(),
                "responses": answers(&[(204, no_content("Deleted."))], &[400, 401, 403, 404, 422, 502, 503]),
            }),
        ),
        op(
            "GET",
            "/v1/users",
            Allowed(P::UsersRead),
            "users",
            "listUsers",
            "List people",
            json!({
                "parameters": page_params(),
                "responses": answers(&[(200, json_response("A page of people.", "UserPage"))], LIST),
            }),
        ),
        op(
            "POST",
            "/v1/users",
            Allowed(P::UsersManage),
            "users",
            "inviteUser",
            "Invite a person",
            json!({
                "description": "Nobody invites a role above their own; managers invite agents only.",
                "requestBody": body("Invite"),
                "responses": answers(&[(201, linked(json_response("Invited.", "Invited"), json!({
                    "UpdateUser": link("updateUser", json!({ "id": "$response.body#/user/id" })),
                })))], &[400, 401, 403, 409, 413, 422, 503]),
            }),
        ),
        op(
            "PATCH",
            "/v1/users/{id}",
            Allowed(P::UsersManage),
            "users",
            "updateUser",
            "Rename, change the role of, deactivate or reactivate a person",
            json!({
                "description": "Nobody changes their own role or deactivates themselves. A role \
                                change or deactivation ends the person's sign-ins.",
                "parameters": [param_ref("id")],
                "requestBody": body("UserChange"),
                "responses": answers(&[(200, json_response("The person as changed.", "User"))], &[400, 401, 403, 404, 409, 413, 422, 503]),
            }),
        ),
        op(
            "GET",
            "/v1/api-keys",
            Allowed(P::ApiKeysManage),
            "api-keys",
            "listApiKeys",
            "List API keys",
            json!({
                "parameters": page_params(),
                "responses": answers(&[(200, json_response("A page of keys (never the keys themselves).", "ApiKeyPage"))], LIST),
            }),
        ),
        op(
            "POST",
            "/v1/api-keys",
            Allowed(P::ApiKeysManage),
            "api-keys",
            "createApiKey",
            "Create an API key",
            json!({
                "requestBody": body("ApiKeyCreate"),
                "responses": answers(&[(201, linked(json_response("Created; `secret` is shown this once.", "ApiKeyCreated"), json!({
                    "RevokeApiKey": link("revokeApiKey", json!({ "id": "$response.body#/id" })),
                })))], &[400, 401, 403, 413, 422, 503]),
            }),
        ),
        op(
            "DELETE",
            "/v1/api-keys/{id}",
            Allowed(P::ApiKeysManage),
            "api-keys",
            "revokeApiKey",
            "Revoke an API key",
            json!({
                "parameters": [param_ref("id")],
                "responses": answers(&[(204, no_content("Revoked (also when it already was)."))], READ_ID),
            }),
        ),
        op(
            "GET",
            "/v1/audit",
            Allowed(P::AuditRead),
            "audit",
            "listAudit",
            "Read the audit log",
            json!({
                "description": "One month, newest first.",
                "parameters": [param_ref("month"), param_ref("limit"), param_ref("cursor")],
                "responses": answers(&[(200, json_response("A page of entries.", "AuditPage"))], LIST),
            }),
        ),
        op(
            "GET",
            "/v1/channels",
            Allowed(P::ChannelsRead),
            "channels",
            "listChannels",
            "List connected numbers",
            json!({
                "responses": answers(&[(200, linked(json_response("The tenant's channels.", "ChannelList"), json!({
                    "Disconnect": link("disconnectWhatsApp", json!({ "phone_number_id": "$response.body#/channels/0/phone_number_id" })),
                })))], READ),
            }),
        ),
        op(
            "POST",
            "/v1/channels/whatsapp",
            Allowed(P::ChannelsManage),
            "channels",
            "connectWhatsApp",
            "Connect a WhatsApp number (Embedded Signup)",
            json!({
                "description": "Exchanges the Embedded Signup code for the business's token, \
                                subscribes the app to the WABA and registers the number.",
                "requestBody": body("ConnectWhatsApp"),
                "responses": answers(&[(201, json!({
                    "description": "Connected. A repeated request with the same code is answered \
                                    from the first one (without the generated PIN).",
                    "headers": { "Idempotent-Replayed": replayed_header() },
                    "content": { "application/json": { "schema": schema_ref("ChannelConnected") } },
                    "links": {
                        "Disconnect": link("disconnectWhatsApp", json!({ "phone_number_id": "$response.body#/channel/phone_number_id" })),
                    },
                }))], &[400, 401, 403, 409, 413, 422, 502, 503]),
            }),
        ),
        op(
            "DELETE",
            "/v1/channels/whatsapp/{phone_number_id}",
            Allowed(P::ChannelsManage),
            "channels",
            "disconnectWhatsApp",
            "Disconnect a WhatsApp number",
            json!({
                "parameters": [{
                    "name": "phone_number_id",
                    "in": "path",
                    "required": true,
                    "schema": { "type": "string", "pattern": "^[0-9]{1,32}$" },
                }],
                "responses": answers(&[(204, no_content("Disconnected."))], &[400, 401, 403, 404, 502, 503]),
            }),
        ),
        op(
            "GET",
            "/v1/tenant",
            Allowed(P::TenantRead),
            "tenant",
            "getTenant",
            "Get the tenant and its settings",
            json!({
                "responses": answers(&[(200, tenant_view())], &[401, 403, 404, 503]),
            }),
        ),
        op(
            "PATCH",
            "/v1/tenant",
            Allowed(P::TenantManage),
            "tenant",
            "updateTenant",
            "Change the tenant's name or settings",
            json!({
                "description": "The body has the shape of the answer, every part optional: only the \
                                fields given change (a weekday of `business_hours` is replaced \
                                whole; `alert_email: null` removes the address). Every invalid \
                                field is named in one 422.",
                "requestBody": body("TenantChange"),
                "responses": answers(&[(200, tenant_view())], &[400, 401, 403, 404, 409, 413, 422, 503]),
            }),
        ),
        op(
            "POST",
            "/v1/abuse-reports",
            Public,
            "abuse",
            "reportAbuse",
            "Report suspected abuse",
            json!({
                "description": "Anyone may report a message or a business that breaks WhatsApp's or \
                                Meta's policies (spam, prohibited goods, harassment, fraud, \
                                impersonation). The platform operator reviews every report and may \
                                suspend the business pending review; a report alone suspends no \
                                one. One address may send 10 reports an hour.",
                "requestBody": body("NewAbuseReport"),
                "responses": answers(&[(202, json_response("Received.", "AbuseReportReceived"))], &[400, 413, 422, 429, 503]),
            }),
        ),
        op(
            "GET",
            "/operator/abuse-reports",
            Operator,
            "operator",
            "listAbuseReports",
            "Read the abuse reports",
            json!({
                "description": "One month, newest first.",
                "parameters": [param_ref("month"), param_ref("limit"), param_ref("cursor")],
                "responses": answers(&[(200, json_response("A page of reports.", "AbuseReportPage"))], LIST),
            }),
        ),
        op(
            "POST",
            "/operator/tenants/{id}/suspend",
            Operator,
            "operator",
            "suspendTenant",
            "Suspend a tenant pending review",
            json!({
                "parameters": [param_ref("id")],
                "requestBody": body("Suspend"),
                "responses": answers(&[(200, tenant_view())], &[400, 401, 403, 404, 413, 422, 503]),
            }),
        ),
        op(
            "POST",
            "/operator/tenants/{id}/resume",
            Operator,
            "operator",
            "resumeTenant",
            "Lift a tenant's suspension",
            json!({
                "parameters": [param_ref("id")],
                "requestBody": {
                    "required": false,
                    "content": { "application/json": { "schema": schema_ref("Resume") } },
                },
                "responses": answers(&[(200, tenant_view())], &[400, 401, 403, 404, 413, 422, 503]),
            }),
        ),
        op(
            "POST",
            "/operator/tenants/{id}/marketing/resume",
            Operator,
            "operator",
            "resumeTenantMarketing",
            "Lift a tenant's marketing suspension after review",
            json!({
                "parameters": [param_ref("id")],
                "requestBody": {
                    "required": false,
                    "content": { "application/json": { "schema": schema_ref("Resume") } },
                },
                "responses": answers(&[(200, tenant_view())], &[400, 401, 403, 404, 413, 422, 503]),
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::rule_for;
    use axum::http::Method;
    use std::collections::BTreeSet;

    const METHODS: &[&str] = &[
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    fn documented(doc: &Value) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in METHODS {
                if item.get(*method).is_some() {
                    out.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        out
    }

    fn list(routes: &BTreeSet<(String, String)>) -> String {
        if routes.is_empty() {
            return " (none)".into();
        }
        routes
            .iter()
            .map(|(m, p)| format!("\n    {m} {p}"))
            .collect()
    }

    #[test]
    fn the_document_describes_exactly_the_routes_the_router_serves() {
        let documented = documented(&document());
        let served: BTreeSet<(String, String)> = crate::served_routes()
            .into_iter()
            .map(|(m, p)| (m.as_str().to_owned(), p.to_owned()))
            .collect();
        let missing: BTreeSet<_> = served.difference(&documented).cloned().collect();
        let extra: BTreeSet<_> = documented.difference(&served).cloned().collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "functions/api/src/openapi.rs and routes() disagree.\n  served but not documented:{}\n  documented but not served:{}",
            list(&missing),
            list(&extra),
        );
    }

    #[test]
    fn every_operation_takes_the_credentials_its_access_rule_names() {
        let doc = document();
        let mut wrong = Vec::new();
        for (method, path) in documented(&doc) {
            let Ok(m) = Method::from_bytes(method.as_bytes()) else {
                continue;
            };
            // A documented route without a rule is reported by the test above.
            let Some(rule) = rule_for(&m, &path) else {
                continue;
            };
            let spec = &doc["paths"][&path][method.to_lowercase()];
            let expected = security(rule.access, &method);
            if spec["security"] != expected {
                wrong.push(format!(
                    "{method} {path}: documented {}, its rule ({:?}) means {expected}",
                    spec["security"], rule.access
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn security_follows_access() {
        assert_eq!(security(Public, "POST"), json!([]));
        assert_eq!(security(Operator, "POST"), json!([{ "operator": [] }]));
        // People only: never the API key header.
        let person = security(Person, "POST").to_string();
        assert!(
            !person.contains("apiKey") && person.contains("csrf"),
            "{person}"
        );
        let keys = security(Allowed(P::MessagesSend), "POST").to_string();
        assert!(keys.contains("apiKey"), "{keys}");
        let admins_only = security(Allowed(P::ApiKeysManage), "GET").to_string();
        assert!(
            !admins_only.contains("apiKey") && !admins_only.contains("csrf"),
            "{admins_only}"
        );
    }

    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("$ref") {
                    out.push(r.clone());
                }
                o.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_and_every_error_is_problem_json() {
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        for r in found {
            let pointer = r.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
        for (status, response) in doc["components"]["responses"]
            .as_object()
            .into_iter()
            .flatten()
        {
            assert!(
                response["content"][crate::problem::CONTENT_TYPE].is_object(),
                "{status} is not problem+json"
            );
        }
        for (method, path) in documented(&doc) {
            let responses = &doc["paths"][&path][method.to_lowercase()]["responses"];
            let statuses: Vec<&String> = responses
                .as_object()
                .into_iter()
                .flatten()
                .map(|(s, _)| s)
                .collect();
            assert!(
                statuses.iter().any(|s| s.starts_with('2')),
                "{method} {path} has no success answer"
            );
            // Redirects are answers, not problems.
            for s in statuses
                .iter()
                .filter(|s| !s.starts_with('2') && !s.starts_with('3'))
            {
                assert!(
                    doc["components"]["responses"].get(s.as_str()).is_some(),
                    "{method} {path} answers {s} without a shared problem response"
                );
            }
            if method != "GET" && method != "DELETE" {
                let takes_body =
                    doc["paths"][&path][method.to_lowercase()]["requestBody"].is_object();
                let lists_413 = responses.get("413").is_some();
                assert_eq!(
                    takes_body, lists_413,
                    "{method} {path}: a body can be too large (413), nothing else can"
                );
            }
        }
    }

    #[test]
    fn every_link_leads_to_an_operation() {
        let doc = document();
        let mut ids = BTreeSet::new();
        let mut links = Vec::new();
        for (method, path) in documented(&doc) {
            let spec = &doc["paths"][&path][method.to_lowercase()];
            ids.insert(spec["operationId"].as_str().unwrap_or_default().to_owned());
            for (status, response) in spec["responses"].as_object().into_iter().flatten() {
                for (name, link) in response["links"].as_object().into_iter().flatten() {
                    let target = link["operationId"].as_str().unwrap_or_default().to_owned();
                    links.push((format!("{method} {path} {status} {name}"), target));
                }
            }
        }
        assert!(!links.is_empty());
        for (from, target) in links {
            assert!(
                ids.contains(&target),
                "{from} leads to unknown operation {target:?}"
            );
        }
    }

    #[test]
    fn every_embedded_signup_code_is_documented() {
        let source = include_str!("channels.rs");
        let start = source
            .find("pub fn failure_code")
            .expect("channels.rs names the Embedded Signup codes in failure_code");
        let body = &source[start..];
        let body = &body[..body.find("\n}\n").unwrap_or(body.len())];
        let mut seen = 0;
        for line in body.lines() {
            let Some((_, rest)) = line.split_once("=> \"") else {
                continue;
            };
            let code = rest.split('"').next().unwrap_or_default();
            seen += 1;
            // Meta refusing our own app credentials is our failure: a 500, not a 422 code.
            if code == "app_misconfigured" {
                continue;
            }
            assert!(
                EMBEDDED_SIGNUP_CODES.contains(&code),
                "Embedded Signup code {code} is not in the document"
            );
        }
        assert!(seen > 0, "no codes found in failure_code");
    }

    #[test]
    fn every_problem_type_the_api_names_is_documented() {
        let documented: BTreeSet<&str> = ERRORS
            .iter()
            .flat_map(|(_, _, kinds)| kinds.iter().copied())
            .collect();
        let source = [include_str!("problem.rs"), include_str!("channels.rs")].concat();
        for line in source.lines() {
            if let Some(start) = line.find("\"/problems/") {
                let rest = &line[start + 1..];
                let kind = rest.split('"').next().unwrap_or_default();
                // A server-side failure is not an answer the document promises.
                // 405 answers methods the document does not list, so no operation can name it.
                if kind == "/problems/internal" || kind == "/problems/method-not-allowed" {
                    continue;
                }
                assert!(
                    documented.contains(kind),
                    "{kind} is not in the document's error answers"
                );
            }
        }
    }
}
