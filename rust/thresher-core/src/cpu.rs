//! Runtime CPU dispatch: the query algorithms compiled for x86-64-v4 (AVX-512) and x86-64-v3
//! (AVX2), chosen once per process from what the CPU reports, with the portable build as the
//! fallback (after the `multiversion` crate's pattern; PISA and Lucene get the same effect from
//! `-march=native` and the JIT).
//!
//! A dispatched function is written once, as an `#[inline(always)]` body; `multiversion!`
//! makes the entry point that calls it from a `#[target_feature]` copy per level, so the body
//! and everything inlined into it (the hot loops are `#[inline]` or `#[inline(always)]`) is
//! compiled with that level's instructions. Code the compiler keeps out of line runs at the
//! portable level.
//!
//! Results do not depend on the level: every level does the same IEEE operations on the same
//! operands in the same order (Rust never contracts `a * b + c` into a fused multiply-add,
//! with or without the `fma` feature; vector and scalar divisions and square roots are
//! correctly rounded alike). `tests` compares every level available on the machine bit for bit.
//!
//! `THRESHER_CPU=portable|v3|v4` in the environment caps the level (read once; a level the CPU
//! lacks is never used); [`with_level`] caps it for one thread (tests and benchmarks).

use std::cell::Cell;
use std::sync::OnceLock;

/// An instruction-set level the query algorithms are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The build's own target (x86-64 baseline: SSE2), and every non-x86-64 target.
    Portable,
    /// x86-64-v3: AVX2, FMA, BMI1/2, LZCNT, MOVBE.
    V3,
    /// x86-64-v4: v3 plus AVX-512 F, BW, CD, DQ and VL.
    V4,
}

impl Level {
    /// The name `THRESHER_CPU` takes.
    pub fn name(self) -> &'static str {
        match self {
            Level::Portable => "portable",
            Level::V3 => "v3",
            Level::V4 => "v4",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "portable" | "baseline" | "scalar" | "v1" | "v2" => Some(Level::Portable),
            "v3" | "avx2" => Some(Level::V3),
            "v4" | "avx512" => Some(Level::V4),
            _ => None,
        }
    }
}

/// The best level this CPU supports.
pub fn supported() -> Level {
    static SUPPORTED: OnceLock<Level> = OnceLock::new();
    *SUPPORTED.get_or_init(detect)
}

#[cfg(target_arch = "x86_64")]
fn detect() -> Level {
    use std::arch::is_x86_feature_detected as has;
    let v3 = has!("avx2")
        && has!("fma")
        && has!("bmi1")
        && has!("bmi2")
        && has!("lzcnt")
        && has!("movbe")
        && has!("popcnt");
    let v4 = v3
        && has!("avx512f")
        && has!("avx512bw")
        && has!("avx512cd")
        && has!("avx512dq")
        && has!("avx512vl");
    if v4 {
        Level::V4
    } else if v3 {
        Level::V3
    } else {
        Level::Portable
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> Level {
    Level::Portable
}

/// The level used by this process: [`supported`], capped by `THRESHER_CPU` (an unknown value
/// is ignored with a message on stderr).
pub fn process_level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let best = supported();
        match std::env::var("THRESHER_CPU") {
            Ok(v) => match Level::parse(&v) {
                Some(cap) => cap.min(best),
                None => {
                    eprintln!(
                        "thresher: ignoring THRESHER_CPU={v:?} (expected portable, v3 or v4)"
                    );
                    best
                }
            },
            Err(_) => best,
        }
    })
}

thread_local! {
    static CAP: Cell<Option<Level>> = const { Cell::new(None) };
}

/// The level a dispatched call on this thread uses now.
#[inline]
pub fn level() -> Level {
    let l = process_level();
    match CAP.with(Cell::get) {
        Some(cap) => cap.min(l),
        None => l,
    }
}

/// Runs `f` with dispatched calls on this thread capped at `cap` (restored afterwards, also
/// when `f` panics).
pub fn with_level<R>(cap: Level, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Level>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CAP.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CAP.with(|c| c.replace(Some(cap))));
    f()
}

/// Defines `fn $name(args) -> ret` that runs `$body(args)` (an `#[inline(always)]` function)
/// compiled for the [`level`] in force.
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $body:path) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512cd,avx512dq,avx512vl,avx2,fma,bmi1,bmi2,lzcnt,movbe,popcnt")]
                fn v4($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma,bmi1,bmi2,lzcnt,movbe,popcnt")]
                fn v3($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                match $crate::cpu::level() {
                    // SAFETY: `level()` is at most `supported()`, which the CPU reported.
                    #[allow(unsafe_code)]
                    $crate::cpu::Level::V4 => return unsafe { v4($($arg),*) },
                    #[allow(unsafe_code)]
                    $crate::cpu::Level::V3 => return unsafe { v3($($arg),*) },
                    $crate::cpu::Level::Portable => {}
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use multiversion;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_cap() {
        assert_eq!(Level::parse(" AVX2 "), Some(Level::V3));
        assert_eq!(Level::parse("v4"), Some(Level::V4));
        assert_eq!(Level::parse("portable"), Some(Level::Portable));
        assert_eq!(Level::parse("sse9"), None);
        for l in [Level::Portable, Level::V3, Level::V4] {
            assert_eq!(Level::parse(l.name()), Some(l));
            let inner = with_level(l, level);
            assert!(inner <= l && inner <= process_level());
        }
        assert_eq!(level(), process_level());
    }
}
