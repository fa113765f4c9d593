//! `paForNode`: what Sportello answers when the pagoPA Node calls. The checks come in the order
//! the Node's operators expect to read them: syntax, broker, station, creditor, notice, state.

use std::fmt::Write as _;

use jiff::Timestamp;
use sportello_core::payments::{
    DebtPosition, NoticeNumber, Payment, PaymentOption, PaymentOutcome, PaymentsError, PositionStatus,
    TransferTarget,
};

use super::soap::{self, Element, Fault, FaultCode, Operation, escape, format_amount};
use super::{Creditor, PaidOption, Payments, store, to_domain};
use crate::clock::now_ms;
use crate::notify::Notifier;

/// What to send back to the Node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A response element (OK, or KO with a PAA_* fault): HTTP 200.
    Response(String),
    /// A SOAP Fault, when not even the operation could be told: HTTP 500 (SOAP 1.1).
    SoapFault(String),
}

impl Payments {
    /// Answers one `paForNode` request. `action` is the SOAPAction header.
    pub async fn answer_node(&self, notifier: &Notifier, action: Option<&str>, xml: &[u8]) -> Answer {
        let action = match soap::read_action(action) {
            Ok(action) => action,
            Err(fault) => return refuse_action(&fault),
        };
        let fallback_id = self.creditors.first().map_or("", |c| c.broker_id.as_str());
        let request = match soap::parse_request(xml, action) {
            Ok(request) => request,
            Err((Some(operation), fault)) => {
                return Answer::Response(soap::fault_response(operation, &fault, fallback_id));
            }
            Err((None, fault)) => return Answer::SoapFault(soap::soap_fault(&fault.description)),
        };
        let operation = request.operation;
        // The header and the body must name the same operation: a request that says one thing
        // to the proxies routing on the header and another to us is refused, never guessed.
        if action.is_some_and(|a| a != operation) {
            return refuse_action(&Fault::new(
                FaultCode::SintassiXsd,
                format!(
                    "the SOAPAction does not name {}, the operation of the body",
                    operation.action()
                ),
            ));
        }
        let id_pa = request
            .body
            .child("idPA")
            .map(|e| e.text.trim())
            .filter(|t| (1..=35).contains(&t.len()))
            .unwrap_or(fallback_id)
            .to_owned();
        let result = match self.check_ids(&request.body) {
            Ok(creditor) => match operation {
                Operation::VerifyPaymentNotice => self.verify_notice(creditor, &request.body).await,
                Operation::GetPayment | Operation::GetPaymentV2 => {
                    self.get_payment(creditor, &request.body, operation).await
                }
                Operation::SendRt | Operation::SendRtV2 => {
                    self.send_receipt(notifier, creditor, &request.body, xml).await
                }
            },
            Err(fault) => Err(fault),
        };
        metrics::counter!("sportello_pagopa_requests_total", "operation" => operation.action(),
            "outcome" => match &result { Ok(_) => "OK", Err(fault) => fault.code.as_str() })
        .increment(1);
        match result {
            Ok(content) => Answer::Response(soap::envelope(operation, &content)),
            Err(fault) => {
                if fault.code == FaultCode::SystemError {
                    tracing::error!(operation = operation.action(), description = %fault.description, "paForNode failed");
                } else {
                    tracing::info!(operation = operation.action(), code = fault.code.as_str(), description = %fault.description, "paForNode KO");
                }
                Answer::Response(soap::fault_response(operation, &fault, &id_pa))
            }
        }
    }

