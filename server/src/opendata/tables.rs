//! A dataset as a table, written as CSV (RFC 4180, a header row, CRLF) or as a JSON array of
//! objects with the same column names, so both distributions hold the same data.

use serde_json::{Map, Value};

/// One value of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Empty,
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_owned())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}

impl From<Option<String>> for Cell {
    fn from(text: Option<String>) -> Self {
        text.map_or(Cell::Empty, Cell::Text)
    }
}

/// Columns and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// RFC 4180 CSV with a header row.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| field(c)).collect();
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|cell| match cell {
                    Cell::Text(text) => field(text),
                    Cell::Int(n) => n.to_string(),
                    Cell::Float(x) => x.to_string(),
                    Cell::Bool(b) => b.to_string(),
                    Cell::Empty => String::new(),
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// A JSON array of objects, one per row, keyed by column.
    pub fn json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|row| {
                    let object: Map<String, Value> = self
                        .columns
                        .iter()
                        .zip(row)
                        .map(|(column, cell)| {
                            let value = match cell {
                                Cell::Text(text) => Value::String(text.clone()),
                                Cell::Int(n) => Value::from(*n),
                                Cell::Float(x) => Value::from(*x),
                                Cell::Bool(b) => Value::Bool(*b),
                                Cell::Empty => Value::Null,
                            };
                            ((*column).to_owned(), value)
                        })
                        .collect();
                    Value::Object(object)
                })
                .collect(),
        )
    }
}

/// A CSV field: quoted when it holds a separator, a quote or a line break; a text starting with
/// `=`, `+` or `@` gets a leading apostrophe so a spreadsheet does not run it as a formula (the
/// texts are officers' and importers' words, read by anyone who downloads the file).
fn field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_it_must_and_json_keeps_the_types() {
        let table = Table {
            columns: &["name", "count", "free", "note"],
            rows: vec![
                vec![
                    "Teatro, \"Carlo\" Felice".into(),
                    Cell::Int(3),
                    Cell::Bool(true),
                    Cell::Empty,
                ],
                vec!["=1+1".into(), Cell::Int(-2), Cell::Bool(false), "a\nb".into()],
            ],
        };
        assert_eq!(
            table.csv(),
            "name,count,free,note\r\n\"Teatro, \"\"Carlo\"\" Felice\",3,true,\r\n'=1+1,-2,false,\"a\nb\"\r\n"
        );
        let json = table.json();
        assert_eq!(json[0]["count"], 3);
        assert_eq!(json[0]["note"], Value::Null);
        assert_eq!(json[1]["name"], "=1+1");
    }
}
