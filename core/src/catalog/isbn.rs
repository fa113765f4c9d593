//! ISBNs: every ISBN is kept as ISBN-13 (ISBN-10s converted), check digit verified, so the same
//! edition has one key whatever form each library typed.

use std::fmt;

/// A valid ISBN-13, thirteen digits without hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Isbn13(String);

impl Isbn13 {
    /// Reads the ISBN at the start of a MARC value such as `88-04-40682-8`,
    /// `9788858111703 (pbk.)` or `0-8018-5876-X : $12.95`. Returns `None` when there is no
    /// ISBN there or its check digit is wrong.
    pub fn parse(text: &str) -> Option<Self> {
        let mut digits = String::with_capacity(13);
        for c in text.trim_start().chars() {
            match c {
                '0'..='9' => digits.push(c),
                'X' | 'x' if digits.len() == 9 => digits.push('X'),
                '-' | ' ' | '\u{2010}' | '\u{2011}' if !digits.is_empty() => {}
                _ => break,
            }
            if digits.len() > 13 {
                return None;
            }
        }
        match digits.len() {
            10 => Self::from_isbn10(&digits),
            13 if (digits.starts_with("978") || digits.starts_with("979"))
                && check13(&digits[..12]) == digits.as_bytes()[12] =>
            {
                Some(Self(digits))
            }
            _ => None,
        }
    }

    fn from_isbn10(digits: &str) -> Option<Self> {
        let bytes = digits.as_bytes();
        let sum: u32 = bytes[..9]
            .iter()
            .enumerate()
            .map(|(i, &b)| u32::from(b - b'0') * (10 - u32::try_from(i).unwrap_or(0)))
            .sum();
        let check = match bytes[9] {
            b'X' => 10,
            b => u32::from(b - b'0'),
        };
        if !(sum + check).is_multiple_of(11) {
            return None;
        }
        let mut isbn = format!("978{}", &digits[..9]);
        let c = check13(&isbn);
        isbn.push(char::from(c));
        Some(Self(isbn))
    }

    /// The thirteen digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ISBN-10 form, for 978 ISBNs (979 ones have none).
    pub fn to_isbn10(&self) -> Option<String> {
        let core = self.0.strip_prefix("978")?;
        let core = &core[..9];
        let sum: u32 = core
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * (10 - u32::try_from(i).unwrap_or(0)))
            .sum();
        let check = (11 - sum % 11) % 11;
        let check = if check == 10 {
            'X'
        } else {
            char::from_digit(check, 10)?
        };
        Some(format!("{core}{check}"))
    }
}

impl fmt::Display for Isbn13 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ISBN-13 (EAN) check digit of twelve digits, as an ASCII byte.
fn check13(first12: &str) -> u8 {
    let sum: u32 = first12
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    b'0' + u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbn10_becomes_isbn13() {
        // Asimov, "L'altra faccia della spirale" (SBN record in the test data).
        let isbn = Isbn13::parse("88-04-40682-8").unwrap();
        assert_eq!(isbn.as_str(), "9788804406822");
        assert_eq!(isbn.to_isbn10().as_deref(), Some("8804406828"));
        assert_eq!(Isbn13::parse("0-8018-5876-X : $12.95"), None, "wrong check digit");
        assert_eq!(Isbn13::parse("0-306-40615-2").unwrap().as_str(), "9780306406157");
        assert_eq!(
            Isbn13::parse("0-8044-2957-X : $12.95").unwrap().as_str(),
            "9780804429573"
        );
        assert_eq!(
            Isbn13::parse("9780804429573").unwrap().to_isbn10().as_deref(),
            Some("080442957X")
        );
    }

    #[test]
    fn isbn13_with_qualifiers_and_bad_ones() {
        assert_eq!(
            Isbn13::parse("9788858111703 (pbk.)").unwrap().as_str(),
            "9788858111703"
        );
        assert_eq!(
            Isbn13::parse("978-88-581-1170-3").unwrap().as_str(),
            "9788858111703"
        );
        for bad in [
            "9788858111704",
            "",
            "abc",
            "97888581117031",
            "1234567890123",
            "12345",
        ] {
            assert_eq!(Isbn13::parse(bad), None, "{bad}");
        }
        assert_eq!(Isbn13::parse("9791032305690").unwrap().to_isbn10(), None);
    }
}
