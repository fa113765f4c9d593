//! A pagoPA Node simulator for demos and tests: plays the Node's side of a payment against a
//! running server over HTTP — paVerifyPaymentNotice, paGetPaymentV2, then paSendRTV2 with a
//! receipt built from what the server said. `sportello pagopa simulate-payment` runs it. It can
//! reach a protected channel as the Node does: with a client certificate, trusting the channel's
//! CA, and sending the shared key.

use std::fmt::Write as _;
use std::time::Duration;

use super::soap::{self, Element, Operation, escape};

/// The Node, as seen from the creditor's station.
#[derive(Debug, Clone)]
pub struct NodeSimulator {
    client: reqwest::Client,
    /// Base URL of the server's API (`http://127.0.0.1:8080`), for the notice's creditor.
    base_url: String,
    /// Base URL of the channel where `/pagopa/paForNode` is served.
    node_url: String,
    /// Header and value of the channel's shared key, if it has one.
    shared_key: Option<(String, String)>,
    /// Whether a client certificate is presented to the channel.
    presents_certificate: bool,
    /// idBrokerPA to send.
    pub broker_id: String,
    /// idStation to send.
    pub station_id: String,
}

/// What a simulated payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedPayment {
    /// Creditor fiscal code.
    pub creditor: String,
    /// Notice number.
    pub notice_number: String,
    /// Amount paid, cents.
    pub amount_cents: i64,
    /// What was paid.
    pub description: String,
    /// The receipt id sent.
    pub receipt_id: String,
}

/// How the simulator proves itself to a protected channel.
#[derive(Debug, Clone, Default)]
pub struct ChannelCredentials {
    /// The client certificate (chain) and its private key, PEM, in one buffer: mutual TLS.
    pub identity_pem: Option<Vec<u8>>,
    /// CA certificates (PEM) trusted for the channel's server certificate, beside the usual
    /// roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Header name and value of the shared key.
    pub shared_key: Option<(String, String)>,
}

/// A KO answer of the server, or a transport failure.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    /// The server answered KO.
    #[error("{operation}: KO {code}: {description}")]
    Fault {
        /// The operation.
        operation: &'static str,
        /// The PAA_* code.
        code: String,
        /// The fault's description.
        description: String,
    },
    /// Anything else (connection, unreadable answer).
    #[error("{0}")]
    Other(String),
}

