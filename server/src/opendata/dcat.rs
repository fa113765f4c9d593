//! A small RDF graph of the catalogue, written once and serialised two ways: JSON-LD (prefixed
//! names resolved by an inline `@context`, so no reader fetches anything) and Turtle. One model
//! for both keeps the two answers the same triples.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

/// The prefixes both serialisations declare.
pub const PREFIXES: [(&str, &str); 9] = [
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("dct", "http://purl.org/dc/terms/"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("vcard", "http://www.w3.org/2006/vcard/ns#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("dcatapit", "http://dati.gov.it/onto/dcatapit#"),
];

/// The object of a triple.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// A resource, by absolute IRI.
    Iri(String),
    /// Text in a language (`it`, `en`).
    Text(String, &'static str),
    /// A plain string.
    Plain(String),
    /// A literal with a datatype, as a prefixed name (`xsd:dateTime`).
    Typed(String, &'static str),
}

/// A subject with its types and properties (predicates as prefixed names), in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: String,
    pub types: Vec<&'static str>,
    pub props: Vec<(&'static str, Term)>,
}

impl Node {
    pub fn new(id: impl Into<String>, types: &[&'static str]) -> Self {
        Self {
            id: id.into(),
            types: types.to_vec(),
            props: Vec::new(),
        }
    }

    /// Adds a property (builder style).
    #[must_use]
    pub fn with(mut self, predicate: &'static str, object: Term) -> Self {
        self.props.push((predicate, object));
        self
    }
}

/// The catalogue as JSON-LD: an inline `@context` of prefixes and a `@graph` of nodes.
pub fn json_ld(nodes: &[Node]) -> Value {
    let context: Map<String, Value> = PREFIXES
        .iter()
        .map(|(prefix, iri)| ((*prefix).to_owned(), Value::String((*iri).to_owned())))
        .collect();
    let graph: Vec<Value> = nodes
        .iter()
        .map(|node| {
            let mut object = Map::new();
            object.insert("@id".into(), json!(node.id));
            object.insert("@type".into(), json!(node.types));
            for (predicate, term) in &node.props {
                let value = match term {
                    Term::Iri(iri) => json!({"@id": iri}),
                    Term::Text(text, lang) => json!({"@value": text, "@language": lang}),
                    Term::Plain(text) => json!({"@value": text}),
                    Term::Typed(text, datatype) => json!({"@value": text, "@type": datatype}),
                };
                match object
                    .entry((*predicate).to_owned())
                    .or_insert_with(|| Value::Array(Vec::new()))
                {
                    Value::Array(values) => values.push(value),
                    _ => unreachable!("every property is an array"),
                }
            }
            Value::Object(object)
        })
        .collect();
    json!({"@context": context, "@graph": graph})
}

/// The catalogue as Turtle.
pub fn turtle(nodes: &[Node]) -> String {
    let mut out = String::new();
    for (prefix, iri) in PREFIXES {
        let _ = writeln!(out, "@prefix {prefix}: <{iri}> .");
    }
    for node in nodes {
        let _ = write!(out, "\n<{}> a {}", iri(&node.id), node.types.join(", "));
        for (predicate, term) in &node.props {
            let object = match term {
                Term::Iri(value) => format!("<{}>", iri(value)),
                Term::Text(text, lang) => format!("\"{}\"@{lang}", escape(text)),
                Term::Plain(text) => format!("\"{}\"", escape(text)),
                Term::Typed(text, datatype) => format!("\"{}\"^^{datatype}", escape(text)),
            };
            let _ = write!(out, " ;\n    {predicate} {object}");
        }
        out.push_str(" .\n");
    }
    out
}

/// A Turtle string's escapes (quotes, backslashes, line breaks).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

/// An IRI as Turtle may hold it: the characters it forbids percent-encoded (our IRIs are built
/// from the configured public URL and fixed paths, so this is a guard, not a path taken).
fn iri(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_control() || matches!(c, ' ' | '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\') {
            let mut buf = [0; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{byte:02X}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_hold_the_same_statements() {
        let nodes = vec![
            Node::new("https://x.example/cat", &["dcat:Catalog"])
                .with("dct:title", Term::Text("Dati \"aperti\"\n".into(), "it"))
                .with("dct:title", Term::Text("Open data".into(), "en"))
                .with("dct:modified", Term::Typed("2026-12-05".into(), "xsd:date"))
                .with("dct:identifier", Term::Plain("c_d969".into()))
                .with("dcat:dataset", Term::Iri("https://x.example/a b".into())),
        ];
        let ttl = turtle(&nodes);
        assert!(ttl.contains("<https://x.example/cat> a dcat:Catalog ;"), "{ttl}");
        assert!(ttl.contains("dct:title \"Dati \\\"aperti\\\"\\n\"@it ;"), "{ttl}");
        assert!(ttl.contains("dcat:dataset <https://x.example/a%20b> ."), "{ttl}");
        let ld = json_ld(&nodes);
        assert_eq!(ld["@graph"][0]["dct:title"].as_array().unwrap().len(), 2);
        assert_eq!(ld["@graph"][0]["dct:modified"][0]["@type"], "xsd:date");
        assert_eq!(ld["@context"]["dcat"], "http://www.w3.org/ns/dcat#");
    }
}