    /// idBrokerPA, idStation and idPA against the configuration, in that order.
    fn check_ids(&self, body: &Element) -> Result<&Creditor, Fault> {
        let id_pa = body.text_max("idPA", 35)?;
        let broker = body.text_max("idBrokerPA", 35)?;
        let station = body.text_max("idStation", 35)?;
        if !self.creditors.iter().any(|c| c.broker_id == broker) {
            return Err(Fault::new(
                FaultCode::IdIntermediarioErrato,
                format!("broker {broker} is not served here"),
            ));
        }
        if !self
            .creditors
            .iter()
            .any(|c| c.broker_id == broker && c.station_id == station)
        {
            return Err(Fault::new(
                FaultCode::StazioneIntErrata,
                format!("station {station} is not a station of broker {broker}"),
            ));
        }
        match self.creditor_by_fiscal_code(id_pa) {
            Some(creditor) if creditor.broker_id == broker && creditor.station_id == station => Ok(creditor),
            Some(_) => Err(Fault::new(
                FaultCode::IdDominioErrato,
                format!("creditor {id_pa} is not served through broker {broker}, station {station}"),
            )),
            None => Err(Fault::new(
                FaultCode::IdDominioErrato,
                format!("creditor {id_pa} is not served here"),
            )),
        }
    }

    /// Reads `qrCode`: the creditor must be idPA and the notice's check digits must verify.
    fn read_qr_code(creditor: &Creditor, body: &Element) -> Result<NoticeNumber, Fault> {
        let qr = body.required("qrCode")?;
        let fiscal_code = soap::check_fiscal_code_pa(qr.text_of("fiscalCode")?)?;
        let notice = soap::check_notice_number(qr.text_of("noticeNumber")?)?;
        if fiscal_code != creditor.fiscal_code.as_str() {
            return Err(Fault::new(
                FaultCode::IdDominioErrato,
                format!("qrCode/fiscalCode {fiscal_code} differs from idPA"),
            ));
        }
        NoticeNumber::parse(notice).map_err(|e| Fault::new(FaultCode::Semantica, e.to_string()))
    }

    /// The position of a notice, refreshed as of now; drafts do not exist for the Node.
    async fn position_for(&self, creditor: &Creditor, notice: &NoticeNumber) -> Result<DebtPosition, Fault> {
        let mut conn = self.db.pool().acquire().await.map_err(system_error)?;
        let stored = store::load_by_notice(&mut conn, creditor.fiscal_code.as_str(), notice.as_str())
            .await
            .map_err(system_error)?
            .ok_or_else(|| unknown(notice))?;
        let mut position = to_domain(&stored).map_err(system_error)?;
        if position.status() == PositionStatus::Draft {
            return Err(unknown(notice));
        }
        position.refresh(Timestamp::now());
        Ok(position)
    }

    async fn verify_notice(&self, creditor: &Creditor, body: &Element) -> Result<String, Fault> {
        let notice = Self::read_qr_code(creditor, body)?;
        let position = self.position_for(creditor, &notice).await?;
        let option = position.payable_option(&notice).map_err(|e| fault_of(&e))?;
        let all_postal = option.transfers().iter().all(|t| {
            matches!(&t.target, TransferTarget::Iban { iban, postal_iban } if iban.is_postal() || postal_iban.is_some())
        });
        let mut content = String::with_capacity(512);
        let _ = write!(
            content,
            "<outcome>OK</outcome><paymentList><paymentOptionDescription><amount>{}</amount>\
             <options>EQ</options><dueDate>{}</dueDate><detailDescription>{}</detailDescription>\
             <allCCP>{all_postal}</allCCP></paymentOptionDescription></paymentList>\
             <paymentDescription>{}</paymentDescription><fiscalCodePA>{}</fiscalCodePA>\
             <companyName>{}</companyName>",
            format_amount(option.amount().cents()),
            option.due_date(),
            escape(option.description()),
            escape(option.description()),
            creditor.fiscal_code,
            escape(&creditor.company_name),
        );
        Ok(content)
    }

    async fn get_payment(
        &self,
        creditor: &Creditor,
        body: &Element,
        operation: Operation,
    ) -> Result<String, Fault> {
        let notice = Self::read_qr_code(creditor, body)?;
        let amount = body
            .child("amount")
            .map(|a| soap::parse_st_amount(a.text.trim()))
            .transpose()?;
        let position = self.position_for(creditor, &notice).await?;
        let option = position.payable_option(&notice).map_err(|e| fault_of(&e))?;
        if let Some(amount) = amount
            && amount != option.amount().cents()
        {
            return Err(Fault::new(
                FaultCode::Semantica,
                format!(
                    "amount {} differs from the notice's {}",
                    format_amount(amount),
                    format_amount(option.amount().cents())
                ),
            ));
        }
        payment_data(creditor, &position, option, operation == Operation::GetPaymentV2)
    }

