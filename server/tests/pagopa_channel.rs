//! The pagoPA channel: `/pagopa/paForNode` reached only the way the Node reaches it, on a real
//! server (SQLite, or PostgreSQL with SPORTELLO_TEST_PG_URL). Certificates are made here at run
//! time with rcgen: a CA for the Node, its client certificate, another client of the same CA,
//! and a client of another CA. Without the right certificate the TLS handshake fails; from
//! outside the source networks or without the shared key the answer is 403; none of these
//! touches the stored position, and the right client pays it. `sportello pagopa
//! simulate-payment` pays through mutual TLS with a client certificate.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

mod common;

use std::path::{Path, PathBuf};

use common::{CITIZEN, Prepared, TestServer, client};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use serde_json::json;
use sportello_core::api;
use sportello_server::config::Secret;
use sportello_server::payments::soap::{self, Operation};

const GENOVA: &str = "00856930102";
const BROKER: &str = "00856930102";
const STATION: &str = "00856930102_01";
const NODE_CN: &str = "nodo.pagopa.test";
const SHARED_KEY: &str = "0123456789abcdef-test";

/// A certificate authority of the test.
struct Authority(CertifiedIssuer<'static, KeyPair>);

impl Authority {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        Self(CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap())
    }

    /// A leaf certificate and its key, PEM, for a server (`names` in its SANs) or a client.
    fn issue(&self, common_name: &str, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> (String, String) {
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![purpose];
        let key = KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &*self.0).unwrap();
        (certificate.pem(), key.serialize_pem())
    }
}

/// The files of a test's PKI.
struct Pki {
    dir: tempfile::TempDir,
    /// The Node's CA: the channel's client_ca, and the issuer of the server's certificate.
    ca: PathBuf,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let node_ca = Authority::new("Test pagoPA CA");
        let other_ca = Authority::new("Another CA");
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let ca = write("ca.pem", &node_ca.0.pem());
        let (cert, key) = node_ca.issue(
            "sportello.test",
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        write("server.pem", &cert);
        write("server.key", &key);
        for (name, authority, common_name) in [
            ("node", &node_ca, NODE_CN),
            ("intruder", &node_ca, "intruso.test"),
            ("foreign", &other_ca, NODE_CN),
        ] {
            let (cert, key) = authority.issue(common_name, &[], ExtendedKeyUsagePurpose::ClientAuth);
            write(&format!("{name}.pem"), &cert);
            write(&format!("{name}.key"), &key);
        }
        Self { dir, ca }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// An HTTPS client trusting the test CA, presenting `client`'s certificate if given.
    /// TLS 1.2: its client waits for the server's Finished, sent only after the client's
    /// certificate is judged, so a refusal always arrives as the server's alert. In TLS 1.3 the
    /// client may finish first and see only a closed connection (the command line's test below
    /// covers TLS 1.3).
    fn client(&self, client: Option<&str>) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .max_tls_version(reqwest::tls::Version::TLS_1_2)
            .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&self.ca).unwrap()).unwrap());
        if let Some(name) = client {
            let mut pem = std::fs::read(self.path(&format!("{name}.pem"))).unwrap();
            pem.extend(std::fs::read(self.path(&format!("{name}.key"))).unwrap());
            builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
        }
        builder.build().unwrap()
    }
}

/// A server whose channel has its own mutual-TLS listener; returns it and the channel's URL.
async fn server_with_mtls(pki: &Pki, configure: impl FnOnce(&mut Prepared)) -> (TestServer, String) {
    let mut prepared = Prepared::new().await;
    let address = prepared.pagopa_listener().await;
    let channel = &mut prepared.config.pagopa.channel;
    channel.tls_cert = Some(pki.path("server.pem"));
    channel.tls_key = Some(pki.path("server.key"));
    channel.client_ca = Some(pki.ca.clone());
    configure(&mut prepared);
    (
        prepared.start().await,
        format!("https://127.0.0.1:{}", address.port()),
    )
}

