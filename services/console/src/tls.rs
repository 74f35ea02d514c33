//! The console's gRPC endpoint: plain HTTP/2 for an `http://` URL, TLS for
//! an `https://` one, trusting only the authorities of `--grpc-ca` (PEM: the
//! CA that signed the services' certificate, never the system's roots) and
//! checking the name the certificate bears (the URL's host, or
//! `--grpc-tls-name`).

use anyhow::{bail, Context};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

/// The endpoint `options` name, with its TLS settings.
pub(crate) fn endpoint(options: &crate::ConsoleOptions) -> anyhow::Result<Endpoint> {
    let url = &options.endpoint;
    let endpoint = Endpoint::from_shared(url.clone())
        .map_err(|_| anyhow::anyhow!("{url:?} is not a valid gRPC endpoint URL"))?;
    let secure = match endpoint.uri().scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => bail!("{url:?}: the gRPC endpoint starts with http:// or https://"),
    };
    if !secure {
        if options.grpc_ca.is_some() || options.grpc_tls_name.is_some() {
            bail!("{url:?} is plain http: a CA or a TLS name needs an https:// endpoint");
        }
        return Ok(endpoint);
    }
    let Some(pem) = &options.grpc_ca else {
        bail!("{url:?} is https: give the CA that signed the services' certificate (--grpc-ca)");
    };
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    if !pem.windows(BEGIN.len()).any(|window| window == BEGIN) {
        bail!("the gRPC CA file holds no PEM certificate");
    }
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem));
    if let Some(name) = &options.grpc_tls_name {
        tls = tls.domain_name(name.clone());
    }
    endpoint
        .tls_config(tls)
        .with_context(|| format!("{url:?}: invalid TLS settings"))
}
