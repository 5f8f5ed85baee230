//! The test clients' HTTP layer: the SDK's own client, one request in flight at a time, and
//! optionally held at a gate so a test can fix how two callers interleave.
//!
//! Why one at a time: moto runs a transaction by snapshotting the table and restoring the
//! snapshot if the transaction is cancelled, without any lock, so a cancelled transaction that
//! overlaps another request silently undoes that request's writes. DynamoDB isolates
//! transactions; moto cannot. With one request in flight, the store's calls still interleave
//! freely (concurrent futures) and each request executes alone, as an isolated one does on
//! DynamoDB.

use aws_sdk_dynamodb::config::http::HttpRequest;
use aws_sdk_dynamodb::config::{HttpClient, RuntimeComponents, SharedHttpClient};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, Semaphore};

/// Lets requests through one permit each; counts the ones that reached it.
#[derive(Debug)]
pub struct Gate {
    permits: Semaphore,
    arrived: AtomicUsize,
}

impl Gate {
    pub fn new(open_for: usize) -> Arc<Self> {
        Arc::new(Self {
            permits: Semaphore::new(open_for),
            arrived: AtomicUsize::new(0),
        })
    }

    pub fn open(&self) {
        self.permits.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    /// Waits until `n` requests have reached the gate (passed or waiting).
    pub async fn wait_for_arrivals(&self, n: usize) {
        for _ in 0..500 {
            if self.arrived.load(Ordering::SeqCst) >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "only {} of {n} requests reached the gate",
            self.arrived.load(Ordering::SeqCst)
        );
    }
}

#[derive(Debug)]
pub struct OneRequestAtATime {
    inner: SharedHttpClient,
    turn: Arc<Mutex<()>>,
    gate: Option<Arc<Gate>>,
}

impl OneRequestAtATime {
    pub fn new(gate: Option<Arc<Gate>>) -> Self {
        // The SDK's default client, built explicitly so it can be wrapped.
        let inner = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .build_https();
        Self {
            inner,
            turn: Arc::default(),
            gate,
        }
    }
}

#[derive(Debug)]
struct Connector {
    inner: SharedHttpConnector,
    turn: Arc<Mutex<()>>,
    gate: Option<Arc<Gate>>,
}

impl HttpClient for OneRequestAtATime {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector {
            inner: self.inner.http_connector(settings, components),
            turn: self.turn.clone(),
            gate: self.gate.clone(),
        })
    }
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let turn = self.turn.clone();
        let gate = self.gate.clone();
        HttpConnectorFuture::new(async move {
            if let Some(gate) = gate {
                gate.arrived.fetch_add(1, Ordering::SeqCst);
                gate.permits
                    .acquire()
                    .await
                    .expect("gate never closes")
                    .forget();
            }
            let _turn = turn.lock().await;
            inner.call(request).await
        })
    }
}
