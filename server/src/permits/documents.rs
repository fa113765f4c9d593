//! What documents are accepted: file names without paths, and four types recognised by their
//! first bytes (magic numbers), never by the name alone.

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

#[cfg(test)]
mod tests {
    use super::*;

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
