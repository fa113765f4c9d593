//! The library catalogue through the HTTP API, on a real server (SQLite, or PostgreSQL with
//! `SPORTELLO_TEST_PG_URL`): libraries, imports of the real sample records, search,
//! availability, DAIA, tenant isolation and bad input.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::path::PathBuf;

use common::{ARENZANO_OPERATOR, CITIZEN, GENOVA_OPERATOR, Prepared, TestServer, client};
use reqwest::StatusCode;
use serde_json::Value;
use sportello_core::api::{ImportSummary, LibraryList, Problem, RecordAvailability, SearchResults};

const GENOVA_LIBRARIAN: &str = "BNCLRA75M41D969C";

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(path)
}

async fn start() -> TestServer {
    let server = TestServer::start().await;
    sportello_server::demo::load_libraries(&server.state.db)
        .await
        .unwrap();
    server.state.catalog.invalidate_libraries();
    server
}

async fn problem(response: reqwest::Response, status: StatusCode, code: &str) -> Problem {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: Problem = response.json().await.unwrap();
    assert_eq!(problem.code, code, "{problem:?}");
    problem
}

async fn librarian(server: &TestServer) -> String {
    server
        .dev_login(GENOVA_LIBRARIAN, &["operator:010025:library"])
        .await
        .0
}

