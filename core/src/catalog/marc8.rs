//! MARC-8 to Unicode, for MARC 21 records with a blank leader/09.
//!
//! Covered: Basic Latin (ASCII), Extended Latin (ANSEL) with its combining diacritics, the
//! subscript, superscript and Greek-symbol sets, and the non-sort markers. MARC-8 writes a
//! combining mark *before* its base letter, Unicode after it, so marks are held until the next
//! base character. The non-Latin repertoires (Hebrew, Cyrillic, Arabic, Greek, CJK) are refused
//! with a per-record error rather than turned into wrong letters: none of the libraries this
//! serves catalogues in them, and a clear error is better than mojibake in the public catalogue.
//! No maintained crate implements MARC-8 (checked on crates.io), hence this module.

const ESC: u8 = 0x1B;

/// The graphic sets we can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    Ascii,
    Ansel,
    Subscript,
    Superscript,
    GreekSymbols,
}

/// Decodes MARC-8 bytes. Errors name the offending byte or escape sequence.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    let mut out = String::with_capacity(bytes.len());
    let mut g0 = Set::Ascii;
    let mut g1 = Set::Ansel;
    let mut pending: Vec<char> = Vec::new();
    let mut i = 0;
    let emit = |out: &mut String, pending: &mut Vec<char>, c: char| {
        out.push(c);
        out.extend(pending.drain(..));
    };
    while i < bytes.len() {
        let b = bytes[i];
        if b == ESC {
            let (consumed, target, set) = escape(&bytes[i + 1..])?;
            match target {
                Target::G0 => g0 = set,
                Target::G1 => g1 = set,
            }
            i += 1 + consumed;
            continue;
        }
        i += 1;
        let c = match b {
            0x20 => ' ',
            0x00..=0x1F | 0x7F => char::from(b),
            0x21..=0x7E => match lookup(g0, b) {
                Lookup::Base(c) => c,
                Lookup::Combining(c) => {
                    pending.push(c);
                    continue;
                }
                Lookup::Undefined => return Err(undefined(b)),
            },
            // Non-sort begin/end and joiners (MARC-8 C1 controls, mapped as LC does).
            0x88 => '\u{98}',
            0x89 => '\u{9C}',
            0x8D => '\u{200D}',
            0x8E => '\u{200C}',
            0xA1..=0xFE => match lookup(g1, b - 0x80) {
                Lookup::Base(c) => c,
                Lookup::Combining(c) => {
                    pending.push(c);
                    continue;
                }
                Lookup::Undefined => return Err(undefined(b)),
            },
            _ => return Err(undefined(b)),
        };
        emit(&mut out, &mut pending, c);
    }
    // Marks with no base letter after them are kept rather than lost.
    out.extend(pending);
    Ok(out)
}

fn undefined(byte: u8) -> String {
    format!("byte 0x{byte:02X} is not a character in MARC-8 (is the record really MARC-8?)")
}

enum Target {
    G0,
    G1,
}

/// Parses an escape sequence (after ESC); returns the bytes consumed and the designation.
fn escape(rest: &[u8]) -> Result<(usize, Target, Set), String> {
    let unsupported = |seq: &[u8]| {
        Err(format!(
            "MARC-8 escape sequence ESC {} selects a character set that is not supported",
            String::from_utf8_lossy(seq)
        ))
    };
    match rest {
        // Technique 1: a single final byte switches G0.
        [b's', ..] => Ok((1, Target::G0, Set::Ascii)),
        [b'b', ..] => Ok((1, Target::G0, Set::Subscript)),
        [b'p', ..] => Ok((1, Target::G0, Set::Superscript)),
        [b'g', ..] => Ok((1, Target::G0, Set::GreekSymbols)),
        // Technique 2: intermediate byte then final byte(s).
        [i @ (b'(' | b',' | b')' | b'-'), rest @ ..] => {
            let target = if matches!(i, b'(' | b',') {
                Target::G0
            } else {
                Target::G1
            };
            match rest {
                [b'B', ..] => Ok((2, target, Set::Ascii)),
                [b'!', b'E', ..] => Ok((3, target, Set::Ansel)),
                [b'b', ..] => Ok((2, target, Set::Subscript)),
                [b'p', ..] => Ok((2, target, Set::Superscript)),
                [b'g', ..] => Ok((2, target, Set::GreekSymbols)),
                _ => unsupported(&rest[..rest.len().min(2)]),
            }
        }
        [b'$', ..] => unsupported(&rest[..rest.len().min(3)]),
        _ => unsupported(&rest[..rest.len().min(2)]),
    }
}

enum Lookup {
    Base(char),
    Combining(char),
    Undefined,
}

/// `b` is in 0x21..=0x7E (G1 bytes are shifted down by 0x80).
fn lookup(set: Set, b: u8) -> Lookup {
    match set {
        Set::Ascii => Lookup::Base(char::from(b)),
        Set::Ansel => ansel(b + 0x80),
        Set::Subscript => match b {
            b'0'..=b'9' => base(0x2080 + u32::from(b - b'0')),
            b'(' => base(0x208D),
            b')' => base(0x208E),
            b'+' => base(0x208A),
            b'-' => base(0x208B),
            _ => Lookup::Undefined,
        },
        Set::Superscript => match b {
            b'0' => base(0x2070),
            b'1' => base(0xB9),
            b'2' => base(0xB2),
            b'3' => base(0xB3),
            b'4'..=b'9' => base(0x2070 + u32::from(b - b'0')),
            b'(' => base(0x207D),
            b')' => base(0x207E),
            b'+' => base(0x207A),
            b'-' => base(0x207B),
            _ => Lookup::Undefined,
        },
        Set::GreekSymbols => match b {
            b'a' => base(0x3B1),
            b'b' => base(0x3B2),
            b'c' => base(0x3B3),
            _ => Lookup::Undefined,
        },
    }
}

