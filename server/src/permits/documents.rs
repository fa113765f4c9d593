//! Documents of an application: what is accepted (file names without paths, four types
//! recognised by their first bytes, never by the name alone), uploads streamed to the file
//! store (`crate::storage`) within the limits, and downloads checked against the hash recorded
//! at upload, never served damaged.

use axum::body::Bytes;
use futures_util::Stream;
use sportello_core::permits::{Action, Actor, Status};

use super::access::require_filer;
use super::error::invalid;
use super::loaded::Loaded;
use super::store::{self, DocumentRow};
use super::{PermitError, Permits, internal};
use crate::config::PermitsConfig;
use crate::identity::Principal;
use crate::storage::{ByteStream, Key, Recorded, StorageError};
use crate::upload::{Limits, UploadError};

/// An accepted document type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentType {
    /// PDF (`%PDF-`).
    Pdf,
    /// A CAdES signed file (`.p7m`): DER CMS `SignedData`.
    P7m,
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (the 8-byte signature).
    Png,
}

/// Bytes to collect before sniffing (enough for every signature below).
pub const SNIFF_LEN: usize = 32;

/// The DER encoding of the OID 1.2.840.113549.1.7.2 (PKCS #7 signedData).
const SIGNED_DATA_OID: [u8; 11] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];

/// Where a document is in the file store: `permits/PERMIT/DOCUMENT` (also its path in a backup).
pub fn document_key(permit_id: &str, document_id: &str) -> Result<Key, StorageError> {
    Key::new(&["permits", permit_id, document_id])
}

impl DocumentType {
    /// The media type stored and served.
    pub fn content_type(self) -> &'static str {
        match self {
            DocumentType::Pdf => "application/pdf",
            DocumentType::P7m => "application/pkcs7-mime",
            DocumentType::Jpeg => "image/jpeg",
            DocumentType::Png => "image/png",
        }
    }

    /// The type a file name's extension promises (`pianta.pdf.p7m` is a P7M).
    pub fn from_name(name: &str) -> Option<Self> {
        let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match extension.as_str() {
            "pdf" => Some(DocumentType::Pdf),
            "p7m" => Some(DocumentType::P7m),
            "jpg" | "jpeg" => Some(DocumentType::Jpeg),
            "png" => Some(DocumentType::Png),
            _ => None,
        }
    }

    /// The type the first bytes of a file show, if it is one we accept.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(b"%PDF-") {
            Some(DocumentType::Pdf)
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(DocumentType::Jpeg)
        } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(DocumentType::Png)
        } else if is_signed_data(head) {
            Some(DocumentType::P7m)
        } else {
            None
        }
    }
}

/// A DER `ContentInfo` SEQUENCE whose content type is signedData: 0x30, a length (short,
/// long or indefinite form), then the OID.
fn is_signed_data(head: &[u8]) -> bool {
    let Some((&0x30, rest)) = head.split_first() else {
        return false;
    };
    let Some(&length) = rest.first() else {
        return false;
    };
    let skip = match length {
        // Short form, or 0x80: indefinite length (BER, common in signed files).
        0x00..=0x80 => 1,
        0x81..=0x84 => 1 + usize::from(length - 0x80),
        _ => return false,
    };
    rest.get(skip..skip + SIGNED_DATA_OID.len()) == Some(&SIGNED_DATA_OID[..])
}

/// Why a file name is refused, or the name to keep.
pub fn check_file_name(name: &str) -> Result<&str, &'static str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err("1 to 200 characters");
    }
    if name.contains(['/', '\\']) || name.contains("..") || name.starts_with('.') {
        return Err("a file name, without a path");
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, ':' | '"' | '<' | '>' | '|' | '*' | '?'))
    {
        return Err("no control or reserved characters");
    }
    Ok(name)
}

/// The stage a document uploaded now belongs to, if the caller may upload one of `kind`.
fn upload_stage(loaded: &Loaded, relations: &[Actor], kind: &str) -> Result<&'static str, PermitError> {
    require_filer(relations, loaded.permit.status(), Action::SubmitIntegration)?;
    let stage = match loaded.permit.status() {
        Status::Draft => "application",
        Status::IntegrationRequested => "integration",
        other => return Err(PermitError::DocumentsClosed(other.as_str().to_owned())),
    };
    if !loaded.procedure.documents.iter().any(|d| d.code == kind) {
        let codes: Vec<&str> = loaded
            .procedure
            .documents
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        return Err(invalid(
            "kind",
            format!("Tipo di documento sconosciuto; ammessi: {}.", codes.join(", ")),
            format!("Unknown document kind; allowed: {}.", codes.join(", ")),
        ));
    }
    Ok(stage)
}

