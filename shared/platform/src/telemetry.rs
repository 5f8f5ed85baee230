//! Logging: JSON lines in Lambda (CloudWatch parses them), readable text elsewhere, coloured
//! only on a terminal.

use std::ffi::OsStr;
use std::io::IsTerminal;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, fmt};

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    // A second init (tests, the dev runner hosting several functions) keeps the first
    // subscriber, so the errors are ignored.
    if in_lambda {
        let _ = fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .with_span_list(false)
            .without_time() // CloudWatch stamps every line
            .with_target(false)
            .try_init();
    } else {
        let _ = text(filter, std::io::stdout, stdout_wants_ansi()).try_init();
    }
}

/// Whether text written to stdout may carry ANSI colour codes: only when stdout is a terminal
/// and `NO_COLOR` is not set.
pub fn stdout_wants_ansi() -> bool {
    use_ansi(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// Colour is for a person at a terminal: never into a pipe or a file (CI, `make dev | tee`,
/// test harnesses, log collectors), and never when `NO_COLOR` is set to anything non-empty
/// (<https://no-color.org>).
pub fn use_ansi(is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// The text format outside Lambda.
fn text<W>(filter: EnvFilter, writer: W, ansi: bool) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(writer)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex, PoisonError};

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_ansi(true, None));
        assert!(use_ansi(true, Some(OsStr::new(""))));
        assert!(!use_ansi(true, Some(OsStr::new("1"))));
        assert!(!use_ansi(false, None));
        assert!(!use_ansi(false, Some(OsStr::new(""))));
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(ansi: bool) -> String {
        let buffer = Buffer::default();
        let sink = buffer.clone();
        let subscriber = text(EnvFilter::new("info"), move || sink.clone(), ansi);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", id = "r1");
            let _entered = span.enter();
            tracing::warn!(events = 3, "webhook accepted");
        });
        let bytes = buffer
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        String::from_utf8(bytes).unwrap_or_default()
    }

    #[test]
    fn text_without_ansi_has_no_escape_codes() {
        let plain = logged(false);
        assert!(plain.contains("webhook accepted"), "{plain}");
        assert!(plain.contains("events=3"), "{plain}");
        assert!(!plain.contains('\x1b'), "{plain:?}");
        // The same format on a terminal is coloured: the check above can fail.
        assert!(logged(true).contains('\x1b'));
    }
}
