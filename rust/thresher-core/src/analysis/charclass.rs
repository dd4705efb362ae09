//! Per-code-point property flags used by the tokenizer (see [`super::tokenizer`]).
//!
//! Lucene's `StandardTokenizerImpl.jflex` is written in terms of Unicode properties:
//! `Word_Break` values, the `Han`/`Hiragana` scripts, `Line_Break=Complex_Context` and the
//! emoji properties. We do not hand-write tables for them: the UCD data comes from
//! maintained crates, read once per process into a flat lookup table:
//!
//! - `regex-syntax` (Unicode 16): `Word_Break`, `Script`, `Emoji`, `Emoji_Modifier`,
//!   `Emoji_Modifier_Base`, `Extended_Pictographic`, `Regional_Indicator`;
//! - `unicode-linebreak` (Unicode 15): `Line_Break=Complex_Context` (SA).
//!
//! Lucene's grammar is generated from Unicode 12.1 (`%unicode 12.1` in
//! `StandardTokenizerImpl.jflex`, Lucene 9 and 10); [`lucene_unicode_12_1`] takes the newer
//! data back to it. The emoji skin-tone modifiers U+1F3FB..U+1F3FF are `Word_Break=Extend`
//! there too, so `"a\u{1F3FB}"` is one token, as in Lucene.

use std::sync::OnceLock;

/// `Word_Break=ALetter`.
pub(crate) const ALETTER: u32 = 1 << 0;
/// `Word_Break=Hebrew_Letter`.
pub(crate) const HEBREW: u32 = 1 << 1;
/// `Word_Break=Numeric`, plus the fullwidth digits U+FF10..U+FF19 (Lucene adds
/// `[\p{Blk:HalfAndFullForms}&&\p{Nd}]`).
pub(crate) const NUMERIC: u32 = 1 << 2;
/// `Word_Break=Katakana`.
pub(crate) const KATAKANA: u32 = 1 << 3;
/// Lucene's `MidLetterEx` base: `MidLetter | MidNumLet | Single_Quote`.
pub(crate) const MID_LETTER: u32 = 1 << 4;
/// Lucene's `MidNumericEx` base: `MidNum | MidNumLet | Single_Quote`.
pub(crate) const MID_NUM: u32 = 1 << 5;
/// `Word_Break=Single_Quote`.
pub(crate) const SINGLE_QUOTE: u32 = 1 << 6;
/// `Word_Break=Double_Quote`.
pub(crate) const DOUBLE_QUOTE: u32 = 1 << 7;
/// `Word_Break=ExtendNumLet`.
pub(crate) const EXTEND_NUM_LET: u32 = 1 << 8;
/// `Word_Break=Format | Extend | ZWJ` (UAX #29 rule WB4), the emoji modifiers included.
pub(crate) const EXT: u32 = 1 << 9;
/// `Word_Break=ZWJ` (U+200D).
pub(crate) const ZWJ: u32 = 1 << 10;
/// `Word_Break=Regional_Indicator`.
pub(crate) const REGIONAL_INDICATOR: u32 = 1 << 11;
/// `Script=Han`.
pub(crate) const HAN: u32 = 1 << 12;
/// `Script=Hiragana`.
pub(crate) const HIRAGANA: u32 = 1 << 13;
/// `Line_Break=Complex_Context` (Thai, Lao, Myanmar, Khmer, ...).
pub(crate) const COMPLEX_CONTEXT: u32 = 1 << 14;
/// Lucene's `EmojiChar`: `Extended_Pictographic`, or `Emoji` other than regional indicators,
/// keycap bases `[0-9#*]`, `[©®™\u3030\u303D]` and emoji modifiers.
pub(crate) const EMOJI_CHAR: u32 = 1 << 15;
/// `Emoji_Modifier_Base`.
pub(crate) const EMOJI_MODIFIER_BASE: u32 = 1 << 16;
/// `Emoji_Modifier` (U+1F3FB..U+1F3FF).
pub(crate) const EMOJI_MODIFIER: u32 = 1 << 17;
/// Keycap base `[0-9#*]`.
pub(crate) const KEYCAP_BASE: u32 = 1 << 18;
/// Can start some token rule; characters without it are skipped outright.
pub(crate) const TOKEN_START: u32 = 1 << 19;

