//! The database: one connection pool over SQLite (embedded default) or PostgreSQL, chosen by
//! the URL scheme, and the migrations of each backend.
//!
//! Store modules use runtime `sqlx::query` with `$n` placeholders and portable SQL, through
//! sqlx's `Any` driver, so every query is written once for both backends. Instants are stored
//! as BIGINT milliseconds since the Unix epoch (UTC): the one portable, sortable representation.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::AnyArguments;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool, Executor};

/// The two supported database engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Detects the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!(
                "unsupported database URL `{}`: use sqlite://PATH or postgres://…",
                redact_url(url)
            )
        }
    }

    /// The backend of an open connection (inside a transaction, where no [`Db`] is at hand).
    pub fn of(conn: &sqlx::AnyConnection) -> Self {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// Name used in logs, `/readyz` and test output.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A connection pool and the backend behind it.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Connects (creating the SQLite file if needed) without migrating.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            // Create the file on first start; the embedded default must just work.
            Backend::Sqlite if !url.contains("mode=") => {
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool_options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(match backend {
                // One writer at a time anyway; a few readers share the WAL.
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            });
        let pool_options = match backend {
            Backend::Sqlite => pool_options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets readers proceed during a write; the busy timeout makes writers
                    // queue instead of failing with SQLITE_BUSY under concurrent requests.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    // 64 MiB of page cache (the default is 2 MiB): a catalogue import inserts
                    // into indexes of millions of entries in key order that is not insertion
                    // order, and every miss is a read from the file. Used only as filled.
                    conn.execute("PRAGMA cache_size = -65536").await?;
                    // Read the database file through a memory map (up to 2 GiB, the bundled
                    // SQLite's ceiling): a page read is then a pointer into the OS page cache,
                    // shared by every connection, instead of a copy into each connection's own
                    // cache. Search reads scattered pages of a large catalogue, and misses were
                    // a fifth of its database time. Writes still go through the WAL.
                    conn.execute("PRAGMA mmap_size = 2147418112").await?;
                    // Statement journals (kept while a multi-row upsert runs, to undo just
                    // that statement) in memory, not in temporary files: a tenth of an
                    // import's database time was their writes.
                    conn.execute("PRAGMA temp_store = MEMORY").await?;
                    // Checkpoint the WAL every 32 MiB instead of every 4 MiB: each checkpoint
                    // waits for two fsyncs, a second of a 100,000-record import at the default.
                    conn.execute("PRAGMA wal_autocheckpoint = 8192").await?;
                    Ok(())
                })
            }),
            Backend::Postgres => pool_options,
        };
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(|error| anyhow::anyhow!("cannot connect to {}: {error}", redact_url(&url)))?;
        Ok(Self { pool, backend })
    }

    /// Connects and applies any pending migrations of the backend.
    pub async fn connect_and_migrate(url: &str) -> anyhow::Result<Self> {
        let db = Self::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Applies pending migrations; safe to run from several instances at once (sqlx takes an
    /// advisory lock on PostgreSQL).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = Migrator::new(EmbeddedMigrations(self.backend)).await?;
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// The pool, for store modules.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// One migration: its file name and SQL.
#[derive(Debug)]
struct EmbeddedMigration {
    file: &'static str,
    sql: MigrationSql,
}

#[derive(Debug)]
enum MigrationSql {
    /// The same on both backends, in `migrations/shared/`.
    Shared(&'static str),
    /// In `migrations/sqlite/` and `migrations/postgres/`.
    PerBackend {
        sqlite: &'static str,
        postgres: &'static str,
    },
}

/// A migration written once, in `migrations/shared/`.
macro_rules! shared {
    ($file:literal) => {
        EmbeddedMigration {
            file: $file,
            sql: MigrationSql::Shared(include_str!(concat!("../migrations/shared/", $file))),
        }
    };
}

/// A migration written for each backend, in `migrations/sqlite/` and `migrations/postgres/`.
macro_rules! per_backend {
    ($file:literal) => {
        EmbeddedMigration {
            file: $file,
            sql: MigrationSql::PerBackend {
                sqlite: include_str!(concat!("../migrations/sqlite/", $file)),
                postgres: include_str!(concat!("../migrations/postgres/", $file)),
            },
        }
    };
}

/// Migrations compiled into the binary, so `sportello` runs from any directory.
///
/// A migration whose SQL is the same on both backends is written once, in `migrations/shared/`;
/// one that differs has a file of the same name in `migrations/sqlite/` and in
/// `migrations/postgres/`. Each number exists once: in `shared/`, or in both backend folders (a
/// unit test holds this list and the folders to it). The version and description come from the
/// file name, as sqlx names them: `0006_permit_fee_notices.sql` is 6, "permit fee notices".
///
/// Never edit a released migration: sqlx records the SHA-384 of each applied migration's SQL and
/// refuses to start on a database where it differs (a unit test pins them).
const MIGRATIONS: &[EmbeddedMigration] = &[
    shared!("0001_foundation.sql"),
    shared!("0002_notify.sql"),
    per_backend!("0003_catalog.sql"),
    shared!("0004_permits.sql"),
    shared!("0005_payments.sql"),
    shared!("0006_permit_fee_notices.sql"),
    per_backend!("0007_catalog_copies_by_record.sql"),
    per_backend!("0008_catalog_sources_lean.sql"),
    shared!("0009_catalog_changes_created.sql"),
    shared!("0010_federation_keys.sql"),
    shared!("0011_events.sql"),
    shared!("0012_provider_sessions.sql"),
    per_backend!("0013_event_cells_finer.sql"),
    shared!("0014_alerts.sql"),
    shared!("0015_event_occurrence_vectors.sql"),
];

impl EmbeddedMigration {
    /// The version and description of `NNNN_some_words.sql`: (NNNN, "some words").
    fn version_and_description(&self) -> Result<(i64, String), String> {
        let invalid = || format!("migration file `{}` is not named NNNN_description.sql", self.file);
        let stem = self.file.strip_suffix(".sql").ok_or_else(invalid)?;
        let (version, description) = stem.split_once('_').ok_or_else(invalid)?;
        let version = version.parse().map_err(|_| invalid())?;
        Ok((version, description.replace('_', " ")))
    }

    fn sql(&self, backend: Backend) -> &'static str {
        match (&self.sql, backend) {
            (MigrationSql::Shared(sql), _)
            | (MigrationSql::PerBackend { sqlite: sql, .. }, Backend::Sqlite)
            | (MigrationSql::PerBackend { postgres: sql, .. }, Backend::Postgres) => sql,
        }
    }
}

/// The migrations of `backend`, in order.
fn migrations(backend: Backend) -> Result<Vec<Migration>, String> {
    MIGRATIONS
        .iter()
        .map(|migration| {
            let (version, description) = migration.version_and_description()?;
            Ok(Migration::new(
                version,
                Cow::Owned(description),
                MigrationType::Simple,
                Cow::Borrowed(migration.sql(backend)),
                false,
            ))
        })
        .collect()
}

#[derive(Debug)]
struct EmbeddedMigrations(Backend);

impl<'s> MigrationSource<'s> for EmbeddedMigrations {
    fn resolve(
        self,
    ) -> futures_core::future::BoxFuture<'s, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move { Ok(migrations(self.0)?) })
    }
}

/// A database URL with any password replaced, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Most bind parameters one statement carries; multi-row statements are chunked to this. Far
/// under SQLite's (32,766) and PostgreSQL's (65,535) limits on purpose: binding costs grow
/// faster than linearly with the parameter count of one statement (measured: 1.3 s for one
/// 15,000-parameter insert on SQLite), while a few hundred rows per statement already amortise
/// the round trips.
pub const MAX_BINDS: usize = 999;

/// `$first, $first+1, …` for `count` parameters: an `IN (…)` list, for statements that also
/// refer to a parameter twice (use [`Markers`] for large statements).
pub fn placeholders(count: usize, first: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parameter markers of a statement built at run time, numbered in the order they are written
/// (each parameter bound once, in that order). SQLite gets anonymous `?` markers: for a named
/// marker (`$n`, `?n`) sqlx asks SQLite for its name, which SQLite finds by a linear scan, so
/// binding is quadratic in the statement's parameter count (a quarter of a bulk import's time
/// with 999 `$n` markers); PostgreSQL only knows `$n`.
#[derive(Debug)]
pub struct Markers {
    backend: Backend,
    next: usize,
}

impl Markers {
    /// Markers for a statement on `backend`, starting at the first parameter.
    pub fn new(backend: Backend) -> Self {
        Self { backend, next: 1 }
    }

    /// The next parameter's marker.
    pub fn one(&mut self) -> String {
        let marker = match self.backend {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("${}", self.next),
        };
        self.next += 1;
        marker
    }

    /// `count` markers separated by commas: an `IN (…)` list.
    pub fn list(&mut self, count: usize) -> String {
        let mut out = String::with_capacity(count * 6);
        for i in 0..count {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&self.one());
        }
        out
    }

    /// `(…), (…)`: the VALUES list of a multi-row statement of `rows` rows of `columns`.
    pub fn rows(&mut self, rows: usize, columns: usize) -> String {
        let mut out = String::with_capacity(rows * (columns * 6 + 4));
        for row in 0..rows {
            if row > 0 {
                out.push_str(", ");
            }
            out.push('(');
            out.push_str(&self.list(columns));
            out.push(')');
        }
        out
    }
}

/// A multi-row statement over many rows, cut into statements of at most [`MAX_BINDS`]
/// parameters: the SQL of a full chunk and of the shorter last one, each written once (and so
/// prepared once by the connection's statement cache).
#[derive(Debug)]
pub struct Chunked {
    rows_per_chunk: usize,
    full: String,
    last: String,
}

impl Chunked {
    /// `statement` turns a VALUES list (`(…), (…)`) into the statement.
    pub fn new(backend: Backend, rows: usize, columns: usize, statement: impl Fn(&str) -> String) -> Self {
        let rows_per_chunk = (MAX_BINDS / columns).max(1);
        let values = |rows| Markers::new(backend).rows(rows, columns);
        let full = statement(&values(rows_per_chunk.min(rows)));
        let last = match rows % rows_per_chunk {
            0 => String::new(),
            rest => statement(&values(rest)),
        };
        Self {
            rows_per_chunk,
            full,
            last,
        }
    }

    /// Rows per statement (the last may have fewer).
    pub fn rows_per_chunk(&self) -> usize {
        self.rows_per_chunk
    }

    /// The statement for a chunk of `rows` rows.
    pub fn sql(&self, rows: usize) -> &str {
        if rows == self.rows_per_chunk || self.last.is_empty() {
            &self.full
        } else {
            &self.last
        }
    }
}

/// Runs statements one after another, binding each while the database runs the one before.
/// Binding hundreds of values into a statement is CPU work on this task, and done in between,
/// the database waited for it (SQLite runs on a thread of its own): pipelined, a
/// 1,000,000-record import took 4-9% less time. (Pipelining the creation of records as well,
/// whose statements return rows, made no difference.)
pub async fn execute_pipelined<'q>(
    connection: &mut AnyConnection,
    mut statements: impl Iterator<Item = Query<'q, Any, AnyArguments<'q>>>,
) -> Result<(), sqlx::Error> {
    let mut next = statements.next();
    while let Some(statement) = next {
        // `join` polls the statement first, which hands it to the database; the next one is
        // bound while it runs.
        let (done, following) =
            futures_util::future::join(statement.execute(&mut *connection), async { statements.next() })
                .await;
        done?;
        next = following;
    }
    Ok(())
}

