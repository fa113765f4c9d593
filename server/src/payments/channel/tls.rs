//! TLS of the channel's own listener: the server certificate, and mutual TLS with client
//! certificates verified by webpki against the configured CA bundle, then, when configured, the
//! verified certificate's subject common name compared with the pinned one.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, RootCertStore, ServerConfig,
    SignatureScheme,
};

use crate::config::PagopaChannelConfig;

/// The rustls settings of the own listener, or None when it speaks plain HTTP (no `tls_cert`).
/// ring is the crypto provider, as for every other TLS connection of the server (reqwest).
pub fn server_config(config: &PagopaChannelConfig) -> anyhow::Result<Option<Arc<ServerConfig>>> {
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
        return Ok(None);
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(cert, "pagopa.channel.tls_cert")?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("pagopa.channel.tls_key {}: {e}", key.display()))?;
    let verifier = match &config.client_ca {
        Some(ca) => client_verifier(ca, config.client_subject.as_deref(), &provider)?,
        None => WebPkiClientVerifier::no_client_auth(),
    };
    let mut server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| anyhow::anyhow!("pagopa.channel.tls_cert and tls_key: {e}"))?;
    // The Node speaks SOAP over HTTP/1.1.
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Arc::new(server)))
}

fn certificates(path: &Path, key: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| anyhow::anyhow!("{key} {}: {e}", path.display()))?;
    anyhow::ensure!(
        !certificates.is_empty(),
        "{key} {}: no PEM certificate in the file",
        path.display()
    );
    Ok(certificates)
}

/// A verifier that requires a client certificate chaining to one of the CAs of `ca`.
fn client_verifier(
    ca: &Path,
    subject: Option<&str>,
    provider: &Arc<CryptoProvider>,
) -> anyhow::Result<Arc<dyn ClientCertVerifier>> {
    let mut roots = RootCertStore::empty();
    for certificate in certificates(ca, "pagopa.channel.client_ca")? {
        roots
            .add(certificate)
            .map_err(|e| anyhow::anyhow!("pagopa.channel.client_ca {}: {e}", ca.display()))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
        .build()
        .map_err(|e| anyhow::anyhow!("pagopa.channel.client_ca {}: {e}", ca.display()))?;
    Ok(match subject {
        Some(common_name) => Arc::new(PinnedSubject {
            inner: verifier,
            common_name: common_name.to_owned(),
        }),
        None => verifier,
    })
}

/// webpki's verification, then the subject's common name: a certificate the CA issued to
/// someone else is refused in the handshake too.
#[derive(Debug)]
struct PinnedSubject {
    inner: Arc<dyn ClientCertVerifier>,
    common_name: String,
}

impl ClientCertVerifier for PinnedSubject {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let verified = self.inner.verify_client_cert(end_entity, intermediates, now)?;
        // Exactly one CN, equal to the pin: a subject with two names could satisfy a lax
        // comparison with either.
        match subject_common_names(end_entity).as_slice() {
            [name] if *name == self.common_name => Ok(verified),
            names => {
                tracing::warn!(subject_cn = ?names, pinned = %self.common_name,
                    "pagoPA channel: client certificate of another subject");
                Err(Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
/// id-at-commonName, 2.5.4.3.
const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

/// The common names of a certificate's subject (RFC 5280: Certificate → tbsCertificate →
/// subject, a sequence of sets of type-value pairs). Called only on a certificate webpki has just
/// verified, so the DER is well-formed; anything unexpected yields no name, which no pin matches.
fn subject_common_names(certificate: &[u8]) -> Vec<String> {
    fn names(certificate: &[u8]) -> Option<Vec<String>> {
        let (certificate, _) = expect(certificate, SEQUENCE)?;
        let (tbs, _) = expect(certificate, SEQUENCE)?;
        // version [0] (optional), serialNumber, signature, issuer, validity, then subject.
        let mut rest = tbs;
        if rest.first() == Some(&0xa0) {
            rest = tlv(rest)?.2;
        }
        for _ in 0..4 {
            rest = tlv(rest)?.2;
        }
        let (mut subject, _) = expect(rest, SEQUENCE)?;
        let mut found = Vec::new();
        while !subject.is_empty() {
            let (mut set, next) = expect(subject, SET)?;
            subject = next;
            while !set.is_empty() {
                let (pair, next) = expect(set, SEQUENCE)?;
                set = next;
                let (oid, value) = expect(pair, OID)?;
                if oid == COMMON_NAME {
                    let (tag, text, _) = tlv(value)?;
                    found.push(directory_string(tag, text)?);
                }
            }
        }
        Some(found)
    }
    names(certificate).unwrap_or_default()
}

/// A DirectoryString's text: UTF8String, PrintableString, IA5String, or BMPString (UTF-16).
fn directory_string(tag: u8, bytes: &[u8]) -> Option<String> {
    match tag {
        0x0c | 0x13 | 0x16 => String::from_utf8(bytes.to_vec()).ok(),
        0x1e => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// One DER value: (tag, contents, what follows). Definite lengths of up to four bytes.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        (
            bytes
                .iter()
                .fold(0usize, |length, &b| (length << 8) | usize::from(b)),
            rest,
        )
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

/// One DER value that must have `tag`: (contents, what follows).
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (found, contents, rest) = tlv(input)?;
    (found == tag).then_some((contents, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(names: &[(rcgen::DnType, &str)]) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (kind, value) in names {
            params.distinguished_name.push(kind.clone(), *value);
        }
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn reads_the_subject_common_names() {
        let der = certificate(&[
            (rcgen::DnType::CountryName, "IT"),
            (rcgen::DnType::OrganizationName, "PagoPA S.p.A."),
            (rcgen::DnType::CommonName, "nodo-dei-pagamenti.pagopa.it"),
        ]);
        assert_eq!(subject_common_names(&der), ["nodo-dei-pagamenti.pagopa.it"]);
        let none = certificate(&[(rcgen::DnType::OrganizationName, "Comune di Genova")]);
        assert!(subject_common_names(&none).is_empty());
        let utf8 = certificate(&[(rcgen::DnType::CommonName, "Città di Genova")]);
        assert_eq!(subject_common_names(&utf8), ["Città di Genova"]);
        // Truncated or garbage input yields no name rather than a panic.
        for cut in [0, 1, 10, der.len() / 2, der.len() - 1] {
            assert!(subject_common_names(&der[..cut]).is_empty(), "cut at {cut}");
        }
    }

    #[test]
    fn der_lengths_in_long_form() {
        let mut long = vec![0x04, 0x82, 0x01, 0x00];
        long.extend(std::iter::repeat_n(7u8, 256));
        long.push(0xff);
        let (tag, contents, rest) = tlv(&long).unwrap();
        assert_eq!((tag, contents.len(), rest), (0x04, 256, &[0xff][..]));
        assert!(tlv(&[0x04, 0x85, 1, 2, 3, 4, 5]).is_none());
        assert!(tlv(&[0x04, 0x05, 1]).is_none());
    }
}