fn base(code: u32) -> Lookup {
    char::from_u32(code).map_or(Lookup::Undefined, Lookup::Base)
}

fn combining(code: u32) -> Lookup {
    char::from_u32(code).map_or(Lookup::Undefined, Lookup::Combining)
}

/// ANSEL (ANSI/NISO Z39.47) as used in MARC-8, in its G1 position 0xA1–0xFE.
fn ansel(b: u8) -> Lookup {
    match b {
        0xA1 => base(0x141), // Ł
        0xA2 => base(0xD8),  // Ø
        0xA3 => base(0x110), // Đ
        0xA4 => base(0xDE),  // Þ
        0xA5 => base(0xC6),  // Æ
        0xA6 => base(0x152), // Œ
        0xA7 => base(0x2B9), // soft sign (prime)
        0xA8 => base(0xB7),  // middle dot
        0xA9 => base(0x266D),
        0xAA => base(0xAE),
        0xAB => base(0xB1),
        0xAC => base(0x1A0), // Ơ
        0xAD => base(0x1AF), // Ư
        0xAE => base(0x2BC), // alif
        0xB0 => base(0x2BB), // ayn
        0xB1 => base(0x142), // ł
        0xB2 => base(0xF8),  // ø
        0xB3 => base(0x111), // đ
        0xB4 => base(0xFE),  // þ
        0xB5 => base(0xE6),  // æ
        0xB6 => base(0x153), // œ
        0xB7 => base(0x2BA), // hard sign
        0xB8 => base(0x131), // dotless i
        0xB9 => base(0xA3),  // £
        0xBA => base(0xF0),  // ð
        0xBC => base(0x1A1), // ơ
        0xBD => base(0x1B0), // ư
        0xC0 => base(0xB0),  // °
        0xC1 => base(0x2113),
        0xC2 => base(0x2117),
        0xC3 => base(0xA9),
        0xC4 => base(0x266F),
        0xC5 => base(0xBF),
        0xC6 => base(0xA1),
        0xC7 => base(0xDF),
        0xC8 => base(0x20AC),
        0xE0 => combining(0x309),  // hook above
        0xE1 => combining(0x300),  // grave
        0xE2 => combining(0x301),  // acute
        0xE3 => combining(0x302),  // circumflex
        0xE4 => combining(0x303),  // tilde
        0xE5 => combining(0x304),  // macron
        0xE6 => combining(0x306),  // breve
        0xE7 => combining(0x307),  // dot above
        0xE8 => combining(0x308),  // diaeresis
        0xE9 => combining(0x30C),  // caron
        0xEA => combining(0x30A),  // ring above
        0xEB => combining(0xFE20), // ligature, left half
        0xEC => combining(0xFE21), // ligature, right half
        0xED => combining(0x315),  // comma above right
        0xEE => combining(0x30B),  // double acute
        0xEF => combining(0x310),  // candrabindu
        0xF0 => combining(0x327),  // cedilla
        0xF1 => combining(0x328),  // ogonek
        0xF2 => combining(0x323),  // dot below
        0xF3 => combining(0x324),  // diaeresis below
        0xF4 => combining(0x325),  // ring below
        0xF5 => combining(0x333),  // double low line
        0xF6 => combining(0x332),  // low line
        0xF7 => combining(0x326),  // comma below
        0xF8 => combining(0x31C),  // left half ring below
        0xF9 => combining(0x32E),  // breve below
        0xFA => combining(0xFE22), // double tilde, left half
        0xFB => combining(0xFE23), // double tilde, right half
        0xFE => combining(0x313),  // comma above
        _ => Lookup::Undefined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    fn nfc(bytes: &[u8]) -> String {
        decode(bytes).unwrap().nfc().collect()
    }

    #[test]
    fn combining_marks_move_after_their_letter() {
        // "Città", "Perché", "Łódź" as MARC-8 writes them.
        assert_eq!(nfc(b"Citt\xe1a"), "Città");
        assert_eq!(nfc(b"Perch\xe2e"), "Perché");
        assert_eq!(nfc(b"\xa1\xe2od\xe2z"), "Łódź");
        // Two marks on one letter keep their order.
        assert_eq!(decode(b"\xe5\xe2a").unwrap(), "a\u{304}\u{301}");
    }

    #[test]
    fn escapes_switch_sets_and_non_latin_is_refused() {
        assert_eq!(decode(b"H\x1bb2\x1bsO").unwrap(), "H\u{2082}O");
        assert_eq!(decode(b"x\x1bp2\x1bs").unwrap(), "x\u{b2}");
        assert_eq!(decode(b"\x1bgab\x1bs").unwrap(), "\u{3b1}\u{3b2}");
        assert_eq!(
            decode(b"\x1b(!E\xb5").unwrap(),
            "\u{e6}",
            "ANSEL designated as G0"
        );
        assert!(decode(b"\x1b(N\x41").unwrap_err().contains("not supported"));
        assert!(decode(b"\x1b$1!!!").unwrap_err().contains("not supported"));
        assert!(decode(b"\xff").unwrap_err().contains("0xFF"));
    }

    #[test]
    fn non_sort_markers_become_c1_controls() {
        assert_eq!(decode(b"\x88The \x89Hobbit").unwrap(), "\u{98}The \u{9c}Hobbit");
    }
}