/// Whether a database error is a unique-constraint violation (the same on both backends).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_statements_cover_every_row_with_the_right_markers() {
        let statement = |values: &str| format!("INSERT INTO t (a, b, c, d) VALUES {values}");
        let rows_of = |sql: &str| sql.matches('(').count() - 1;
        let sql = Chunked::new(Backend::Sqlite, 250, 4, statement);
        assert_eq!(sql.rows_per_chunk(), 249);
        assert_eq!(rows_of(sql.sql(249)), 249);
        assert_eq!(rows_of(sql.sql(1)), 1);
        assert_eq!(sql.sql(249).matches('?').count(), 996);

        let exact = Chunked::new(Backend::Postgres, 498, 4, statement);
        assert_eq!(rows_of(exact.sql(249)), 249);
        assert!(exact.sql(249).ends_with("($993, $994, $995, $996)"));
        let few = Chunked::new(Backend::Postgres, 3, 4, statement);
        assert_eq!(rows_of(few.sql(3)), 3);
    }

    /// The `.sql` files of `migrations/<folder>/`, sorted.
    fn files_in(folder: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(folder);
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
            .map(|entry| {
                entry
                    .expect("directory entry")
                    .file_name()
                    .into_string()
                    .expect("UTF-8 name")
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn each_migration_exists_once_in_shared_or_in_both_backend_folders() {
        let mut folders = files_in("");
        folders.retain(|name| !name.starts_with('.'));
        assert_eq!(
            folders,
            ["postgres", "shared", "sqlite"],
            "migrations/ holds these folders only"
        );

        let listed = |shared: bool| -> Vec<String> {
            let mut files: Vec<_> = MIGRATIONS
                .iter()
                .filter(|migration| matches!(migration.sql, MigrationSql::Shared(_)) == shared)
                .map(|migration| migration.file.to_owned())
                .collect();
            files.sort();
            files
        };
        assert_eq!(
            files_in("shared"),
            listed(true),
            "migrations/shared/ against MIGRATIONS"
        );
        assert_eq!(
            files_in("sqlite"),
            listed(false),
            "migrations/sqlite/ against MIGRATIONS"
        );
        assert_eq!(
            files_in("postgres"),
            listed(false),
            "migrations/postgres/ against MIGRATIONS"
        );

        // Numbered 1, 2, 3, … in order, each number once.
        let versions: Vec<i64> = MIGRATIONS
            .iter()
            .map(|migration| migration.version_and_description().unwrap().0)
            .collect();
        let expected: Vec<i64> = (1..).take(MIGRATIONS.len()).collect();
        assert_eq!(versions, expected);

        for migration in MIGRATIONS {
            let MigrationSql::PerBackend { sqlite, postgres } = migration.sql else {
                continue;
            };
            assert_ne!(
                sqlite, postgres,
                "{} is the same on both backends: write it once, in migrations/shared/",
                migration.file
            );
        }
    }

    #[test]
    fn released_migrations_keep_their_checksums() {
        // SHA-384 of each migration as released, which sqlx recorded in every database migrated
        // since: a different checksum makes sqlx refuse to start there. Computed with `sha384sum`
        // from the per-backend files before identical ones moved to migrations/shared/.
        let shared_0001 = "5f8d7fa3a6f3bb7120fe816af1a1dfe3473ac8542fbe43aa8c4a77e3fb97074264cbf9dd673ab748c207ad550a360830";
        let shared_0002 = "8a8217271bf7037737d677ce50eeb8470e57172bf683126c723866ca52d49acaed598da1bc90993c6490594af9688cfb";
        let shared_0004 = "aeb89c30140df0dd71e84c01e03670201542203d12e1de07469257216fb1e1558ded0c456b22a4ea2cd812eb9fa75f10";
        let shared_0005 = "ef13e09e355f7b81cc0cb299ef632b2ed62ea6f76d65cf8dc4d3b4780c29850ab632bdb0c5d843fe06bfd0c05729f88c";
        let shared_0006 = "32216071c0b2e3154ff787ffd0f8727d29431a98f9f4afb34886ab7baa1283442e47a6dda9d7489f0031738701a63486";
        let shared_0009 = "8e5b2c13a201d862e59e3fc645468f342a7cc076cb9e548bde91094ea8ec02c94bd10758affe9ee5fef7d6f43b0ec0ba";
        let sqlite = [
            shared_0001,
            shared_0002,
            "2de43e965d9be33386a8d6c970d93309cd12531f11d89dadd84e0a939ef3411090fe2d1baeaa4f024ee228c55e32f5ce",
            shared_0004,
            shared_0005,
            shared_0006,
            "2f7815110ce84080cbd9a5bbbb496a847f74c73275e292f664a4e35a39ef83f39ef58d40690594d52fb65c8a3066b409",
            "8f199c6a428a9649868c2731a6e88f27e12018c58fe5b5d96f8edd1c10b594ff3e3ebe7e2083097dfa2a684e6cc537ab",
            shared_0009,
        ];
        let postgres = [
            shared_0001,
            shared_0002,
            "ac35dfb94ae6cbbaf2a81e9837b035631f114da2bce08fad0a68c9d4889e676a0e89ccbd2ee59ba308135718609ac50f",
            shared_0004,
            shared_0005,
            shared_0006,
            "31c63de23c6d43432afeea29891165defb3b73e50de0b5d307d6de6c04436d97443ef8c4dbaf40bf6a33ed5129f3951f",
            "40e544bf2910817d7a48c0bdc17789880508f31de49b3253c2c6e3de54314597c8a274a33c750e10aca4174a448988e8",
            shared_0009,
        ];
        let descriptions = [
            "foundation",
            "notify",
            "catalog",
            "permits",
            "payments",
            "permit fee notices",
            "catalog copies by record",
            "catalog sources lean",
            "catalog changes created",
        ];
        for (backend, released) in [(Backend::Sqlite, sqlite), (Backend::Postgres, postgres)] {
            let migrations = migrations(backend).unwrap();
            // A new migration gets its checksum added here once released.
            assert!(
                migrations.len() >= released.len(),
                "{} migrations",
                backend.as_str()
            );
            for (migration, (checksum, description)) in
                migrations.iter().zip(released.iter().zip(descriptions))
            {
                let hex = hex::encode(&migration.checksum);
                assert_eq!(
                    (hex.as_str(), migration.description.as_ref()),
                    (*checksum, description),
                    "{} migration {}",
                    backend.as_str(),
                    migration.version
                );
            }
        }
    }
}
