//! A custom trust store for the KMS client: `--kms-ca-bundle FILE` or `AWS_CA_BUNDLE`.
//!
//! Like the AWS CLI's `AWS_CA_BUNDLE`, the bundle *replaces* the system's root certificates:
//! the KMS endpoint (and every other AWS endpoint the credential chain calls, such as STS or
//! SSO) must present a certificate chain ending in one of the bundle's certificates. This is
//! how a client trusts `volcrypt kms serve --tls-self-signed` (its `ca.pem`) or a corporate
//! TLS-intercepting proxy.
//!
//! The bundle is read and checked here, before the SDK sees it: the SDK's HTTP client parses
//! trust anchors lazily and would panic on a bad one, so a missing, unreadable or invalid file
//! is a clear [`KeyError::KmsConfig`] naming the file instead.

use std::path::{Path, PathBuf};

use aws_sdk_kms::config::SharedHttpClient;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::KeyError;

/// The environment variable the AWS SDKs and CLI read a CA bundle path from.
pub(super) const CA_BUNDLE_ENV: &str = "AWS_CA_BUNDLE";

/// Where a CA bundle path came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// `KmsOptions::ca_bundle` (`--kms-ca-bundle`).
    Flag,
    /// The `AWS_CA_BUNDLE` environment variable.
    Env,
}

/// The CA bundle to use: the option if given, else a non-empty `AWS_CA_BUNDLE`.
pub(super) fn ca_bundle(option: Option<&Path>) -> Option<(PathBuf, Source)> {
    if let Some(p) = option {
        return Some((p.to_path_buf(), Source::Flag));
    }
    std::env::var_os(CA_BUNDLE_ENV)
        .filter(|v| !v.is_empty())
        .map(|v| (PathBuf::from(v), Source::Env))
}

/// An HTTPS client that trusts exactly the certificates in the PEM file `path`; otherwise the
/// SDK's default client (`aws-smithy-runtime`'s `default_https_client`: rustls with aws-lc,
/// the connect/read timeouts of the SDK config, and `HTTPS_PROXY` / `NO_PROXY` from the
/// environment), built the same way.
pub(super) fn http_client(path: &Path, source: Source) -> Result<SharedHttpClient, KeyError> {
    let pem = load_bundle(path, source)?;
    let ctx = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(pem))
        .build()
        .map_err(|e| bundle_err(path, source, &e.to_string()))?;
    Ok(
        Builder::new().build_with_connector_fn(move |settings, components| {
            let mut conn = ConnectorBuilder::default()
                .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                .tls_context(ctx.clone());
            conn.set_connector_settings(settings.cloned());
            if let Some(c) = components {
                conn.set_sleep_impl(c.sleep_impl());
            }
            conn.set_proxy_config(Some(ProxyConfig::from_env()));
            conn.build()
        }),
    )
}

/// Reads `path` and checks that it holds at least one certificate and that every certificate
/// in it is usable as a trust anchor. Returns the file's bytes.
fn load_bundle(path: &Path, source: Source) -> Result<Vec<u8>, KeyError> {
    let pem = std::fs::read(path).map_err(|e| bundle_err(path, source, &e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bundle_err(path, source, &format!("not a PEM certificate bundle: {e}")))?;
    if certs.is_empty() {
        return Err(bundle_err(
            path,
            source,
            "no certificate in it (expected PEM `-----BEGIN CERTIFICATE-----` blocks)",
        ));
    }
    let mut roots = rustls::RootCertStore::empty();
    for (i, cert) in certs.into_iter().enumerate() {
        roots.add(cert).map_err(|e| {
            bundle_err(
                path,
                source,
                &format!("certificate {} is not usable as a CA: {e}", i + 1),
            )
        })?;
    }
    Ok(pem)
}

fn bundle_err(path: &Path, source: Source, why: &str) -> KeyError {
    let from = match source {
        Source::Flag => "--kms-ca-bundle",
        Source::Env => CA_BUNDLE_ENV,
    };
    KeyError::KmsConfig(format!("CA bundle {} (from {from}): {why}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<Vec<u8>, KeyError>) -> String {
        match r {
            Err(KeyError::KmsConfig(m)) => m,
            other => panic!("expected a KmsConfig error, got {other:?}"),
        }
    }

    #[test]
    fn bad_bundles_are_clear_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let m = err(load_bundle(&missing, Source::Flag));
        assert!(
            m.contains("missing.pem") && m.contains("--kms-ca-bundle"),
            "{m}"
        );

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, b"just text\n").unwrap();
        let m = err(load_bundle(&empty, Source::Env));
        assert!(
            m.contains("empty.pem") && m.contains("no certificate"),
            "{m}"
        );
        assert!(m.contains("AWS_CA_BUNDLE"), "{m}");

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(
            &garbage,
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let m = err(load_bundle(&garbage, Source::Flag));
        assert!(m.contains("garbage.pem"), "{m}");

        assert!(matches!(
            http_client(&missing, Source::Flag),
            Err(KeyError::KmsConfig(_))
        ));
    }

    #[test]
    fn a_generated_ca_loads() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ca.pem");
        std::fs::write(&p, ca.pem()).unwrap();
        assert_eq!(
            load_bundle(&p, Source::Flag).unwrap(),
            ca.pem().into_bytes()
        );
        http_client(&p, Source::Flag).unwrap();
    }
}