/// Flags of every code point: a flat table for the BMP and sorted runs above it.
pub(crate) struct CharClasses {
    bmp: Box<[u32]>,
    /// `(first, last, flags)`, sorted, non-overlapping; code points not covered have no flags.
    astral: Vec<(u32, u32, u32)>,
}

impl CharClasses {
    /// The flags of `c`.
    #[inline]
    pub(crate) fn get(&self, c: char) -> u32 {
        let cp = c as u32;
        if let Some(&f) = self.bmp.get(cp as usize) {
            return f;
        }
        match self.astral.binary_search_by(|&(lo, hi, _)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        }) {
            Ok(i) => self.astral[i].2,
            Err(_) => 0,
        }
    }
}

/// The process-wide table, built on first use (a few milliseconds).
pub(crate) fn classes() -> &'static CharClasses {
    static TABLE: OnceLock<CharClasses> = OnceLock::new();
    TABLE.get_or_init(build)
}

/// Code point ranges of a Unicode property, as `regex-syntax` knows it.
fn property_ranges(property: &str) -> Vec<(u32, u32)> {
    use regex_syntax::hir::{Class, HirKind};
    // The property names are constants of this module, so failure here is a programming
    // error caught by every test that builds an analyzer.
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(&format!(r"\p{{{property}}}"))
        .unwrap_or_else(|e| panic!("regex-syntax does not know \\p{{{property}}}: {e}"));
    match hir.kind() {
        HirKind::Class(Class::Unicode(class)) => class
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        // A class of one code point comes back as a literal.
        HirKind::Literal(lit) => match std::str::from_utf8(&lit.0) {
            Ok(s) => s.chars().map(|c| (c as u32, c as u32)).collect(),
            Err(e) => panic!("\\p{{{property}}} parsed to a non-UTF-8 literal: {e}"),
        },
        other => panic!("\\p{{{property}}} parsed to {other:?}, not a Unicode class"),
    }
}

/// Takes the table back to the Unicode 12.1 data Lucene's grammar is generated from
/// (`StandardTokenizerImpl.jflex`, `%unicode 12.1`), where the newer data differs. Checked
/// against Lucene 9.9.1 (Anserini 1.7.1's `DefaultEnglishAnalyzer`) by
/// `benches/analyzer_vs_lucene.py`: every code point alone and in 14 contexts.
fn lucene_unicode_12_1(all: &mut [u32]) {
    // Code points unassigned in 12.1 (the gaps between the `age:12.1` ranges) were
    // Word_Break=Other with no script: only the emoji data's reserved
    // Extended_Pictographic ranges made tokens of them.
    let mut next = 0;
    for (lo, hi) in property_ranges("age:12.1")
        .into_iter()
        .chain([(all.len() as u32, 0)])
    {
        for f in &mut all[next..lo as usize] {
            *f &= EMOJI_CHAR;
        }
        next = hi as usize + 1;
    }
    // Re-classified since 12.1; Lucene keeps the old class.
    let mut set = |range: std::ops::RangeInclusive<u32>, flags: u32| {
        for cp in range {
            all[cp as usize] = flags;
        }
    };
    // Modifier tone letters: Word_Break=ALetter only since Unicode 14.
    set(0x02E5..=0x02EB, 0);
    set(0xA708..=0xA716, 0);
    // Armenian apostrophe and hyphen (ALetter since 14); U+055F (MidLetter since 14).
    set(0x055A..=0x055A, 0);
    set(0x058A..=0x058A, 0);
    set(0x055F..=0x055F, 0);
    // Prepended concatenation marks: Format (WB4) in 12.1, Numeric since 14.
    for range in [
        0x0600..=0x0605,
        0x06DD..=0x06DD,
        0x070F..=0x070F,
        0x08E2..=0x08E2,
        0x110BD..=0x110BD,
        0x110CD..=0x110CD,
    ] {
        set(range, EXT);
    }
    // Vertical comma and semicolon presentation forms: MidNum in 12.1.
    set(0xFE10..=0xFE10, MID_NUM);
    set(0xFE14..=0xFE14, MID_NUM);
    // New Tai Lue digit one: Line_Break=Complex_Context in 12.1.
    set(0x19DA..=0x19DA, COMPLEX_CONTEXT);
    // Old Chinese hook mark: not word-forming in 12.1.
    set(0x16FE2..=0x16FE2, 0);
    // Symbols for Legacy Computing: reserved, and Extended_Pictographic, in the emoji data
    // Lucene's grammar uses.
    set(0x1FB00..=0x1FBFF, EMOJI_CHAR);
}

