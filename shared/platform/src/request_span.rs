//! One span per HTTP request, carrying the Lambda request id, so every line an API Gateway
//! invocation logs can be found from its id in CloudWatch.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use lambda_runtime::Context;
use tracing::Instrument;

/// Request id of the invocation, when running under Lambda (the dev runner has none).
pub fn lambda_request_id(request: &Request) -> Option<&str> {
    request
        .extensions()
        .get::<Context>()
        .map(|c| c.request_id.as_str())
}

/// `axum::middleware::from_fn(request_span)`: wraps the rest of the request in an
/// `http_request` span with the method, the route's path and the Lambda request id.
pub async fn request_span(request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "http_request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = lambda_request_id(&request).unwrap_or("-"),
    );
    next.run(request).instrument(span).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[test]
    fn the_request_id_comes_from_the_lambda_context() {
        let mut request = Request::new(Body::empty());
        assert_eq!(lambda_request_id(&request), None);
        let mut context = Context::default();
        context.request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into();
        request.extensions_mut().insert(context);
        assert_eq!(
            lambda_request_id(&request),
            Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef")
        );
    }
}
