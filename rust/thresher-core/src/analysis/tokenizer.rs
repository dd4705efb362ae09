//! A port of Lucene's `StandardTokenizer` (the JFlex grammar `StandardTokenizerImpl.jflex`
//! of Lucene 8-10, UAX #29 word boundaries).
//!
//! The grammar is a longest-match scanner: at each position every rule is tried, the longest
//! match wins, and if no rule matches one code point is skipped (rule `[^]`). All rules other
//! than `[^]` emit a token, so the token text is simply the longest match of the union of:
//!
//! - **word** (`ALPHANUM`, and its subsets `NUM`, `HANGUL`, `KATAKANA`): UAX #29 rules
//!   WB5-WB13b written as a regular expression over "items"; an item is a base character
//!   followed by any number of `Extend | Format | ZWJ` characters (WB4);
//! - **emoji**: TR #51 emoji sequences (presentation, modifier, ZWJ and tag sequences,
//!   keycaps, flag pairs);
//! - **South-East Asian**: runs of `Line_Break=Complex_Context` characters;
//! - **ideographic / hiragana**: a single Han or Hiragana character.
//!
//! Each rule is simulated as a small NFA (a bit set of states) in one pass over the
//! characters, keeping the end of the longest accepting prefix. Unit tests check these
//! hand-written automata against the grammar transcribed as one regular expression and run
//! by `regex-automata`, exhaustively on short strings.
//!
//! Why not `unicode-segmentation`: its `unicode_words()` is full UAX #29 plus an
//! "is alphanumeric" filter, which is not Lucene's grammar. On SciFact it matched Lucene on
//! only 5142 of 5183 documents (99.21%): it drops the emoji tokens Lucene emits for `©`,
//! `®`, `™` and `↔`, and keeps superscript/subscript digits and fractions (`²`, `₂`, `¼`,
//! `General_Category=No`, `Word_Break=Other`) that Lucene skips. Its word-boundary iterator
//! also differs from Lucene on emoji sequences and leading combining marks.
//!
//! Token length: Lucene's scanner buffer holds `maxTokenLength` UTF-16 units (255 by
//! default) and does not grow; a match that would need more input than fits is cut where the
//! buffer ends (at its longest accepting prefix within the buffer), and scanning resumes
//! right after it. So long "words" come out in chunks of at most `max_units` UTF-16 units,
//! never splitting a surrogate pair. [`tokenize`] reproduces this by treating the position
//! `max_units` UTF-16 units after a token start as the end of the input.

use super::charclass::{self as cc, CharClasses};

/// Calls `emit` with every token of `text`, in order.
pub(crate) fn tokenize<'t>(
    classes: &CharClasses,
    text: &'t str,
    max_units: usize,
    mut emit: impl FnMut(&'t str),
) {
    let bytes = text.as_bytes();
    let len = bytes.len();
    let mut pos = 0;
    while pos < len {
        let b = bytes[pos];
        if b < 0x80 {
            if b.is_ascii_alphanumeric() {
                // Fast path: an ASCII alphanumeric run ended by end of text or by an ASCII
                // character that no rule can continue with is exactly the longest match.
                let mut end = pos + 1;
                while end < len && bytes[end].is_ascii_alphanumeric() {
                    end += 1;
                }
                if end - pos <= max_units && (end == len || ascii_stops_word(bytes[end])) {
                    emit(&text[pos..end]);
                    pos = end;
                    continue;
                }
            } else if !matches!(b, b'_' | b'#' | b'*') {
                pos += 1;
                continue;
            }
        }
        let end = longest_match(classes, text, pos, max_units);
        if end > pos {
            emit(&text[pos..end]);
            pos = end;
        } else {
            // `[^]`: skip one code point.
            pos += text[pos..].chars().next().map_or(1, char::len_utf8);
        }
    }
}

/// Whether an ASCII byte after an alphanumeric run ends every rule's match: anything but the
/// mid-word punctuation of UAX #29 (`. , : ; ' "`) and the connector `_`.
#[inline]
fn ascii_stops_word(b: u8) -> bool {
    b < 0x80
        && !b.is_ascii_alphanumeric()
        && !matches!(b, b'.' | b',' | b':' | b';' | b'\'' | b'"' | b'_')
}

// ---------------------------------------------------------------------------------------------
// Word rule (ALPHANUM/NUM/HANGUL/KATAKANA), from the JFlex grammar:
//
//   ENL* inner (ENL+ inner)* ENL*
//   inner = K (ENL* K)*
//         | ( H (SQ | DQ H) | N ((ENL* | MN) N)* | A ((ENL* | ML) A)* )+
//
// over items K(atakana), H(ebrew letter), A(Letter or Hebrew letter), N(umeric),
// ENL (ExtendNumLet), MN (MidNum | MidNumLet | Single_Quote),
// ML (MidLetter | MidNumLet | Single_Quote), SQ (Single_Quote), DQ (Double_Quote).
// ---------------------------------------------------------------------------------------------