/// A published Genova position of 30 € for the test citizen.
async fn position(server: &TestServer) -> api::PaymentPosition {
    let (token, _) = server
        .dev_login(common::GENOVA_OPERATOR, &["operator:010025:payments"])
        .await;
    let created: api::PaymentPosition = client()
        .post(server.url("/v1/municipalities/010025/payment-positions"))
        .bearer_auth(&token)
        .json(&json!({
            "debtor": {"fiscal_code": CITIZEN, "full_name": "Mario Rossi"},
            "description": "Diritti di segreteria",
            "options": [{"amount_cents": 3000, "due_date": "2099-12-31"}],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = client()
        .post(server.url(&format!(
            "/v1/municipalities/010025/payment-positions/{}/publish",
            created.id
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The position's stored status and the number of receipts recorded.
async fn stored(server: &TestServer, position: &api::PaymentPosition) -> (String, i64) {
    use sqlx::Row;
    let pool = server.state.db.pool();
    let status = sqlx::query("SELECT status FROM payment_positions WHERE id = $1")
        .bind(&position.id)
        .fetch_one(pool)
        .await
        .unwrap()
        .try_get::<String, _>(0)
        .unwrap();
    let receipts = sqlx::query("SELECT COUNT(*) FROM payment_receipts")
        .fetch_one(pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap();
    (status, receipts)
}

/// The Node's paSendRTV2 for the position's notice.
fn receipt(position: &api::PaymentPosition, receipt_id: &str) -> String {
    let option = &position.options[0];
    soap::request_envelope(
        Operation::SendRtV2,
        &format!(
            "<idPA>{GENOVA}</idPA><idBrokerPA>{BROKER}</idBrokerPA><idStation>{STATION}</idStation>\
             <receipt><receiptId>{receipt_id}</receiptId><noticeNumber>{}</noticeNumber>\
             <fiscalCode>{GENOVA}</fiscalCode><outcome>OK</outcome><creditorReferenceId>{}</creditorReferenceId>\
             <paymentAmount>30.00</paymentAmount><description>Diritti</description><companyName>Comune di Genova</companyName>\
             <debtor><uniqueIdentifier><entityUniqueIdentifierType>F</entityUniqueIdentifierType>\
             <entityUniqueIdentifierValue>{CITIZEN}</entityUniqueIdentifierValue></uniqueIdentifier><fullName>Mario Rossi</fullName></debtor>\
             <transferList><transfer><idTransfer>1</idTransfer><transferAmount>30.00</transferAmount>\
             <fiscalCodePA>{GENOVA}</fiscalCodePA><IBAN>IT60X0542811101000000123456</IBAN>\
             <remittanceInformation>Diritti</remittanceInformation><transferCategory>9/0101108TS/</transferCategory></transfer></transferList>\
             <idPSP>PSP1</idPSP><PSPCompanyName>PSP</PSPCompanyName><idChannel>PSP1_01</idChannel>\
             <channelDescription>app</channelDescription><paymentDateTime>2026-11-26T10:00:00</paymentDateTime></receipt>",
            option.notice_number, option.iuv
        ),
    )
}

/// Posts the receipt to `base`: the HTTP status and body, or the transport error.
async fn send(
    http: &reqwest::Client,
    base: &str,
    position: &api::PaymentPosition,
    key: Option<&str>,
) -> Result<(u16, String), String> {
    let mut request = http
        .post(format!("{base}/pagopa/paForNode"))
        .header("content-type", "text/xml; charset=utf-8")
        .header("soapaction", "paSendRTV2");
    if let Some(key) = key {
        request = request.header("x-pagopa-channel-key", key);
    }
    let response = request
        .body(receipt(
            position,
            &format!("r{}", &position.id.replace('-', "")[..24]),
        ))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status().as_u16();
    Ok((status, response.text().await.map_err(|e| e.to_string())?))
}

fn assert_paid_ok((status, xml): &(u16, String)) {
    assert_eq!(*status, 200, "{xml}");
    assert!(xml.contains("<outcome>OK</outcome>"), "{xml}");
}

fn assert_forbidden((status, xml): &(u16, String)) {
    assert_eq!(*status, 403, "{xml}");
    assert!(
        xml.contains("soapenv:Fault") && xml.contains("access denied"),
        "{xml}"
    );
}

#[tokio::test]
async fn mutual_tls_admits_only_the_nodes_certificate() {
    let pki = Pki::new();
    let (server, channel) = server_with_mtls(&pki, |_| {}).await;
    let notice = position(&server).await;

    // The main listener no longer serves the Node's endpoint.
    let main = client()
        .post(server.url("/pagopa/paForNode"))
        .header("soapaction", "paSendRTV2")
        .body(receipt(&notice, "via-main"))
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 404);

    // No certificate, a certificate of another CA, plain HTTP: no handshake, nothing paid.
    let error = send(&pki.client(None), &channel, &notice, None)
        .await
        .unwrap_err();
    assert!(error.contains("AlertReceived(CertificateRequired)"), "{error}");
    let error = send(&pki.client(Some("foreign")), &channel, &notice, None)
        .await
        .unwrap_err();
    assert!(error.contains("AlertReceived(UnknownCA)"), "{error}");
    let plain = channel.replace("https://", "http://");
    assert!(send(&client(), &plain, &notice, None).await.is_err());
    assert_eq!(stored(&server, &notice).await, ("VALID".to_owned(), 0));

    // The Node's certificate pays.
    assert_paid_ok(
        &send(&pki.client(Some("node")), &channel, &notice, None)
            .await
            .unwrap(),
    );
    assert_eq!(stored(&server, &notice).await, ("PAID".to_owned(), 1));
    // Without a pinned subject, any certificate of the Node's CA is the Node.
    let second = position(&server).await;
    assert_paid_ok(
        &send(&pki.client(Some("intruder")), &channel, &second, None)
            .await
            .unwrap(),
    );

    // The command line pays through mutual TLS with its client certificate, and without one
    // it cannot.
    let third = position(&server).await;
    let simulate = |with_certificate: bool| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_sportello"));
        command
            .args(["pagopa", "simulate-payment", &third.options[0].notice_number])
            .args([
                "--creditor",
                GENOVA,
                "--url",
                &server.base,
                "--channel-url",
                &channel,
            ])
            .arg("--ca")
            .arg(&pki.ca)
            .env_remove("SPORTELLO__ENV")
            .env_remove("SPORTELLO_CONFIG");
        if with_certificate {
            command
                .arg("--client-cert")
                .arg(pki.path("node.pem"))
                .arg("--client-key")
                .arg(pki.path("node.key"));
        }
        command.output()
    };
    let refused = simulate(false).await.unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    assert_eq!(stored(&server, &third).await.0, "VALID");
    let paid = simulate(true).await.unwrap();
    let stdout = String::from_utf8_lossy(&paid.stdout);
    assert!(paid.status.success(), "{}", String::from_utf8_lossy(&paid.stderr));
    assert!(stdout.contains("30.00 EUR"), "{stdout}");
    assert_eq!(stored(&server, &third).await, ("PAID".to_owned(), 3));
    server.stop().await;
}

#[tokio::test]
async fn a_pinned_subject_refuses_other_certificates_of_the_same_ca() {
    let pki = Pki::new();
    let (server, channel) = server_with_mtls(&pki, |prepared| {
        prepared.config.pagopa.channel.client_subject = Some(NODE_CN.to_owned());
    })
    .await;
    let notice = position(&server).await;
    let error = send(&pki.client(Some("intruder")), &channel, &notice, None)
        .await
        .unwrap_err();
    assert!(error.contains("AlertReceived(AccessDenied)"), "{error}");
    // The right name from the wrong CA is no better.
    let error = send(&pki.client(Some("foreign")), &channel, &notice, None)
        .await
        .unwrap_err();
    assert!(error.contains("AlertReceived(UnknownCA)"), "{error}");
    assert_eq!(stored(&server, &notice).await, ("VALID".to_owned(), 0));
    assert_paid_ok(
        &send(&pki.client(Some("node")), &channel, &notice, None)
            .await
            .unwrap(),
    );
    assert_eq!(stored(&server, &notice).await, ("PAID".to_owned(), 1));
    server.stop().await;
}

#[tokio::test]
async fn the_own_listener_checks_source_networks_after_the_handshake() {
    let pki = Pki::new();
    let (server, channel) = server_with_mtls(&pki, |prepared| {
        prepared.config.pagopa.channel.source_networks = vec!["192.0.2.0/24".parse().unwrap()];
    })
    .await;
    let notice = position(&server).await;
    // The right certificate from outside the networks.
    assert_forbidden(
        &send(&pki.client(Some("node")), &channel, &notice, None)
            .await
            .unwrap(),
    );
    assert_eq!(stored(&server, &notice).await, ("VALID".to_owned(), 0));
    server.stop().await;
}

#[tokio::test]
async fn source_networks_and_the_shared_key_guard_the_main_listener() {
    // Behind an ingress that verifies the certificate: the endpoint on the main listener.
    let mut prepared = Prepared::new().await;
    prepared.config.pagopa.channel.source_networks = vec!["192.0.2.0/24".parse().unwrap()];
    let outside = prepared.start().await;
    let notice = position(&outside).await;
    assert_forbidden(&send(&client(), &outside.base, &notice, None).await.unwrap());
    assert_eq!(stored(&outside, &notice).await, ("VALID".to_owned(), 0));
    outside.stop().await;

    let mut prepared = Prepared::new().await;
    let channel = &mut prepared.config.pagopa.channel;
    channel.source_networks = vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
    channel.shared_key = Some(Secret::new(SHARED_KEY));
    let server = prepared.start().await;
    let notice = position(&server).await;
    for key in [None, Some("0123456789abcdef-tesT"), Some("")] {
        assert_forbidden(&send(&client(), &server.base, &notice, key).await.unwrap());
    }
    assert_eq!(stored(&server, &notice).await, ("VALID".to_owned(), 0));
    assert_paid_ok(
        &send(&client(), &server.base, &notice, Some(SHARED_KEY))
            .await
            .unwrap(),
    );
    assert_eq!(stored(&server, &notice).await, ("PAID".to_owned(), 1));
    // The rest of the API is not behind the channel's guard.
    let health = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn a_channel_that_cannot_start_stops_the_server() {
    let pki = Pki::new();
    let mut prepared = Prepared::new().await;
    prepared.pagopa_listener().await;
    let channel = &mut prepared.config.pagopa.channel;
    channel.tls_cert = Some(pki.path("server.pem"));
    channel.tls_key = Some(pki.path("server.key"));
    channel.client_ca = Some(Path::new("/nonexistent/ca.pem").to_owned());
    let state = sportello_server::AppState::start(prepared.config).await.unwrap();
    let error = sportello_server::serve(state, prepared.listener, prepared.pagopa, async {})
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("pagopa.channel.client_ca"), "{error}");
}
