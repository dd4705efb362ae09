//! Text analysis: text -> index terms.
//!
//! The default chain reproduces Anserini's default English analyzer
//! (`io.anserini.analysis.DefaultEnglishAnalyzer.newDefaultInstance()`, which Lucene-based BEIR
//! baselines and Pyserini use) token for token:
//!
//! 1. **`StandardTokenizer`** (`tokenizer.rs`): Lucene's JFlex grammar of UAX #29 word
//!    boundaries. Emits letter/number words (`ALPHANUM`, `NUM`, `HANGUL`, `KATAKANA`), runs of
//!    South-East Asian script, single Han and Hiragana characters, and emoji sequences;
//!    everything else (spaces, punctuation, symbols) is dropped. Words longer than
//!    `max_token_length` UTF-16 units (255) are cut into chunks, as Lucene's fixed scanner
//!    buffer does (they are not dropped).
//! 2. **`EnglishPossessiveFilter`**: strips a trailing `'s`, `'S`, `’s`, `’S`, `＇s` or `＇S`.
//!    It runs *before* lowercasing in Anserini, hence both cases of `s`.
//! 3. **`LowerCaseFilter`**: Java's `Character.toLowerCase` per code point, i.e. the simple
//!    (one-to-one) Unicode lowercase mapping: `İ` becomes `i` (not `i̇`) and a final `Σ` becomes
//!    `σ`, unlike Rust's `str::to_lowercase`.
//! 4. **`StopFilter`** with Lucene's 33 English stop words, matched exactly on the lowercased,
//!    possessive-stripped, unstemmed token (so `It's` is removed as `it`).
//! 5. **`PorterStemFilter`** (`porter.rs`): a port of Lucene's own `PorterStemmer`, because
//!    Lucene's version has quirks no crate reproduces (see that module).
//!
//! Configuration ([`AnalyzerConfig`]) can switch off steps 2-3, replace the stop list, pick the
//! Snowball English stemmer (the `rust-stemmers` crate) or no stemmer, and change the token
//! length limit. Anserini's chain has no `lowercase`/`possessive` switches; with them off
//! the remaining steps behave as above.
//!
//! Deliberate deviations from Lucene (none of them shows on the reference collections, see
//! `tests/analyzer_parity.rs`):
//! - Unicode data: Lucene (9 and 10) generates its grammar from Unicode 12.1 and lowercases
//!   with the JVM's tables (Unicode 15 on Java 21); we read the Unicode 15/16 data of
//!   maintained crates and take it back to 12.1 (`charclass.rs`: characters assigned later
//!   are unassigned, the ones re-classified since keep their 12.1 class). Checked against
//!   Lucene 9.9.1 by `benches/analyzer_vs_lucene.py`: every code point alone and in 14
//!   contexts, plus 200k random strings (16.9M strings), no difference.
//! - Text holding a lone surrogate (possible in a Python `str` or a Java `String`, not in
//!   UTF-8) is refused with an error naming it; Lucene skips the surrogate.
//! - With `max_token_length` 1, Lucene's scanner buffer cannot hold a surrogate pair and its
//!   stream ends early at the first supplementary character; we skip that character and go on.
//!
//! Invariant: an [`Analyzer`] is immutable and `Send + Sync`; the same text always yields the
//! same terms, so documents and queries analysed by the same configuration meet in the index.
//! Analysis never panics, whatever the input.

mod charclass;
mod porter;
mod stop;
mod tokenizer;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hash::FnvBuild;
use crate::memo::Memo;

pub use stop::LUCENE_ENGLISH_STOP_WORDS;