/// Leading ENLs, nothing else yet.
const W_START: u16 = 1 << 0;
/// After a katakana item (end of an inner).
const W_K: u16 = 1 << 1;
/// Katakana, then ENLs, waiting for another katakana.
const W_KE: u16 = 1 << 2;
/// H-group: after its first Hebrew letter.
const W_H1: u16 = 1 << 3;
/// H-group: after `H DQ`.
const W_H2: u16 = 1 << 4;
/// H-group complete (`H SQ` or `H DQ H`).
const W_HEND: u16 = 1 << 5;
/// N-group: after a numeric item.
const W_N: u16 = 1 << 6;
/// N-group: after ENLs, waiting for a numeric item.
const W_NE: u16 = 1 << 7;
/// N-group: after a MidNum item, waiting for a numeric item.
const W_NM: u16 = 1 << 8;
/// A-group: after a letter.
const W_A: u16 = 1 << 9;
/// A-group: after ENLs, waiting for a letter.
const W_AE: u16 = 1 << 10;
/// A-group: after a MidLetter item, waiting for a letter.
const W_AM: u16 = 1 << 11;
/// After a complete inner and one or more ENLs.
const W_E: u16 = 1 << 12;
const W_ACCEPT: u16 = W_K | W_HEND | W_N | W_A | W_E;

/// Next state set of the word rule on a base (non-WB4) character with flags `f`.
#[inline]
fn word_step(s: u16, f: u32) -> u16 {
    let is_k = f & cc::KATAKANA != 0;
    let is_h = f & cc::HEBREW != 0;
    let is_a = f & (cc::ALETTER | cc::HEBREW) != 0;
    let is_n = f & cc::NUMERIC != 0;
    let is_enl = f & cc::EXTEND_NUM_LET != 0;
    let mut next = 0;
    // Starting a group of the `( ... )+` alternative.
    let group_start =
        (if is_h { W_H1 } else { 0 }) | (if is_a { W_A } else { 0 }) | (if is_n { W_N } else { 0 });
    // Starting an inner.
    let inner_start = group_start | if is_k { W_K } else { 0 };
    if s & (W_START | W_E) != 0 {
        next |= inner_start;
        if is_enl {
            next |= s & (W_START | W_E);
        }
    }
    if s & W_K != 0 {
        if is_k {
            next |= W_K;
        }
        if is_enl {
            next |= W_KE | W_E;
        }
    }
    if s & W_KE != 0 {
        if is_k {
            next |= W_K;
        }
        if is_enl {
            next |= W_KE;
        }
    }
    if s & W_H1 != 0 {
        if f & cc::SINGLE_QUOTE != 0 {
            next |= W_HEND;
        }
        if f & cc::DOUBLE_QUOTE != 0 {
            next |= W_H2;
        }
    }
    if s & W_H2 != 0 && is_h {
        next |= W_HEND;
    }
    if s & (W_HEND | W_N | W_A) != 0 {
        next |= group_start;
        if is_enl {
            next |= W_E;
        }
    }
    if s & W_N != 0 {
        if is_enl {
            next |= W_NE;
        }
        if f & cc::MID_NUM != 0 {
            next |= W_NM;
        }
    }
    if s & W_NE != 0 {
        if is_n {
            next |= W_N;
        }
        if is_enl {
            next |= W_NE;
        }
    }
    if s & W_NM != 0 && is_n {
        next |= W_N;
    }
    if s & W_A != 0 {
        if is_enl {
            next |= W_AE;
        }
        if f & cc::MID_LETTER != 0 {
            next |= W_AM;
        }
    }
    if s & W_AE != 0 {
        if is_a {
            next |= W_A;
        }
        if is_enl {
            next |= W_AE;
        }
    }
    if s & W_AM != 0 && is_a {
        next |= W_A;
    }
    next
}

// ---------------------------------------------------------------------------------------------
// Emoji rule, from the JFlex grammar:
//
//     U ( (ZWJ U)* | TagSpec+ TagTerm )
//   | KeyCapBase X* FE0F? 20E3 X*
//   | RI Ext* RI Ext*
//
//   U = ZWJ* EmojiChar X* FE0F?  |  (ZWJ* EmojiModifierBase X*)? EmojiModifier X*
//
// where X is Extend | Format | ZWJ without the presentation selectors FE0E/FE0F, and Ext is
// Extend | Format | ZWJ. States suffixed 2 belong to a U after a `ZWJ` separator, which may not
// be followed by a tag sequence.
// ---------------------------------------------------------------------------------------------

