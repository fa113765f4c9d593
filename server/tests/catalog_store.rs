//! The catalogue store and import pipeline against a real database: `scripts/test` runs it on
//! SQLite and again on PostgreSQL (`SPORTELLO_TEST_PG_URL`).

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::fmt::Write as _;
use std::path::PathBuf;

use common::TestDb;
use sportello_core::api::ImportSummary;
use sportello_core::catalog::InputFormat;
use sportello_server::catalog::import::{ImportOptions, import_files};
use sportello_server::catalog::index::{Commit, SearchIndex};
use sportello_server::catalog::store;
use sportello_server::db::{Backend, Db};
use sportello_server::{demo, tenant};

async fn migrated() -> (TestDb, Db) {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    tenant::Municipalities::load(&db).await.unwrap();
    demo::load_libraries(&db).await.unwrap();
    (test_db, db)
}

async fn options(db: &Db, library: &str) -> ImportOptions {
    ImportOptions {
        library: store::get_library(db, library).await.unwrap().unwrap(),
        format: InputFormat::Auto,
        holdings: Vec::new(),
        code_map: std::collections::HashMap::new(),
    }
}

fn write(dir: &tempfile::TempDir, name: &str, content: &str) -> (PathBuf, String) {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    (path, name.to_owned())
}

/// A MARCXML collection of `records` in the file `name` of `dir`.
fn write_collection(dir: &tempfile::TempDir, name: &str, records: &[String]) -> (PathBuf, String) {
    write(
        dir,
        name,
        &format!("<collection>{}</collection>", records.concat()),
    )
}

/// A MARCXML record with Koha items (952): $p barcode, $q due date, $0 withdrawn.
fn koha(id: &str, title: &str, deleted: bool, items: &[(&str, Option<&str>)]) -> String {
    let status = if deleted { 'd' } else { 'n' };
    let mut xml = format!(
        r#"<record><leader>00000{status}am a2200000 a 4500</leader><controlfield tag="001">{id}</controlfield>
        <controlfield tag="008">970205s1996    it            000 0 ita  </controlfield>
        <datafield tag="100" ind1="1" ind2=" "><subfield code="a">Calvino, Italo</subfield></datafield>
        <datafield tag="245" ind1="1" ind2="3"><subfield code="a">{title}</subfield></datafield>"#
    );
    for (barcode, due) in items {
        let due = due
            .map(|d| format!(r#"<subfield code="q">{d}</subfield>"#))
            .unwrap_or_default();
        let _ = write!(
            xml,
            r#"<datafield tag="952" ind1=" " ind2=" "><subfield code="a">GE</subfield><subfield code="p">{barcode}</subfield>{due}</datafield>"#
        );
    }
    xml.push_str("</record>");
    xml
}

async fn run(db: &Db, options: &ImportOptions, file: &(PathBuf, String)) -> ImportSummary {
    let mut summary = ImportSummary::default();
    import_files(db, options, std::slice::from_ref(file), &mut summary)
        .await
        .unwrap();
    summary
}

async fn copies(db: &Db, title_key: &str) -> Vec<store::CopyView> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT id FROM catalog_records WHERE merge_key LIKE $1")
        .bind(format!("%{title_key}%"))
        .fetch_all(db.pool())
        .await
        .unwrap();
    let mut all: Vec<store::CopyView> = Vec::new();
    for id in rows {
        let list: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT library_id, item_id, status FROM catalog_copies WHERE record_id = $1 ORDER BY item_id",
        )
        .bind(&id)
        .fetch_all(db.pool())
        .await
        .unwrap();
        all.extend(
            list.into_iter()
                .map(|(library_id, item_id, status)| store::CopyView {
                    record_id: id.clone(),
                    library_id,
                    item_id,
                    shelf_mark: None,
                    status,
                    due_date: None,
                }),
        );
    }
    all
}

