//! The shell every page shares (Bootstrap Italia's header, menu and footer) and the pieces
//! several pages use: the municipality picker, the location button, dates and distances.

use maud::{DOCTYPE, Markup, html};
use sportello_core::calendar::ROME;
use sportello_core::events::Lang;

use super::i18n::{self, Text};
use super::{PageRequest, assets};
use crate::AppState;

/// Bootstrap Italia's primary blue, the browser's bar and the installed app's colour.
pub const THEME_COLOR: &str = "#0066cc";

/// A whole page: `title` in the tab, `body` in `<main>`.
pub fn page(request: &PageRequest, title: &str, body: &Markup) -> Markup {
    let lang = request.lang;
    let full_title = if title == i18n::SERVICE {
        title.to_owned()
    } else {
        format!("{title} · {}", i18n::SERVICE)
    };
    html! {
        (DOCTYPE)
        html lang=(lang.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (full_title) }
                meta name="description" content=(request.t(&i18n::TAGLINE));
                meta name="theme-color" content=(THEME_COLOR);
                link rel="manifest" href="/manifest.webmanifest";
                link rel="icon" type="image/svg+xml" href=(assets::url("web/icon.svg"));
                link rel="apple-touch-icon" href=(assets::url("web/icon-192.png"));
                link rel="stylesheet" href=(assets::url("vendor/bootstrap-italia/css/bootstrap-italia.min.css"));
                link rel="stylesheet" href=(assets::url("web/site.css"));
                script src=(assets::url("web/near.js")) defer {}
                script src=(assets::url("web/app.js")) defer {}
            }
            body {
                a.visually-hidden-focusable href="#main" { (request.t(&i18n::SKIP)) }
                (header(request))
                main #main .container.my-4 { (body) }
                (footer(request))
            }
        }
    }
}

fn header(request: &PageRequest) -> Markup {
    let menu = [
        ("/", &i18n::HOME),
        ("/events", &i18n::EVENTS),
        ("/libraries", &i18n::LIBRARIES),
        ("/catalogue", &i18n::CATALOGUE),
    ];
    html! {
        header.it-header-wrapper {
            div.it-header-slim-wrapper {
                div.container { div.row { div.col-12 {
                    div.it-header-slim-wrapper-content {
                        span.navbar-brand { (request.t(&i18n::OWNER)) }
                        div.it-header-slim-right-zone {
                        (account(request))
                        nav aria-label=(request.t(&i18n::LANGUAGE)) {
                            ul.lang-switch {
                                @for lang in Lang::ALL {
                                    li {
                                        a href=(request.in_lang(lang)) hreflang=(lang.as_str()) lang=(lang.as_str())
                                            aria-current=[(lang == request.lang).then_some("true")] {
                                            (i18n::native_name(lang))
                                        }
                                    }
                                }
                            }
                        }
                        }
                    }
                } } }
            }
            div.it-header-center-wrapper {
                div.container { div.row { div.col-12 {
                    div.it-header-center-content-wrapper {
                        div.it-brand-wrapper {
                            a href="/" {
                                div.it-brand-text {
                                    div.it-brand-title { (i18n::SERVICE) }
                                    div.it-brand-tagline.d-none.d-md-block { (request.t(&i18n::TAGLINE)) }
                                }
                            }
                        }
                    }
                } } }
            }
        }
        nav.site-nav aria-label=(request.t(&i18n::MAIN_MENU)) {
            div.container {
                ul.main-menu {
                    @for (href, text) in menu {
                        @let current = request.path == href;
                        li { a href=(href) aria-current=[current.then_some("page")] { (request.t(text)) } }
                    }
                }
            }
        }
    }
}

/// "Log in", or the personal area and "log out" when the request has a session cookie.
fn account(request: &PageRequest) -> Markup {
    html! {
        @if let Some(csrf) = request.session_csrf() {
            a.account-link href="/me" aria-current=[(request.path == "/me").then_some("page")] {
                (icon_svg("it-user")) " " (request.t(&i18n::MY_AREA))
            }
            form.logout method="post" action="/logout" {
                input type="hidden" name=(super::session::CSRF_FIELD) value=(csrf);
                button.account-link type="submit" { (request.t(&i18n::LOGOUT)) }
            }
        } @else {
            a.account-link href="/login" aria-current=[(request.path == "/login").then_some("page")] {
                (icon_svg("it-user")) " " (request.t(&i18n::LOGIN))
            }
        }
    }
}

fn footer(request: &PageRequest) -> Markup {
    html! {
        footer.it-footer {
            div.it-footer-main {
                div.container.py-4 {
                    p.h4.text-white.mb-1 { (i18n::SERVICE) }
                    p.text-white.mb-0 { (request.t(&i18n::TAGLINE)) }
                }
            }
            div.it-footer-small-prints {
                div.container {
                    ul.it-footer-small-prints-list.list-inline.mb-0.d-flex.flex-column.flex-md-row {
                        li.list-inline-item { a href="/legal" { (request.t(&i18n::LEGAL)) } }
                        li.list-inline-item { a href="/docs" { (request.t(&i18n::API_DOCS)) } }
                    }
                }
            }
        }
    }
}