/// Largest accepted `max_token_length` (Lucene's `StandardTokenizer.MAX_TOKEN_LENGTH_LIMIT`).
pub const MAX_TOKEN_LENGTH_LIMIT: usize = 1024 * 1024;

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
    /// Lowercase tokens (simple Unicode lowercase mapping per code point, like Java's
    /// `Character.toLowerCase`).
    pub lowercase: bool,
    /// Strip English possessives (`'s`, `’s`, `＇s`, any case of `s`) before lowercasing, as
    /// Lucene's `EnglishPossessiveFilter` does.
    pub possessive: bool,
    /// Words removed after lowercasing (compared exactly, before stemming).
    pub stopwords: Vec<String>,
    /// The stemmer applied last.
    pub stemmer: StemmerKind,
    /// Tokens longer than this many UTF-16 units are cut into chunks, as Lucene's
    /// `StandardTokenizer` does with its default `maxTokenLength` of 255. At least 1, at most
    /// [`MAX_TOKEN_LENGTH_LIMIT`].
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
    stop: HashSet<Box<[u8]>, FnvBuild>,
    /// Byte length of the longest stop word: longer terms skip the set lookup.
    max_stop_len: usize,
    snowball: rust_stemmers::Stemmer,
    classes: &'static charclass::CharClasses,
    /// Identifies this configuration in the per-thread [`TERM_CACHE`] (clones share it: same
    /// configuration, same terms).
    id: u64,
}

thread_local! {
    /// Per-thread memo of the filter chain (lowercasing, possessive, stop set, stemming), a
    /// pure function of the analyzer's configuration and the token: most tokens of a text
    /// recur, so most are looked up instead of stemmed. A token's term, `None` for a stop word.
    static TERM_CACHE: RefCell<Memo<Option<Box<str>>>> = RefCell::new(Memo::default());
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
        Self {
            config: self.config.clone(),
            stop: self.stop.clone(),
            max_stop_len: self.max_stop_len,
            snowball: rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English),
            classes: self.classes,
            id: self.id,
        }
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new(AnalyzerConfig::default()).expect("the default config is valid")
    }
}

/// Scratch buffers reused across the tokens of one [`Analyzer::analyze_each`] call.
#[derive(Default)]
struct Scratch {
    /// The current term as UTF-8 bytes (always valid UTF-8 between steps).
    term: Vec<u8>,
    /// The current term as UTF-16, for stemming non-ASCII terms.
    utf16: Vec<u16>,
}

impl Analyzer {
    /// Builds an analyzer.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `max_token_length` is 0 or above
    /// [`MAX_TOKEN_LENGTH_LIMIT`].
    pub fn new(config: AnalyzerConfig) -> Result<Self> {
        if config.max_token_length == 0 || config.max_token_length > MAX_TOKEN_LENGTH_LIMIT {
            return Err(Error::invalid_argument(format!(
                "max_token_length must be between 1 and {MAX_TOKEN_LENGTH_LIMIT}, got {}",
                config.max_token_length
            )));
        }
        let stop = config
            .stopwords
            .iter()
            .map(|w| w.as_bytes().into())
            .collect();
        let max_stop_len = config.stopwords.iter().map(String::len).max().unwrap_or(0);
        Ok(Self {
            config,
            stop,
            max_stop_len,
            snowball: rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English),
            classes: charclass::classes(),
            id: crate::memo::next_owner_id(),
        })
    }

    /// The configuration this analyzer was built from.
    pub fn config(&self) -> &AnalyzerConfig {
        &self.config
    }

    /// Appends the terms of `text` to `out`.
    pub fn analyze_into(&self, text: &str, out: &mut Vec<String>) {
        self.analyze_each(text, |term| out.push(term.to_owned()));
    }

    /// Calls `f` with each term of `text`, in order, without allocating a `String` per term
    /// (the term lives in a scratch buffer until `f` returns).
    pub fn analyze_each(&self, text: &str, mut f: impl FnMut(&str)) {
        TERM_CACHE.with(|cache| {
            // Busy when `f` analyses again on this thread: the inner call goes uncached.
            let Ok(mut memo) = cache.try_borrow_mut() else {
                return self.analyze_each_uncached(text, f);
            };
            let mut scratch = Scratch::default();
            tokenizer::tokenize(self.classes, text, self.config.max_token_length, |token| {
                let term = memo.get_or_insert_with(self.id, token.as_bytes(), || {
                    self.filter(token, &mut scratch).map(|t| t.into())
                });
                if let Some(term) = term {
                    f(term);
                }
            });
        });
    }

    /// [`Analyzer::analyze_each`] without the per-thread memo: for bulk indexing, which sees a
    /// collection's whole vocabulary. There the bounded memo misses often, allocates a key and a
    /// term per miss and is emptied every 32,768 entries: with it, building the synthetic
    /// 1M-document Zipf corpus (500k words) took 17.5-19.0 s; before the memo (`61936fb`)
    /// 8.9 / 9.4 s and with this path 9.0 / 8.7 s (alternated); real prose (406k passages)
    /// build CPU 7.49 / 7.50 s with the memo, 7.14 / 7.04 s with this path.
    pub fn analyze_each_uncached(&self, text: &str, mut f: impl FnMut(&str)) {
        let mut scratch = Scratch::default();
        tokenizer::tokenize(self.classes, text, self.config.max_token_length, |token| {
            if let Some(term) = self.filter(token, &mut scratch) {
                f(&term);
            }
        });
    }

    /// The terms of `text`.
    pub fn analyze(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.analyze_into(text, &mut out);
        out
    }

    /// Runs one token through the filter chain; `None` when the stop filter removes it.
    fn filter<'s>(&self, token: &str, scratch: &'s mut Scratch) -> Option<Cow<'s, str>> {
        let token = if self.config.possessive {
            strip_possessive(token)
        } else {
            token
        };
        let term = &mut scratch.term;
        term.clear();
        if !self.config.lowercase {
            term.extend_from_slice(token.as_bytes());
        } else if token.is_ascii() {
            term.extend(token.bytes().map(|b| b.to_ascii_lowercase()));
        } else {
            let mut buf = [0u8; 4];
            for c in token.chars() {
                term.extend_from_slice(java_lowercase(c).encode_utf8(&mut buf).as_bytes());
            }
        }
        if term.len() <= self.max_stop_len && self.stop.contains(term.as_slice()) {
            return None;
        }
        match self.config.stemmer {
            StemmerKind::None => Some(utf8_str(term)),
            StemmerKind::Snowball => {
                let word = std::str::from_utf8(term).unwrap_or_default();
                Some(self.snowball.stem(word))
            }
            StemmerKind::Porter if term.is_ascii() => {
                let n = porter::stem(term.as_mut_slice());
                term.truncate(n);
                Some(utf8_str(term))
            }
            StemmerKind::Porter => {
                let utf16 = &mut scratch.utf16;
                utf16.clear();
                utf16.extend(String::from_utf8_lossy(term).encode_utf16());
                let n = porter::stem(utf16.as_mut_slice());
                Some(Cow::Owned(String::from_utf16_lossy(&utf16[..n])))
            }
        }
    }
}

