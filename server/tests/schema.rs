//! The two schemas cannot drift apart silently: migrates a fresh SQLite database and a fresh
//! PostgreSQL database and compares them table by table, column by column, each column's type
//! mapped to a family both engines share, and its nullability. `scripts/test` runs it with
//! `SPORTELLO_TEST_PG_URL`; without it (the workspace run on SQLite) only the SQLite half runs,
//! which still checks that every column's type maps to a family.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::collections::BTreeMap;

use common::{TestDb, backend_name};
use sportello_server::db::Db;
use sqlx::Row;

/// Differences between the two schemas that are meant: (table, column, why). A difference found
/// and not listed here fails the test, and so does an entry here that is no longer a difference.
const INTENDED_DIFFERENCES: &[(&str, &str, &str)] = &[];

/// A column as both engines can describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    family: &'static str,
    nullable: bool,
}

/// Table name to its columns, in their order.
type Schema = BTreeMap<String, Vec<Column>>;

/// The family of a column type SQLite was declared with (its declared type, as written in the
/// migration: SQLite keeps it). INTEGER is 64-bit on SQLite, like PostgreSQL's BIGINT.
fn sqlite_family(declared: &str) -> &'static str {
    match declared.to_ascii_uppercase().as_str() {
        "INTEGER" | "BIGINT" => "integer (64-bit)",
        "TEXT" => "text",
        upper if upper.starts_with("VARCHAR") => "text",
        "BLOB" => "bytes",
        "REAL" | "DOUBLE PRECISION" => "real",
        "BOOLEAN" => "boolean",
        "JSON" => "json",
        other => panic!("SQLite column type `{other}`: map it to a family in server/tests/schema.rs"),
    }
}

/// The family of a PostgreSQL column type (`information_schema.columns.data_type`). Its INTEGER
/// is 32-bit: a family of its own, so that an INTEGER written once for both engines (64-bit on
/// SQLite) shows as a difference.
fn postgres_family(data_type: &str) -> &'static str {
    match data_type {
        "bigint" => "integer (64-bit)",
        "integer" => "integer (32-bit)",
        "smallint" => "integer (16-bit)",
        "text" | "character varying" => "text",
        "bytea" => "bytes",
        "real" | "double precision" => "real",
        "boolean" => "boolean",
        "json" | "jsonb" => "json",
        other => panic!("PostgreSQL column type `{other}`: map it to a family in server/tests/schema.rs"),
    }
}

/// Every table but sqlx's own bookkeeping (`_sqlx_migrations`, which sqlx creates differently
/// on each engine and the application never reads).
async fn sqlite_schema(db: &Db) -> Schema {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut schema = Schema::new();
    for table in tables {
        let rows = sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid")
            .bind(&table)
            .fetch_all(db.pool())
            .await
            .unwrap();
        let columns = rows
            .iter()
            .map(|row| Column {
                name: row.get("name"),
                family: sqlite_family(&row.get::<String, _>("type")),
                // A primary-key column is NOT NULL on PostgreSQL by definition. SQLite reports
                // it as nullable unless declared NOT NULL, and, for a legacy bug kept for
                // compatibility, stores NULL in a non-INTEGER key of a rowid table if given one;
                // the application never gives one, so the key counts as NOT NULL here as there.
                nullable: row.get::<i64, _>("notnull") == 0 && row.get::<i64, _>("pk") == 0,
            })
            .collect();
        schema.insert(table, columns);
    }
    schema
}

async fn postgres_schema(db: &Db) -> Schema {
    // information_schema's own types (sql_identifier, yes_or_no) are cast to text for sqlx's
    // `Any` driver.
    let rows = sqlx::query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
                c.data_type::text AS data_type, c.is_nullable::text AS is_nullable \
         FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
           AND c.table_name <> '_sqlx_migrations' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut schema = Schema::new();
    for row in &rows {
        schema.entry(row.get("table_name")).or_default().push(Column {
            name: row.get("column_name"),
            family: postgres_family(&row.get::<String, _>("data_type")),
            nullable: row.get::<String, _>("is_nullable") == "YES",
        });
    }
    schema
}

/// Every difference between the schemas, one line each, as `(table, column, description)`.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    let tables: std::collections::BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    for table in tables {
        let (Some(on_sqlite), Some(on_postgres)) = (sqlite.get(table), postgres.get(table)) else {
            let only = if sqlite.contains_key(table) {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            found.push((table.clone(), String::new(), format!("table only on {only}")));
            continue;
        };
        let names = |columns: &[Column]| columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        for column in on_sqlite {
            match on_postgres.iter().find(|c| c.name == column.name) {
                None => found.push((table.clone(), column.name.clone(), "column only on SQLite".into())),
                Some(other) if other != column => found.push((
                    table.clone(),
                    column.name.clone(),
                    format!(
                        "SQLite {} {}, PostgreSQL {} {}",
                        column.family,
                        if column.nullable { "NULL" } else { "NOT NULL" },
                        other.family,
                        if other.nullable { "NULL" } else { "NOT NULL" },
                    ),
                )),
                Some(_) => {}
            }
        }
        for column in on_postgres {
            if !on_sqlite.iter().any(|c| c.name == column.name) {
                found.push((
                    table.clone(),
                    column.name.clone(),
                    "column only on PostgreSQL".into(),
                ));
            }
        }
        // `INSERT INTO t VALUES (…)` and `SELECT *` depend on the order too.
        let (sqlite_order, postgres_order) = (names(on_sqlite), names(on_postgres));
        let mut sorted = (sqlite_order.clone(), postgres_order.clone());
        sorted.0.sort();
        sorted.1.sort();
        if sorted.0 == sorted.1 && sqlite_order != postgres_order {
            found.push((
                table.clone(),
                String::new(),
                format!("column order: SQLite {sqlite_order:?}, PostgreSQL {postgres_order:?}"),
            ));
        }
    }
    found
}

#[tokio::test]
async fn sqlite_and_postgres_schemas_have_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("schema.db").display());
    let sqlite = sqlite_schema(&Db::connect_and_migrate(&sqlite_url).await.unwrap()).await;
    assert!(!sqlite.is_empty(), "SQLite has tables");
    let columns: usize = sqlite.values().map(Vec::len).sum();
    eprintln!(
        "SQLite schema: {} tables, {columns} columns, every type mapped",
        sqlite.len()
    );

    if backend_name() != "postgres" {
        eprintln!("PostgreSQL half skipped: SPORTELLO_TEST_PG_URL is not set (scripts/test sets it)");
        return;
    }
    let test_db = TestDb::new().await;
    let postgres = postgres_schema(&test_db.connect().await).await;

    let found = differences(&sqlite, &postgres);
    let unexpected: Vec<String> = found
        .iter()
        .filter(|(table, column, _)| {
            !INTENDED_DIFFERENCES
                .iter()
                .any(|(t, c, _)| t == table && c == column)
        })
        .map(|(table, column, what)| format!("{table}.{column}: {what}"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "the schemas differ (fix a migration, or list the difference in INTENDED_DIFFERENCES with \
         why):\n{}",
        unexpected.join("\n")
    );
    for (table, column, _) in INTENDED_DIFFERENCES {
        assert!(
            found.iter().any(|(t, c, _)| t == table && c == column),
            "{table}.{column} is listed as an intended difference but is the same on both: \
             remove it from INTENDED_DIFFERENCES"
        );
    }
    eprintln!(
        "PostgreSQL schema: the same {} tables and {columns} columns (families, nullability, \
         order); intended differences: {}",
        postgres.len(),
        INTENDED_DIFFERENCES.len()
    );
}
