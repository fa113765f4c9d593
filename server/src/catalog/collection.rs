//! The catalogue's collection in the database, without the search index: libraries and imports.
//!
//! One process at a time holds a search index (its writer lock), so the CLI imports and lists
//! libraries through this beside a running server, whose index then follows the changes; the
//! demo loader writes through it before the server opens its index. [`super::Catalog`] uses it
//! for the same operations.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sportello_core::api::ImportSummary;
use sportello_core::catalog::InputFormat;
use sportello_core::catalog::holdings::HoldingsMapping;

use super::import::{ImportOptions, import_files};
use super::index::SearchIndex;
use super::store::{self, LibraryRow};
use super::{CatalogError, index_dir};
use crate::db::Db;

/// Most libraries the CLI lists.
const ALL_LIBRARIES: i64 = 100_000;

/// Libraries and imports in the database: see the module documentation.
#[derive(Clone)]
pub struct Collection {
    db: Db,
}

impl Collection {
    /// The collection of this database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The library with this id.
    pub async fn library(&self, id: &str) -> Result<Option<LibraryRow>, CatalogError> {
        Ok(store::get_library(&self.db, id).await?)
    }

    /// Every library, or those of one municipality, by municipality and name.
    pub async fn libraries(&self, municipality: Option<&str>) -> Result<Vec<LibraryRow>, CatalogError> {
        Ok(store::list_libraries(&self.db, municipality, ALL_LIBRARIES).await?)
    }

    /// Creates or replaces a library (validated by [`super::validate_library`]).
    pub async fn put_library(&self, library: &LibraryRow) -> Result<(), CatalogError> {
        Ok(store::upsert_library(&self.db, library).await?)
    }

    /// Imports the files into the options' library, adding to `summary`. The search indexes
    /// take the changes from the change sequence.
    pub async fn import(
        &self,
        options: &ImportOptions,
        files: &[(PathBuf, String)],
        summary: &mut ImportSummary,
    ) -> Result<(), CatalogError> {
        import_files(&self.db, options, files, summary).await?;
        Ok(())
    }

    /// Empties the search index in `data_dir` and rebuilds it from every record; returns how
    /// many records it holds and where it is. Fails while a server holds that index.
    pub async fn rebuild_index(&self, data_dir: &Path) -> anyhow::Result<(u64, PathBuf)> {
        let index = SearchIndex::open(&index_dir(data_dir))?;
        let count = index.rebuild(&self.db).await?;
        Ok((count, index.dir().to_owned()))
    }
}

/// Parses the import options shared by the API and the CLI: the format, the holdings presets
/// and the source library codes mapped to other libraries (`map`: code and library).
pub fn import_options(
    library: LibraryRow,
    format: Option<&str>,
    holdings: Option<&str>,
    map: &[(String, LibraryRow)],
) -> Result<ImportOptions, CatalogError> {
    let format = InputFormat::parse(format.unwrap_or("auto")).ok_or_else(|| {
        CatalogError::invalid(
            "format",
            "Formato: auto, marc21, unimarc, marcxml.",
            "Format: auto, marc21, unimarc, marcxml.",
        )
    })?;
    let holdings = match holdings {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|name| {
                HoldingsMapping::preset(name).ok_or_else(|| {
                    let presets = HoldingsMapping::PRESETS.join(", ");
                    CatalogError::invalid(
                        "holdings",
                        format!("Schema di copie sconosciuto `{name}`: {presets}."),
                        format!("Unknown holdings preset `{name}`: {presets}."),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let code_map: HashMap<String, (String, String)> = map
        .iter()
        .map(|(code, l)| (code.clone(), (l.id.clone(), l.municipality.clone())))
        .collect();
    Ok(ImportOptions {
        library,
        format,
        holdings,
        code_map,
    })
}