#[tokio::test]
async fn reimports_upsert_withdraw_copies_and_delete_records() {
    let (_t, db) = migrated().await;
    let dir = tempfile::tempdir().unwrap();
    let berio = options(&db, "ge-berio").await;
    let first = write(
        &dir,
        "a.xml",
        &format!(
            "<collection>{}{}</collection>",
            koha(
                "K1",
                "Il barone rampante",
                false,
                &[("B1", None), ("B2", Some("2026-12-01"))]
            ),
            koha("K2", "Le città invisibili", false, &[("B3", None)])
        ),
    );
    let summary = run(&db, &berio, &first).await;
    assert_eq!(
        (summary.read, summary.imported, summary.copies),
        (2, 2, 3),
        "{summary:?}"
    );
    let before = store::latest_change(&db).await.unwrap();
    assert!(before >= 2, "changes recorded for the index");
    let list = copies(&db, "baronerampante").await;
    assert_eq!(
        list.iter().map(|c| c.status.as_str()).collect::<Vec<_>>(),
        ["on_shelf", "on_loan"]
    );

    // The same file: nothing changes, no new change rows.
    let again = run(&db, &berio, &first).await;
    assert_eq!((again.imported, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(store::latest_change(&db).await.unwrap(), before);

    // B2 dropped from the export: withdrawn, not deleted; K2 deleted at the source.
    let second = write(
        &dir,
        "b.xml",
        &format!(
            "<collection>{}{}</collection>",
            koha("K1", "Il barone rampante", false, &[("B1", None)]),
            koha("K2", "Le città invisibili", true, &[])
        ),
    );
    let summary = run(&db, &berio, &second).await;
    assert_eq!(
        (summary.updated, summary.deleted, summary.withdrawn),
        (1, 1, 1),
        "{summary:?}"
    );
    let list = copies(&db, "baronerampante").await;
    assert_eq!(
        list.iter()
            .map(|c| (c.item_id.as_str(), c.status.as_str()))
            .collect::<Vec<_>>(),
        [("B1", "on_shelf"), ("B2", "withdrawn")]
    );
    assert!(
        copies(&db, "cittainvisibili").await.is_empty(),
        "the deleted record and its copies are gone"
    );
    let remaining: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM catalog_records")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(remaining, 1);
    assert!(store::latest_change(&db).await.unwrap() > before);
}

#[tokio::test]
async fn one_edition_held_by_two_libraries_is_one_record() {
    let (_t, db) = migrated().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "a.xml",
        &format!(
            "<collection>{}</collection>",
            koha("X1", "Il sentiero dei nidi di ragno", false, &[("C1", None)])
        ),
    );
    run(&db, &options(&db, "ge-berio").await, &file).await;
    // Another library, its own record id for the same edition (same title, author, year).
    let other = write(
        &dir,
        "b.xml",
        &format!(
            "<collection>{}</collection>",
            koha("Z9", "Il sentiero dei nidi di ragno", false, &[("C1", None)])
        ),
    );
    let summary = run(&db, &options(&db, "ge-lercari").await, &other).await;
    assert_eq!(summary.imported, 1);
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM catalog_records")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(records, 1, "merged by title/author/year");
    let list = copies(&db, "sentiero").await;
    let mut libraries: Vec<_> = list.iter().map(|c| c.library_id.as_str()).collect();
    libraries.sort_unstable();
    assert_eq!(
        libraries,
        ["ge-berio", "ge-lercari"],
        "same barcode in two libraries: two copies"
    );
}

/// The merged data of the one record whose merge key contains `title_key`.
async fn record_data(db: &Db, title_key: &str) -> String {
    sqlx::query_scalar("SELECT data FROM catalog_records WHERE merge_key LIKE $1")
        .bind(format!("%{title_key}%"))
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn count(db: &Db, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_source_that_leaves_a_merged_record_takes_its_data_and_copies_with_it() {
    let (_t, db) = migrated().await;
    let dir = tempfile::tempdir().unwrap();
    let berio = options(&db, "ge-berio").await;
    let lercari = options(&db, "ge-lercari").await;
    let first = write_collection(
        &dir,
        "berio.xml",
        &[koha(
            "X1",
            "Il sentiero dei nidi di ragno",
            false,
            &[("C1", None), ("C2", None)],
        )],
    );
    run(&db, &berio, &first).await;
    // The same edition from another library, which also lists a subject.
    let with_subject = koha("Z9", "Il sentiero dei nidi di ragno", false, &[("L1", None)]).replace(
        "</record>",
        r#"<datafield tag="650" ind1=" " ind2="4"><subfield code="a">Resistenza</subfield></datafield></record>"#,
    );
    let second = write_collection(&dir, "lercari.xml", &[with_subject]);
    run(&db, &lercari, &second).await;
    assert!(
        record_data(&db, "sentiero").await.contains("Resistenza"),
        "merged"
    );

    // The second library deletes its record: the edition is the first library's alone again,
    // without the subject only the second one gave.
    let deleted = write_collection(
        &dir,
        "lercari-deleted.xml",
        &[koha("Z9", "Il sentiero dei nidi di ragno", true, &[])],
    );
    assert_eq!(run(&db, &lercari, &deleted).await.deleted, 1);
    let data = record_data(&db, "sentiero").await;
    assert!(!data.contains("Resistenza"), "{data}");
    assert!(data.contains("Il sentiero dei nidi di ragno"), "{data}");

    // A re-import that changes the edition (another title) moves the source with all its
    // copies, the one it no longer lists included (withdrawn); the old record goes.
    let retitled = write_collection(
        &dir,
        "berio-retitled.xml",
        &[koha(
            "X1",
            "Ultimo viene il corvo",
            false,
            &[("C1", None), ("C3", None)],
        )],
    );
    let summary = run(&db, &berio, &retitled).await;
    assert_eq!((summary.updated, summary.withdrawn), (1, 1), "{summary:?}");
    assert_eq!(count(&db, "catalog_records").await, 1, "the old record is gone");
    assert_eq!(
        copies(&db, "corvo")
            .await
            .iter()
            .map(|c| (c.item_id.as_str(), c.status.as_str()))
            .collect::<Vec<_>>(),
        [("C1", "on_shelf"), ("C2", "withdrawn"), ("C3", "on_shelf")]
    );
    // Deleted at the source: every copy it ever listed goes with it.
    let gone = write_collection(
        &dir,
        "berio-deleted.xml",
        &[koha("X1", "Ultimo viene il corvo", true, &[])],
    );
    assert_eq!(run(&db, &berio, &gone).await.deleted, 1);
    for table in ["catalog_records", "catalog_sources", "catalog_copies"] {
        assert_eq!(count(&db, table).await, 0, "{table}");
    }
}

#[tokio::test]
async fn one_batch_with_repeats_merges_and_deletions_ends_as_if_written_in_order() {
    let (_t, db) = migrated().await;
    let dir = tempfile::tempdir().unwrap();
    // In one file (one batch): R1 twice (the second listing wins), two source records of the
    // same edition (merged into one record), a record deleted and listed again after, and a
    // barcode listed by two records (the later one keeps it).
    let file = write(
        &dir,
        "a.xml",
        &format!(
            "<collection>{}{}{}{}{}{}{}{}</collection>",
            koha(
                "R1",
                "Il castello dei destini incrociati",
                false,
                &[("M1", None), ("M2", None)]
            ),
            koha("S1", "La giornata d'uno scrutatore", false, &[("P1", None)]),
            koha("S2", "La giornata d'uno scrutatore", false, &[("P2", None)]),
            koha("D1", "Le cosmicomiche", true, &[]),
            koha("D1", "Le cosmicomiche", false, &[("L1", None)]),
            koha(
                "R1",
                "Il castello dei destini incrociati",
                false,
                &[("M1", Some("2026-12-24"))]
            ),
            koha("T1", "Il cavaliere inesistente", false, &[("SHARED", None)]),
            koha("T2", "La speculazione edilizia", false, &[("SHARED", None)]),
        ),
    );
    let summary = run(&db, &options(&db, "ge-berio").await, &file).await;
    assert_eq!(summary.read, 8, "{summary:?}");
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM catalog_records")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(
        records, 5,
        "castello, giornata (merged), cosmicomiche, cavaliere, speculazione"
    );
    let castello = copies(&db, "castello").await;
    assert_eq!(
        castello
            .iter()
            .map(|c| (c.item_id.as_str(), c.status.as_str()))
            .collect::<Vec<_>>(),
        [("M1", "on_loan"), ("M2", "withdrawn")],
        "the second listing of R1 is the one that counts"
    );
    let giornata = copies(&db, "giornata").await;
    assert_eq!(
        giornata.iter().map(|c| c.item_id.as_str()).collect::<Vec<_>>(),
        ["P1", "P2"],
        "two sources of one edition: one record with both copies"
    );
    assert_eq!(
        copies(&db, "cosmicomiche").await.len(),
        1,
        "deleted, then listed again"
    );
    assert!(copies(&db, "cavaliere").await.is_empty());
    assert_eq!(
        copies(&db, "speculazione")
            .await
            .iter()
            .map(|c| c.item_id.as_str())
            .collect::<Vec<_>>(),
        ["SHARED"],
        "a barcode listed twice belongs to the later record"
    );
    // Every record of the batch is in the change sequence the index follows.
    let changed: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT record_id) FROM catalog_changes")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert!(changed >= 5, "{changed}");
}

#[tokio::test]
async fn bad_records_are_skipped_and_the_batch_goes_on() {
    let (_t, db) = migrated().await;
    let dir = tempfile::tempdir().unwrap();
    let berio = options(&db, "ge-berio").await;
    let mixed = write(
        &dir,
        "mixed.xml",
        &format!(
            "<collection>{}<record><leader>bad</leader></record>{}<record><leader>00000nam a2200000 a 4500</leader></record></collection>",
            koha("G1", "Marcovaldo", false, &[]),
            koha("G2", "Palomar", false, &[])
        ),
    );
    let summary = run(&db, &berio, &mixed).await;
    assert_eq!(
        (summary.read, summary.imported, summary.skipped),
        (4, 2, 2),
        "{summary:?}"
    );
    assert!(summary.issues[0].reason.contains("24"), "{:?}", summary.issues);
    assert!(
        summary.issues[1].reason.contains("control number"),
        "{:?}",
        summary.issues
    );
    assert_eq!(summary.issues[1].index, 4);
}

#[tokio::test]
async fn the_follower_commits_a_trickle_at_once_and_a_stream_when_it_ends() {
    let (_t, db) = migrated().await;
    let dir = tempfile::tempdir().unwrap();
    let berio = options(&db, "ge-berio").await;
    let index_dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(index_dir.path()).unwrap();
    index.sync(&db).await.unwrap();

    let one = write(
        &dir,
        "one.xml",
        &format!("<collection>{}</collection>", koha("T0", "Palomar", false, &[])),
    );
    run(&db, &berio, &one).await;
    index.sync_with(&db, Commit::Batched).await.unwrap();
    assert_eq!(
        index.searcher().num_docs(),
        1,
        "a single change is searchable at once"
    );
    assert_eq!(index.applied(), store::latest_change(&db).await.unwrap());

    // A bulk import: the pass that reads it leaves it uncommitted (searches still see the
    // index as it was); the next pass finds nothing new, so the stream has ended: commit.
    let mut bulk = String::from("<collection>");
    for n in 0..2_500 {
        bulk.push_str(&koha(&format!("B{n}"), &format!("Volume {n}"), false, &[]));
    }
    bulk.push_str("</collection>");
    let bulk = write(&dir, "bulk.xml", &bulk);
    assert_eq!(run(&db, &berio, &bulk).await.imported, 2_500);
    let latest = store::latest_change(&db).await.unwrap();
    assert_eq!(index.sync_with(&db, Commit::Batched).await.unwrap(), 2_500);
    assert_eq!(
        index.searcher().num_docs(),
        1,
        "not committed in the middle of a stream"
    );
    assert!(index.applied() < latest);
    assert_eq!(index.sync_with(&db, Commit::Batched).await.unwrap(), 0);
    assert_eq!(index.searcher().num_docs(), 2_501);
    assert_eq!(index.applied(), latest);
}

#[tokio::test]
async fn the_index_rebuilds_and_follows_changes() {
    let (_t, db) = migrated().await;
    let dir = tempfile::tempdir().unwrap();
    let berio = options(&db, "ge-berio").await;
    let file = write(
        &dir,
        "a.xml",
        &format!(
            "<collection>{}</collection>",
            koha("I1", "Lezioni americane", false, &[("L1", None)])
        ),
    );
    run(&db, &berio, &file).await;
    let index_dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(index_dir.path()).unwrap();
    index.sync(&db).await.unwrap();
    assert_eq!(index.searcher().num_docs(), 1);
    assert_eq!(index.applied(), store::latest_change(&db).await.unwrap());
    let more = write(
        &dir,
        "b.xml",
        &format!(
            "<collection>{}</collection>",
            koha("I2", "Se una notte d'inverno un viaggiatore", false, &[])
        ),
    );
    run(&db, &berio, &more).await;
    index.sync(&db).await.unwrap();
    assert_eq!(index.searcher().num_docs(), 2);
    drop(index);
    // Reopened: it resumes from its committed sequence number, and a rebuild gives the same.
    let index = SearchIndex::open(index_dir.path()).unwrap();
    assert_eq!(index.applied(), store::latest_change(&db).await.unwrap());
    assert_eq!(index.rebuild(&db).await.unwrap(), 2);
    assert_eq!(index.searcher().num_docs(), 2);
}

#[tokio::test]
async fn a_created_record_read_again_is_replaced_not_indexed_twice() {
    let (_t, db) = migrated().await;
    let dir = tempfile::tempdir().unwrap();
    let berio = options(&db, "ge-berio").await;
    let index_dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(index_dir.path()).unwrap();
    index.sync(&db).await.unwrap();

    let file = write_collection(&dir, "a.xml", &[koha("G1", "Il barone rampante", false, &[])]);
    run(&db, &berio, &file).await;
    let created = store::latest_change(&db).await.unwrap();
    // Move the creating change one step on, leaving a young gap before it: a transaction that
    // took the earlier number may still commit (as on PostgreSQL), so the follower reads the
    // change but keeps its watermark before the gap, and reads the change again next time.
    let insert = match db.backend() {
        Backend::Sqlite => {
            "INSERT INTO catalog_changes (seq, record_id, changed_at, created)
             SELECT seq + 1, record_id, changed_at, created FROM catalog_changes WHERE seq = $1"
        }
        Backend::Postgres => {
            "INSERT INTO catalog_changes (seq, record_id, changed_at, created) OVERRIDING SYSTEM VALUE
             SELECT seq + 1, record_id, changed_at, created FROM catalog_changes WHERE seq = $1"
        }
    };
    sqlx::query(insert)
        .bind(created)
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM catalog_changes WHERE seq = $1")
        .bind(created)
        .execute(db.pool())
        .await
        .unwrap();

    // Read for the first time: a new record, added without a delete.
    index.sync(&db).await.unwrap();
    assert_eq!(index.searcher().num_docs(), 1);
    assert!(
        index.applied() < created + 1,
        "the watermark waits before the gap"
    );
    // Read again: the record is in the index now, so it must replace itself.
    index.sync(&db).await.unwrap();
    assert_eq!(index.searcher().num_docs(), 1, "indexed twice");
}