    async fn send_receipt(
        &self,
        notifier: &Notifier,
        creditor: &Creditor,
        body: &Element,
        xml: &[u8],
    ) -> Result<String, Fault> {
        let receipt = body.required("receipt")?;
        let receipt_id = receipt.text_of("receiptId")?;
        let notice = soap::check_notice_number(receipt.text_of("noticeNumber")?)?;
        let fiscal_code = soap::check_fiscal_code_pa(receipt.text_of("fiscalCode")?)?;
        let outcome = receipt.text_of("outcome")?;
        let iuv = receipt.text_max("creditorReferenceId", 35)?;
        let amount = soap::parse_st_amount(receipt.text_of("paymentAmount")?)?;
        receipt.text_max("description", 140)?;
        receipt.text_max("companyName", 140)?;
        receipt.required("debtor")?;
        receipt.required("transferList")?;
        let psp_id = receipt.text_max("idPSP", 35)?;
        let psp_name = receipt.text_max("PSPCompanyName", 70)?;
        receipt.text_max("idChannel", 35)?;
        receipt.text_max("channelDescription", 35)?;
        if !matches!(outcome, "OK" | "KO") {
            return Err(Fault::new(FaultCode::SintassiXsd, "outcome is OK or KO"));
        }
        if fiscal_code != creditor.fiscal_code.as_str() {
            return Err(Fault::new(
                FaultCode::IdDominioErrato,
                format!("receipt/fiscalCode {fiscal_code} differs from idPA"),
            ));
        }
        let notice =
            NoticeNumber::parse(notice).map_err(|e| Fault::new(FaultCode::Semantica, e.to_string()))?;
        if iuv != notice.iuv() {
            return Err(Fault::new(
                FaultCode::Semantica,
                format!("creditorReferenceId {iuv} is not the IUV of notice {notice}"),
            ));
        }
        if outcome == "KO" {
            // A failed payment pays nothing; acknowledging it stops the Node's retries.
            tracing::info!(notice = %notice, "receipt with outcome KO: nothing recorded");
            return Ok("<outcome>OK</outcome>".to_owned());
        }
        let paid_at = receipt
            .child("paymentDateTime")
            .and_then(|e| parse_instant(e.text.trim()))
            .unwrap_or_else(Timestamp::now);
        let payment = Payment {
            receipt_id: receipt_id.to_owned(),
            amount: sportello_core::payments::Amount::from_cents(amount)
                .map_err(|e| Fault::new(FaultCode::Semantica, e.to_string()))?,
            paid_at,
        };
        let xml = String::from_utf8_lossy(xml);
        // The position lock serialises receipts of one position; the unique keys on
        // payment_receipts are the backstop, and a conflict there means another receipt
        // committed first: read again and decide again.
        for _ in 0..3 {
            match self
                .record_receipt(notifier, creditor, &notice, &payment, psp_id, psp_name, &xml)
                .await
            {
                Err(Retry::Again) => {}
                Err(Retry::Fault(fault)) => return Err(fault),
                Ok(()) => return Ok("<outcome>OK</outcome>".to_owned()),
            }
        }
        Err(Fault::new(
            FaultCode::SystemError,
            "receipt conflicted repeatedly; retry",
        ))
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the receipt's fields, read once by the caller"
    )]
    async fn record_receipt(
        &self,
        notifier: &Notifier,
        creditor: &Creditor,
        notice: &NoticeNumber,
        payment: &Payment,
        psp_id: &str,
        psp_name: &str,
        xml: &str,
    ) -> Result<(), Retry> {
        // Which position owns the notice never changes: read it before the transaction, so
        // that the transaction's first statement is the lock (on SQLite a read first would make
        // the later write fail when another receipt committed in between).
        let position_id = {
            let mut conn = self.db.pool().acquire().await.map_err(retry_system)?;
            store::position_id_by_notice(&mut conn, creditor.fiscal_code.as_str(), notice.as_str())
                .await
                .map_err(retry_system)?
                .ok_or_else(|| Retry::Fault(unknown(notice)))?
        };
        let mut tx = self.db.pool().begin().await.map_err(retry_system)?;
        store::lock_position(&mut tx, &position_id)
            .await
            .map_err(retry_system)?;
        let stored = store::load_position(&mut tx, &position_id)
            .await
            .map_err(retry_system)?
            .ok_or_else(|| Retry::Fault(unknown(notice)))?;
        let mut position = to_domain(&stored).map_err(|e| Retry::Fault(system_error(e)))?;
        if position.status() == PositionStatus::Draft {
            return Err(Retry::Fault(unknown(notice)));
        }
        let now = Timestamp::now();
        let status = match position.pay(notice, payment.clone(), now) {
            Ok(PaymentOutcome::AlreadyRecorded { .. }) => {
                tracing::info!(notice = %notice, receipt = %payment.receipt_id, "receipt already recorded");
                return Ok(());
            }
            Ok(PaymentOutcome::Recorded { status }) => status,
            Err(error) => return Err(Retry::Fault(fault_of(&error))),
        };
        let option = stored
            .options
            .iter()
            .find(|o| o.notice_number == notice.as_str())
            .ok_or_else(|| Retry::Fault(unknown(notice)))?;
        let paid_at_ms = payment.paid_at.as_millisecond();
        let receipt = store::NewReceipt {
            creditor: &option.creditor,
            iuv: &option.iuv,
            receipt_id: &payment.receipt_id,
            notice_number: &option.notice_number,
            position_id: &position_id,
            amount_cents: payment.amount.cents(),
            psp_id,
            psp_name,
            paid_at: paid_at_ms,
            received_at: now_ms(),
            xml,
        };
        match store::record_receipt(&mut tx, &receipt).await {
            Ok(()) => {}
            Err(e) if crate::db::is_unique_violation(&e) => return Err(Retry::Again),
            Err(e) => return Err(retry_system(e)),
        }
        store::set_status(&mut tx, &position_id, status.as_str(), None, now_ms())
            .await
            .map_err(retry_system)?;
        let paid = PaidOption {
            option,
            receipt_id: &payment.receipt_id,
            amount_cents: payment.amount.cents(),
            paid_at_ms,
        };
        super::on_option_paid(
            &mut tx,
            &stored.position,
            &paid,
            &creditor.company_name,
            notifier.ttl_ms(),
        )
        .await
        .map_err(retry_system)?;
        tx.commit().await.map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                Retry::Again
            } else {
                retry_system(e)
            }
        })?;
        metrics::counter!("sportello_pagopa_payments_total").increment(1);
        tracing::info!(notice = %notice, receipt = %payment.receipt_id, status = status.as_str(), "payment recorded");
        super::after_commit(notifier);
        Ok(())
    }
}