const E_START: u32 = 1 << 0;
const E_UZ: u32 = 1 << 1;
const E_P: u32 = 1 << 2;
const E_P2: u32 = 1 << 3;
const E_B: u32 = 1 << 4;
const E_M: u32 = 1 << 5;
const E_START_2: u32 = 1 << 6;
const E_UZ_2: u32 = 1 << 7;
const E_P_2: u32 = 1 << 8;
const E_P2_2: u32 = 1 << 9;
const E_B_2: u32 = 1 << 10;
const E_M_2: u32 = 1 << 11;
const E_TAG: u32 = 1 << 12;
const E_TAG_END: u32 = 1 << 13;
const E_KC_START: u32 = 1 << 14;
const E_KC1: u32 = 1 << 15;
const E_KC2: u32 = 1 << 16;
const E_KC3: u32 = 1 << 17;
const E_RI_START: u32 = 1 << 18;
const E_RI1: u32 = 1 << 19;
const E_RI2: u32 = 1 << 20;
const E_INITIAL: u32 = E_START | E_KC_START | E_RI_START;
const E_ACCEPT: u32 = E_P | E_P2 | E_M | E_P_2 | E_P2_2 | E_M_2 | E_TAG_END | E_KC3 | E_RI2;

/// Next state set of the emoji rule on character `c` with flags `f`.
#[inline]
fn emoji_step(s: u32, c: char, f: u32) -> u32 {
    let ext = f & cc::EXT != 0;
    let pres = c == '\u{FE0F}';
    let x = ext && c != '\u{FE0E}' && !pres;
    let zwj = f & cc::ZWJ != 0;
    let ec = f & cc::EMOJI_CHAR != 0;
    let emb = f & cc::EMOJI_MODIFIER_BASE != 0;
    let emod = f & cc::EMOJI_MODIFIER != 0;
    let tag_spec = ('\u{E0020}'..='\u{E007E}').contains(&c);
    let mut next = 0;
    // The two copies of U: (start, uz, p, p2, b, m, may_tag).
    for (st, uz, p, p2, b, m, first) in [
        (E_START, E_UZ, E_P, E_P2, E_B, E_M, true),
        (E_START_2, E_UZ_2, E_P_2, E_P2_2, E_B_2, E_M_2, false),
    ] {
        if s & (st | uz) != 0 {
            if zwj {
                next |= uz;
            }
            if ec {
                next |= p;
            }
            if emb {
                next |= b;
            }
        }
        if s & st != 0 && emod {
            next |= m;
        }
        if s & p != 0 {
            if x {
                next |= p;
            }
            if pres {
                next |= p2;
            }
        }
        if s & b != 0 {
            if x {
                next |= b;
            }
            if emod {
                next |= m;
            }
        }
        if s & m != 0 && x {
            next |= m;
        }
        if s & (p | p2 | m) != 0 {
            if zwj {
                next |= E_START_2;
            }
            if first && tag_spec {
                next |= E_TAG;
            }
        }
    }
    if s & E_TAG != 0 {
        if tag_spec {
            next |= E_TAG;
        }
        if c == '\u{E007F}' {
            next |= E_TAG_END;
        }
    }
    if s & E_KC_START != 0 && f & cc::KEYCAP_BASE != 0 {
        next |= E_KC1;
    }
    if s & E_KC1 != 0 {
        if x {
            next |= E_KC1;
        }
        if pres {
            next |= E_KC2;
        }
    }
    if s & (E_KC1 | E_KC2) != 0 && c == '\u{20E3}' {
        next |= E_KC3;
    }
    if s & E_KC3 != 0 && x {
        next |= E_KC3;
    }
    if s & E_RI_START != 0 && f & cc::REGIONAL_INDICATOR != 0 {
        next |= E_RI1;
    }
    if s & E_RI1 != 0 {
        if ext {
            next |= E_RI1;
        }
        if f & cc::REGIONAL_INDICATOR != 0 {
            next |= E_RI2;
        }
    }
    if s & E_RI2 != 0 && ext {
        next |= E_RI2;
    }
    next
}

