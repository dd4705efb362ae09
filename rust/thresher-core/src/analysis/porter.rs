//! The Porter stemmer exactly as Lucene's `PorterStemFilter` applies it.
//!
//! This is a line-by-line port of Lucene's `org.apache.lucene.analysis.en.PorterStemmer`
//! (Apache License 2.0; itself derived from Martin Porter's "Release 3" Java implementation,
//! optimised by Brian Goetz). Why a port instead of a crate: Lucene's stemmer is not the
//! algorithm of the 1980 paper nor Snowball's "Porter" — it carries the departures of
//! Porter's own reference implementation (`-logi` -> `-log`, `-bli` -> `-ble` instead of
//! `-abli` -> `-able`, the two bounds fixes) and works on UTF-16 code units, treating every
//! non-`aeiouy` unit (including any non-ASCII one) as a consonant. No crate we know of
//! reproduces those details, and parity with Anserini's term statistics needs them.
//!
//! The algorithm is generic over the code unit: bytes for ASCII words (identical to their
//! UTF-16 form) and `u16` for everything else, so lengths and positions match Lucene's
//! `char[]` exactly. Stemming only ever shortens a word or rewrites it in place with ASCII
//! letters, never splitting a surrogate pair.

/// A code unit of the word being stemmed.
pub(crate) trait Unit: Copy + Eq {
    /// Whether this unit is the ASCII byte `b`.
    fn is(self, b: u8) -> bool;
    /// The unit for ASCII byte `b`.
    fn from_ascii(b: u8) -> Self;
}

impl Unit for u8 {
    #[inline]
    fn is(self, b: u8) -> bool {
        self == b
    }
    #[inline]
    fn from_ascii(b: u8) -> Self {
        b
    }
}

impl Unit for u16 {
    #[inline]
    fn is(self, b: u8) -> bool {
        self == u16::from(b)
    }
    #[inline]
    fn from_ascii(b: u8) -> Self {
        u16::from(b)
    }
}

/// Stems `word` in place and returns the length of the stem (a prefix of `word` after the
/// call). Words of fewer than three units are left alone, as in Lucene.
pub(crate) fn stem<T: Unit>(word: &mut [T]) -> usize {
    let k = word_len(word) - 1;
    let mut s = Stemmer { b: word, j: 0, k };
    // Lucene: `if (k > k0 + 1)` with k0 = 0.
    if s.k > 1 {
        s.step1();
        s.step2();
        s.step3();
        s.step4();
        s.step5();
        s.step6();
    }
    (s.k + 1) as usize
}

#[inline]
fn word_len<T>(word: &[T]) -> isize {
    // Slices never exceed isize::MAX elements.
    word.len() as isize
}

/// Lucene's `PorterStemmer` state: `b[0..=k]` is the current word, `j` a general offset set
/// by [`Stemmer::ends`]. `k0` is always 0 here.
struct Stemmer<'a, T> {
    b: &'a mut [T],
    j: isize,
    k: isize,
}