/// The bytes one more document may have on an application with `used` on file (what is left
/// of the application's total), or why there is no room for one.
fn room(config: &PermitsConfig, used: &[DocumentRow]) -> Result<u64, PermitError> {
    if used.len() >= usize::try_from(config.max_documents).unwrap_or(usize::MAX) {
        return Err(invalid(
            "document",
            format!("Al massimo {} documenti per pratica.", config.max_documents),
            format!("At most {} documents per application.", config.max_documents),
        ));
    }
    let total: u64 = used
        .iter()
        .map(|d| u64::try_from(d.size_bytes).unwrap_or(0))
        .sum();
    Ok(config.max_permit_bytes.saturating_sub(total))
}

/// Why an upload streamed within `limit` bytes was refused: past a limit below the
/// per-document one, the application's documents together are too large.
fn upload_refused(config: &PermitsConfig, limit: u64, error: UploadError) -> PermitError {
    match error {
        UploadError::TooLarge(_) if limit < config.max_document_bytes => {
            PermitError::PermitTooLarge(config.max_permit_bytes)
        }
        other => other.into(),
    }
}

impl Permits {
    /// Stores an uploaded document: streamed to a file while hashed (never held in memory),
    /// checked by its first bytes, and recorded only when complete and within the limits.
    pub async fn upload<S, E>(
        &self,
        principal: &Principal,
        id: &str,
        kind: &str,
        file_name: &str,
        body: S,
    ) -> Result<DocumentRow, PermitError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let file_name = check_file_name(file_name)
            .map_err(|why| {
                invalid(
                    "name",
                    format!("Nome di file non valido: {why}."),
                    format!("Invalid file name: {why}."),
                )
            })?
            .to_owned();
        let promised = DocumentType::from_name(&file_name).ok_or(PermitError::UnsupportedDocument)?;
        let (stage, limit) = {
            let mut conn = self.conn().await?;
            let (loaded, relations) = self.visible(&mut conn, principal, id).await?;
            let stage = upload_stage(&loaded, &relations, kind)?;
            let used = store::documents(&mut conn, id).await?;
            (
                stage,
                room(&self.config, &used)?.min(self.config.max_document_bytes),
            )
        };
        let document_id = uuid::Uuid::now_v7().to_string();
        let key = document_key(id, &document_id).map_err(internal)?;
        let accept = |head: &[u8]| DocumentType::sniff(head) == Some(promised);
        let limits = Limits {
            max_bytes: limit,
            head_len: SNIFF_LEN,
            accept_head: &accept,
        };
        let saved = self
            .storage
            .put(&key, body, &limits)
            .await
            .map_err(|error| upload_refused(&self.config, limit, error))?;
        let recorded = async {
            let mut tx = self.db.pool().begin().await?;
            if !store::lock_permit(&mut tx, id).await? {
                return Err(PermitError::NotFound);
            }
            // Re-checked under the lock: the status or the total may have changed meanwhile.
            let (loaded, relations) = self.visible(&mut tx, principal, id).await?;
            upload_stage(&loaded, &relations, kind)?;
            let used = store::documents(&mut tx, id).await?;
            if saved.size > room(&self.config, &used)? {
                return Err(PermitError::PermitTooLarge(self.config.max_permit_bytes));
            }
            let row = DocumentRow {
                id: document_id.clone(),
                permit_id: id.to_owned(),
                kind: kind.to_owned(),
                file_name: file_name.clone(),
                content_type: promised.content_type().to_owned(),
                size_bytes: i64::try_from(saved.size).map_err(internal)?,
                sha256: saved.sha256.clone(),
                stage: stage.to_owned(),
                uploaded_by: principal.user_id.clone(),
                uploaded_at: self.now_ms(),
            };
            store::insert_document(&mut tx, &row).await?;
            tx.commit().await?;
            Ok(row)
        }
        .await;
        match recorded {
            Ok(row) => {
                tracing::info!(permit = %id, document = %row.id, size = row.size_bytes, "permit document stored");
                Ok(row)
            }
            Err(error) => {
                if let Err(cause) = self.storage.delete(&key).await {
                    tracing::warn!(%key, %cause, "unrecorded document left in storage");
                }
                Err(error)
            }
        }
    }

    /// A document for download, checked against the size and SHA-256 recorded at upload
    /// before its first byte is given and again as it is sent (`crate::storage`): a damaged
    /// document is logged and refused, never served.
    pub async fn document(
        &self,
        principal: &Principal,
        id: &str,
        document_id: &str,
    ) -> Result<(DocumentRow, ByteStream), PermitError> {
        let mut conn = self.conn().await?;
        self.visible(&mut conn, principal, id).await?;
        let row = store::get_document(&mut conn, id, document_id)
            .await?
            .ok_or(PermitError::DocumentNotFound)?;
        drop(conn);
        let key = document_key(id, &row.id).map_err(internal)?;
        let recorded = Recorded {
            size: u64::try_from(row.size_bytes).map_err(internal)?,
            sha256: row.sha256.clone(),
        };
        match self.storage.get(&key, &recorded).await {
            Ok(bytes) => Ok((row, bytes)),
            Err(error @ (StorageError::Damaged { .. } | StorageError::Missing(_))) => {
                Err(PermitError::DocumentDamaged(error.to_string()))
            }
            Err(StorageError::Unavailable(cause)) => Err(PermitError::Internal(cause)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::loaded::testing::{document, draft, integration_requested, walked};
    use super::*;

    fn stored(size_bytes: i64) -> DocumentRow {
        DocumentRow {
            size_bytes,
            ..document("drawings", "application", size_bytes)
        }
    }

    #[test]
    fn documents_go_to_the_stage_of_the_status() {
        let filers = [Actor::Applicant];
        assert_eq!(
            upload_stage(&draft("pdc"), &filers, "drawings").unwrap(),
            "application"
        );
        let requested = integration_requested();
        assert_eq!(
            upload_stage(&requested, &[Actor::Professional], "opinions").unwrap(),
            "integration"
        );
        let submitted = walked(draft("pdc"), &[(Action::Submit, Actor::Applicant)]);
        assert!(matches!(
            upload_stage(&submitted, &filers, "drawings"),
            Err(PermitError::DocumentsClosed(status)) if status == "awaiting_payment"
        ));
        assert!(matches!(
            upload_stage(&requested, &[Actor::Operator], "opinions"),
            Err(PermitError::Rule(_))
        ));
        assert!(matches!(
            upload_stage(&draft("pdc"), &filers, "selfie"),
            Err(PermitError::Invalid { field, en, .. }) if field == "kind" && en.contains("drawings")
        ));
    }

    #[test]
    fn room_is_what_is_left_of_the_limits() {
        let config = PermitsConfig {
            max_document_bytes: 100,
            max_permit_bytes: 250,
            max_documents: 3,
            ..PermitsConfig::default()
        };
        assert_eq!(room(&config, &[]).unwrap(), 250);
        assert_eq!(room(&config, &[stored(100), stored(100)]).unwrap(), 50);
        assert_eq!(room(&config, &[stored(200), stored(100)]).unwrap(), 0);
        assert!(matches!(
            room(&config, &[stored(1), stored(1), stored(1)]),
            Err(PermitError::Invalid { field, .. }) if field == "document"
        ));
        // Past the per-document limit: that document is too large; past the room left: the
        // application's documents together are.
        assert!(matches!(
            upload_refused(&config, 100, UploadError::TooLarge(100)),
            PermitError::DocumentTooLarge(100)
        ));
        assert!(matches!(
            upload_refused(&config, 50, UploadError::TooLarge(50)),
            PermitError::PermitTooLarge(250)
        ));
        assert!(matches!(
            upload_refused(&config, 50, UploadError::Refused),
            PermitError::UnsupportedDocument
        ));
    }

    #[test]
    fn types_are_sniffed_from_content() {
        assert_eq!(DocumentType::sniff(b"%PDF-1.7\n"), Some(DocumentType::Pdf));
        assert_eq!(
            DocumentType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(DocumentType::Jpeg)
        );
        assert_eq!(
            DocumentType::sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Some(DocumentType::Png)
        );
        let mut p7m = vec![0x30, 0x82, 0x12, 0x34];
        p7m.extend_from_slice(&SIGNED_DATA_OID);
        assert_eq!(DocumentType::sniff(&p7m), Some(DocumentType::P7m));
        let mut indefinite = vec![0x30, 0x80];
        indefinite.extend_from_slice(&SIGNED_DATA_OID);
        assert_eq!(DocumentType::sniff(&indefinite), Some(DocumentType::P7m));
        // Other DER (an X.509 certificate) is not a signed file.
        assert_eq!(DocumentType::sniff(&[0x30, 0x82, 0x03, 0x00, 0x30, 0x82]), None);
        assert_eq!(DocumentType::sniff(b"MZ\x90\x00"), None);
        assert_eq!(DocumentType::sniff(b"<html>"), None);
        assert_eq!(DocumentType::sniff(b""), None);
    }

    #[test]
    fn names_promise_a_type() {
        assert_eq!(DocumentType::from_name("pianta.PDF"), Some(DocumentType::Pdf));
        assert_eq!(DocumentType::from_name("pianta.pdf.p7m"), Some(DocumentType::P7m));
        assert_eq!(DocumentType::from_name("foto.jpeg"), Some(DocumentType::Jpeg));
        assert_eq!(DocumentType::from_name("virus.exe"), None);
        assert_eq!(DocumentType::from_name("noextension"), None);
    }

    #[test]
    fn paths_are_refused() {
        assert_eq!(check_file_name(" tavola 1.pdf "), Ok("tavola 1.pdf"));
        for bad in [
            "../etc/passwd",
            "a/b.pdf",
            "a\\b.pdf",
            "..pdf",
            ".hidden.pdf",
            "",
            "a\0.pdf",
            "c:x.pdf",
        ] {
            assert!(check_file_name(bad).is_err(), "{bad:?}");
        }
    }
}
