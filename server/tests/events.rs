//! The events API on a real server (both backends): events officers write the events of their
//! own municipality only, with texts in five languages, venues, dates and recurrences in
//! Europe/Rome, and statuses that keep the previous start; the public finds them by place,
//! window, category, price, accessibility and words, page by page.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

mod common;

use std::collections::HashSet;

use common::{ARENZANO_OPERATOR, CITIZEN, GENOVA_OPERATOR, Prepared, TestServer, client};
use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use serde_json::{Value, json};
use sportello_core::api;

const GENOVA: &str = "010025";
const DUCALE: (f64, f64) = (44.407_330, 8.934_000);

/// A Saturday two to three weeks ahead, so the test's dates are always in the future.
fn saturday() -> Date {
    let today = sportello_core::calendar::rome_date(jiff::Timestamp::now());
    let mut day = today.checked_add(14.days()).unwrap();
    while day.weekday() != Weekday::Saturday {
        day = day.tomorrow().unwrap();
    }
    day
}

async fn send(
    server: &TestServer,
    method: reqwest::Method,
    token: Option<&str>,
    path: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut request = client().request(method, server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

async fn problem(response: reqwest::Response) -> (u16, String, Vec<String>) {
    let status = response.status().as_u16();
    let problem: api::Problem = response.json().await.unwrap();
    let fields = problem.errors.iter().map(|e| e.field.clone()).collect();
    (status, problem.code, fields)
}

async fn venue(
    server: &TestServer,
    token: &str,
    istat: &str,
    id: &str,
    name: &str,
    at: (f64, f64),
    accessibility: &[&str],
) {
    let response = send(
        server,
        reqwest::Method::PUT,
        Some(token),
        &format!("/v1/municipalities/{istat}/event-venues/{id}"),
        Some(
            &json!({"name": name, "address": format!("{name}, Genova"), "lat": at.0, "lon": at.1,
                     "accessibility": accessibility}),
        ),
    )
    .await;
    assert_eq!(response.status(), 200, "{id}: {}", response.text().await.unwrap());
}

async fn create(server: &TestServer, token: &str, istat: &str, body: &Value) -> api::Event {
    let response = send(
        server,
        reqwest::Method::POST,
        Some(token),
        &format!("/v1/municipalities/{istat}/events"),
        Some(body),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

fn event_body(title: &str, venue: &str, dates: &[String]) -> Value {
    json!({
        "texts": {"it": {"title": title, "description": "Descrizione."}},
        "category": "concert", "venue": venue, "dates": dates, "duration_minutes": 90
    })
}

#[tokio::test]
async fn officers_write_the_events_of_their_own_municipality_only() {
    let server = TestServer::start().await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:events"])
        .await;
    let (arenzano, _) = server
        .dev_login(ARENZANO_OPERATOR, &["operator:010001:events"])
        .await;
    let (permits, _) = server
        .dev_login("BNCLRA75M41D969C", &["operator:010025:permits"])
        .await;
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    venue(
        &server,
        &genova,
        GENOVA,
        "ge-palazzo-ducale",
        "Palazzo Ducale",
        DUCALE,
        &["wheelchair"],
    )
    .await;

    let saturday = saturday();
    let body = json!({
        "texts": {
            "it": {"title": "Concerto del giovedì", "description": "Musica da camera."},
            "en": {"title": "Thursday concert", "description": "Chamber music."}
        },
        "category": "concert", "venue": "ge-palazzo-ducale",
        "dates": [format!("{}T21:00", saturday.checked_add(5.days()).unwrap())],
        "duration_minutes": 90,
        "rrule": "FREQ=WEEKLY;BYDAY=TH;COUNT=4",
        "exdates": [format!("{}T21:00", saturday.checked_add(12.days()).unwrap())],
        "price_cents": 1500, "ticket_url": "https://example.org/biglietti",
        "accessibility": ["hearing-loop"], "image_url": "https://example.org/locandina.jpg"
    });
    let event = create(&server, &genova, GENOVA, &body).await;
    assert_eq!(
        (
            event.municipality.as_str(),
            event.status.as_str(),
            event.lang.as_str()
        ),
        (GENOVA, "scheduled", "it")
    );
    assert_eq!(event.title, "Concerto del giovedì");
    assert_eq!(event.venue.name, "Palazzo Ducale");
    assert_eq!(event.venue.kind, "venue");
    // Four Thursdays less the exception.
    assert_eq!(event.upcoming.len(), 3, "{:?}", event.upcoming);
    assert_eq!(event.next_occurrence.as_ref(), event.upcoming.first());
    assert!(!event.free);
    let path = format!("/v1/municipalities/{GENOVA}/events/{}", event.id);
    let public = format!("/v1/events/{}", event.id);

    // The language: Accept-Language, lang=, and Italian when the language has no text.
    let english: api::Event = client()
        .get(server.url(&public))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (english.lang.as_str(), english.title.as_str()),
        ("en", "Thursday concert")
    );
    let german: api::Event = client()
        .get(server.url(&format!("{public}?lang=de")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (german.lang.as_str(), german.title.as_str()),
        ("it", "Concerto del giovedì")
    );

    // Arenzano's events officer, Genova's permits officer and a citizen touch nothing of Genova's.
    for token in [&arenzano, &permits, &citizen] {
        let refused = send(
            &server,
            reqwest::Method::POST,
            Some(token),
            &format!("/v1/municipalities/{GENOVA}/events"),
            Some(&body),
        )
        .await;
        assert_eq!(problem(refused).await.0, 403);
        let refused = send(
            &server,
            reqwest::Method::PATCH,
            Some(token),
            &path,
            Some(&json!({"status": "cancelled"})),
        )
        .await;
        assert_eq!(problem(refused).await.0, 403);
        let refused = send(&server, reqwest::Method::DELETE, Some(token), &path, None).await;
        assert_eq!(problem(refused).await.0, 403);
        let refused = send(&server, reqwest::Method::GET, Some(token), &path, None).await;
        assert_eq!(problem(refused).await.0, 403);
        let refused = send(
            &server,
            reqwest::Method::PUT,
            Some(token),
            &format!("/v1/municipalities/{GENOVA}/event-venues/ge-palazzo-ducale"),
            Some(&json!({"name": "X", "address": "Y", "lat": 44.0, "lon": 9.0})),
        )
        .await;
        assert_eq!(problem(refused).await.0, 403);
    }
    // Through its own municipality's path, Genova's event is not Arenzano's: not found.
    let own_path = format!("/v1/municipalities/010001/events/{}", event.id);
    let refused = send(
        &server,
        reqwest::Method::PATCH,
        Some(&arenzano),
        &own_path,
        Some(&json!({"status": "cancelled"})),
    )
    .await;
    assert_eq!(problem(refused).await.0, 404);
    let refused = send(&server, reqwest::Method::DELETE, Some(&arenzano), &own_path, None).await;
    assert_eq!(problem(refused).await.0, 404);
    // Nor can Arenzano take over Genova's venue under its own code.
    let refused = send(
        &server,
        reqwest::Method::PUT,
        Some(&arenzano),
        "/v1/municipalities/010001/event-venues/ge-palazzo-ducale",
        Some(&json!({"name": "X", "address": "Y", "lat": 44.4, "lon": 8.68})),
    )
    .await;
    assert_eq!(problem(refused).await.0, 403);
    let unauthenticated = send(
        &server,
        reqwest::Method::POST,
        None,
        &format!("/v1/municipalities/{GENOVA}/events"),
        Some(&body),
    )
    .await;
    assert_eq!(problem(unauthenticated).await.0, 401);
    let unchanged: api::Event = client()
        .get(server.url(&public))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &unchanged.title,
            &unchanged.status,
            &unchanged.upcoming,
            &unchanged.updated_at
        ),
        (&event.title, &event.status, &event.upcoming, &event.updated_at)
    );
    let venues: api::EventVenueList = client()
        .get(server.url("/v1/events/venues?municipality=010025"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        venues
            .items
            .iter()
            .find(|v| v.id.as_deref() == Some("ge-palazzo-ducale"))
            .unwrap()
            .name,
        "Palazzo Ducale"
    );

    // Bad input: each field named, nothing stored.
    for (change, field) in [
        (json!({"texts": {"en": {"title": "Only English"}}}), "texts.it"),
        (json!({"texts": {"it": {"title": ""}}}), "texts.it.title"),
        (json!({"category": "rave"}), "category"),
        (json!({"dates": ["next Thursday"]}), "dates"),
        (json!({"rrule": "FREQ=HOURLY"}), "rrule"),
        (json!({"price_cents": -5}), "price_cents"),
        (json!({"ticket_url": "ftp://example.org"}), "ticket_url"),
        (json!({"accessibility": ["stairs"]}), "accessibility"),
        (json!({"venue": "no-such-venue"}), "venue"),
        (json!({"status": "maybe"}), "status"),
    ] {
        let refused = send(
            &server,
            reqwest::Method::PATCH,
            Some(&genova),
            &path,
            Some(&change),
        )
        .await;
        let (status, _, fields) = problem(refused).await;
        assert_eq!((status, fields), (422, vec![field.to_owned()]), "{change}");
        let mut bad = body.clone();
        for (key, value) in change.as_object().unwrap() {
            bad[key] = value.clone();
        }
        let refused = send(
            &server,
            reqwest::Method::POST,
            Some(&genova),
            &format!("/v1/municipalities/{GENOVA}/events"),
            Some(&bad),
        )
        .await;
        assert_eq!(problem(refused).await.2, vec![field.to_owned()], "{change}");
    }
    let too_long = json!({"texts": {"it": {"title": "x".repeat(201)}}});
    let refused = send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(&too_long),
    )
    .await;
    assert_eq!(problem(refused).await.0, 422);
    let unknown = send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(&json!({"colour": "red"})),
    )
    .await;
    assert_eq!(problem(unknown).await.0, 400);
    let still: api::Event = client()
        .get(server.url(&public))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(still, unchanged);

    // Moving the dates reschedules it and keeps the start it had; cancelling is a status.
    let moved_to = format!("{}T18:00", saturday.checked_add(20.days()).unwrap());
    let moved: api::Event = send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(&json!({"dates": [moved_to], "rrule": ""})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(moved.status, "rescheduled");
    assert_eq!(
        moved.previous_start,
        event.next_occurrence.as_ref().map(|o| o.starts_at.clone())
    );
    assert_eq!(moved.upcoming.len(), 1);
    assert_eq!(moved.rrule, None);
    let postponed: api::Event = send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(&json!({"status": "postponed"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(postponed.status, "postponed");
    // Postponed from the date it had been moved to.
    assert_eq!(
        postponed.previous_start,
        moved.next_occurrence.as_ref().map(|o| o.starts_at.clone())
    );
    let cancelled: api::Event = send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(&json!({"status": "cancelled"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(cancelled.status, "cancelled");

    // Deleted: gone for everyone.
    let deleted = send(&server, reqwest::Method::DELETE, Some(&genova), &path, None).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        problem(client().get(server.url(&public)).send().await.unwrap())
            .await
            .1,
        "event-not-found"
    );
    assert_eq!(
        problem(send(&server, reqwest::Method::DELETE, Some(&genova), &path, None).await)
            .await
            .0,
        404
    );
    server.stop().await;
}

/// Forty events scattered up to 25 km around the Ducale: every page of a search near it, read
/// by its cursor, holds exactly the events the test ranks itself by haversine distance. The
/// search reads the grid in rings of 1, 2, 4… km; a page may only stop at a ring once the events
/// it returns are nearer than every cell it has not read, which pages of 7 across rings test.
#[tokio::test]
async fn searches_near_a_point_rank_scattered_events_exactly_across_the_rings() {
    use sportello_core::geo::Coordinates;
    use std::fmt::Write as _;
    let server = TestServer::start().await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:events"])
        .await;
    let sat = saturday();
    let ducale = Coordinates::new(DUCALE.0, DUCALE.1).unwrap();
    // A small linear congruential generator: the same places on every run.
    let mut seed: u64 = 21;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        f64::from(u32::try_from(seed >> 40).unwrap()) / f64::from(1u32 << 24)
    };
    let mut expected = Vec::new();
    for i in 0..40 {
        // Denser near the centre, as a city's venues are.
        let (r, angle) = (25.0 * next() * next(), std::f64::consts::TAU * next());
        let lat = DUCALE.0 + r / 111.2 * angle.sin();
        let lon = DUCALE.1 + r / (111.2 * DUCALE.0.to_radians().cos()) * angle.cos();
        let mut body = event_body(
            &format!("Evento {i}"),
            "",
            &[format!("{sat}T{:02}:00", 10 + i % 12)],
        );
        body.as_object_mut().unwrap().remove("venue");
        body["place"] = json!({"name": format!("Luogo {i}"), "address": "Genova", "lat": lat, "lon": lon});
        let event = create(&server, &genova, GENOVA, &body).await;
        let km = Coordinates::new(lat, lon).unwrap().distance_km(ducale);
        expected.push((km, event.id));
    }
    expected.sort_by(|a, b| a.0.total_cmp(&b.0));
    for radius in [3.0, 20.0] {
        let within: Vec<String> = expected
            .iter()
            .filter(|(km, _)| *km <= radius)
            .map(|(_, id)| id.clone())
            .collect();
        assert!(within.len() >= 8, "{radius}: {}", within.len());
        let mut listed = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!(
                "/v1/events?near={},{}&radius_km={radius}&from={sat}&to={sat}&limit=7",
                DUCALE.0, DUCALE.1
            );
            if let Some(c) = &cursor {
                let _ = write!(url, "&cursor={c}");
            }
            let response = client().get(server.url(&url)).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let page: api::EventPage = response.json().await.unwrap();
            assert!(page.items.len() <= 7);
            listed.extend(page.items.iter().map(|h| h.id.clone()));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(listed, within, "radius {radius}");
    }
}

/// Events at the same place, each with several occurrences in the window, paged two at a time:
/// every event once, soonest first, with its first occurrence and its count, even when a page
/// ends between the occurrences of events at the cursor's own place.
#[tokio::test]
async fn pages_near_a_point_list_each_event_of_a_shared_place_once() {
    use std::fmt::Write as _;
    let server = TestServer::start().await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:events"])
        .await;
    let sat = saturday();
    let sun = sat.tomorrow().unwrap();
    let mut expected = Vec::new();
    // Interleaved: event i at 10+i on Saturday and 9+i on Sunday.
    for i in 0..5 {
        let mut body = event_body(
            &format!("Replica {i}"),
            "",
            &[
                format!("{sat}T{:02}:00", 10 + i),
                format!("{sun}T{:02}:00", 9 + i),
            ],
        );
        body.as_object_mut().unwrap().remove("venue");
        body["place"] = json!({"name": "Sala", "address": "Genova", "lat": DUCALE.0, "lon": DUCALE.1});
        expected.push(create(&server, &genova, GENOVA, &body).await.id);
    }
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!(
            "/v1/events?near={},{}&radius_km=1&from={sat}&to={sun}&limit=2",
            DUCALE.0, DUCALE.1
        );
        if let Some(c) = &cursor {
            let _ = write!(url, "&cursor={c}");
        }
        let page: api::EventPage = server.get_json(&url).await;
        for hit in &page.items {
            assert_eq!(hit.occurrences_in_window, 2, "{}", hit.title);
            assert!(hit.starts_at.contains(&format!("{sat}")), "{}", hit.starts_at);
        }
        listed.extend(page.items.into_iter().map(|h| h.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(listed, expected);
    server.stop().await;
}

/// Occurrences written before migration 0015 (or by an older instance in a rolling upgrade)
/// have no unit vector: search near a point does not see them until the server fills them in,
/// as it does at every start; then it finds them again, nearest first.
#[tokio::test]
async fn occurrences_without_a_unit_vector_are_found_near_a_point_once_filled() {
    let server = TestServer::start().await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:events"])
        .await;
    let sat = saturday();
    let at = |title: &str, hour: u8, (lat, lon): (f64, f64)| {
        let mut body = event_body(title, "", &[format!("{sat}T{hour}:00")]);
        body.as_object_mut().unwrap().remove("venue");
        body["place"] = json!({"name": title, "address": "Genova", "lat": lat, "lon": lon});
        body
    };
    let near = create(&server, &genova, GENOVA, &at("Vicino", 11, DUCALE)).await;
    let far = create(&server, &genova, GENOVA, &at("Lontano", 10, (44.3925, 8.9725))).await;
    let search = format!(
        "/v1/events?near={},{}&radius_km=10&from={sat}&to={sat}",
        DUCALE.0, DUCALE.1
    );
    let found = |page: api::EventPage| page.items.into_iter().map(|h| h.id).collect::<Vec<_>>();
    assert_eq!(
        found(server.get_json(&search).await),
        vec![near.id.clone(), far.id.clone()]
    );

    sqlx::query("UPDATE event_occurrences SET x = NULL, y = NULL, z = NULL")
        .execute(server.state.db.pool())
        .await
        .unwrap();
    assert!(found(server.get_json(&search).await).is_empty());
    // Soonest first does not need the vector.
    let soonest: api::EventPage = server.get_json(&format!("/v1/events?from={sat}&to={sat}")).await;
    assert_eq!(soonest.items.len(), 2);

    assert_eq!(server.state.events.fill_vectors().await.unwrap(), 2);
    assert_eq!(server.state.events.fill_vectors().await.unwrap(), 0);
    let page: api::EventPage = server.get_json(&search).await;
    assert!(
        page.items[1].distance_km.unwrap() > 3.0,
        "{:?}",
        page.items[1].distance_km
    );
    assert_eq!(found(page), vec![near.id, far.id]);
    server.stop().await;
}

#[tokio::test]
async fn the_public_finds_this_weekends_free_events_near_a_point_in_its_language() {
    let server = TestServer::start().await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:events"])
        .await;
    let (chiavari, _) = server
        .dev_login(ARENZANO_OPERATOR, &["operator:010015:events"])
        .await;
    venue(
        &server,
        &genova,
        GENOVA,
        "ge-palazzo-ducale",
        "Palazzo Ducale",
        DUCALE,
        &["wheelchair"],
    )
    .await;
    venue(
        &server,
        &genova,
        GENOVA,
        "ge-teatro-carlo-felice",
        "Teatro Carlo Felice",
        (44.407_680, 8.932_520),
        &[],
    )
    .await;
    venue(
        &server,
        &genova,
        GENOVA,
        "ge-galata",
        "Galata Museo del Mare",
        (44.414_280, 8.923_650),
        &[],
    )
    .await;
    venue(
        &server,
        &chiavari,
        "010015",
        "chiavari-palazzo-rocca",
        "Palazzo Rocca",
        (44.316_900, 9.322_000),
        &[],
    )
    .await;
    let sat = saturday();
    let sun = sat.tomorrow().unwrap();
    let at = |d: Date, t: &str| format!("{d}T{t}");

    let mut free_ducale = event_body("Festa al Ducale", "ge-palazzo-ducale", &[at(sat, "18:00")]);
    free_ducale["texts"]["en"] = json!({"title": "Party at the Ducale"});
    let free_ducale = create(&server, &genova, GENOVA, &free_ducale).await;
    let mut paid = event_body(
        "Opera al Carlo Felice",
        "ge-teatro-carlo-felice",
        &[at(sun, "20:00")],
    );
    paid["price_cents"] = json!(3000);
    let paid = create(&server, &genova, GENOVA, &paid).await;
    // Every day at the Galata: two occurrences this weekend, one hit.
    let mut daily = event_body(
        "Visita al sommergibile",
        "ge-galata",
        &[at(sat.checked_sub(3.days()).unwrap(), "11:00")],
    );
    daily["rrule"] = json!("FREQ=DAILY");
    daily["category"] = json!("guided-tour");
    let daily = create(&server, &genova, GENOVA, &daily).await;
    let far = create(
        &server,
        &chiavari,
        "010015",
        &event_body(
            "Concerto a Chiavari",
            "chiavari-palazzo-rocca",
            &[at(sat, "21:00")],
        ),
    )
    .await;
    let later = create(
        &server,
        &genova,
        GENOVA,
        &event_body(
            "Concerto il mese dopo",
            "ge-palazzo-ducale",
            &[at(sat.checked_add(30.days()).unwrap(), "21:00")],
        ),
    )
    .await;

    let search = |query: String| {
        let server = &server;
        async move {
            let response = client()
                .get(server.url(&format!("/v1/events?{query}")))
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                200,
                "{query}: {}",
                response.text().await.unwrap()
            );
            response.json::<api::EventPage>().await.unwrap()
        }
    };
    let ids = |page: &api::EventPage| page.items.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
    let near = format!("near={},{}&from={sat}&to={sun}", DUCALE.0, DUCALE.1);

    // This weekend near the Ducale, nearest first; Chiavari is 30 km away.
    let page = search(format!("{near}&radius_km=5")).await;
    assert_eq!(
        ids(&page),
        vec![free_ducale.id.clone(), paid.id.clone(), daily.id.clone()]
    );
    assert_eq!(page.items[0].distance_km, Some(0.0));
    assert!(page.items[2].distance_km.unwrap() > 1.0);
    assert_eq!(page.items[2].occurrences_in_window, 2);
    assert!(page.items[0].accessible && !page.items[1].accessible);
    assert_eq!(page.items[0].venue.name, "Palazzo Ducale");
    assert!(page.items[0].next_occurrence.is_some());
    // Free ones, in English where there is English.
    let page = search(format!("{near}&radius_km=5&free=true&lang=en")).await;
    assert_eq!(ids(&page), vec![free_ducale.id.clone(), daily.id.clone()]);
    assert_eq!(
        (page.items[0].lang.as_str(), page.items[0].title.as_str()),
        ("en", "Party at the Ducale")
    );
    assert_eq!(
        (page.items[1].lang.as_str(), page.items[1].title.as_str()),
        ("it", "Visita al sommergibile")
    );
    // A wider radius reaches Chiavari; filters by category, municipality, accessibility, words.
    let page = search(format!("{near}&radius_km=40")).await;
    assert_eq!(page.items.last().unwrap().id, far.id);
    assert_eq!(
        ids(&search(format!("{near}&category=guided-tour")).await),
        vec![daily.id.clone()]
    );
    assert_eq!(
        ids(&search(format!("from={sat}&to={sun}&municipality=010015")).await),
        vec![far.id.clone()]
    );
    assert_eq!(
        ids(&search(format!("{near}&accessible=true")).await),
        vec![free_ducale.id.clone()]
    );
    assert_eq!(
        ids(&search(format!("{near}&q=CARLO%20felice")).await),
        vec![paid.id.clone()]
    );
    assert_eq!(
        ids(&search(format!("{near}&q=party")).await),
        vec![free_ducale.id.clone()]
    );
    // Without a point: soonest first; the month after only in a window that reaches it.
    let all = search(format!("from={sat}&to={sun}")).await;
    assert_eq!(all.items.len(), 4);
    assert!(
        all.items.windows(2).all(|w| w[0].starts_at <= w[1].starts_at),
        "{:?}",
        ids(&all)
    );
    assert!(!ids(&all).contains(&later.id));
    let month = search(format!("from={sat}&to={}", sat.checked_add(31.days()).unwrap())).await;
    assert!(ids(&month).contains(&later.id));

    // Pages of one, by either order, give every hit once.
    for base in [format!("{near}&radius_km=40"), format!("from={sat}&to={sun}")] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(c) => format!("{base}&limit=1&cursor={c}"),
                None => format!("{base}&limit=1"),
            };
            let page = search(query).await;
            seen.extend(ids(&page));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen.len(), 4, "{base}");
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 4);
        assert_eq!(seen, ids(&search(base.clone()).await));
    }

    // Bad parameters name themselves.
    for (query, field) in [
        ("near=abc".to_owned(), "near"),
        ("near=44.4,8.9&radius_km=500".to_owned(), "radius_km"),
        ("radius_km=5".to_owned(), "radius_km"),
        (format!("from={sun}&to={sat}"), "to"),
        (
            format!("from={sat}&to={}", sat.checked_add(400.days()).unwrap()),
            "to",
        ),
        ("from=sabato".to_owned(), "from"),
        ("category=rave".to_owned(), "category"),
        ("cursor=nonsense".to_owned(), "cursor"),
        ("near=95,8.9".to_owned(), "near"),
        ("limit=500".to_owned(), "limit"),
        ("limit=0".to_owned(), "limit"),
        // Unsigned on the wire (core's `EventQuery`): refused as it is read.
        ("limit=-1".to_owned(), "limit"),
        ("free=perhaps".to_owned(), "free"),
        ("colour=red".to_owned(), "colour"),
    ] {
        let response = client()
            .get(server.url(&format!("/v1/events?{query}")))
            .send()
            .await
            .unwrap();
        let (status, _, fields) = problem(response).await;
        assert_eq!((status, fields), (422, vec![field.to_owned()]), "{query}");
    }
    let unknown = client()
        .get(server.url("/v1/events?municipality=999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(unknown).await.0, 404);
    server.stop().await;
}

/// Runs tests/events-formats/check.py (PyLD, icalendar) on what the server published.
async fn independent_reading(input: &Value) -> Value {
    common::oracle(
        "tests/events-formats/check.py",
        "tests/events-formats/requirements.txt",
        input,
    )
    .await
}

#[tokio::test]
async fn an_event_reads_the_same_as_json_ld_and_icalendar_to_independent_parsers() {
    let server = TestServer::start().await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:events"])
        .await;
    venue(
        &server,
        &genova,
        GENOVA,
        "ge-palazzo-ducale",
        "Palazzo Ducale",
        DUCALE,
        &["wheelchair"],
    )
    .await;
    let sat = saturday();
    // Weekly on Thursdays (across a DST change when the test runs near one): the first date is
    // the rule's DTSTART, the later one an RDATE, and the exception falls on a Thursday.
    let first = sat.checked_add(5.days()).unwrap();
    let body = json!({
        "texts": {"it": {"title": "Concerto, musica; e \"altro\"", "description": "Righe\nsu due righe."},
                  "en": {"title": "Concert"}},
        "category": "concert", "venue": "ge-palazzo-ducale",
        "dates": [format!("{first}T21:00"), format!("{}T17:30", first.checked_add(10.days()).unwrap())],
        "duration_minutes": 90, "rrule": "FREQ=WEEKLY;BYDAY=TH;COUNT=6",
        "exdates": [format!("{}T21:00", first.checked_add(14.days()).unwrap())],
        "price_cents": 1250, "ticket_url": "https://example.org/t", "image_url": "https://example.org/i.jpg"
    });
    let event = create(&server, &genova, GENOVA, &body).await;
    let moved_from = event.next_occurrence.clone().unwrap();
    let path = format!("/v1/municipalities/{GENOVA}/events/{}", event.id);
    // The rule a week later (its EXDATE now its second Thursday), the extra date a day later:
    // rescheduled, with the previous start.
    let moved: api::Event = send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(
            &json!({"dates": [format!("{}T21:00", first.checked_add(7.days()).unwrap()),
                               format!("{}T17:30", first.checked_add(11.days()).unwrap())]}),
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(moved.status, "rescheduled");
    let other = create(
        &server,
        &genova,
        GENOVA,
        &event_body("Altro", "ge-palazzo-ducale", &[format!("{sat}T10:00")]),
    )
    .await;

    let public = server.url(&format!("/v1/events/{}", event.id));
    let ld = client()
        .get(&public)
        .header("accept", "application/ld+json")
        .send()
        .await
        .unwrap();
    assert_eq!(ld.headers()["content-type"], "application/ld+json");
    let ld: Value = ld.json().await.unwrap();
    let ics = client()
        .get(&public)
        .header("accept", "text/calendar")
        .send()
        .await
        .unwrap();
    assert!(
        ics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = ics.text().await.unwrap();
    assert!(ics.lines().all(|l| l.len() <= 76), "folded lines");
    let feed = client()
        .get(server.url("/v1/events/feed.ics?municipality=010025&category=concert"))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    let feed = feed.text().await.unwrap();
    let now = jiff::Timestamp::now().to_string();
    let read = independent_reading(&json!({
        "jsonld": ld, "ics": ics, "feed": feed, "after": now, "count": moved.upcoming.len()
    }))
    .await;

    let ld = &read["jsonld"];
    assert_eq!(ld["types"], json!(["https://schema.org/MusicEvent"]));
    assert_eq!(ld["name"], "Concerto, musica; e \"altro\"");
    assert_eq!(ld["eventStatus"], "https://schema.org/EventRescheduled");
    assert_eq!(ld["inLanguage"], "it");
    assert_eq!(ld["isAccessibleForFree"], false);
    assert_eq!(ld["location_types"], json!(["https://schema.org/Place"]));
    assert_eq!(ld["location_name"], "Palazzo Ducale");
    assert_eq!(ld["geo"], json!([DUCALE.0, DUCALE.1]));
    assert_eq!((&ld["price"], &ld["currency"]), (&json!("12.50"), &json!("EUR")));
    let instant = |v: &Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    assert_eq!(
        instant(&ld["startDate"]),
        moved.next_occurrence.as_ref().unwrap().starts_at.parse().unwrap()
    );
    assert_eq!(
        instant(&ld["previousStartDate"]),
        moved_from.starts_at.parse().unwrap()
    );
    assert!(instant(&ld["endDate"]) > instant(&ld["startDate"]));

    let vevent = &read["vevents"][0];
    assert_eq!(read["vevents"].as_array().unwrap().len(), 1);
    assert_eq!(read["timezones"], json!(["Europe/Rome"]));
    assert_eq!(vevent["uid"], moved.uid.as_str());
    assert_eq!(vevent["summary"], "Concerto, musica; e \"altro\"");
    assert_eq!(
        (&vevent["tzid"], &vevent["duration_minutes"]),
        (&json!("Europe/Rome"), &json!(90))
    );
    assert_eq!(vevent["status"], "CONFIRMED");
    // The parser's own expansion of DTSTART + RRULE + RDATE − EXDATE is the server's.
    let server_upcoming: Vec<String> = moved.upcoming.iter().map(|o| o.starts_at.clone()).collect();
    assert_eq!(vevent["upcoming"], json!(server_upcoming));
    // Five Thursdays (six less the exception) and the extra date.
    assert_eq!(server_upcoming.len(), 6, "{server_upcoming:?}");
    assert_eq!(
        read["feed_uids"],
        json!(
            [moved.uid.clone()]
                .into_iter()
                .chain(std::iter::once(other.uid.clone()))
                .collect::<std::collections::BTreeSet<_>>()
        )
    );
    assert_eq!(read["feed_name"], "Eventi - Comune di Genova");
    server.stop().await;
}

#[tokio::test]
async fn calendars_import_idempotently_by_uid_and_bad_entries_are_listed_with_their_line() {
    let server = TestServer::start().await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:events"])
        .await;
    let (arenzano, _) = server
        .dev_login(ARENZANO_OPERATOR, &["operator:010001:events"])
        .await;
    venue(
        &server,
        &genova,
        GENOVA,
        "ge-palazzo-ducale",
        "Palazzo Ducale",
        DUCALE,
        &[],
    )
    .await;
    let sat = saturday();
    let day = sat.strftime("%Y%m%d").to_string();
    let calendar = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Comune//Eventi//IT\r\n\
BEGIN:VEVENT\r\nUID:rassegna-1@comune.genova.it\r\nSUMMARY:Rassegna di cinema\r\n\
DTSTART;TZID=Europe/Rome:{day}T210000\r\nDTEND;TZID=Europe/Rome:{day}T230000\r\n\
RRULE:FREQ=WEEKLY;COUNT=4\r\nCATEGORIES:Proiezione\r\nLOCATION:Palazzo Ducale\\, Genova\r\nGEO:44.40733;8.934\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:senza-data@comune.genova.it\r\nSUMMARY:Manca la data\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:mostra@comune.genova.it\r\nSUMMARY:Mostra\r\nDTSTART:{day}T090000Z\r\nDURATION:PT8H\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:orario@comune.genova.it\r\nSUMMARY:Ogni ora\r\nDTSTART:{day}T090000Z\r\nRRULE:FREQ=HOURLY\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n"
    );
    let import = |token: String,
                  istat: &'static str,
                  query: &'static str,
                  body: String,
                  content_type: &'static str| {
        let server = &server;
        async move {
            client()
                .post(server.url(&format!("/v1/municipalities/{istat}/events/imports{query}")))
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let first = import(
        genova.clone(),
        GENOVA,
        "?venue=ge-palazzo-ducale",
        calendar.clone(),
        "text/calendar",
    )
    .await;
    assert_eq!(first.status(), 200);
    let first: api::EventImportSummary = first.json().await.unwrap();
    assert_eq!((first.created, first.updated), (2, 0), "{first:?}");
    let lines: Vec<u64> = first.skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, vec![14, 24], "{first:?}");
    assert!(first.skipped[1].reason.contains("rrule"), "{:?}", first.skipped);
    // Again: the same events, none added.
    let again: api::EventImportSummary = import(
        genova.clone(),
        GENOVA,
        "?venue=ge-palazzo-ducale",
        calendar.clone(),
        "text/calendar",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!((again.created, again.updated, again.skipped.len()), (0, 2, 2));
    let found: api::EventPage = client()
        .get(server.url(&format!(
            "/v1/events?from={sat}&to={}&municipality=010025",
            sat.checked_add(30.days()).unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found.items.len(), 2);
    let film = found
        .items
        .iter()
        .find(|h| h.title == "Rassegna di cinema")
        .unwrap();
    assert_eq!((film.category.as_str(), film.occurrences_in_window), ("film", 4));
    assert_eq!(film.venue.kind, "address");
    // Another municipality's officer, the wrong media type, a body over the limit.
    let refused = import(arenzano, GENOVA, "", calendar.clone(), "text/calendar").await;
    assert_eq!(problem(refused).await.0, 403);
    let refused = import(genova.clone(), GENOVA, "", calendar.clone(), "application/json").await;
    assert_eq!(problem(refused).await.0, 415);
    let huge = "X".repeat(8 * 1024 * 1024 + 10);
    let refused = import(genova.clone(), GENOVA, "", huge, "text/calendar").await;
    assert_eq!(problem(refused).await.0, 413);
    server.stop().await;
}

#[tokio::test]
async fn followers_are_told_when_an_event_is_moved_postponed_or_cancelled() {
    let server = TestServer::start().await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:events"])
        .await;
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let (other, _) = server.dev_login("BNCLRA75M41D969C", &["citizen"]).await;
    venue(
        &server,
        &genova,
        GENOVA,
        "ge-palazzo-ducale",
        "Palazzo Ducale",
        DUCALE,
        &[],
    )
    .await;
    let sat = saturday();
    let event = create(
        &server,
        &genova,
        GENOVA,
        &event_body("Concerto seguito", "ge-palazzo-ducale", &[format!("{sat}T21:00")]),
    )
    .await;
    let follow = format!("/v1/me/events/{}/follow", event.id);
    for _ in 0..2 {
        let followed = send(&server, reqwest::Method::POST, Some(&citizen), &follow, None).await;
        assert_eq!(followed.status(), 204);
    }
    assert_eq!(
        problem(send(&server, reqwest::Method::POST, None, &follow, None).await)
            .await
            .0,
        401
    );
    assert_eq!(
        problem(
            send(
                &server,
                reqwest::Method::POST,
                Some(&citizen),
                "/v1/me/events/nope/follow",
                None
            )
            .await
        )
        .await
        .0,
        404
    );
    let mine: api::EventList = send(
        &server,
        reqwest::Method::GET,
        Some(&citizen),
        "/v1/me/events",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        mine.items.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        vec![event.id.as_str()]
    );
    let theirs: api::EventList = send(&server, reqwest::Method::GET, Some(&other), "/v1/me/events", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(theirs.items.is_empty());

    let path = format!("/v1/municipalities/{GENOVA}/events/{}", event.id);
    let inbox = |token: String| {
        let server = &server;
        async move { inbox_subjects(server, &token).await }
    };
    // A change of price tells nobody; a move, a postponement and a cancellation do, once each.
    send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(&json!({"price_cents": 500})),
    )
    .await;
    assert!(inbox(citizen.clone()).await.is_empty());
    send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(&json!({"dates": [format!("{}T21:00", sat.tomorrow().unwrap())]})),
    )
    .await;
    send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(&json!({"status": "postponed"})),
    )
    .await;
    send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(&json!({"status": "cancelled"})),
    )
    .await;
    send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(&json!({"status": "cancelled"})),
    )
    .await;
    let mut subjects = inbox(citizen.clone()).await;
    subjects.sort();
    assert_eq!(subjects.len(), 3, "{subjects:?}");
    assert!(subjects.iter().any(|s| s.contains("annullato")));
    assert!(subjects.iter().any(|s| s.contains("rinviato")));
    assert!(subjects.iter().any(|s| s.contains("spostato")));
    assert!(inbox(other.clone()).await.is_empty());
    // Unfollowed: no more news.
    assert_eq!(
        send(&server, reqwest::Method::DELETE, Some(&citizen), &follow, None)
            .await
            .status(),
        204
    );
    assert_eq!(
        problem(send(&server, reqwest::Method::DELETE, Some(&citizen), &follow, None).await)
            .await
            .0,
        404
    );
    send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(&json!({"status": "postponed"})),
    )
    .await;
    assert_eq!(inbox(citizen).await.len(), 3);
    server.stop().await;
}

/// The subjects of a person's inbox, newest first.
async fn inbox_subjects(server: &TestServer, token: &str) -> Vec<String> {
    let page: Value = send(server, reqwest::Method::GET, Some(token), "/v1/me/inbox", None)
        .await
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect()
}

/// An instant of Rome's wall clock, in stored milliseconds.
fn rome_ms(day: Date, hour: i8, minute: i8) -> i64 {
    sportello_core::calendar::ROME
        .to_timestamp(day.at(hour, minute, 0, 0))
        .unwrap()
        .as_millisecond()
}

#[tokio::test]
async fn followers_are_reminded_once_per_occurrence_before_it_starts_outside_quiet_hours() {
    let mut prepared = Prepared::new().await;
    // Pushes stay queued to be counted; the sweep runs on the test's clock only.
    prepared.config.notify.worker = false;
    prepared.config.events.reminders = false;
    let server = prepared.start().await;
    let (genova, _) = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:events"])
        .await;
    let (citizen, _) = server.dev_login(CITIZEN, &["citizen"]).await;
    let (other, _) = server.dev_login("BNCLRA75M41D969C", &["citizen"]).await;
    // The citizen has a phone and sleeps from 22:00 to 07:00; the other has neither.
    let key = "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";
    let device = json!({"kind": "webpush", "endpoint": "https://fcm.googleapis.com/wp/reminders",
                        "keys": {"p256dh": key, "auth": "_ordMnz7uTCmrpBTeUV4Bw"}});
    let registered = send(
        &server,
        reqwest::Method::POST,
        Some(&citizen),
        "/v1/me/devices",
        Some(&device),
    )
    .await;
    assert_eq!(registered.status(), 201, "{}", registered.text().await.unwrap());
    let quiet = json!({"topics": ["library", "permits", "payments", "events", "alerts"], "language": "it",
                       "quiet_hours": {"start": "22:00", "end": "07:00"}, "municipalities": []});
    let put = send(
        &server,
        reqwest::Method::PUT,
        Some(&citizen),
        "/v1/me/notification-preferences",
        Some(&quiet),
    )
    .await;
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
    venue(
        &server,
        &genova,
        GENOVA,
        "ge-palazzo-ducale",
        "Palazzo Ducale",
        DUCALE,
        &[],
    )
    .await;
    let sat = saturday();
    let sun = sat.tomorrow().unwrap();
    let fri = sat.yesterday().unwrap();
    let event = create(
        &server,
        &genova,
        GENOVA,
        &event_body(
            "Concerto all'alba",
            "ge-palazzo-ducale",
            &[format!("{sat}T21:00"), format!("{sun}T06:30")],
        ),
    )
    .await;
    let cancelled = create(
        &server,
        &genova,
        GENOVA,
        &event_body(
            "Concerto annullato",
            "ge-palazzo-ducale",
            &[format!("{sat}T21:00")],
        ),
    )
    .await;
    for (token, id) in [
        (&citizen, &event.id),
        (&other, &event.id),
        (&citizen, &cancelled.id),
    ] {
        let path = format!("/v1/me/events/{id}/follow");
        assert_eq!(
            send(&server, reqwest::Method::POST, Some(token), &path, None)
                .await
                .status(),
            204
        );
    }
    let path = format!("/v1/municipalities/{GENOVA}/events/{}", cancelled.id);
    let patched = send(
        &server,
        reqwest::Method::PATCH,
        Some(&genova),
        &path,
        Some(&json!({"status": "cancelled"})),
    )
    .await;
    assert_eq!(patched.status(), 200);

    let events = &server.state.events;
    let reminders = |token: String| {
        let server = &server;
        async move {
            let mut subjects = inbox_subjects(server, &token).await;
            subjects.retain(|s| s.starts_with("Promemoria"));
            subjects
        }
    };
    let pushes = || async {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM push_outbox o JOIN inbox_messages m ON m.id = o.message_id
             WHERE m.dedup_key LIKE 'event-reminder:%'",
        )
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
        count
    };
    // An hour early: nothing.
    assert_eq!(events.remind(rome_ms(fri, 20, 0)).await.unwrap().sent, 0);
    // A day ahead of Saturday 21:00: both followers of the event on, none of the cancelled one,
    // once however many sweeps run, even two at the same moment.
    let at = rome_ms(fri, 21, 0);
    let (a, b) = tokio::join!(events.remind(at), events.remind(at));
    assert_eq!(a.unwrap().sent + b.unwrap().sent, 2);
    assert_eq!(events.remind(at).await.unwrap().sent, 0);
    assert_eq!(events.remind(rome_ms(fri, 21, 30)).await.unwrap().sent, 0);
    let mine = reminders(citizen.clone()).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(
        mine[0].contains("Concerto all'alba") && mine[0].contains("21:00"),
        "{mine:?}"
    );
    assert_eq!(reminders(other.clone()).await.len(), 1);
    assert_eq!(pushes().await, 1, "one push, to the citizen's one device");
    // Sunday 06:30: a day ahead is Saturday 06:30, in the citizen's quiet hours, so they are told
    // on Friday at 21:59, before their night begins; the other at Saturday 06:30.
    assert_eq!(events.remind(rome_ms(fri, 21, 58)).await.unwrap().sent, 0);
    assert_eq!(events.remind(rome_ms(fri, 21, 59)).await.unwrap().sent, 1);
    let mine = reminders(citizen.clone()).await;
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert!(mine.iter().any(|s| s.contains("06:30")), "{mine:?}");
    assert_eq!(pushes().await, 2);
    assert_eq!(events.remind(rome_ms(sat, 6, 29)).await.unwrap().sent, 0);
    assert_eq!(events.remind(rome_ms(sat, 6, 30)).await.unwrap().sent, 1);
    assert_eq!(reminders(other.clone()).await.len(), 2);
    // Later sweeps, up to after the last start, remind nobody again.
    for (day, hour) in [(sat, 12), (sat, 22), (sun, 7)] {
        assert_eq!(events.remind(rome_ms(day, hour, 0)).await.unwrap().sent, 0);
    }
    assert_eq!(reminders(citizen).await.len(), 2);
    assert_eq!(reminders(other).await.len(), 2);
    server.stop().await;
}