fn build() -> CharClasses {
    const N: usize = 0x11_0000;
    let mut all = vec![0u32; N];
    fn paint(all: &mut [u32], property: &str, flag: u32) {
        for (lo, hi) in property_ranges(property) {
            for f in &mut all[lo as usize..=hi as usize] {
                *f |= flag;
            }
        }
    }
    paint(&mut all, "Word_Break=ALetter", ALETTER);
    paint(&mut all, "Word_Break=Hebrew_Letter", HEBREW);
    paint(&mut all, "Word_Break=Numeric", NUMERIC);
    paint(&mut all, "Word_Break=Katakana", KATAKANA);
    paint(&mut all, "Word_Break=MidLetter", MID_LETTER);
    paint(&mut all, "Word_Break=MidNum", MID_NUM);
    paint(&mut all, "Word_Break=MidNumLet", MID_LETTER | MID_NUM);
    paint(
        &mut all,
        "Word_Break=Single_Quote",
        MID_LETTER | MID_NUM | SINGLE_QUOTE,
    );
    paint(&mut all, "Word_Break=Double_Quote", DOUBLE_QUOTE);
    paint(&mut all, "Word_Break=ExtendNumLet", EXTEND_NUM_LET);
    paint(&mut all, "Word_Break=Format", EXT);
    paint(&mut all, "Word_Break=Extend", EXT);
    paint(&mut all, "Word_Break=ZWJ", EXT | ZWJ);
    paint(
        &mut all,
        "Word_Break=Regional_Indicator",
        REGIONAL_INDICATOR,
    );
    paint(&mut all, "Script=Han", HAN);
    paint(&mut all, "Script=Hiragana", HIRAGANA);
    paint(&mut all, "Emoji", EMOJI_CHAR);
    paint(&mut all, "Emoji_Modifier", EMOJI_MODIFIER);
    paint(&mut all, "Emoji_Modifier_Base", EMOJI_MODIFIER_BASE);
    // Fullwidth digits: Lucene's NumericEx adds [\p{Blk:HalfAndFullForms}&&\p{Nd}].
    for f in &mut all[0xFF10..=0xFF19] {
        *f |= NUMERIC;
    }
    for c in ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '#', '*'] {
        all[c as usize] |= KEYCAP_BASE;
    }
    // EmojiChar = Extended_Pictographic | (Emoji - [RI, keycap bases, ©®™〰〽, modifiers]).
    for (cp, f) in all.iter_mut().enumerate() {
        let accidental = matches!(cp, 0xA9 | 0xAE | 0x2122 | 0x3030 | 0x303D);
        if *f & (REGIONAL_INDICATOR | KEYCAP_BASE | EMOJI_MODIFIER) != 0 || accidental {
            *f &= !EMOJI_CHAR;
        }
    }
    paint(&mut all, "Extended_Pictographic", EMOJI_CHAR);
    for (cp, f) in all.iter_mut().enumerate() {
        if unicode_linebreak::break_property(cp as u32)
            == unicode_linebreak::BreakClass::ComplexContext
        {
            *f |= COMPLEX_CONTEXT;
        }
    }
    lucene_unicode_12_1(&mut all);
    for f in all.iter_mut() {
        const STARTS: u32 = ALETTER
            | HEBREW
            | NUMERIC
            | KATAKANA
            | EXTEND_NUM_LET
            | ZWJ
            | REGIONAL_INDICATOR
            | HAN
            | HIRAGANA
            | COMPLEX_CONTEXT
            | EMOJI_CHAR
            | EMOJI_MODIFIER_BASE
            | EMOJI_MODIFIER
            | KEYCAP_BASE;
        if *f & STARTS != 0 {
            *f |= TOKEN_START;
        }
    }
    let bmp: Box<[u32]> = all[..0x1_0000].into();
    let mut astral: Vec<(u32, u32, u32)> = Vec::new();
    for (cp, &f) in all.iter().enumerate().skip(0x1_0000) {
        let cp = cp as u32;
        if f == 0 {
            continue;
        }
        match astral.last_mut() {
            Some(last) if last.1 + 1 == cp && last.2 == f => last.1 = cp,
            _ => astral.push((cp, cp, f)),
        }
    }
    CharClasses { bmp, astral }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_representative_characters() {
        let t = classes();
        assert_ne!(t.get('a') & ALETTER, 0);
        assert_ne!(t.get('β') & ALETTER, 0);
        assert_ne!(t.get('א') & HEBREW, 0);
        assert_ne!(t.get('7') & NUMERIC, 0);
        assert_ne!(t.get('７') & NUMERIC, 0);
        assert_ne!(t.get('.') & MID_LETTER, 0);
        assert_ne!(t.get('.') & MID_NUM, 0);
        assert_ne!(t.get(':') & MID_LETTER, 0);
        assert_eq!(t.get(':') & MID_NUM, 0);
        assert_ne!(t.get(',') & MID_NUM, 0);
        assert_ne!(t.get('\'') & SINGLE_QUOTE, 0);
        assert_ne!(t.get('_') & EXTEND_NUM_LET, 0);
        assert_ne!(t.get('\u{301}') & EXT, 0);
        assert_ne!(t.get('\u{AD}') & EXT, 0);
        assert_eq!(t.get('\u{200B}') & EXT, 0);
        assert_ne!(t.get('\u{200D}') & ZWJ, 0);
        assert_ne!(t.get('中') & HAN, 0);
        assert_ne!(t.get('の') & HIRAGANA, 0);
        assert_ne!(t.get('カ') & KATAKANA, 0);
        assert_ne!(t.get('ก') & COMPLEX_CONTEXT, 0);
        assert_ne!(t.get('®') & EMOJI_CHAR, 0);
        assert_ne!(t.get('😀') & EMOJI_CHAR, 0);
        assert_eq!(t.get('\u{1F3FB}') & EMOJI_CHAR, 0);
        assert_ne!(t.get('\u{1F3FB}') & EXT, 0);
        assert_ne!(t.get('\u{1F3FB}') & EMOJI_MODIFIER, 0);
        assert_ne!(t.get('👍') & EMOJI_MODIFIER_BASE, 0);
        assert_ne!(t.get('\u{1F1FA}') & REGIONAL_INDICATOR, 0);
        assert_eq!(t.get('\u{1F1FA}') & EMOJI_CHAR, 0);
        assert_eq!(t.get('1') & EMOJI_CHAR, 0);
        assert_eq!(t.get(' ') & TOKEN_START, 0);
        assert_eq!(t.get('-') & TOKEN_START, 0);
        assert_eq!(t.get('\u{10FFFF}'), 0);
    }
}
