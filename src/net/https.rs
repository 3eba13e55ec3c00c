//! The HTTPS client the helper's HTTP routes share (Vault's API, GitHub's): rustls with the
//! system's roots, HTTP/1, and each answer read whole into a buffer wiped on drop (an answer
//! may hold a token or a secret).

use crate::store_error::StoreError;
use http::StatusCode;
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::Connect;
use zeroize::Zeroizing;

pub(crate) type Body = http_body_util::Full<bytes::Bytes>;
pub(crate) type Client<C> =
    hyper_util::client::legacy::Client<hyper_rustls::HttpsConnector<C>, Body>;

/// A client that speaks TLS (or plain HTTP, for a loopback test server) over `inner`: a TCP
/// connector that allows https:// addresses, or a proxy's tunnel around one.
pub(crate) fn client_over<C>(inner: C) -> Result<Client<C>, StoreError>
where
    hyper_rustls::HttpsConnector<C>: Connect + Clone + Send + Sync + 'static,
{
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| StoreError::new(format!("cannot load the system's CA certificates: {e}")))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(inner);
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https),
    )
}

/// Why a request got no whole answer; each route words it for its own backend.
pub(crate) enum Failure {
    /// No answer at all: the error and each of its causes, joined.
    Unreachable(String),
    /// The answer began but its body did not arrive whole.
    CutOff(String),
}

/// Sends `request`: the status and the whole body, in a wiped buffer.
pub(crate) async fn send<C>(
    client: &Client<C>,
    request: http::Request<Body>,
) -> Result<(StatusCode, Zeroizing<Vec<u8>>), Failure>
where
    hyper_rustls::HttpsConnector<C>: Connect + Clone + Send + Sync + 'static,
{
    let answer = client.request(request).await.map_err(|e| {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        Failure::Unreachable(text)
    })?;
    let status = answer.status();
    let body = answer
        .into_body()
        .collect()
        .await
        .map_err(|e| Failure::CutOff(e.to_string()))?
        .to_bytes();
    // Ours alone once collected: wiped here rather than freed as it is.
    Ok((status, Zeroizing::new(Vec::from(body))))
}
