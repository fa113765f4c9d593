//! The citizen's pagoPA notices: what the printed notice says (notice code, creditor's fiscal
//! code, amount, due date, object), its QR code (the `PAGOPA|002|…` payload any PSP's app
//! scans, drawn as SVG) and a link to pay through pagoPA Checkout (`[web]
//! pagopa_checkout_url`).

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use sportello_core::api;

use super::i18n::citizen as words;
use super::layout::{self, icon_svg};
use super::session::Citizen;
use super::{PageRequest, events::municipality_name};
use crate::AppState;
use crate::http::problem::ApiError;
use crate::payments::PayError;

/// `GET /me/payments`.
pub async fn list(page: PageRequest, State(state): State<AppState>, citizen: Citizen) -> Response {
    let page = page.citizen();
    let result = state
        .payments
        .my_payments(&citizen.principal.fiscal_code)
        .await
        .map_err(ApiError::from)
        .map(|found| {
            html! {
                h1 { (page.w(&words::MY_PAYMENTS)) }
                @if found.items.is_empty() {
                    p.alert.alert-info { (page.w(&words::NO_PAYMENTS)) }
                } @else {
                    ul.result-list {
                        @for payment in &found.items { li { (notice(&page, &state, payment)) } }
                    }
                }
            }
        });
    page.render(page.w(&words::MY_PAYMENTS), result)
}

fn notice(page: &PageRequest, state: &AppState, payment: &api::MyPayment) -> Markup {
    let notice = &payment.notice;
    let state_label = words::PAYMENT_STATES
        .iter()
        .find(|(code, _)| *code == payment.state)
        .map_or(payment.state.as_str(), |(_, w)| page.w(w));
    html! {
        article.notice id={ "notice-" (notice.id) } {
            h2 { (notice.description) }
            p.meta {
                span.badge.bg-primary { (state_label) } " · " (layout::euros(notice.amount_cents))
                " · " (page.w(&words::DUE_BY)) " " time datetime=(notice.due_date) { (layout::day(page.lang, &notice.due_date)) }
            }
            div.row {
                div.col-12.col-md-8 {
                    dl.notice-data {
                        dt { (page.w(&words::NOTICE_CODE)) } dd.notice-code { (notice.notice_printed) }
                        dt { (page.w(&words::CREDITOR)) } dd { (payment.creditor_name) " (" (municipality_name(state, &payment.municipality)) ")" }
                        dt { (page.w(&words::CREDITOR_FISCAL_CODE)) } dd { (payment.creditor_fiscal_code) }
                        dt { (page.w(&words::AMOUNT)) } dd { (layout::euros(notice.amount_cents)) }
                        dt { (page.w(&words::DUE_DATE)) } dd { (layout::day(page.lang, &notice.due_date)) }
                        dt { (page.w(&words::IUV)) } dd { (notice.iuv) }
                        @if let Some(paid_at) = &notice.paid_at {
                            dt { (page.w(&words::PAID_AT)) } dd { (layout::date_time(page.lang, paid_at)) }
                        }
                    }
                    @if payment.state == "due" {
                        p.mt-3 {
                            a.btn.btn-primary href=(checkout_link(state, payment)) rel="noopener" {
                                (icon_svg("it-card")) " " (page.w(&words::PAY_WITH_PAGOPA))
                            }
                        }
                    }
                }
                div.col-12.col-md-4 {
                    img.qr src={ "/me/payments/" (notice.id) "/qr.svg" } width="192" height="192"
                        alt={ (page.w(&words::QR_ALT)) " " (notice.notice_printed) };
                }
            }
        }
    }
}

/// pagoPA Checkout with the notice filled in: its payment code (the creditor's fiscal code and
/// the notice number) after the configured address.
pub fn checkout_link(state: &AppState, payment: &api::MyPayment) -> String {
    format!(
        "{}/{}{}",
        state.config.web.pagopa_checkout_url.trim_end_matches('/'),
        payment.creditor_fiscal_code,
        payment.notice.notice_number
    )
}

/// `GET /me/payments/{id}/qr.svg`: the QR code of one of the citizen's notices (error
/// correction M, as on pagoPA's printed notice); 404 for anyone else's.
pub async fn qr(
    page: PageRequest,
    State(state): State<AppState>,
    citizen: Citizen,
    Path(id): Path<String>,
) -> Response {
    let page = page.citizen();
    let found = match state.payments.my_payments(&citizen.principal.fiscal_code).await {
        Ok(found) => found,
        Err(error) => return page.error(&error.into()),
    };
    let Some(payment) = found.items.iter().find(|p| p.notice.id == id) else {
        return page.error(&PayError::NotFound.into());
    };
    let Ok(code) = QrCode::with_error_correction_level(payment.notice.qr_payload.as_bytes(), EcLevel::M)
    else {
        return page.error(&PayError::NotFound.into());
    };
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(192, 192)
        .quiet_zone(true)
        .build();
    let mut response = image.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// The SVG of a payload, for the tests.
#[cfg(test)]
fn svg_of(payload: &str) -> String {
    QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .unwrap()
        .render::<svg::Color<'_>>()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_payload_fits_a_small_qr_code() {
        let payload = "PAGOPA|002|301000000000000105|00856930102|12050";
        let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).unwrap();
        // A small code (version 4 at most, 33 modules), easy to scan from a phone's screen.
        assert!(code.width() <= 33, "{} modules", code.width());
        assert_eq!(code.error_correction_level(), EcLevel::M);
        let image = svg_of(payload);
        assert!(image.contains("<svg") && image.contains("</svg>"));
        assert!(!image.contains("style="), "nothing the pages' CSP would block");
    }
}