/// End (byte offset) of the longest token starting at `start`, or `start` if none; never
/// more than `max_units` UTF-16 units long.
fn longest_match(classes: &CharClasses, text: &str, start: usize, max_units: usize) -> usize {
    let mut word: u16 = W_START;
    let mut emoji: u32 = E_INITIAL;
    // Single Han / Hiragana character, then WB4 extenders.
    let mut single = false;
    // Complex_Context run.
    let mut sea = false;
    let mut best = start;
    let mut units = 0;
    let mut first = true;
    for (i, c) in text[start..].char_indices() {
        units += c.len_utf16();
        if units > max_units {
            break;
        }
        let f = classes.get(c);
        let ext = f & cc::EXT != 0;
        if first {
            if f & cc::TOKEN_START == 0 {
                return start;
            }
            word = word_step(word, f);
            single = f & (cc::HAN | cc::HIRAGANA) != 0;
            sea = f & cc::COMPLEX_CONTEXT != 0;
            first = false;
        } else {
            // WB4: extenders after an item leave the word rule's state unchanged.
            if !ext {
                word = word_step(word, f);
            }
            single &= ext;
            sea &= ext || f & cc::COMPLEX_CONTEXT != 0;
        }
        emoji = emoji_step(emoji, c, f);
        if word == 0 && emoji == 0 && !single && !sea {
            break;
        }
        if word & W_ACCEPT != 0 || emoji & E_ACCEPT != 0 || single || sea {
            best = start + i + c.len_utf8();
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<&str> {
        toks_max(text, 255)
    }

    fn toks_max(text: &str, max: usize) -> Vec<&str> {
        let mut v = Vec::new();
        tokenize(cc::classes(), text, max, |t| v.push(t));
        v
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("1,000 1.8 0.016 -5 +/- 3.5%"),
            ["1,000", "1.8", "0.016", "5", "3.5"]
        );
        assert_eq!(toks("1,000,000. 10.9,"), ["1,000,000", "10.9"]);
        assert_eq!(toks("1..2 1,,2 1'000"), ["1", "2", "1", "2", "1'000"]);
        assert_eq!(toks("v1.2.3 3.x 1.a"), ["v1.2.3", "3", "x", "1", "a"]);
    }

    #[test]
    fn hyphens_apostrophes_and_punctuation() {
        assert_eq!(
            toks("three-dimensional full-term"),
            ["three", "dimensional", "full", "term"]
        );
        assert_eq!(
            toks("don't O'Neil's 'quoted' rock'n'roll"),
            ["don't", "O'Neil's", "quoted", "rock'n'roll"]
        );
        assert_eq!(
            toks("it’s e.g. U.S.A. a:b a;b"),
            ["it’s", "e.g", "U.S.A", "a:b", "a", "b"]
        );
        assert_eq!(toks("snake_case _x_ __"), ["snake_case", "_x_"]);
        assert_eq!(toks("(n = 17) [a] {b} <c>"), ["n", "17", "a", "b", "c"]);
    }

    #[test]
    fn urls_and_emails_are_split() {
        assert_eq!(
            toks("see https://www.example.com/a/b?x=1 now"),
            ["see", "https", "www.example.com", "a", "b", "x", "1", "now"]
        );
        assert_eq!(
            toks("mail john.doe@example.org"),
            ["mail", "john.doe", "example.org"]
        );
    }

    #[test]
    fn cjk_and_other_scripts() {
        assert_eq!(toks("中文字"), ["中", "文", "字"]);
        assert_eq!(toks("ひらがな"), ["ひ", "ら", "が", "な"]);
        assert_eq!(toks("カタカナ"), ["カタカナ"]);
        assert_eq!(toks("한국어 문장"), ["한국어", "문장"]);
        assert_eq!(toks("ภาษาไทย ok"), ["ภาษาไทย", "ok"]);
        assert_eq!(toks("naïve Krüppel αβγ"), ["naïve", "Krüppel", "αβγ"]);
        // Combining marks stay with their base; a leading one is skipped.
        assert_eq!(toks("e\u{301}t\u{301} \u{301}x"), ["e\u{301}t\u{301}", "x"]);
        // Hebrew letters may end with a single quote (WB7a) or contain a double quote (WB7b/c).
        assert_eq!(toks("א' ב\"ג"), ["א'", "ב\"ג"]);
        // Fullwidth digits are numeric.
        assert_eq!(toks("１２３"), ["１２３"]);
    }

    #[test]
    fn emoji() {
        assert_eq!(toks("a ® b © ™ ↔"), ["a", "®", "b", "©", "™", "↔"]);
        assert_eq!(toks("😀😀"), ["😀", "😀"]);
        assert_eq!(toks("👍🏻!"), ["👍🏻"]);
        // Skin-tone modifiers extend whatever precedes them (Word_Break=Extend in 12.1).
        assert_eq!(toks("a🏻"), ["a🏻"]);
        assert_eq!(toks("x🏻y 1🏻 😀🏻 🏻🏻"), ["x🏻y", "1🏻", "😀🏻", "🏻🏻"]);
        assert_eq!(toks("👍🏻\u{FE0F}"), ["👍🏻\u{FE0F}"]);
        assert_eq!(
            toks("👩\u{200D}👩\u{200D}👧 x"),
            ["👩\u{200D}👩\u{200D}👧", "x"]
        );
        assert_eq!(toks("❤\u{FE0F} ❤\u{FE0E}"), ["❤\u{FE0F}", "❤"]);
        assert_eq!(toks("🇺🇸🇫"), ["🇺🇸"]);
        assert_eq!(
            toks("1\u{FE0F}\u{20E3} #\u{20E3} # *"),
            ["1\u{FE0F}\u{20E3}", "#\u{20E3}"]
        );
        assert_eq!(
            toks("🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}"),
            ["🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}"]
        );
    }

    #[test]
    fn invisible_characters() {
        // Soft hyphen and LRM are Format (absorbed); ZWSP is not.
        assert_eq!(
            toks("co\u{AD}operate a\u{200B}b x\u{200E}"),
            ["co\u{AD}operate", "a", "b", "x\u{200E}"]
        );
        assert_eq!(toks(""), Vec::<&str>::new());
        assert_eq!(toks("  \t\n...--"), Vec::<&str>::new());
    }

    #[test]
    fn long_tokens_are_chopped_like_lucene() {
        let long = "a".repeat(600);
        let t = toks(&long);
        assert_eq!(
            t.iter().map(|s| s.len()).collect::<Vec<_>>(),
            [255, 255, 90]
        );
        assert_eq!(toks_max("abcdefg", 3), ["abc", "def", "g"]);
        // The chop happens at the last accepting position inside the limit.
        assert_eq!(toks_max("1,234,567", 6), ["1,234", "567"]);
        // Surrogate pairs are never split: 𝐚 (U+1D41A) is two UTF-16 units.
        assert_eq!(toks_max("𝐚𝐚𝐚", 3), ["𝐚", "𝐚", "𝐚"]);
        assert_eq!(toks_max("𝐚𝐚𝐚", 4), ["𝐚𝐚", "𝐚"]);
    }

    /// Expected outputs from Lucene's own `TestStandardAnalyzer` (Apache License 2.0), which
    /// runs `StandardTokenizer` alone.
    #[test]
    fn cases_from_lucenes_test_standard_analyzer() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Վիքիպեդիայի 13 միլիոն հոդվածները (4,600` հայերեն վիքիպեդիայում) գրվել են կամավորների կողմից ու համարյա բոլոր հոդվածները կարող է խմբագրել ցանկաց մարդ ով կարող է բացել Վիքիպեդիայի կայքը։",
                &[
                    "Վիքիպեդիայի", "13", "միլիոն", "հոդվածները", "4,600", "հայերեն", "վիքիպեդիայում",
                    "գրվել", "են", "կամավորների", "կողմից", "ու", "համարյա", "բոլոր", "հոդվածները",
                    "կարող", "է", "խմբագրել", "ցանկաց", "մարդ", "ով", "կարող", "է", "բացել",
                    "Վիքիպեդիայի", "կայքը",
                ],
            ),
            (
                "ዊኪፔድያ የባለ ብዙ ቋንቋ የተሟላ ትክክለኛና ነጻ መዝገበ ዕውቀት (ኢንሳይክሎፒዲያ) ነው። ማንኛውም",
                &[
                    "ዊኪፔድያ", "የባለ", "ብዙ", "ቋንቋ", "የተሟላ", "ትክክለኛና", "ነጻ", "መዝገበ", "ዕውቀት",
                    "ኢንሳይክሎፒዲያ", "ነው", "ማንኛውም",
                ],
            ),
            (
                "الفيلم الوثائقي الأول عن ويكيبيديا يسمى \"الحقيقة بالأرقام: قصة ويكيبيديا\" (بالإنجليزية: Truth in Numbers: The Wikipedia Story)، سيتم إطلاقه في 2008.",
                &[
                    "الفيلم", "الوثائقي", "الأول", "عن", "ويكيبيديا", "يسمى", "الحقيقة", "بالأرقام",
                    "قصة", "ويكيبيديا", "بالإنجليزية", "Truth", "in", "Numbers", "The", "Wikipedia",
                    "Story", "سيتم", "إطلاقه", "في", "2008",
                ],
            ),
            (
                "এই বিশ্বকোষ পরিচালনা করে উইকিমিডিয়া ফাউন্ডেশন (একটি অলাভজনক সংস্থা)। উইকিপিডিয়ার শুরু ১৫ জানুয়ারি, ২০০১ সালে। এখন পর্যন্ত ২০০টিরও বেশী ভাষায় উইকিপিডিয়া রয়েছে।",
                &[
                    "এই", "বিশ্বকোষ", "পরিচালনা", "করে", "উইকিমিডিয়া", "ফাউন্ডেশন", "একটি", "অলাভজনক",
                    "সংস্থা", "উইকিপিডিয়ার", "শুরু", "১৫", "জানুয়ারি", "২০০১", "সালে", "এখন", "পর্যন্ত",
                    "২০০টিরও", "বেশী", "ভাষায়", "উইকিপিডিয়া", "রয়েছে",
                ],
            ),
            (
                "ویکی پدیای انگلیسی در تاریخ ۲۵ دی ۱۳۷۹ به صورت مکملی برای دانشنامهٔ تخصصی نوپدیا نوشته شد.",
                &[
                    "ویکی", "پدیای", "انگلیسی", "در", "تاریخ", "۲۵", "دی", "۱۳۷۹", "به", "صورت", "مکملی",
                    "برای", "دانشنامهٔ", "تخصصی", "نوپدیا", "نوشته", "شد",
                ],
            ),
            (
                "Γράφεται σε συνεργασία από εθελοντές με το λογισμικό wiki, κάτι που σημαίνει ότι άρθρα μπορεί να προστεθούν ή να αλλάξουν από τον καθένα.",
                &[
                    "Γράφεται", "σε", "συνεργασία", "από", "εθελοντές", "με", "το", "λογισμικό", "wiki",
                    "κάτι", "που", "σημαίνει", "ότι", "άρθρα", "μπορεί", "να", "προστεθούν", "ή", "να",
                    "αλλάξουν", "από", "τον", "καθένα",
                ],
            ),
            (
                "การที่ได้ต้องแสดงว่างานดี. แล้วเธอจะไปไหน? ๑๒๓๔",
                &["การที่ได้ต้องแสดงว่างานดี", "แล้วเธอจะไปไหน", "๑๒๓๔"],
            ),
            ("ສາທາລະນະລັດ ປະຊາທິປະໄຕ ປະຊາຊົນລາວ", &["ສາທາລະນະລັດ", "ປະຊາທິປະໄຕ", "ປະຊາຊົນລາວ"]),
            (
                "སྣོན་མཛོད་དང་ལས་འདིས་བོད་ཡིག་མི་ཉམས་གོང་འཕེལ་དུ་གཏོང་བར་ཧ་ཅང་དགེ་མཚན་མཆིས་སོ། །",
                &[
                    "སྣོན", "མཛོད", "དང", "ལས", "འདིས", "བོད", "ཡིག", "མི", "ཉམས", "གོང", "འཕེལ", "དུ",
                    "གཏོང", "བར", "ཧ", "ཅང", "དགེ", "མཚན", "མཆིས", "སོ",
                ],
            ),
            ("我是中国人。 １２３４ Ｔｅｓｔｓ ", &["我", "是", "中", "国", "人", "１２３４", "Ｔｅｓｔｓ"]),
            ("", &[]),
            (".", &[]),
            (" ", &[]),
            ("mo\u{364}chte", &["mo\u{364}chte"]),
            ("B2B 2B", &["B2B", "2B"]),
            ("some-dashed-phrase dogs,chase,cats ac/dc", &[
                "some", "dashed", "phrase", "dogs", "chase", "cats", "ac", "dc",
            ]),
            ("O'Reilly you're she's Jim's don't O'Reilly's", &[
                "O'Reilly", "you're", "she's", "Jim's", "don't", "O'Reilly's",
            ]),
            ("21.35 R2D2 C3PO 216.239.63.104", &["21.35", "R2D2", "C3PO", "216.239.63.104"]),
            ("David has 5000 bones", &["David", "has", "5000", "bones"]),
            ("foo      bar .  FOO <> BAR \"QUOTED\" word", &[
                "foo", "bar", "FOO", "BAR", "QUOTED", "word",
            ]),
            ("안녕하세요 한글입니다 훈민정음", &["안녕하세요", "한글입니다", "훈민정음"]),
            ("𩬅艱鍟䇹愯瀛", &["𩬅", "艱", "鍟", "䇹", "愯", "瀛"]),
            ("仮名遣い カタカナ", &["仮", "名", "遣", "い", "カタカナ"]),
            ("さ\u{3099} サ\u{3099} 壹\u{3099} 아\u{3099}", &[
                "さ\u{3099}", "サ\u{3099}", "壹\u{3099}", "아\u{3099}",
            ]),
            ("A:B A::B 1.2 A.B 1..2 A..B 1,2 1,,2", &[
                "A:B", "A", "B", "1.2", "A.B", "1", "2", "A", "B", "1,2", "1", "2",
            ]),
            ("A.:B A:.B 1,.2 1.,2", &["A", "B", "A", "B", "1", "2", "1", "2"]),
            ("A:B_A:B A:B_A::B 1.2_1.2 A.B_A.B 1.2_1..2 A.B_A..B", &[
                "A:B_A:B", "A:B_A", "B", "1.2_1.2", "A.B_A.B", "1.2_1", "2", "A.B_A", "B",
            ]),
            ("1,2_1,2 1,2_1,,2 C_A.:B C_A:.B 3_1,.2 3_1.,2", &[
                "1,2_1,2", "1,2_1", "2", "C_A", "B", "C_A", "B", "3_1", "2", "3_1", "2",
            ]),
            ("💩 💩💩", &["💩", "💩", "💩"]),
            ("👩\u{200D}❤\u{FE0F}\u{200D}👩", &["👩\u{200D}❤\u{FE0F}\u{200D}👩"]),
            ("👨🏼\u{200D}⚕\u{FE0F}", &["👨🏼\u{200D}⚕\u{FE0F}"]),
            ("🇺🇸🇺🇸", &["🇺🇸", "🇺🇸"]),
            ("#\u{FE0F}\u{20E3} 3\u{FE0F}\u{20E3}", &["#\u{FE0F}\u{20E3}", "3\u{FE0F}\u{20E3}"]),
            ("#\u{FE0E}", &[]),
            ("3\u{FE0E}", &["3\u{FE0E}"]),
            ("\u{2B55}\u{FE0E}", &["\u{2B55}"]),
            ("\u{2B55}\u{FE0E}\u{200D}\u{2B55}\u{FE0E}", &["\u{2B55}", "\u{200D}\u{2B55}"]),
            ("🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}", &[
                "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
            ]),
            ("poo💩poo 💩中國💩", &["poo", "💩", "poo", "💩", "中", "國", "💩"]),
            ("12345678\u{10300}", &["12345678\u{10300}"]),
        ];
        for (text, want) in cases {
            assert_eq!(toks(text), *want, "{text:?}");
        }
        // testMaxTokenLengthDefault / testMaxTokenLengthNonDefault.
        let b255 = "b".repeat(255);
        let input = format!("x {b255} {b255}b");
        assert_eq!(toks(&input), ["x", b255.as_str(), b255.as_str(), "b"]);
        assert_eq!(
            toks_max("ab cd toolong xy z", 5),
            ["ab", "cd", "toolo", "ng", "xy", "z"]
        );
    }

    /// A second, independent rendering of the JFlex grammar: the rules written as one regular
    /// expression (transcribed rule by rule from `StandardTokenizerImpl.jflex`), searched anchored with
    /// longest-match semantics by `regex-automata`. Only the character properties are shared
    /// with the hand-written automata above.
    mod reference {
        use regex_automata::hybrid::dfa::{Cache, DFA};
        use regex_automata::{Anchored, Input, MatchKind};

        pub(super) struct Grammar {
            dfa: DFA,
        }

        fn class_of(pred: impl Fn(u32) -> bool) -> String {
            let mut out = String::from("[");
            let mut cp = 0u32;
            while cp < 0x11_0000 {
                if pred(cp) {
                    let lo = cp;
                    while cp + 1 < 0x11_0000 && pred(cp + 1) {
                        cp += 1;
                    }
                    out.push_str(&format!(r"\x{{{lo:X}}}-\x{{{cp:X}}}"));
                }
                cp += 1;
            }
            out.push(']');
            out
        }

        impl Grammar {
            pub(super) fn new() -> Self {
                let sa = class_of(|cp| {
                    unicode_linebreak::break_property(cp)
                        == unicode_linebreak::BreakClass::ComplexContext
                });
                let ext_set = r"\p{WB=Format}\p{WB=Extend}\p{WB=ZWJ}";
                // Unicode 12.1 (Lucene's) has the emoji modifiers in Word_Break=Extend too.
                let ext = format!(r"[{ext_set}]*");
                let ext_sans = format!(r"[{ext_set}--[\x{{FE0E}}\x{{FE0F}}]]*");
                let ex = |base: &str| format!("(?:{base}{ext})");
                let hebrew = ex(r"\p{WB=Hebrew_Letter}");
                let ahletter = ex(r"[\p{WB=ALetter}\p{WB=Hebrew_Letter}]");
                let numeric = ex(r"[\p{WB=Numeric}\x{FF10}-\x{FF19}]");
                let katakana = ex(r"\p{WB=Katakana}");
                let mid_letter = ex(r"[\p{WB=MidLetter}\p{WB=MidNumLet}\p{WB=Single_Quote}]");
                let mid_num = ex(r"[\p{WB=MidNum}\p{WB=MidNumLet}\p{WB=Single_Quote}]");
                let enl = ex(r"\p{WB=ExtendNumLet}");
                let sq = ex(r"\p{WB=Single_Quote}");
                let dq = ex(r"\p{WB=Double_Quote}");
                let ri = ex(r"\p{WB=Regional_Indicator}");
                let inner = format!(
                    "(?:{katakana}(?:{enl}*{katakana})*\
                     |(?:{hebrew}(?:{sq}|{dq}{hebrew})\
                       |{numeric}(?:(?:{enl}*|{mid_num}){numeric})*\
                       |{ahletter}(?:(?:{enl}*|{mid_letter}){ahletter})*)+)"
                );
                let word = format!("{enl}*{inner}(?:{enl}+{inner})*{enl}*");
                let emoji_char = format!(
                    r"[\p{{Extended_Pictographic}}[\p{{Emoji}}--\p{{WB=Regional_Indicator}}--[0-9#*]--[\x{{A9}}\x{{AE}}\x{{2122}}\x{{3030}}\x{{303D}}]--\p{{Emoji_Modifier}}]]{ext_sans}"
                );
                let mod_base = format!(r"\p{{Emoji_Modifier_Base}}{ext_sans}");
                let modifier = format!(r"\p{{Emoji_Modifier}}{ext_sans}");
                let u = format!(
                    r"(?:\x{{200D}}*{emoji_char}\x{{FE0F}}?|(?:\x{{200D}}*{mod_base})?{modifier})"
                );
                let emoji = format!(
                    r"{u}(?:(?:\x{{200D}}{u})*|[\x{{E0020}}-\x{{E007E}}]+\x{{E007F}})|[0-9#*]{ext_sans}\x{{FE0F}}?\x{{20E3}}{ext_sans}|{ri}{ri}"
                );
                let sea = format!("(?:{sa}{ext})+");
                let han = ex(r"\p{Script=Han}");
                let hiragana = ex(r"\p{Script=Hiragana}");
                let pattern = format!("(?:{emoji})|(?:{word})|{sea}|{han}|{hiragana}");
                let dfa = DFA::builder()
                    .configure(
                        DFA::config()
                            .match_kind(MatchKind::All)
                            .cache_capacity(64 << 20),
                    )
                    .build(&pattern)
                    .expect("the grammar compiles");
                Self { dfa }
            }

            /// Tokens of `text` by the longest-match scanner with the `[^]` fallback.
            pub(super) fn tokens<'t>(&self, cache: &mut Cache, text: &'t str) -> Vec<&'t str> {
                let mut out = Vec::new();
                let mut pos = 0;
                while pos < text.len() {
                    let input = Input::new(text).range(pos..).anchored(Anchored::Yes);
                    let end = self
                        .dfa
                        .try_search_fwd(cache, &input)
                        .expect("search succeeds")
                        .map_or(pos, |m| m.offset());
                    if end > pos {
                        out.push(&text[pos..end]);
                        pos = end;
                    } else {
                        pos += text[pos..].chars().next().map_or(1, char::len_utf8);
                    }
                }
                out
            }

            pub(super) fn cache(&self) -> Cache {
                self.dfa.create_cache()
            }
        }
    }

    fn grammar() -> &'static reference::Grammar {
        use std::sync::OnceLock;
        static GRAMMAR: OnceLock<reference::Grammar> = OnceLock::new();
        GRAMMAR.get_or_init(reference::Grammar::new)
    }

    /// Compares both implementations on every string of up to `max_len` characters from
    /// `alphabet`.
    fn agree_on_all_strings(alphabet: &[char], max_len: usize) {
        let grammar = grammar();
        let mut cache = grammar.cache();
        let mut text = String::new();
        let mut idx: Vec<usize> = Vec::new();
        let mut checked = 0usize;
        loop {
            text.clear();
            text.extend(idx.iter().map(|&i| alphabet[i]));
            assert_eq!(toks(&text), grammar.tokens(&mut cache, &text), "{text:?}");
            checked += 1;
            // Next string in shortlex order.
            let mut pos = idx.len();
            loop {
                if pos == 0 {
                    if idx.len() == max_len {
                        assert!(checked > 1);
                        return;
                    }
                    idx.iter_mut().for_each(|i| *i = 0);
                    idx.push(0);
                    break;
                }
                pos -= 1;
                idx[pos] += 1;
                if idx[pos] < alphabet.len() {
                    break;
                }
                idx[pos] = 0;
            }
        }
    }

    /// One character of each class the word rule distinguishes.
    const WORD_CLASSES: &[char] = &[
        'a', 'א', '1', 'カ', '_', ':', ',', '.', '\'', '"', '\u{301}', ' ',
    ];

    /// One character of each class the emoji rules distinguish.
    const EMOJI_CLASSES: &[char] = &[
        '😀',
        '👍',
        '\u{1F3FB}',
        '\u{200D}',
        '\u{FE0F}',
        '\u{FE0E}',
        '\u{20E3}',
        '#',
        '1',
        '\u{1F1FA}',
        '\u{E0067}',
        '\u{E007F}',
        'a',
    ];

    #[test]
    fn word_automaton_agrees_with_the_grammar_on_all_short_strings() {
        agree_on_all_strings(WORD_CLASSES, 5);
    }

    #[test]
    fn emoji_automaton_agrees_with_the_grammar_on_all_short_strings() {
        agree_on_all_strings(EMOJI_CLASSES, 5);
    }

    /// Characters that reach every state of the word and emoji automata.
    const ALPHABET: &[char] = &[
        'a',
        'Z',
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
        '#',
        '*',
        '-',
        '\u{2019}',
        '\u{301}',
        '\u{AD}',
        '\u{200D}',
        '\u{FE0E}',
        '\u{FE0F}',
        '\u{20E3}',
        'β',
        'א',
        'ב',
        'カ',
        'ー',
        'の',
        '中',
        '々',
        '한',
        'ก',
        '\u{E31}',
        '®',
        '©',
        '™',
        '❤',
        '😀',
        '👍',
        '👩',
        '\u{1F3FB}',
        '\u{1F1FA}',
        '\u{1F1F8}',
        '🏴',
        '\u{E0067}',
        '\u{E007F}',
        '𝐚',
        '１',
        '\u{FFFD}',
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn hand_written_automata_agree_with_the_grammar_as_a_regex(
            chars in proptest::collection::vec(proptest::sample::select(ALPHABET), 0..24)
        ) {
            let grammar = grammar();
            let text: String = chars.into_iter().collect();
            let mut cache = grammar.cache();
            proptest::prop_assert_eq!(toks(&text), grammar.tokens(&mut cache, &text), "{:?}", text);
        }
    }
}
