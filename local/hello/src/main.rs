//! A hello-world `lambda_http` function, as `cargo lambda new` makes one: 200 "hello" to any
//! request. Never deployed; it only gives the cold-start bench its baseline.

use lambda_http::{Body, Error, Request, Response, service_fn};

async fn hello(_: Request) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(Body::from("hello"))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    lambda_http::run(service_fn(hello)).await
}