impl<T: Unit> Stemmer<'_, T> {
    #[inline]
    fn at(&self, i: isize) -> T {
        self.b[i as usize]
    }

    /// `cons(i)`: `b[i]` is a consonant. A `y` is a consonant at the start or after a vowel;
    /// Lucene recurses through runs of `y`, we loop.
    fn cons(&self, i: isize) -> bool {
        let mut i = i;
        let mut flip = false;
        loop {
            let c = self.at(i);
            if c.is(b'a') || c.is(b'e') || c.is(b'i') || c.is(b'o') || c.is(b'u') {
                return flip;
            }
            if !c.is(b'y') {
                return !flip;
            }
            if i == 0 {
                return !flip;
            }
            flip = !flip;
            i -= 1;
        }
    }

    /// `m()`: the number of consonant sequences between 0 and `j`.
    fn m(&self) -> usize {
        let mut n = 0;
        let mut i = 0;
        loop {
            if i > self.j {
                return n;
            }
            if !self.cons(i) {
                break;
            }
            i += 1;
        }
        i += 1;
        loop {
            loop {
                if i > self.j {
                    return n;
                }
                if self.cons(i) {
                    break;
                }
                i += 1;
            }
            i += 1;
            n += 1;
            loop {
                if i > self.j {
                    return n;
                }
                if !self.cons(i) {
                    break;
                }
                i += 1;
            }
            i += 1;
        }
    }

    /// `vowelinstem()`: `b[0..=j]` contains a vowel.
    fn vowel_in_stem(&self) -> bool {
        (0..=self.j).any(|i| !self.cons(i))
    }

    /// `doublec(j)`: `b[j-1..=j]` is a double consonant.
    fn double_c(&self, j: isize) -> bool {
        if j < 1 {
            return false;
        }
        if self.at(j) != self.at(j - 1) {
            return false;
        }
        self.cons(j)
    }

    /// `cvc(i)`: `b[i-2..=i]` is consonant-vowel-consonant and the last is not w, x or y.
    fn cvc(&self, i: isize) -> bool {
        if i < 2 || !self.cons(i) || self.cons(i - 1) || !self.cons(i - 2) {
            return false;
        }
        let ch = self.at(i);
        !(ch.is(b'w') || ch.is(b'x') || ch.is(b'y'))
    }

    /// `ends(s)`: `b[0..=k]` ends with `s`; if so sets `j` to the end of the rest.
    fn ends(&mut self, s: &[u8]) -> bool {
        let l = s.len() as isize;
        let o = self.k - l + 1;
        if o < 0 {
            return false;
        }
        for (i, &ch) in s.iter().enumerate() {
            if !self.at(o + i as isize).is(ch) {
                return false;
            }
        }
        self.j = self.k - l;
        true
    }

    /// `setto(s)`: replaces `b[j+1..=k]` with `s`.
    fn set_to(&mut self, s: &[u8]) {
        let o = self.j + 1;
        for (i, &ch) in s.iter().enumerate() {
            self.b[(o + i as isize) as usize] = T::from_ascii(ch);
        }
        self.k = self.j + s.len() as isize;
    }

    /// `r(s)`: `setto(s)` when `m() > 0`.
    fn r(&mut self, s: &[u8]) {
        if self.m() > 0 {
            self.set_to(s);
        }
    }

    /// Plurals and -ed / -ing.
    fn step1(&mut self) {
        if self.at(self.k).is(b's') {
            if self.ends(b"sses") {
                self.k -= 2;
            } else if self.ends(b"ies") {
                self.set_to(b"i");
            } else if !self.at(self.k - 1).is(b's') {
                self.k -= 1;
            }
        }
        if self.ends(b"eed") {
            if self.m() > 0 {
                self.k -= 1;
            }
        } else if (self.ends(b"ed") || self.ends(b"ing")) && self.vowel_in_stem() {
            self.k = self.j;
            if self.ends(b"at") {
                self.set_to(b"ate");
            } else if self.ends(b"bl") {
                self.set_to(b"ble");
            } else if self.ends(b"iz") {
                self.set_to(b"ize");
            } else if self.double_c(self.k) {
                let ch = self.at(self.k);
                self.k -= 1;
                if ch.is(b'l') || ch.is(b's') || ch.is(b'z') {
                    self.k += 1;
                }
            } else if self.m() == 1 && self.cvc(self.k) {
                self.set_to(b"e");
            }
        }
    }

    /// Terminal y to i when there is another vowel in the stem.
    fn step2(&mut self) {
        if self.ends(b"y") && self.vowel_in_stem() {
            let k = self.k as usize;
            self.b[k] = T::from_ascii(b'i');
        }
    }

    /// Double suffixes to single ones (-ization -> -ize, ...), when `m() > 0`.
    fn step3(&mut self) {
        if self.k == 0 {
            return;
        }
        let penultimate = self.at(self.k - 1);
        let rules: &[(&[u8], &[u8])] = if penultimate.is(b'a') {
            &[(b"ational", b"ate"), (b"tional", b"tion")]
        } else if penultimate.is(b'c') {
            &[(b"enci", b"ence"), (b"anci", b"ance")]
        } else if penultimate.is(b'e') {
            &[(b"izer", b"ize")]
        } else if penultimate.is(b'l') {
            &[
                (b"bli", b"ble"),
                (b"alli", b"al"),
                (b"entli", b"ent"),
                (b"eli", b"e"),
                (b"ousli", b"ous"),
            ]
        } else if penultimate.is(b'o') {
            &[(b"ization", b"ize"), (b"ation", b"ate"), (b"ator", b"ate")]
        } else if penultimate.is(b's') {
            &[
                (b"alism", b"al"),
                (b"iveness", b"ive"),
                (b"fulness", b"ful"),
                (b"ousness", b"ous"),
            ]
        } else if penultimate.is(b't') {
            &[(b"aliti", b"al"), (b"iviti", b"ive"), (b"biliti", b"ble")]
        } else if penultimate.is(b'g') {
            &[(b"logi", b"log")]
        } else {
            &[]
        };
        self.first_rule(rules);
    }

    /// Applies `r(to)` for the first rule whose suffix matches (Lucene's `break`s).
    fn first_rule(&mut self, rules: &[(&[u8], &[u8])]) {
        for (suffix, to) in rules {
            if self.ends(suffix) {
                self.r(to);
                return;
            }
        }
    }

    /// -ic-, -full, -ness etc.
    fn step4(&mut self) {
        let last = self.at(self.k);
        let rules: &[(&[u8], &[u8])] = if last.is(b'e') {
            &[(b"icate", b"ic"), (b"ative", b""), (b"alize", b"al")]
        } else if last.is(b'i') {
            &[(b"iciti", b"ic")]
        } else if last.is(b'l') {
            &[(b"ical", b"ic"), (b"ful", b"")]
        } else if last.is(b's') {
            &[(b"ness", b"")]
        } else {
            &[]
        };
        self.first_rule(rules);
    }

    /// Takes off -ant, -ence etc., in context `<c>vcvc<v>`.
    fn step5(&mut self) {
        if self.k == 0 {
            return;
        }
        let penultimate = self.at(self.k - 1);
        let matched = if penultimate.is(b'a') {
            self.ends(b"al")
        } else if penultimate.is(b'c') {
            self.ends(b"ance") || self.ends(b"ence")
        } else if penultimate.is(b'e') {
            self.ends(b"er")
        } else if penultimate.is(b'i') {
            self.ends(b"ic")
        } else if penultimate.is(b'l') {
            self.ends(b"able") || self.ends(b"ible")
        } else if penultimate.is(b'n') {
            self.ends(b"ant") || self.ends(b"ement") || self.ends(b"ment") || self.ends(b"ent")
        } else if penultimate.is(b'o') {
            (self.ends(b"ion") && self.j >= 0 && {
                let c = self.at(self.j);
                c.is(b's') || c.is(b't')
            }) || self.ends(b"ou")
        } else if penultimate.is(b's') {
            self.ends(b"ism")
        } else if penultimate.is(b't') {
            self.ends(b"ate") || self.ends(b"iti")
        } else if penultimate.is(b'u') {
            self.ends(b"ous")
        } else if penultimate.is(b'v') {
            self.ends(b"ive")
        } else if penultimate.is(b'z') {
            self.ends(b"ize")
        } else {
            false
        };
        if matched && self.m() > 1 {
            self.k = self.j;
        }
    }

    /// Removes a final -e if `m() > 1`, and -ll to -l if `m() > 1`.
    fn step6(&mut self) {
        self.j = self.k;
        if self.at(self.k).is(b'e') {
            let a = self.m();
            if a > 1 || a == 1 && !self.cvc(self.k - 1) {
                self.k -= 1;
            }
        }
        if self.at(self.k).is(b'l') && self.double_c(self.k) && self.m() > 1 {
            self.k -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn porter(w: &str) -> String {
        let mut b = w.as_bytes().to_vec();
        let n = stem(&mut b);
        String::from_utf8(b[..n].to_vec()).unwrap()
    }

    fn porter16(w: &str) -> String {
        let mut b: Vec<u16> = w.encode_utf16().collect();
        let n = stem(&mut b);
        String::from_utf16(&b[..n]).unwrap()
    }

    #[test]
    fn examples_from_the_lucene_source_comments() {
        for (w, s) in [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("ties", "ti"),
            ("caress", "caress"),
            ("cats", "cat"),
            ("feed", "feed"),
            ("agreed", "agre"),
            ("disabled", "disabl"),
            ("matting", "mat"),
            ("mating", "mate"),
            ("meeting", "meet"),
            ("milling", "mill"),
            ("messing", "mess"),
            ("meetings", "meet"),
        ] {
            assert_eq!(porter(w), s, "{w}");
        }
    }

    #[test]
    fn lucene_quirks() {
        // -logi -> -log and -bli -> -ble (Porter's reference code, not the 1980 paper).
        assert_eq!(porter("analogi"), "analog");
        assert_eq!(porter("sensibli"), "sensibl");
        // Bug fixes 1 and 2 of Release 3: no out-of-bounds on these.
        for w in [
            "aed", "eed", "oed", "ion", "ies", "sss", "yyy", "eds", "ing",
        ] {
            let _ = porter(w);
        }
        assert_eq!(porter("ion"), "ion");
        // Words shorter than 3 units are untouched.
        assert_eq!(porter("is"), "is");
        assert_eq!(porter("as"), "as");
        // Non-ASCII units are consonants.
        assert_eq!(porter16("naïve"), "naïv");
        assert_eq!(porter16("krüppel"), "krüppel");
    }

    /// Words where Lucene's stemmer (Porter's reference code) and the 1980 paper disagree:
    /// `-logi` -> `-log` and `-bli` -> `-ble` in step 3. Checked against NLTK's
    /// `PorterStemmer(mode=MARTIN_EXTENSIONS)`, which agreed with this port on all of 262,740
    /// English words tried (and the paper's algorithm differed on 1,096 of them).
    #[test]
    fn departures_from_the_paper() {
        for (w, lucene, paper) in [
            ("anthropology", "anthropolog", "anthropologi"),
            ("phenomenology", "phenomenolog", "phenomenologi"),
            ("carcinology", "carcinolog", "carcinologi"),
            ("tumbly", "tumbl", "tumbli"),
            ("wabbly", "wabbl", "wabbli"),
            ("indigestibly", "indigest", "indigestibli"),
            ("imperceptibly", "impercept", "imperceptibli"),
            ("reducibly", "reduc", "reducibli"),
            ("incompatibly", "incompat", "incompatibli"),
        ] {
            assert_eq!(porter(w), lucene, "{w}");
            assert_ne!(porter(w), paper, "{w}");
        }
    }

    #[test]
    fn common_words() {
        for (w, s) in [
            ("running", "run"),
            ("generalizations", "gener"),
            ("oscillators", "oscil"),
            ("relational", "relat"),
            ("conditional", "condit"),
            ("rational", "ration"),
            ("valenci", "valenc"),
            ("hesitanci", "hesit"),
            ("digitizer", "digit"),
            ("conformabli", "conform"),
            ("radicalli", "radic"),
            ("differentli", "differ"),
            ("vileli", "vile"),
            ("analogousli", "analog"),
            ("vietnamization", "vietnam"),
            ("predication", "predic"),
            ("operator", "oper"),
            ("feudalism", "feudal"),
            ("decisiveness", "decis"),
            ("hopefulness", "hope"),
            ("callousness", "callous"),
            ("formaliti", "formal"),
            ("sensitiviti", "sensit"),
            ("sensibiliti", "sensibl"),
            ("triplicate", "triplic"),
            ("formative", "form"),
            ("formalize", "formal"),
            ("electriciti", "electr"),
            ("electrical", "electr"),
            ("hopeful", "hope"),
            ("goodness", "good"),
            ("revival", "reviv"),
            ("allowance", "allow"),
            ("inference", "infer"),
            ("airliner", "airlin"),
            ("gyroscopic", "gyroscop"),
            ("adjustable", "adjust"),
            ("defensible", "defens"),
            ("irritant", "irrit"),
            ("replacement", "replac"),
            ("adjustment", "adjust"),
            ("dependent", "depend"),
            ("adoption", "adopt"),
            ("homologou", "homolog"),
            ("communism", "commun"),
            ("activate", "activ"),
            ("angulariti", "angular"),
            ("homologous", "homolog"),
            ("effective", "effect"),
            ("bowdlerize", "bowdler"),
            ("probate", "probat"),
            ("rate", "rate"),
            ("cease", "ceas"),
            ("controll", "control"),
            ("roll", "roll"),
            ("happy", "happi"),
            ("sky", "sky"),
            ("microstructural", "microstructur"),
            ("diffusion", "diffus"),
            ("anisotropy", "anisotropi"),
        ] {
            assert_eq!(porter(w), s, "{w}");
        }
    }
}