/// A SOAPAction that is unknown or contradicts the body: a SOAP Fault, the body never acted on.
fn refuse_action(fault: &Fault) -> Answer {
    metrics::counter!("sportello_pagopa_requests_total", "operation" => "unknown",
        "outcome" => fault.code.as_str())
    .increment(1);
    tracing::info!(description = %fault.description, "paForNode refused: SOAPAction");
    Answer::SoapFault(soap::soap_fault(&fault.description))
}

/// Why recording a receipt stopped.
enum Retry {
    /// A concurrent receipt won a unique key: decide again.
    Again,
    /// A definitive answer.
    Fault(Fault),
}

fn retry_system(error: sqlx::Error) -> Retry {
    Retry::Fault(system_error(error))
}

fn system_error(error: impl std::fmt::Display) -> Fault {
    tracing::error!(%error, "paForNode internal error");
    Fault::new(FaultCode::SystemError, "temporary failure; retry")
}

fn unknown(notice: &NoticeNumber) -> Fault {
    Fault::new(
        FaultCode::PagamentoSconosciuto,
        format!("notice {notice} is unknown"),
    )
}

/// The fault for a refusal of core.
fn fault_of(error: &PaymentsError) -> Fault {
    let code = match error {
        PaymentsError::UnknownNotice(_) => FaultCode::PagamentoSconosciuto,
        PaymentsError::NotPayable { status } => match status {
            PositionStatus::Expired => FaultCode::PagamentoScaduto,
            PositionStatus::Invalid => FaultCode::PagamentoAnnullato,
            PositionStatus::Paid | PositionStatus::Reported | PositionStatus::PartiallyPaid => {
                FaultCode::PagamentoDuplicato
            }
            PositionStatus::Draft | PositionStatus::Published | PositionStatus::Valid => {
                FaultCode::PagamentoSconosciuto
            }
        },
        PaymentsError::OptionAlreadyPaid(_) | PaymentsError::DuplicatePayment(_) => {
            FaultCode::PagamentoDuplicato
        }
        _ => FaultCode::Semantica,
    };
    Fault::new(code, error.to_string())
}

