//! Italian stemming with a cache of the words already stemmed.
//!
//! A catalogue's words repeat: titles, names and subjects draw on a vocabulary far smaller than
//! the number of words indexed. Running the Snowball stemmer on every one of them was 5% of all
//! the CPU of a bulk import (the importer's and the server's together); a lookup in a table of
//! the words seen so far gives the same stem for a fraction of that. The stems are exactly
//! tantivy's own `Stemmer` filter's (the same `frostem` algorithm), which a test checks.

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Distinct words remembered per analyser before the table starts afresh: some 4 MB, which
/// holds the working vocabulary of a catalogue (Italian has a few tens of thousands of common
/// word forms) while a stream of one-off words (codes, names) cannot grow it without bound.
const CAPACITY: usize = 50_000;

/// The token filter: Italian stems, remembered.
#[derive(Clone, Copy, Debug, Default)]
pub struct CachedItalianStemmer;

impl TokenFilter for CachedItalianStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter {
            inner: tokenizer,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::Italian),
            stems: FxHashMap::default(),
        }
    }
}

/// See [`CachedItalianStemmer`]. Each analyser (tantivy gives each indexing thread its own
/// clone) has its own table, so lookups take no lock.
pub struct CachedStemmerFilter<T> {
    inner: T,
    stemmer: frostem::Stemmer,
    /// Word as it reaches the filter (lower case, folded) to its stem.
    stems: FxHashMap<String, String>,
}

impl<T: Clone> Clone for CachedStemmerFilter<T> {
    /// A clone starts with an empty table: clones are made for other threads, and copying a
    /// table of tens of thousands of strings would cost more than refilling it.
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            stemmer: self.stemmer,
            stems: FxHashMap::default(),
        }
    }
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
            stemmer: &self.stemmer,
            stems: &mut self.stems,
        }
    }
}

/// See [`CachedItalianStemmer`].
pub struct CachedStemmerStream<'a, T> {
    tail: T,
    stemmer: &'a frostem::Stemmer,
    stems: &'a mut FxHashMap<String, String>,
}

impl<T: TokenStream> TokenStream for CachedStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(stem) = self.stems.get(token.text.as_str()) {
            token.text.clone_from(stem);
            return true;
        }
        let stem = match self.stemmer.stem(&token.text) {
            Cow::Owned(stem) => stem,
            Cow::Borrowed(stem) => stem.to_owned(),
        };
        if self.stems.len() >= CAPACITY {
            self.stems.clear();
        }
        self.stems
            .insert(std::mem::replace(&mut token.text, stem.clone()), stem);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, Stemmer, TextAnalyzer};

    use super::*;

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
        let mut stream = analyzer.token_stream(text);
        let mut tokens = Vec::new();
        while let Some(token) = stream.next() {
            tokens.push(token.text.clone());
        }
        tokens
    }

    #[test]
    fn stems_as_tantivys_stemmer_does_whether_or_not_the_word_was_seen() {
        let text = "Le città invisibili, le città e la memoria: i libri della libreria dei libri \
                    letti e rileggendo, rileggere, rilette; camminando camminare cammino";
        let mut cached = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(CachedItalianStemmer)
            .build();
        let mut reference = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::Italian))
            .build();
        let expected = tokens(&mut reference, text);
        // A test that would pass without stemming proves nothing.
        assert!(expected.contains(&"libr".to_owned()), "{expected:?}");
        // The first pass fills the table, the second reads the stems from it.
        assert_eq!(tokens(&mut cached, text), expected);
        assert_eq!(tokens(&mut cached, text), expected);
        assert_eq!(tokens(&mut cached.clone(), text), expected);
    }

    #[test]
    fn a_full_table_starts_afresh_and_still_stems() {
        let mut analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(CachedItalianStemmer)
            .build();
        let many = (0..CAPACITY + 10).fold(String::new(), |mut text, n| {
            text.push_str("parola");
            text.push_str(&n.to_string());
            text.push(' ');
            text
        });
        assert_eq!(tokens(&mut analyzer, &many).len(), CAPACITY + 10);
        let mut reference = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(Stemmer::new(Language::Italian))
            .build();
        assert_eq!(
            tokens(&mut analyzer, "librerie libri"),
            tokens(&mut reference, "librerie libri")
        );
    }
}