async fn import(
    server: &TestServer,
    token: &str,
    library: &str,
    query: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    client()
        .post(server.url(&format!(
            "/v1/municipalities/010025/libraries/{library}/imports{query}"
        )))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn import_ok(
    server: &TestServer,
    token: &str,
    library: &str,
    query: &str,
    file: &str,
) -> ImportSummary {
    let response = import(
        server,
        token,
        library,
        query,
        std::fs::read(fixture(file)).unwrap(),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn search(server: &TestServer, query: &str) -> SearchResults {
    let response = client()
        .get(server.url(&format!("/v1/catalog/search?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "{query}: {}",
        response.text().await.unwrap()
    );
    response.json().await.unwrap()
}

fn titles(results: &SearchResults) -> Vec<String> {
    results.items.iter().map(|h| h.record.title.clone()).collect()
}

#[tokio::test]
async fn libraries_nearest_first_with_hours() {
    let server = start().await;
    // From the steps of the Berio.
    let list: LibraryList = client()
        .get(server.url("/v1/libraries?near=44.4050,8.9372"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list.items.len() >= 7);
    let first = &list.items[0];
    assert_eq!(first.id, "ge-berio");
    assert!(first.distance_km.unwrap() < 0.1 && first.demo);
    assert!(
        first.open_now == first.closes_at.is_some(),
        "closing time only when open"
    );
    assert!(first.open_now || first.next_opening.is_some());
    let distances: Vec<f64> = list.items.iter().map(|l| l.distance_km.unwrap()).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    let chiavari: LibraryList = client()
        .get(server.url("/v1/libraries?municipality=010015"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chiavari.items.len(), 1);
    assert_eq!(chiavari.items[0].id, "chiavari-civica");
    for (query, status, code) in [
        ("near=91,8", StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        ("near=abc", StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        (
            "municipality=10025",
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY, "validation"),
        ("bogus=1", StatusCode::UNPROCESSABLE_ENTITY, "validation"),
    ] {
        let response = client()
            .get(server.url(&format!("/v1/libraries?{query}")))
            .send()
            .await
            .unwrap();
        problem(response, status, code).await;
    }
    let missing = client()
        .get(server.url("/v1/libraries/nowhere"))
        .send()
        .await
        .unwrap();
    problem(missing, StatusCode::NOT_FOUND, "library-not-found").await;
    server.stop().await;
}

#[tokio::test]
#[allow(clippy::too_many_lines, reason = "one scenario over the real sample files")]
async fn real_records_import_and_are_found_by_title_author_and_isbn() {
    let server = start().await;
    let token = librarian(&server).await;
    // BNCF UNIMARC, ISO 2709 with a newline after each record terminator; copies in 960.
    let summary = import_ok(&server, &token, "ge-berio", "", "marc/bncf-unimarcxml/data.mrc").await;
    assert_eq!(
        (summary.read, summary.imported, summary.skipped),
        (5, 5, 0),
        "{summary:?}"
    );
    assert!(summary.copies >= 5);
    // The same export again changes nothing.
    let again = import_ok(&server, &token, "ge-berio", "", "marc/bncf-unimarcxml/data.mrc").await;
    assert_eq!(
        (again.imported, again.updated, again.unchanged),
        (0, 0, 5),
        "{again:?}"
    );
    // The same records as UNIMARC slim XML in another library merge into the same editions.
    let xml = import_ok(
        &server,
        &token,
        "ge-lercari",
        "",
        "marc/bncf-unimarcxml/unimarctest.xml",
    )
    .await;
    assert_eq!(xml.imported, 5);
    // MARC 21 in MARC-8, and the SBN record whose 899 localisations map to our libraries.
    import_ok(&server, &token, "ge-gallino", "", "marc/pymarc/marc.dat").await;
    let sbn = import_ok(
        &server,
        &token,
        "ge-universitaria",
        "?map=SP0022:ge-de-amicis,SV0070:ge-gallino",
        "marc/pymarc/testunimarc.dat",
    )
    .await;
    assert_eq!(
        (sbn.imported, sbn.copies),
        (1, 2),
        "only the mapped localisations: {sbn:?}"
    );

    // Title, with the article the catalogue marks as non-filing.
    let found = search(&server, "q=stato+innovatore").await;
    assert_eq!(titles(&found)[0], "Lo Stato innovatore");
    let hit = &found.items[0];
    assert_eq!(hit.availability.libraries, 2, "one edition, two libraries");
    assert_eq!(hit.availability.copies_on_shelf, 4);
    // Author, typo, accent folding, stemming, ISBN (ISBN-10 and hyphenated ISBN-13), BID.
    assert_eq!(
        titles(&search(&server, "q=mazzucato").await)[0],
        "Lo Stato innovatore"
    );
    assert_eq!(
        titles(&search(&server, "q=mazucato+innovatori").await)[0],
        "Lo Stato innovatore"
    );
    assert_eq!(titles(&search(&server, "q=giacche").await)[0], "L'annessione");
    assert_eq!(
        titles(&search(&server, "q=978-88-581-1170-3").await)[0],
        "Lo Stato innovatore"
    );
    assert_eq!(
        titles(&search(&server, "q=8804406828").await)[0],
        "L'altra faccia della spirale"
    );
    assert_eq!(
        titles(&search(&server, "q=ANA0019370").await)[0],
        "L'altra faccia della spirale"
    );
    assert_eq!(
        titles(&search(&server, "q=pragmatic+programmer").await)[0],
        "The pragmatic programmer"
    );
    assert_eq!(
        titles(&search(&server, "q=asim").await)[0],
        "L'altra faccia della spirale",
        "prefix while typing"
    );

    // Copies of the SBN record are where the localisations said, status unknown.
    let asimov = &search(&server, "q=asimov+spirale").await.items[0];
    let availability: RecordAvailability = client()
        .get(server.url(&format!("/v1/catalog/records/{}/availability", asimov.record.id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut libraries: Vec<_> = availability
        .libraries
        .iter()
        .map(|l| l.library_id.as_str())
        .collect();
    libraries.sort_unstable();
    assert_eq!(libraries, ["ge-de-amicis", "ge-gallino"]);
    assert!(
        availability
            .libraries
            .iter()
            .all(|l| l.unknown == 1 && l.on_shelf == 0)
    );

    // Facets and filters.
    let all = search(&server, "").await;
    assert_eq!(
        all.total, 26,
        "5 BNCF editions (merged across two containers), 20 LoC, 1 SBN"
    );
    let books = all.facets.format.iter().find(|f| f.value == "book").unwrap();
    assert!(books.count >= 20, "{:?}", all.facets.format);
    assert!(
        all.facets
            .library
            .iter()
            .any(|f| f.value == "ge-lercari" && f.count == 5)
    );
    // Every facet count is what filtering by that value finds (facets are counted from the
    // index's columns, filters are term queries: two independent paths), and every record has
    // exactly one format.
    let format_sum: u64 = all.facets.format.iter().map(|f| f.count).sum();
    assert_eq!(format_sum, all.total);
    for (parameter, counts) in [
        ("format", &all.facets.format),
        ("language", &all.facets.language),
        ("municipality", &all.facets.municipality),
        ("library", &all.facets.library),
    ] {
        assert!(!counts.is_empty(), "no {parameter} facet");
        assert!(
            counts.windows(2).all(|w| w[0].count >= w[1].count),
            "{parameter} facet not sorted: {counts:?}"
        );
        for facet in counts {
            let filtered = search(&server, &format!("{parameter}={}", facet.value)).await;
            assert_eq!(filtered.total, facet.count, "{parameter}={}", facet.value);
        }
    }
    let ita = search(&server, "language=ita&library=ge-lercari").await;
    assert_eq!(ita.total, 5);
    let recent = search(&server, "year_from=2014&year_to=2014&format=book").await;
    assert!(recent.items.iter().all(|h| h.record.year == Some(2014)));
    assert!(search(&server, "municipality=010015").await.items.is_empty());

    // Imports write without SQLite's foreign key checks (see `store::import_connection`):
    // what they wrote must still pass them, and the pool's connections must still check.
    let db = &server.state.db;
    if db.backend().as_str() == "sqlite" {
        use sqlx::Row;
        let violations = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(db.pool())
            .await
            .unwrap();
        assert!(
            violations.is_empty(),
            "{} foreign key violations",
            violations.len()
        );
        // Every connection the pool can hand out, held at once so that each is another.
        let mut held = Vec::new();
        for _ in 0..db.pool().options().get_max_connections() {
            let mut connection = db.pool().acquire().await.unwrap();
            let on: i64 = sqlx::query("PRAGMA foreign_keys")
                .fetch_one(&mut *connection)
                .await
                .unwrap()
                .get(0);
            assert_eq!(on, 1, "a pooled connection without foreign key checks");
            held.push(connection);
        }
    }
    server.stop().await;
}

#[tokio::test]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario: lend, search, availability, DAIA"
)]
async fn availability_follows_copy_status_and_daia_validates() {
    let server = start().await;
    let token = librarian(&server).await;
    import_ok(&server, &token, "ge-berio", "", "marc/bncf-unimarcxml/data.mrc").await;
    import_ok(
        &server,
        &token,
        "ge-gallino",
        "",
        "marc/bncf-unimarcxml/unimarctest.xml",
    )
    .await;
    let hit = search(&server, "q=stato+innovatore&near=44.4050,8.9372")
        .await
        .items
        .remove(0);
    let nearest = hit.availability.nearest.unwrap();
    assert_eq!(nearest.library_id, "ge-berio");
    // Lend both Berio copies: the nearest copy on the shelf is now in Sampierdarena.
    for item in ["6430746", "6485669"] {
        let response = client()
            .put(server.url(&format!(
                "/v1/municipalities/010025/libraries/ge-berio/copies/{item}"
            )))
            .bearer_auth(&token)
            .json(&serde_json::json!({"status": "on_loan", "due_date": "2026-12-15"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    let hit = search(&server, "q=stato+innovatore&near=44.4050,8.9372")
        .await
        .items
        .remove(0);
    assert_eq!(hit.availability.nearest.unwrap().library_id, "ge-gallino");
    let id = hit.record.id.clone();
    let availability: RecordAvailability = client()
        .get(server.url(&format!(
            "/v1/catalog/records/{id}/availability?near=44.4050,8.9372"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let berio = &availability.libraries[0];
    assert_eq!(
        (berio.library_id.as_str(), berio.on_loan, berio.on_shelf),
        ("ge-berio", 2, 0)
    );
    assert_eq!(berio.earliest_due.as_deref(), Some("2026-12-15"));
    assert!(berio.distance_km.unwrap() < 0.1);
    assert!(berio.open_now || berio.next_opening.is_some());
    // available=true&sort=distance skips the Berio; with a 1 km radius nothing is left.
    let available = search(
        &server,
        "q=stato+innovatore&available=true&near=44.4050,8.9372&sort=distance",
    )
    .await;
    assert_eq!(
        available.items[0]
            .availability
            .nearest
            .as_ref()
            .unwrap()
            .library_id,
        "ge-gallino"
    );
    let close = search(
        &server,
        "q=stato+innovatore&available=true&near=44.4050,8.9372&radius_km=1",
    )
    .await;
    assert!(close.items.is_empty(), "{:?}", titles(&close));

    // DAIA, by record id and by ISBN, valid against the DAIA 1.0 schema.
    let schema: Value =
        serde_json::from_slice(&std::fs::read(fixture("daia/daia.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    for query in [
        format!("urn:uuid:{id}"),
        "urn:isbn:9788858111703".to_owned(),
        format!("{id}|nothing"),
    ] {
        let daia: Value = client()
            .get(server.url("/v1/daia"))
            .query(&[("id", query.as_str()), ("format", "json")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let errors: Vec<String> = validator.iter_errors(&daia).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}\n{daia:#}");
        let items = daia["document"][0]["item"].as_array().unwrap();
        let lent = items
            .iter()
            .find(|i| i["unavailable"][0]["expected"] == "2026-12-15")
            .unwrap();
        assert_eq!(lent["unavailable"][0]["service"], "loan");
        assert!(items.iter().any(|i| i["available"][0]["service"] == "loan"));
    }
    // The example responses shipped with the schema validate too (the validator is real).
    for example in ["response-1.json", "response-2.json", "response-6.json"] {
        let value: Value =
            serde_json::from_slice(&std::fs::read(fixture(&format!("daia/{example}"))).unwrap()).unwrap();
        assert!(validator.is_valid(&value), "{example}");
    }
    assert!(
        !validator.is_valid(&serde_json::json!({"document": [{"item": []}]})),
        "id is required"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_files_are_reported_and_lose_nothing() {
    let server = start().await;
    let token = librarian(&server).await;
    import_ok(&server, &token, "ge-berio", "", "marc/bncf-unimarcxml/data.mrc").await;
    // Garbage, a record with a lying leader, invalid UTF-8 and a truncated record.
    let mut garbled = b"this is not a MARC record at all\x1d".to_vec();
    let good = std::fs::read(fixture("marc/marc4j/u17_utf8.mrc")).unwrap();
    let mut lying = good.clone();
    lying[..5].copy_from_slice(b"00100");
    garbled.extend(&lying);
    garbled.extend(&good);
    garbled.extend(&good[..good.len() / 2]);
    let response = import(&server, &token, "ge-berio", "", garbled).await;
    let summary: ImportSummary = response.json().await.unwrap();
    assert_eq!(
        (summary.read, summary.imported, summary.skipped),
        (4, 1, 3),
        "{summary:?}"
    );
    let reasons: Vec<_> = summary
        .issues
        .iter()
        .map(|i| (i.index, i.reason.clone()))
        .collect();
    assert!(reasons[1].1.contains("leader says"), "{reasons:?}");
    assert_eq!(summary.issues[1].offset, 33, "byte position of the second record");
    assert!(reasons[2].1.contains("truncated"), "{reasons:?}");
    // An XML bomb: the entity is refused, nothing expands.
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<collection><record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">bomb</controlfield>
<datafield tag="245" ind1="0" ind2="0"><subfield code="a">&b;</subfield></datafield></record></collection>"#;
    let summary: ImportSummary = import(&server, &token, "ge-berio", "", bomb.to_vec())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((summary.read, summary.skipped), (1, 1));
    assert!(summary.issues[0].reason.contains("&b;"), "{:?}", summary.issues);
    // Empty and unparseable XML.
    let empty: ImportSummary = import(&server, &token, "ge-berio", "", Vec::new())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty.read, 0);
    let broken: ImportSummary = import(
        &server,
        &token,
        "ge-berio",
        "?format=marcxml",
        b"<collection><record>".to_vec(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(broken.imported, 0);
    assert!(!broken.issues.is_empty());
    // Everything imported before is still there, and the good record between the bad ones.
    assert_eq!(search(&server, "library=ge-berio").await.total, 5);
    assert_eq!(titles(&search(&server, "q=punjab").await).len(), 1);
    for (query, code) in [
        ("?format=pdf", "validation"),
        ("?holdings=nope", "validation"),
        ("?map=CF", "validation"),
    ] {
        problem(
            import(&server, &token, "ge-berio", query, Vec::new()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
        )
        .await;
    }
    server.stop().await;
}

#[tokio::test]
async fn typo_tolerance_widens_only_words_the_catalogue_does_not_know() {
    let server = start().await;
    let token = librarian(&server).await;
    let record = |id: &str, title: &str| {
        format!(
            r#"<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">{id}</controlfield>
            <datafield tag="245" ind1="0" ind2="0"><subfield code="a">{title}</subfield></datafield></record>"#
        )
    };
    let xml = format!(
        r#"<collection xmlns="http://www.loc.gov/MARC21/slim">{}{}</collection>"#,
        record("typo-1", "Il castello"),
        record("typo-2", "Il cartello")
    );
    let response = import(&server, &token, "ge-berio", "?format=marcxml", xml.into_bytes()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(titles(&search(&server, "q=cartello").await), ["Il cartello"]);
    // "castello" is a word of the catalogue: it is taken as meant, so "cartello" (one letter
    // away, and found by a typo-tolerant search) does not come with it.
    assert_eq!(titles(&search(&server, "q=castello").await), ["Il castello"]);
    // "castelo" is not: one typo away from "castello", two from "cartello".
    assert_eq!(titles(&search(&server, "q=castelo").await), ["Il castello"]);
    server.stop().await;
}

#[tokio::test]
async fn bad_searches_get_problems_or_sane_results() {
    let server = start().await;
    let long = "parola ".repeat(1500);
    for query in [
        format!("q={long}"),
        "near=100,200".to_owned(),
        "near=44.4,8.9&radius_km=500".to_owned(),
        "near=44.4,8.9&radius_km=-1".to_owned(),
        "radius_km=5".to_owned(),
        "sort=distance".to_owned(),
        "sort=random".to_owned(),
        "cursor=garbage".to_owned(),
        "limit=1000".to_owned(),
        "year_from=abc".to_owned(),
        "format=vinyl".to_owned(),
        "language=italiano".to_owned(),
    ] {
        let response = client()
            .get(server.url(&format!("/v1/catalog/search?{query}")))
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(status.is_client_error(), "{query}: {status}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{query}"
        );
    }
    // Punctuation only, a 900-character query and odd Unicode are answered, empty.
    for q in ["!!!%3F%3F", &"a".repeat(900), "%F0%9F%93%9A", "%22%27%3B--"] {
        let results = search(&server, &format!("q={q}")).await;
        assert!(results.items.is_empty());
    }
    let missing = client()
        .get(server.url("/v1/catalog/records/00000000-0000-0000-0000-000000000000/availability"))
        .send()
        .await
        .unwrap();
    problem(missing, StatusCode::NOT_FOUND, "record-not-found").await;
    let bad_daia = client().get(server.url("/v1/daia?id=")).send().await.unwrap();
    problem(bad_daia, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    let unknown: Value = client()
        .get(server.url("/v1/daia?id=urn:isbn:9788858111703"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unknown["document"], serde_json::json!([]));
    server.stop().await;
}

#[tokio::test]
async fn operators_work_only_on_their_own_municipalitys_libraries() {
    let server = start().await;
    let body = std::fs::read(fixture("marc/bncf-unimarcxml/data.mrc")).unwrap();
    let arenzano = server
        .dev_login(ARENZANO_OPERATOR, &["operator:010001:library"])
        .await
        .0;
    let permits = server
        .dev_login(GENOVA_OPERATOR, &["operator:010025:permits"])
        .await
        .0;
    let citizen = server.dev_login(CITIZEN, &[]).await.0;
    for token in [&arenzano, &permits, &citizen] {
        problem(
            import(&server, token, "ge-berio", "", body.clone()).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
    let anonymous = client()
        .post(server.url("/v1/municipalities/010025/libraries/ge-berio/imports"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    problem(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // A Genova librarian cannot reach Chiavari's library through Genova's path, nor map copies
    // to it.
    let token = librarian(&server).await;
    problem(
        import(&server, &token, "chiavari-civica", "", body.clone()).await,
        StatusCode::NOT_FOUND,
        "library-not-found",
    )
    .await;
    problem(
        import(
            &server,
            &token,
            "ge-berio",
            "?map=CF:chiavari-civica",
            body.clone(),
        )
        .await,
        StatusCode::NOT_FOUND,
        "library-not-found",
    )
    .await;
    // Arenzano's librarian creates a library in Arenzano, and cannot edit Genova's.
    let library = serde_json::json!({
        "name": "Biblioteca di prova", "address": "Piazza del Comune 1, Arenzano", "postal_code": "16011",
        "lat": 44.4025, "lon": 8.6831, "opening_hours": "Mo-Fr 09:00-12:00"
    });
    let created = client()
        .put(server.url("/v1/municipalities/010001/libraries/arenzano-test"))
        .bearer_auth(&arenzano)
        .json(&library)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let denied = client()
        .put(server.url("/v1/municipalities/010025/libraries/arenzano-test"))
        .bearer_auth(&arenzano)
        .json(&library)
        .send()
        .await
        .unwrap();
    problem(denied, StatusCode::FORBIDDEN, "forbidden").await;
    let hijack = client()
        .put(server.url("/v1/municipalities/010025/libraries/arenzano-test"))
        .bearer_auth(&token)
        .json(&library)
        .send()
        .await
        .unwrap();
    problem(hijack, StatusCode::NOT_FOUND, "library-not-found").await;
    let mut bad = library.clone();
    bad["opening_hours"] = Value::String("Mo 19:00-08:00".into());
    let invalid = client()
        .put(server.url("/v1/municipalities/010001/libraries/arenzano-test"))
        .bearer_auth(&arenzano)
        .json(&bad)
        .send()
        .await
        .unwrap();
    problem(invalid, StatusCode::UNPROCESSABLE_ENTITY, "validation").await;
    let copy = client()
        .put(server.url("/v1/municipalities/010001/libraries/ge-berio/copies/6430746"))
        .bearer_auth(&arenzano)
        .json(&serde_json::json!({"status": "on_loan"}))
        .send()
        .await
        .unwrap();
    problem(copy, StatusCode::NOT_FOUND, "library-not-found").await;
    server.stop().await;
}

#[tokio::test]
async fn a_second_instance_follows_the_change_sequence() {
    let first = start().await;
    // A second server on the same database, with its own data directory and index.
    let mut prepared = Prepared::new().await;
    prepared.config.database_url = Some(sportello_server::config::Secret::new(first.db.url.clone()));
    prepared.config.catalog.index_poll_ms = 50;
    let second = prepared.start().await;
    let token = librarian(&first).await;
    import_ok(&first, &token, "ge-berio", "", "marc/bncf-unimarcxml/data.mrc").await;
    let mut found = 0;
    for _ in 0..200 {
        found = search(&second, "q=stato+innovatore").await.items.len();
        if found > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found, 1, "the second instance indexed the first one's import");
    second.stop().await;
    first.stop().await;
}