/// A receipt's `paymentDateTime`: with an offset, or a Europe/Rome wall-clock time.
fn parse_instant(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok().or_else(|| {
        text.parse::<jiff::civil::DateTime>()
            .ok()?
            .to_zoned_datetime(sportello_core::calendar::ROME.clone())
            .ok()
            .map(|z| z.timestamp())
    })
}

/// The `data` element of paGetPayment (v1) or paGetPaymentV2.
fn payment_data(
    creditor: &Creditor,
    position: &DebtPosition,
    option: &PaymentOption,
    v2: bool,
) -> Result<String, Fault> {
    let debtor = position.debtor();
    let kind = match debtor.kind {
        sportello_core::payments::DebtorKind::Natural => "F",
        sportello_core::payments::DebtorKind::Legal => "G",
    };
    let mut out = String::with_capacity(1024);
    let _ = write!(
        out,
        "<outcome>OK</outcome><data><creditorReferenceId>{}</creditorReferenceId>\
         <paymentAmount>{}</paymentAmount><dueDate>{}</dueDate><description>{}</description>\
         <companyName>{}</companyName><debtor><uniqueIdentifier>\
         <entityUniqueIdentifierType>{kind}</entityUniqueIdentifierType>\
         <entityUniqueIdentifierValue>{}</entityUniqueIdentifierValue></uniqueIdentifier>\
         <fullName>{}</fullName></debtor><transferList>",
        option.iuv(),
        format_amount(option.amount().cents()),
        option.due_date(),
        escape(option.description()),
        escape(&creditor.company_name),
        escape(&debtor.id),
        escape(&debtor.full_name),
    );
    for (i, transfer) in option.transfers().iter().enumerate() {
        let _ = write!(
            out,
            "<transfer><idTransfer>{}</idTransfer><transferAmount>{}</transferAmount><fiscalCodePA>{}</fiscalCodePA>",
            i + 1,
            format_amount(transfer.amount.cents()),
            transfer.creditor,
        );
        match &transfer.target {
            TransferTarget::Iban { iban, .. } => {
                let _ = write!(out, "<IBAN>{}</IBAN>", iban.as_str());
            }
            TransferTarget::Stamp(stamp) if v2 => {
                let _ = write!(
                    out,
                    "<richiestaMarcaDaBollo><hashDocumento>{}</hashDocumento><tipoBollo>{}</tipoBollo>\
                     <provinciaResidenza>{}</provinciaResidenza></richiestaMarcaDaBollo>",
                    escape(stamp.document_hash()),
                    escape(stamp.stamp_type()),
                    escape(stamp.province())
                );
            }
            TransferTarget::Stamp(_) => {
                return Err(Fault::new(
                    FaultCode::Semantica,
                    "this notice includes a digital stamp: use paGetPaymentV2",
                ));
            }
        }
        let _ = write!(
            out,
            "<remittanceInformation>{}</remittanceInformation><transferCategory>{}</transferCategory></transfer>",
            escape(&transfer.remittance),
            escape(transfer.category.as_str()),
        );
    }
    out.push_str("</transferList></data>");
    Ok(out)
}
