//! The open data catalogue on a real server with the demo data (both backends): the DCAT-AP
//! catalogue in JSON-LD and Turtle, validated by pySHACL against the official DCAT-AP 3.0.0 shapes
//! (tests/opendata/check.py) with no violation, the same graph in both forms; the check fails
//! when a required property is dropped; every distribution it lists is served, with the data
//! of its dataset and no personal data.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

mod common;

use common::{Prepared, client};
use serde_json::{Value, json};
use sportello_core::api;

async fn check(jsonld: &Value, turtle: Option<&str>) -> Value {
    common::oracle(
        "tests/opendata/check.py",
        "tests/opendata/requirements.txt",
        &json!({"jsonld": jsonld.to_string(), "turtle": turtle}),
    )
    .await
}

/// The nodes of the catalogue's graph of a type.
fn of_type<'a>(catalogue: &'a Value, kind: &str) -> Vec<&'a Value> {
    catalogue["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|node| node["@type"].as_array().unwrap().iter().any(|t| t == kind))
        .collect()
}

#[tokio::test]
async fn the_catalogue_validates_against_dcat_ap_and_every_file_it_lists_is_served() {
    let mut prepared = Prepared::new().await;
    prepared.config.demo = true;
    let server = prepared.start().await;

    let response = client()
        .get(server.url("/opendata/catalog"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/ld+json");
    let catalogue: Value = response.json().await.unwrap();
    let response = client()
        .get(server.url("/opendata/catalog"))
        .header("accept", "text/turtle")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/turtle")
    );
    let turtle = response.text().await.unwrap();

    let report = check(&catalogue, Some(&turtle)).await;
    for form in ["jsonld", "turtle"] {
        assert_eq!(report[form]["violations"], json!([]), "{form}: {report}");
        assert_eq!(report[form]["conforms"], true, "{form}");
    }
    assert_eq!(
        report["isomorphic"], true,
        "JSON-LD and Turtle are the same graph"
    );
    assert!(report["jsonld"]["triples"].as_u64().unwrap() > 100, "{report}");

    // The check can fail: without the datasets' titles, or a distribution's access URL, or the
    // catalogue's publisher, the shapes find violations naming what is missing.
    for (kind, property) in [
        ("dcat:Dataset", "dct:title"),
        ("dcat:Distribution", "dcat:accessURL"),
        ("dcat:Catalog", "dct:publisher"),
    ] {
        let mut broken = catalogue.clone();
        for node in broken["@graph"].as_array_mut().unwrap() {
            if node["@type"].as_array().unwrap().iter().any(|t| t == kind) {
                node.as_object_mut().unwrap().remove(property);
            }
        }
        let report = check(&broken, None).await;
        assert_eq!(report["jsonld"]["conforms"], false, "{kind} without {property}");
        let paths: Vec<&str> = report["jsonld"]["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["path"].as_str().unwrap())
            .collect();
        let expanded = property
            .replace("dct:", "http://purl.org/dc/terms/")
            .replace("dcat:", "http://www.w3.org/ns/dcat#");
        assert!(
            paths.iter().all(|p| *p == expanded),
            "{kind} without {property}: {paths:?}"
        );
    }

    // The publisher: an organisation with its IPA code; every dataset CC-BY 4.0.
    let publisher = of_type(&catalogue, "foaf:Organization");
    assert_eq!(publisher.len(), 1);
    assert_eq!(publisher[0]["dct:identifier"][0]["@value"], "cmge");
    let datasets = of_type(&catalogue, "dcat:Dataset");
    assert_eq!(datasets.len(), 4);
    let distributions = of_type(&catalogue, "dcat:Distribution");
    assert_eq!(distributions.len(), 9, "two per dataset, three for events");
    for distribution in &distributions {
        assert_eq!(
            distribution["dct:license"][0]["@id"],
            "http://publications.europa.eu/resource/authority/licence/CC_BY_4_0"
        );
    }

    // Every file listed is served with its media type.
    let mut files = std::collections::BTreeMap::new();
    for distribution in &distributions {
        let url = distribution["dcat:downloadURL"][0]["@id"].as_str().unwrap();
        let media = distribution["dcat:mediaType"][0]["@id"]
            .as_str()
            .unwrap()
            .trim_start_matches("https://www.iana.org/assignments/media-types/");
        let response = client().get(url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with(media), "{url}: {content_type}");
        let name = url.rsplit('/').next().unwrap().to_owned();
        files.insert(name, response.text().await.unwrap());
    }
    assert_eq!(files.len(), 9, "{:?}", files.keys());

    // The data: 67 municipalities, the libraries the API lists, the demo events, the counts.
    let lines = |name: &str| files[name].split("\r\n").filter(|l| !l.is_empty()).count();
    assert_eq!(lines("municipalities.csv"), 68);
    assert!(
        files["municipalities.csv"]
            .starts_with("istat_code,name,province,belfiore_code,fiscal_code,ipa_code,")
    );
    let genova: Vec<Value> = serde_json::from_str(&files["municipalities.json"]).unwrap();
    let genova = genova.iter().find(|m| m["istat_code"] == "010025").unwrap();
    assert_eq!(genova["ipa_code"], "c_d969");
    let libraries: Value = server.get_json("/v1/libraries").await;
    let libraries = libraries["items"].as_array().unwrap();
    assert!(!libraries.is_empty());
    assert_eq!(lines("libraries.csv"), libraries.len() + 1);
    let listed: Vec<Value> = serde_json::from_str(&files["libraries.json"]).unwrap();
    assert_eq!(listed.len(), libraries.len());
    assert!(
        listed
            .iter()
            .all(|l| !l["opening_hours"].as_str().unwrap().is_empty())
    );
    let events: Vec<Value> = serde_json::from_str(&files["events.json"]).unwrap();
    assert!(events.len() >= 11, "the demo's eleven events: {}", events.len());
    assert_eq!(lines("events.csv"), events.len() + 1);
    assert_eq!(
        files["events.ics"].matches("BEGIN:VEVENT").count(),
        events.len(),
        "the calendar holds the same events"
    );
    let counts: Vec<Value> = serde_json::from_str(&files["permit-applications.json"]).unwrap();
    let past_draft: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM permits WHERE status <> 'draft'")
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert!(past_draft > 0, "the demo files applications");
    assert_eq!(
        counts
            .iter()
            .map(|c| c["applications"].as_i64().unwrap())
            .sum::<i64>(),
        past_draft
    );
    assert!(counts.iter().all(|c| c["month"].as_str().unwrap().len() == 7));
    assert!(
        files["permit-applications.csv"]
            .starts_with("municipality,municipality_name,procedure,month,applications\r\n")
    );
    // No personal data: no demo person's fiscal code in any file.
    for (name, body) in &files {
        for person in ["RSSMRA85T10A562S", "VRDGPP80A01D969Z", "BNCLRA75M41D969C"] {
            assert!(!body.contains(person), "{name} holds {person}");
        }
    }

    // Anything else under /opendata/ is a 404 problem.
    for name in [
        "events.xml",
        "nope.csv",
        "events",
        "municipalities.ics",
        "..%2Fconfig.toml",
    ] {
        let response = client()
            .get(server.url(&format!("/opendata/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{name}");
        let problem: api::Problem = response.json().await.unwrap();
        assert_eq!(problem.code, "opendata-not-found", "{name}");
    }
    server.stop().await;
}