/// A `str` from bytes that are valid UTF-8 by construction.
fn utf8_str(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Lucene's `EnglishPossessiveFilter`: drops a trailing `'s`/`'S` (with `'`, `’` or `＇`).
fn strip_possessive(token: &str) -> &str {
    let Some(rest) = token.strip_suffix(['s', 'S']) else {
        return token;
    };
    rest.strip_suffix(['\'', '\u{2019}', '\u{FF07}'])
        .unwrap_or(token)
}

/// Java's `Character.toLowerCase(int)`: the simple lowercase mapping, one code point to one.
/// Rust's `char::to_lowercase` applies the full mapping, which differs only for U+0130.
fn java_lowercase(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config(f: impl FnOnce(&mut AnalyzerConfig)) -> Analyzer {
        let mut c = AnalyzerConfig::default();
        f(&mut c);
        Analyzer::new(c).unwrap()
    }

    #[test]
    fn default_chain_drops_stop_words_and_stems() {
        let a = Analyzer::default();
        assert_eq!(a.analyze("The cats are running"), vec!["cat", "run"]);
    }

    #[test]
    fn anserini_chain_on_scientific_text() {
        let a = Analyzer::default();
        assert_eq!(
            a.analyze("Microstructural development of human newborn cerebral white matter"),
            [
                "microstructur",
                "develop",
                "human",
                "newborn",
                "cerebr",
                "white",
                "matter"
            ]
        );
        assert_eq!(
            a.analyze("(1.4 +/- 0.24 versus 1.15, p = 0.016) 1,000 Genomes; NF-κB's TGFβ1"),
            ["1.4", "0.24", "versu", "1.15", "p", "0.016", "1,000", "genom", "nf", "κb", "tgfβ1"]
        );
        assert_eq!(
            a.analyze("Aquacel® Ag © 2016 ↔"),
            ["aquacel", "®", "ag", "©", "2016", "↔"]
        );
    }

    #[test]
    fn possessives_are_stripped_before_lowercasing_and_stop_words() {
        let a = Analyzer::default();
        // `It's` -> `It` -> `it`, a stop word; `'S` is stripped too.
        assert_eq!(
            a.analyze("It's JOHN'S dog’s cat＇s"),
            ["john", "dog", "cat"]
        );
        // Only a trailing `'s`: `'t`, inner `'s` and `s'` are kept.
        assert_eq!(a.analyze("don't o's'a cats'"), ["don't", "o's'a", "cat"]);
        let keep = config(|c| c.possessive = false);
        assert_eq!(keep.analyze("John's"), ["john'"]);
    }

    #[test]
    fn lowercasing_is_javas_simple_mapping() {
        let a = config(|c| c.stemmer = StemmerKind::None);
        assert_eq!(
            a.analyze("İSTANBUL ΟΔΟΣ Ångström"),
            ["istanbul", "οδοσ", "ångström"]
        );
        let keep = config(|c| {
            c.lowercase = false;
            c.stemmer = StemmerKind::None;
        });
        assert_eq!(keep.analyze("The Cats"), ["The", "Cats"]);
    }

    #[test]
    fn stemmer_and_stop_word_options() {
        let snowball = config(|c| c.stemmer = StemmerKind::Snowball);
        assert_eq!(snowball.analyze("generously running"), ["generous", "run"]);
        let porter = Analyzer::default();
        assert_eq!(porter.analyze("generously running"), ["gener", "run"]);
        let no_stop = config(|c| c.stopwords.clear());
        assert_eq!(no_stop.analyze("the cat"), ["the", "cat"]);
        let custom = config(|c| c.stopwords = vec!["cat".into()]);
        assert_eq!(custom.analyze("the cat"), ["the"]);
    }

    #[test]
    fn long_tokens_are_chopped_then_filtered() {
        let a = config(|c| c.max_token_length = 4);
        assert_eq!(a.analyze("abcdefghij"), ["abcd", "efgh", "ij"]);
        let d = Analyzer::default();
        let t = d.analyze(&"x".repeat(300));
        assert_eq!(t.iter().map(String::len).collect::<Vec<_>>(), [255, 45]);
    }

    #[test]
    fn config_validation_and_serde() {
        for bad in [0, MAX_TOKEN_LENGTH_LIMIT + 1] {
            let e = Analyzer::new(AnalyzerConfig {
                max_token_length: bad,
                ..Default::default()
            });
            assert!(e.is_err(), "{bad}");
        }
        let c = AnalyzerConfig::default();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<AnalyzerConfig>(&json).unwrap(), c);
        assert!(json.contains(r#""stemmer":"porter""#), "{json}");
        let extra = json.replacen('{', r#"{"surprise":1,"#, 1);
        assert!(serde_json::from_str::<AnalyzerConfig>(&extra).is_err());
    }

    #[test]
    fn analyzer_is_send_sync_and_clone_behaves_the_same() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Analyzer>();
        let a = config(|c| c.stemmer = StemmerKind::Snowball);
        let b = a.clone();
        assert_eq!(a.config(), b.config());
        assert_eq!(a.analyze("generously it's"), b.analyze("generously it's"));
    }

    #[test]
    fn unknown_stemmer_lists_valid_names() {
        let e = StemmerKind::from_name("lovins").unwrap_err().to_string();
        assert!(
            e.contains("porter") && e.contains("snowball") && e.contains("none"),
            "{e}"
        );
        for name in StemmerKind::NAMES {
            assert_eq!(StemmerKind::from_name(name).unwrap().name(), name);
        }
    }

    /// Characters that exercise every rule and state of the tokenizer.
    const ALPHABET: &[char] = &[
        'a',
        'Z',
        's',
        'S',
        'y',
        'e',
        '0',
        '9',
        ' ',
        '.',
        ',',
        ':',
        ';',
        '\'',
        '"',
        '_',
        '-',
        '#',
        '*',
        '@',
        '\u{2019}',
        '\u{FF07}',
        '\u{301}',
        '\u{AD}',
        '\u{200B}',
        '\u{200D}',
        '\u{200E}',
        '\u{FE0E}',
        '\u{FE0F}',
        '\u{20E3}',
        'β',
        'İ',
        'Σ',
        'א',
        'ב',
        'カ',
        'ー',
        'の',
        '中',
        '한',
        'ก',
        '\u{E31}',
        '®',
        '©',
        '™',
        '😀',
        '👍',
        '\u{1F3FB}',
        '\u{1F1FA}',
        '\u{1F1F8}',
        '🏴',
        '\u{E0067}',
        '\u{E007F}',
        '𝐚',
        '１',
        '\u{10FFFF}',
        '\u{FFFD}',
        '\n',
    ];

    fn tricky_text() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(ALPHABET), 0..64)
            .prop_map(|cs| cs.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn analysis_never_panics_and_is_deterministic(
            text in prop_oneof![any::<String>(), tricky_text()],
            max in prop_oneof![Just(255usize), 1usize..8],
            stemmer in prop::sample::select(&[StemmerKind::Porter, StemmerKind::Snowball, StemmerKind::None][..]),
            lowercase in any::<bool>(),
            possessive in any::<bool>(),
        ) {
            let a = Analyzer::new(AnalyzerConfig {
                lowercase,
                possessive,
                stemmer,
                max_token_length: max,
                ..Default::default()
            }).unwrap();
            let first = a.analyze(&text);
            prop_assert_eq!(&first, &a.analyze(&text));
            let mut appended = vec!["x".to_string()];
            a.analyze_into(&text, &mut appended);
            prop_assert_eq!(&appended[1..], &first[..]);
            for t in &first {
                prop_assert!(t.encode_utf16().count() <= max, "{:?} longer than {}", t, max);
            }
        }
    }

    /// The filter chain without the per-thread cache (what bulk indexing runs).
    fn uncached(a: &Analyzer, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        a.analyze_each_uncached(text, |t| out.push(t.to_owned()));
        out
    }

    #[test]
    fn term_cache_is_per_analyzer_and_reentrant() {
        let porter = Analyzer::default();
        let plain = config(|c| c.stemmer = StemmerKind::None);
        let keep_stop = config(|c| c.stopwords.clear());
        let text = "The running cats' RUNNING Caf\u{e9}s are running";
        // Alternating analyzers on one thread: each gets its own terms, twice (cache hits).
        for _ in 0..2 {
            for a in [&porter, &plain, &keep_stop] {
                assert_eq!(a.analyze(text), uncached(a, text));
            }
        }
        assert_ne!(porter.analyze(text), plain.analyze(text));
        assert_ne!(porter.analyze(text), keep_stop.analyze(text));
        // A clone shares the configuration and the cached terms.
        assert_eq!(porter.clone().analyze(text), porter.analyze(text));
        // Analysing again from inside the callback (the cache is busy) goes uncached.
        let mut nested = Vec::new();
        porter.analyze_each("cats running", |t| {
            nested.push((t.to_string(), plain.analyze("cats running")));
        });
        let want = vec!["cats".to_string(), "running".to_string()];
        assert_eq!(
            nested,
            vec![("cat".to_string(), want.clone()), ("run".to_string(), want)]
        );
    }

    #[test]
    fn term_cache_stays_bounded() {
        let a = Analyzer::default();
        let text: String = (0..crate::memo::MEMO_LIMIT + 100)
            .map(|i| format!("w{i} "))
            .collect();
        assert_eq!(a.analyze(&text).len(), crate::memo::MEMO_LIMIT + 100);
        TERM_CACHE.with(|c| assert!(c.borrow().len() <= crate::memo::MEMO_LIMIT));
        assert_eq!(a.analyze("w5 w7"), ["w5", "w7"]);
    }

    proptest! {
        /// Cached analysis equals the uncached filter chain, on repeated and fresh tokens.
        #[test]
        fn term_cache_changes_nothing(
            words in proptest::collection::vec("[a-zA-Z\u{e9}']{1,9}", 1..40),
        ) {
            let a = Analyzer::default();
            let text = words.join(" ");
            prop_assert_eq!(a.analyze(&text), uncached(&a, &text));
            prop_assert_eq!(a.analyze(&text), uncached(&a, &text));
        }
    }
}
