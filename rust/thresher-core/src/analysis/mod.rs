//! Text analysis: text -> index terms.
//!
//! The default chain reproduces Anserini's default English analyzer (what Lucene-based BEIR
//! baselines use): UAX #29 word segmentation (Lucene `StandardTokenizer`), English possessive
//! removal, lowercasing, Lucene's 33-word English stop set and the Porter stemmer.
//!
//! Invariant: an [`Analyzer`] is immutable and `Send + Sync`; the same text always yields the
//! same terms, so documents and queries analysed by the same configuration meet in the index.

mod stop;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use stop::LUCENE_ENGLISH_STOP_WORDS;

/// Which stemmer the analyzer applies last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StemmerKind {
    /// Martin Porter's original algorithm, as in Lucene's `PorterStemFilter` (Anserini default).
    Porter,
    /// The Snowball English ("Porter2") stemmer.
    Snowball,
    /// No stemming.
    None,
}

impl StemmerKind {
    /// Names accepted by [`StemmerKind::from_name`].
    pub const NAMES: [&'static str; 3] = ["porter", "snowball", "none"];

    /// Parses a stemmer name.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] listing the valid names.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "porter" => Ok(Self::Porter),
            "snowball" => Ok(Self::Snowball),
            "none" => Ok(Self::None),
            other => Err(Error::invalid_argument(format!(
                "unknown stemmer {other:?}; valid stemmers: {}",
                Self::NAMES.join(", ")
            ))),
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Porter => "porter",
            Self::Snowball => "snowball",
            Self::None => "none",
        }
    }
}

/// Configuration of an [`Analyzer`]; stored in an index's `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzerConfig {
    /// Lowercase tokens (Unicode lowercase).
    pub lowercase: bool,
    /// Strip English possessives (`'s`, `’s`) as Lucene's `EnglishPossessiveFilter` does.
    pub possessive: bool,
    /// Words removed after lowercasing (compared before stemming).
    pub stopwords: Vec<String>,
    /// The stemmer applied last.
    pub stemmer: StemmerKind,
    /// Tokens longer than this many UTF-16 units are split, as Lucene's `StandardTokenizer`
    /// does with its default `maxTokenLength` of 255.
    pub max_token_length: usize,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        Self {
            lowercase: true,
            possessive: true,
            stopwords: LUCENE_ENGLISH_STOP_WORDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            stemmer: StemmerKind::Porter,
            max_token_length: 255,
        }
    }
}

/// Turns text into index terms. Cheap to clone (shares nothing mutable); `Send + Sync`.
pub struct Analyzer {
    config: AnalyzerConfig,
    stop: std::collections::HashSet<String>,
    snowball: rust_stemmers::Stemmer,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("config", &self.config)
            .finish()
    }
}

impl Clone for Analyzer {
    fn clone(&self) -> Self {
        Self::new(self.config.clone()).expect("a config that built once builds again")
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new(AnalyzerConfig::default()).expect("the default config is valid")
    }
}

impl Analyzer {
    /// Builds an analyzer.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `max_token_length` is 0.
    pub fn new(config: AnalyzerConfig) -> Result<Self> {
        if config.max_token_length == 0 {
            return Err(Error::invalid_argument(
                "max_token_length must be at least 1",
            ));
        }
        let stop = config.stopwords.iter().cloned().collect();
        Ok(Self {
            config,
            stop,
            snowball: rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English),
        })
    }

    /// The configuration this analyzer was built from.
    pub fn config(&self) -> &AnalyzerConfig {
        &self.config
    }

    /// Appends the terms of `text` to `out`.
    pub fn analyze_into(&self, text: &str, out: &mut Vec<String>) {
        use unicode_segmentation::UnicodeSegmentation;
        for word in text.unicode_words() {
            let mut tok: String = if self.config.lowercase {
                word.to_lowercase()
            } else {
                word.to_string()
            };
            if self.config.possessive {
                for suffix in ["'s", "\u{2019}s", "\u{ff07}s"] {
                    if tok.len() > suffix.len() && tok.ends_with(suffix) {
                        tok.truncate(tok.len() - suffix.len());
                        break;
                    }
                }
            }
            if tok.is_empty() || self.stop.contains(&tok) {
                continue;
            }
            let stemmed = match self.config.stemmer {
                StemmerKind::None => tok,
                StemmerKind::Porter | StemmerKind::Snowball => {
                    self.snowball.stem(&tok).into_owned()
                }
            };
            out.push(stemmed);
        }
    }

    /// The terms of `text`.
    pub fn analyze(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.analyze_into(text, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_chain_drops_stop_words_and_stems() {
        let a = Analyzer::default();
        assert_eq!(a.analyze("The cats are running"), vec!["cat", "run"]);
    }

    #[test]
    fn unknown_stemmer_lists_valid_names() {
        let e = StemmerKind::from_name("lovins").unwrap_err().to_string();
        assert!(
            e.contains("porter") && e.contains("snowball") && e.contains("none"),
            "{e}"
        );
    }
}