impl NodeSimulator {
    /// A simulator calling `base_url` (API and channel alike, unprotected) as broker
    /// `broker_id`, station `station_id`.
    pub fn new(base_url: &str, broker_id: &str, station_id: &str) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            node_url: base_url.trim_end_matches('/').to_owned(),
            shared_key: None,
            presents_certificate: false,
            broker_id: broker_id.to_owned(),
            station_id: station_id.to_owned(),
        }
    }

    /// A simulator that asks the API at `base_url` for creditors and calls the channel at
    /// `node_url` with `credentials`.
    pub fn with_channel(
        base_url: &str,
        node_url: &str,
        broker_id: &str,
        station_id: &str,
        credentials: &ChannelCredentials,
    ) -> Result<Self, SimulatorError> {
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
        if let Some(pem) = &credentials.identity_pem {
            let identity = reqwest::Identity::from_pem(pem)
                .map_err(|e| SimulatorError::Other(format!("client certificate and key: {e}")))?;
            builder = builder.identity(identity);
        }
        if let Some(pem) = &credentials.ca_pem {
            let roots = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| SimulatorError::Other(format!("CA certificates: {e}")))?;
            if roots.is_empty() {
                return Err(SimulatorError::Other("CA certificates: none in the file".into()));
            }
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        let client = builder
            .build()
            .map_err(|e| SimulatorError::Other(format!("HTTP client: {e}")))?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            node_url: node_url.trim_end_matches('/').to_owned(),
            shared_key: credentials.shared_key.clone(),
            presents_certificate: credentials.identity_pem.is_some(),
            broker_id: broker_id.to_owned(),
            station_id: station_id.to_owned(),
        })
    }

    /// Posts one operation's request content; returns the response element when OK.
    pub async fn call(&self, operation: Operation, content: &str) -> Result<Element, SimulatorError> {
        let xml = soap::request_envelope(operation, content);
        let mut request = self
            .client
            .post(format!("{}/pagopa/paForNode", self.node_url))
            .header("content-type", "text/xml; charset=utf-8")
            .header("soapaction", operation.action());
        if let Some((name, value)) = &self.shared_key {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.body(xml).send().await.map_err(|e| {
            // The TLS layer's reason (a refused certificate) is in the error's sources.
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                message = format!("{message}: {cause}");
                source = cause.source();
            }
            // In TLS 1.3 the client finishes its handshake before the server has judged the
            // client's certificate; a refusal may then arrive as a bare closed connection, the
            // alert unread.
            if self.node_url.starts_with("https://") && !self.presents_certificate {
                message.push_str(
                    " (a channel with mutual TLS closes connections that present no client \
                     certificate: pass --client-cert and --client-key)",
                );
            }
            SimulatorError::Other(format!("{}: {message}", operation.action()))
        })?;
        if response.status() == reqwest::StatusCode::FORBIDDEN {
            return Err(SimulatorError::Other(format!(
                "{}: the channel refused the request (403: source network or shared key)",
                operation.action()
            )));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| SimulatorError::Other(format!("{}: {e}", operation.action())))?;
        let envelope = soap::parse_document(&bytes).map_err(|f| {
            SimulatorError::Other(format!(
                "{}: unreadable answer: {}",
                operation.action(),
                f.description
            ))
        })?;
        let element = envelope
            .child("Body")
            .and_then(|b| b.child(operation.response_element()))
            .ok_or_else(|| {
                SimulatorError::Other(format!(
                    "{}: no {} in the answer",
                    operation.action(),
                    operation.response_element()
                ))
            })?;
        if element.child("outcome").map(|o| o.text.trim()) == Some("OK") {
            return Ok(element.clone());
        }
        let fault = element.child("fault");
        let text = |name: &str| {
            fault
                .and_then(|f| f.child(name))
                .map(|e| e.text.trim().to_owned())
                .unwrap_or_default()
        };
        Err(SimulatorError::Fault {
            operation: operation.action(),
            code: text("faultCode"),
            description: text("description"),
        })
    }

    fn header(&self, creditor: &str) -> String {
        format!(
            "<idPA>{}</idPA><idBrokerPA>{}</idBrokerPA><idStation>{}</idStation>",
            escape(creditor),
            escape(&self.broker_id),
            escape(&self.station_id)
        )
    }

    /// The content of a paVerifyPaymentNotice or paGetPaymentV2 request.
    pub fn notice_request(&self, creditor: &str, notice: &str, amount: Option<&str>) -> String {
        let mut content = self.header(creditor);
        let _ = write!(
            content,
            "<qrCode><fiscalCode>{}</fiscalCode><noticeNumber>{}</noticeNumber></qrCode>",
            escape(creditor),
            escape(notice)
        );
        if let Some(amount) = amount {
            let _ = write!(content, "<amount>{}</amount>", escape(amount));
        }
        content
    }

    /// The content of a paSendRTV2 request, built from a paGetPaymentV2 `data` element.
    pub fn receipt_request(
        &self,
        creditor: &str,
        notice: &str,
        receipt_id: &str,
        amount: &str,
        data: &Element,
    ) -> String {
        let text = |e: &Element, name: &str| e.child(name).map(|c| escape(c.text.trim())).unwrap_or_default();
        let mut content = self.header(creditor);
        let _ = write!(
            content,
            "<receipt><receiptId>{}</receiptId><noticeNumber>{}</noticeNumber><fiscalCode>{}</fiscalCode>\
             <outcome>OK</outcome><creditorReferenceId>{}</creditorReferenceId><paymentAmount>{}</paymentAmount>\
             <description>{}</description><companyName>{}</companyName>",
            escape(receipt_id),
            escape(notice),
            escape(creditor),
            text(data, "creditorReferenceId"),
            escape(amount),
            text(data, "description"),
            text(data, "companyName"),
        );
        if let Some(debtor) = data.child("debtor") {
            let id = debtor.child("uniqueIdentifier");
            let _ = write!(
                content,
                "<debtor><uniqueIdentifier><entityUniqueIdentifierType>{}</entityUniqueIdentifierType>\
                 <entityUniqueIdentifierValue>{}</entityUniqueIdentifierValue></uniqueIdentifier>\
                 <fullName>{}</fullName></debtor>",
                id.map(|i| text(i, "entityUniqueIdentifierType"))
                    .unwrap_or_default(),
                id.map(|i| text(i, "entityUniqueIdentifierValue"))
                    .unwrap_or_default(),
                text(debtor, "fullName"),
            );
        }
        content.push_str("<transferList>");
        for transfer in data
            .child("transferList")
            .iter()
            .flat_map(|l| l.children_named("transfer"))
        {
            let _ = write!(
                content,
                "<transfer><idTransfer>{}</idTransfer><transferAmount>{}</transferAmount><fiscalCodePA>{}</fiscalCodePA>",
                text(transfer, "idTransfer"),
                text(transfer, "transferAmount"),
                text(transfer, "fiscalCodePA"),
            );
            if transfer.child("IBAN").is_some() {
                let _ = write!(content, "<IBAN>{}</IBAN>", text(transfer, "IBAN"));
            } else {
                // A digital stamp comes back as the stamp document (here a placeholder).
                content.push_str("<MBDAttachment>U3BvcnRlbGxv</MBDAttachment>");
            }
            let _ = write!(
                content,
                "<remittanceInformation>{}</remittanceInformation><transferCategory>{}</transferCategory></transfer>",
                text(transfer, "remittanceInformation"),
                text(transfer, "transferCategory"),
            );
        }
        let now = jiff::Timestamp::now();
        let _ = write!(
            content,
            "</transferList><idPSP>SPORTELLOSIM</idPSP><PSPCompanyName>Sportello Node simulator</PSPCompanyName>\
             <idChannel>SPORTELLOSIM_01</idChannel><channelDescription>simulator</channelDescription>\
             <paymentMethod>creditCard</paymentMethod><fee>1.00</fee>\
             <paymentDateTime>{}</paymentDateTime><applicationDate>{}</applicationDate></receipt>",
            now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            sportello_core::calendar::rome_date(now),
        );
        content
    }

    /// Finds the creditor of a notice through the public REST verify (what a payer's app does
    /// with a typed notice number).
    pub async fn creditor_of(&self, notice: &str) -> Result<String, SimulatorError> {
        let response = self
            .client
            .post(format!("{}/v1/payments/verify", self.base_url))
            .json(&serde_json::json!({ "code": notice }))
            .send()
            .await
            .map_err(|e| SimulatorError::Other(e.to_string()))?;
        let status = response.status();
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| SimulatorError::Other(e.to_string()))?;
        body.get("creditor_fiscal_code")
            .and_then(|c| c.as_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                SimulatorError::Other(format!(
                    "cannot find the creditor of {notice} ({status}: {}); pass --creditor",
                    body.get("detail").and_then(|d| d.as_str()).unwrap_or_default()
                ))
            })
    }

    /// Pays a notice as the Node would: verify, get payment, send the receipt.
    pub async fn simulate_payment(
        &self,
        creditor: &str,
        notice: &str,
    ) -> Result<SimulatedPayment, SimulatorError> {
        let notice: String = notice.chars().filter(|c| !c.is_whitespace()).collect();
        let verified = self
            .call(
                Operation::VerifyPaymentNotice,
                &self.notice_request(creditor, &notice, None),
            )
            .await?;
        let amount = verified
            .child("paymentList")
            .and_then(|l| l.child("paymentOptionDescription"))
            .and_then(|d| d.child("amount"))
            .map(|a| a.text.trim().to_owned())
            .ok_or_else(|| SimulatorError::Other("verify: no amount".into()))?;
        let got = self
            .call(
                Operation::GetPaymentV2,
                &self.notice_request(creditor, &notice, Some(&amount)),
            )
            .await?;
        let data = got
            .child("data")
            .ok_or_else(|| SimulatorError::Other("getPaymentV2: no data".into()))?;
        let receipt_id = uuid::Uuid::now_v7().simple().to_string();
        self.call(
            Operation::SendRtV2,
            &self.receipt_request(creditor, &notice, &receipt_id, &amount, data),
        )
        .await?;
        Ok(SimulatedPayment {
            creditor: creditor.to_owned(),
            notice_number: notice,
            amount_cents: soap::parse_st_amount(&amount).unwrap_or_default(),
            description: data
                .child("description")
                .map(|d| d.text.clone())
                .unwrap_or_default(),
            receipt_id,
        })
    }
}