/// A card of the home page: an icon, a title and a link.
pub fn card(request: &PageRequest, href: &str, icon: &str, title: &Text) -> Markup {
    html! {
        div.col-12.col-md-4.mb-3 {
            div.card.card-bg.h-100 { div.card-body {
                h2.card-title.h5 {
                    (icon_svg(icon))
                    " "
                    a href=(href) { (request.t(title)) }
                }
            } }
        }
    }
}

/// A card of the personal area: an icon and a link whose text is computed.
pub fn card_text(href: &str, icon: &str, title: &str) -> Markup {
    html! {
        div.col-12.col-md-4.mb-3 {
            div.card.card-bg.h-100 { div.card-body {
                h2.card-title.h5 { (icon_svg(icon)) " " a href=(href) { (title) } }
            } }
        }
    }
}

/// An icon of the sprite, decorative (its text is next to it).
pub fn icon_svg(name: &str) -> Markup {
    html! {
        svg.icon-inline aria-hidden="true" focusable="false" { use href=(assets::icon(name)) {} }
    }
}

/// The `<select name="municipality">` of the 67 municipalities, `chosen` selected.
pub fn municipality_picker(request: &PageRequest, state: &AppState, chosen: Option<&str>) -> Markup {
    html! {
        div.form-group {
            label for="municipality" { (request.t(&i18n::MUNICIPALITY)) }
            select.form-select #municipality name="municipality" {
                option value="" { (request.t(&i18n::ALL_MUNICIPALITIES)) }
                @for municipality in state.municipalities.all() {
                    option value=(municipality.istat_code)
                        selected[chosen == Some(municipality.istat_code.as_str())] {
                        (municipality.name)
                    }
                }
            }
        }
    }
}

/// The "use my location" button: hidden until the script shows it (it needs the browser's
/// geolocation), with a place for the message when the position is refused.
pub fn near_button(request: &PageRequest) -> Markup {
    html! {
        button.btn.btn-outline-primary type="button" data-near="" hidden
            aria-describedby="near-status" data-near-failed=(request.t(&i18n::LOCATION_FAILED)) {
            (icon_svg("it-map-marker")) " " (request.t(&i18n::USE_LOCATION))
        }
        p #near-status .near-status.text-danger.w-100 role="status" {}
    }
}

/// An RFC 3339 instant as a Rome wall-clock date and time in the page's language.
pub fn date_time(lang: Lang, rfc3339: &str) -> String {
    let Ok(at) = rfc3339.parse::<jiff::Timestamp>() else {
        return rfc3339.to_owned();
    };
    let local = at.to_zoned_datetime(ROME.clone());
    let format = match lang {
        Lang::En => "%a %-d %b %Y, %H:%M",
        Lang::De => "%d.%m.%Y, %H:%M",
        Lang::It | Lang::Fr | Lang::Es => "%d/%m/%Y, %H:%M",
    };
    local.strftime(format).to_string()
}

/// A day (`YYYY-MM-DD`) in the page's language.
pub fn day(lang: Lang, date: &str) -> String {
    let Ok(day) = date.parse::<jiff::civil::Date>() else {
        return date.to_owned();
    };
    let format = match lang {
        Lang::En => "%a %-d %b %Y",
        Lang::De => "%d.%m.%Y",
        Lang::It | Lang::Fr | Lang::Es => "%d/%m/%Y",
    };
    day.strftime(format).to_string()
}

/// An RFC 3339 instant as a Rome wall-clock time (`18:30`), or the date and time when it is not
/// today.
pub fn time_or_date(lang: Lang, rfc3339: &str) -> String {
    let Ok(at) = rfc3339.parse::<jiff::Timestamp>() else {
        return rfc3339.to_owned();
    };
    let today = jiff::Timestamp::now().to_zoned_datetime(ROME.clone()).date();
    let local = at.to_zoned_datetime(ROME.clone());
    if local.date() == today {
        local.strftime("%H:%M").to_string()
    } else {
        date_time(lang, rfc3339)
    }
}

/// A distance: metres below a kilometre, else kilometres with one decimal.
pub fn distance(km: f64) -> String {
    if km < 1.0 {
        format!("{:.0} m", (km * 1000.0).round())
    } else {
        format!("{km:.1} km")
    }
}

/// A price in cents, in euros.
pub fn euros(cents: i64) -> String {
    format!("€ {}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rome_wall_clock_in_the_page_language() {
        // 20:00 UTC in December is 21:00 in Rome.
        assert_eq!(date_time(Lang::It, "2026-12-12T20:00:00Z"), "12/12/2026, 21:00");
        assert_eq!(date_time(Lang::De, "2026-12-12T20:00:00Z"), "12.12.2026, 21:00");
        assert_eq!(
            date_time(Lang::En, "2026-12-12T20:00:00Z"),
            "Sat 12 Dec 2026, 21:00"
        );
        assert_eq!(date_time(Lang::En, "not a date"), "not a date");
        assert_eq!(distance(0.4321), "432 m");
        assert_eq!(distance(12.345), "12.3 km");
        assert_eq!(euros(1250), "€ 12.50");
        assert_eq!(day(Lang::It, "2026-12-12"), "12/12/2026");
        assert_eq!(day(Lang::En, "2026-12-12"), "Sat 12 Dec 2026");
    }
}
