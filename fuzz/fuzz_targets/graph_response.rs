//! Meta's answers to `POST /{phone_number_id}/messages`: any bytes as the success body and as
//! the error body. The parsers are private to `switchboard_meta::graph`, so their source file
//! is compiled in here unchanged (it depends on nothing else of the crate). A parsed error then
//! goes through the public classification the outbound function uses, with any code and status.

#![no_main]

#[allow(dead_code)]
#[path = "../../shared/meta/src/graph/response.rs"]
mod response;

use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use switchboard_meta::graph::{GraphError, class_of_code};

fuzz_target!(|input: (u16, Option<u32>, &[u8])| {
    let (http_status, retry_after, body) = input;
    if let Ok(accepted) = response::parse_send_accepted(body) {
        assert!(!accepted.wamid.is_empty());
    }
    let Some(wire) = response::parse_error(body) else {
        return;
    };
    let _ = class_of_code(wire.code);
    let error = GraphError::Api {
        http_status,
        code: wire.code,
        subcode: wire.error_subcode,
        message: wire.message,
        details: wire.error_data.and_then(|d| d.details),
        is_transient: wire.is_transient,
        retry_after: retry_after.map(|s| Duration::from_secs(s.into())),
        fbtrace_id: wire.fbtrace_id,
    };
    let class = error.class();
    let _ = (
        class.is_retryable(),
        error.may_have_been_applied(),
        error.to_string(),
    );
    assert_eq!(error.code(), Some(wire.code));
});
