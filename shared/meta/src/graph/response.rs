//! Meta's answers on the wire: the send acknowledgement and the Graph error object.

use serde::Deserialize;

/// Meta took the message: it now has a wamid and statuses will follow by webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendAccepted {
    pub wamid: String,
    /// The recipient's WhatsApp id, returned when the message was addressed by phone number.
    pub wa_id: Option<String>,
    /// The recipient's business-scoped user id, returned when addressed by one.
    pub user_id: Option<String>,
}

#[derive(Deserialize)]
struct WireSendResponse {
    #[serde(default)]
    contacts: Vec<WireContact>,
    #[serde(default)]
    messages: Vec<WireMessageRef>,
}

#[derive(Deserialize)]
struct WireContact {
    wa_id: Option<String>,
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct WireMessageRef {
    id: String,
}

/// Reads a success body. The error string names what is missing, never the body: it may hold
/// personal data.
pub(super) fn parse_send_accepted(body: &[u8]) -> Result<SendAccepted, String> {
    let wire: WireSendResponse =
        serde_json::from_slice(body).map_err(|e| format!("not the documented shape: {e}"))?;
    let wamid = wire
        .messages
        .into_iter()
        .next()
        .map(|m| m.id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| "missing messages[0].id".to_owned())?;
    let contact = wire.contacts.into_iter().next();
    let (wa_id, user_id) = contact.map_or((None, None), |c| (c.wa_id, c.user_id));
    Ok(SendAccepted {
        wamid,
        wa_id,
        user_id,
    })
}

#[derive(Deserialize)]
struct WireErrorEnvelope {
    error: WireError,
}

#[derive(Deserialize)]
pub(super) struct WireError {
    #[serde(default)]
    pub message: String,
    pub code: i64,
    pub error_subcode: Option<i64>,
    pub error_data: Option<WireErrorData>,
    pub is_transient: Option<bool>,
    pub fbtrace_id: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireErrorData {
    pub details: Option<String>,
}

pub(super) fn parse_error(body: &[u8]) -> Option<WireError> {
    serde_json::from_slice::<WireErrorEnvelope>(body)
        .ok()
        .map(|envelope| envelope.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_metas_documented_send_response() {
        let body = br#"{"contacts":[{"input":"+16505551234","wa_id":"16505551234"}],
            "messages":[{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCOTY3NDc0NDFDRUI3NTA0Q0UA"}],
            "messaging_product":"whatsapp"}"#;
        let accepted = parse_send_accepted(body).unwrap();
        assert_eq!(
            accepted.wamid,
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCOTY3NDc0NDFDRUI3NTA0Q0UA"
        );
        assert_eq!(accepted.wa_id.as_deref(), Some("16505551234"));
        assert_eq!(accepted.user_id, None);
    }

    #[test]
    fn a_response_without_wamid_is_an_error() {
        assert!(parse_send_accepted(br#"{"messaging_product":"whatsapp","messages":[]}"#).is_err());
        assert!(parse_send_accepted(b"<html>").is_err());
    }

    #[test]
    fn reads_metas_error_object() {
        let body = br#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException",
            "code":130429,"error_data":{"messaging_product":"whatsapp",
            "details":"Message failed to send because there were too many messages sent from this phone number in a short period of time"},
            "error_subcode":2494055,"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}"#;
        let error = parse_error(body).unwrap();
        assert_eq!(error.code, 130429);
        assert_eq!(error.error_subcode, Some(2494055));
        assert_eq!(error.fbtrace_id.as_deref(), Some("Az8or2yhqkZfEZ-_4Qn_Bam"));
        assert!(
            error
                .error_data
                .unwrap()
                .details
                .unwrap()
                .starts_with("Message failed")
        );
        assert!(parse_error(b"{}").is_none());
    }
}
