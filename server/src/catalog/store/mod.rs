//! SQL for libraries, catalogue records, source records, copies and the change sequence, and
//! nothing else: the catalogue service ([`super::Catalog`]) and its importer and index call it.

mod changes;
mod copies;
mod libraries;
mod records;

pub use self::changes::*;
pub use self::copies::*;
pub use self::libraries::*;
pub use self::records::*;

use sqlx::Any;
use sqlx::pool::PoolConnection;

use crate::db::{Backend, Db};

/// A connection of its own for one import, whose transactions are the import's batches.
///
/// On SQLite it checks no foreign keys, and is closed rather than returned to the pool when
/// dropped (so no other work ever runs with them off). An import writes only references it has
/// just made good in the same transaction: its own library (locked, see [`lock_library`]), the
/// libraries and municipalities its options were resolved to (neither is ever deleted), and
/// records it created or found. The lookups those checks made were over a quarter of SQLite's
/// time per copy written (1.6 s against 1.15 s for 300,000 copies). PostgreSQL keeps checking.
pub async fn import_connection(db: &Db) -> Result<PoolConnection<Any>, sqlx::Error> {
    let mut connection = db.pool().acquire().await?;
    if db.backend() == Backend::Sqlite {
        connection.close_on_drop();
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *connection)
            .await?;
        // 256 MiB of page cache, so that a batch's changed pages stay in memory until its
        // commit (past the pool's 64 MiB, SQLite spills them to the WAL mid-transaction, and a
        // page changed again after a spill is written again).
        sqlx::query("PRAGMA cache_size = -262144")
            .execute(&mut *connection)
            .await?;
    }
    Ok(connection)
}

/// Refreshes PostgreSQL's statistics of the catalogue's tables (nothing on SQLite, whose
/// planner needs none here).
///
/// An import into an empty catalogue grows the tables faster than autovacuum analyses them:
/// planned with the statistics of an empty table, the lookup of a batch's source ids by
/// `(library, source id) IN (…)` became a sequential scan, 1.5 s a batch once 100,000 records
/// were in (38 batches of the first 200,000, half of the import's 110 s, `scripts/bench
/// cluster`). The importer calls this after its 2nd, 4th, 8th… batch, so the statistics never
/// lag the tables by more than half, and an import of one batch never waits for it.
pub async fn refresh_statistics(connection: &mut PoolConnection<Any>) -> Result<(), sqlx::Error> {
    if Backend::of(connection) == Backend::Postgres {
        sqlx::query("ANALYZE catalog_records, catalog_sources, catalog_copies")
            .execute(&mut **connection)
            .await?;
    }
    Ok(())
}
