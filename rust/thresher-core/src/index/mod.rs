//! [`Index`]: a list of immutable [`Segment`]s plus `meta.json`, and the entry points to build,
//! save, load and search.
//!
//! On disk an index is a directory:
//!
//! ```text
//! meta.json              format version, library version, analyzer and scoring config,
//!                        statistics, the segments and their files with sizes and CRC32s,
//!                        and a CRC32 of the meta content itself
//! <segment>.terms        sorted term dictionary         } component files, each with header,
//! <segment>.postings     posting lists                  } footer and CRC32
//! <segment>.docs         lengths, norms, external ids   }   (see `format`)
//! .thresher.lock         empty; writers hold an advisory lock on it while saving
//! ```
//!
//! Saving writes segment files first (each atomically: temp + fsync + rename; segment names
//! are unique, so an existing index's files are never overwritten), then replaces `meta.json`
//! atomically, then deletes files no longer referenced. A crash at any point leaves the
//! previous `meta.json` and every file it names intact: the old index stays loadable.

pub mod bounds;
pub mod builder;
mod ids;
pub mod impact;
pub mod learned;
pub mod segment;
pub mod terms;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::analysis::{Analyzer, AnalyzerConfig};
use crate::error::{Error, IoContext, Result};
use crate::format::{
    lock_dir, read_component, write_atomic, write_component, Component, FORMAT_VERSION, LOCK_FILE,
    OLDEST_SUPPORTED_FORMAT_VERSION,
};
use crate::pool::ThreadPools;
use crate::query::{
    bmw, exhaustive, maxscore, Algorithm, Prepared, Query, QueryInput, SearchOptions, TopK,
};
use crate::score::{CollectionStats, LengthNorm, ScoringConfig, TermScorer};
use crate::types::{DocId, Score};

pub use builder::{DocInput, IndexBuilder};
pub use impact::{ImpactBuilder, SparseDoc, VectorReader};
pub use learned::CsrMatrix;
pub use segment::{Lengths, Segment};

/// Name of the metadata file.
pub const META_FILE: &str = "meta.json";

/// True when `dir/meta.json` is a thresher index's: a JSON object with the keys every format
/// version writes (a user's own `meta.json` must not be overwritten by [`Index::save`]).
fn is_index_dir(dir: &Path) -> bool {
    std::fs::read(dir.join(META_FILE))
        .ok()
        .and_then(|raw| serde_json::from_slice::<serde_json::Value>(&raw).ok())
        .is_some_and(|v| v.get("format_version").is_some() && v.get("segments").is_some())
}

/// One component file as recorded in `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMeta {
    /// File name inside the index directory.
    pub file: String,
    /// Total file size in bytes.
    pub bytes: u64,
    /// CRC32 stored in the file's footer.
    pub crc32: u32,
}

/// One segment as recorded in `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentMeta {
    /// Segment name (file stem).
    pub name: String,
    /// Documents in the segment.
    pub num_docs: u64,
    /// Distinct terms in the segment.
    pub num_terms: u64,
    /// Postings in the segment.
    pub num_postings: u64,
    /// Sum of document lengths.
    pub total_terms: u64,
    /// Component files; filled in when saved.
    pub files: Vec<FileMeta>,
}

/// How many times [`Index::load`] reads `meta.json` and its segments when saves into the
/// directory keep replacing them under it.
pub const LOAD_ATTEMPTS: u32 = 20;

/// The content of `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexMeta {
    /// On-disk format version.
    pub format_version: u32,
    /// Version of thresher that wrote the index.
    pub library_version: String,
    /// How text (documents at build time, queries at search time) is analysed.
    pub analyzer: AnalyzerConfig,
    /// How documents are scored.
    pub scoring: ScoringConfig,
    /// Documents in the index.
    pub num_docs: u64,
    /// Documents with at least one term (BM25's N, as Lucene's `docCount`).
    pub num_nonempty_docs: u64,
    /// Number of indexed tokens (sum of the integer document lengths, or of the postings'
    /// term frequencies for the weighted models).
    pub total_terms: u64,
    /// Sum of all document lengths as scoring uses it (`total_terms` for integer lengths; the
    /// f64 sum, segment by segment, of the f32 lengths `sum_t w_t * tf` for the weighted
    /// models).
    pub total_length: f64,
    /// Segments in doc-id order.
    pub segments: Vec<SegmentMeta>,
    /// CRC32 of this record serialised with `checksum = 0`.
    #[serde(default)]
    pub checksum: u32,
}

impl IndexMeta {
    pub(crate) fn new(
        analyzer: AnalyzerConfig,
        scoring: ScoringConfig,
        segments: &[Segment],
    ) -> Self {
        let mut m = Self {
            format_version: FORMAT_VERSION,
            library_version: crate::VERSION.to_string(),
            analyzer,
            scoring,
            num_docs: 0,
            num_nonempty_docs: 0,
            total_terms: 0,
            total_length: 0.0,
            segments: Vec::new(),
            checksum: 0,
        };
        for s in segments {
            m.num_docs += s.num_docs() as u64;
            m.num_nonempty_docs += s.lengths().num_nonempty();
            m.total_terms += s.total_terms();
            m.total_length += s.total_length();
            m.segments.push(SegmentMeta {
                name: s.name().to_string(),
                num_docs: s.num_docs() as u64,
                num_terms: s.num_terms() as u64,
                num_postings: s.num_postings() as u64,
                total_terms: s.total_terms(),
                files: Vec::new(),
            });
        }
        m
    }

    fn content_crc(&self) -> u32 {
        let mut copy = self.clone();
        copy.checksum = 0;
        crc32fast::hash(&serde_json::to_vec(&copy).expect("meta serialises"))
    }

    /// Reads and checks `dir/meta.json`.
    ///
    /// # Errors
    /// [`Error::Io`] when missing/unreadable, [`Error::Corrupted`] when malformed or its
    /// checksum does not match, [`Error::IncompatibleFormat`] for an unsupported version.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(META_FILE);
        // One stat on the way in; the missing cases are told apart only when they occur.
        let stat = match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let missing = |at: &Path, why: &str| {
                    Error::io(at, std::io::Error::new(std::io::ErrorKind::NotFound, why))
                };
                return Err(if !dir.exists() {
                    missing(dir, "no such index directory")
                } else {
                    missing(&path, "not a thresher index (meta.json is missing)")
                });
            }
            r => r.with_path(&path)?,
        };
        // Not a regular file (a FIFO would block the read forever, a device never end).
        if !stat.is_file() {
            return Err(Error::corrupted(&path, "meta.json is not a regular file"));
        }
        let raw = std::fs::read(&path).with_path(&path)?;
        let value: serde_json::Value = serde_json::from_slice(&raw)
            .map_err(|e| Error::corrupted(&path, format!("not valid JSON: {e}")))?;
        let incompatible = |found: u32| Error::IncompatibleFormat {
            path: dir.to_path_buf(),
            found,
            supported: OLDEST_SUPPORTED_FORMAT_VERSION..=FORMAT_VERSION,
            hint: if found > FORMAT_VERSION {
                "it was written by a newer thresher: upgrade thresher to read it".into()
            } else {
                "rebuild the index with this version of thresher".into()
            },
        };
        let meta: IndexMeta = match serde_json::from_value(value.clone()) {
            Ok(meta) => meta,
            Err(e) => {
                // A newer format may have a different schema: report the version, not damage.
                let v = value
                    .get("format_version")
                    .and_then(serde_json::Value::as_u64);
                if let Some(v) = v.filter(|&v| v > u64::from(FORMAT_VERSION)) {
                    return Err(incompatible(u32::try_from(v).unwrap_or(u32::MAX)));
                }
                return Err(Error::corrupted(&path, format!("unexpected content: {e}")));
            }
        };
        // Checksum before version: a damaged version field reads as corruption.
        if meta.checksum != meta.content_crc() {
            return Err(Error::corrupted(
                &path,
                "checksum mismatch (the file was modified or damaged)",
            ));
        }
        if !(OLDEST_SUPPORTED_FORMAT_VERSION..=FORMAT_VERSION).contains(&meta.format_version) {
            return Err(incompatible(meta.format_version));
        }
        // Segment and file names are plain names inside the index directory: a crafted
        // meta.json (its checksum recomputed) must not point a load at files elsewhere.
        let names = meta.segments.iter().flat_map(|s| {
            std::iter::once(s.name.as_str()).chain(s.files.iter().map(|f| f.file.as_str()))
        });
        for name in names {
            let mut parts = Path::new(name).components();
            let plain = matches!(parts.next(), Some(std::path::Component::Normal(_)))
                && parts.next().is_none()
                && !name.contains(['/', '\\']);
            if !plain {
                return Err(Error::corrupted(
                    &path,
                    format!("segment file name {name:?} is not a plain file name"),
                ));
            }
        }
        Ok(meta)
    }
}

/// Options for [`Index::load`].
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// Memory-map component files (else read them into memory).
    pub mmap: bool,
    /// Verify every CRC32 and every posting list (reads the whole index once).
    pub verify: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            mmap: true,
            verify: true,
        }
    }
}

/// A segment with its doc-id base.
#[derive(Clone)]
pub struct SegmentView {
    /// The segment.
    pub segment: Segment,
    /// Global doc id of the segment's local doc 0.
    pub base: DocId,
    /// Block bound keys of this segment's lists under this index's length norm (shared by
    /// clones of the index).
    pub(crate) block_keys: Arc<bounds::BlockKeyCache>,
}

/// A searchable index. Cloning is cheap (segments share their bytes and caches): the Python
/// binding saves a clone, so searches on the original never wait for a save.
#[derive(Clone)]
pub struct Index {
    meta: IndexMeta,
    analyzer: Analyzer,
    views: Vec<SegmentView>,
    stats: CollectionStats,
    norm: LengthNorm,
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("num_docs", &self.meta.num_docs)
            .field("segments", &self.views.len())
            .field("dir", &self.dir)
            .finish()
    }
}

/// A process-unique, time-based segment name.
pub(crate) fn new_segment_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mix = nanos ^ (u64::from(std::process::id()) << 40) ^ c.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("seg-{mix:016x}")
}

impl Index {
    pub(crate) fn from_segments(
        meta: IndexMeta,
        analyzer: Analyzer,
        segments: Vec<Segment>,
        dir: Option<PathBuf>,
    ) -> Result<Self> {
        // Summed in segment order, as `IndexMeta::new` and `load` do, so every path agrees.
        let total_length: f64 = segments.iter().map(Segment::total_length).sum();
        let stats = CollectionStats {
            num_docs: meta.num_nonempty_docs,
            total_length,
        };
        let mut views = Vec::with_capacity(segments.len());
        let mut base: u64 = 0;
        for segment in segments {
            if segment.length_key() != meta.scoring.kind.length_key()
                || segment.is_weighted() != meta.scoring.kind.weighted()
            {
                return Err(Error::corrupted(
                    dir.as_deref()
                        .unwrap_or(Path::new("<memory>"))
                        .join(segment.name()),
                    "segment block bounds were built for another scoring model",
                ));
            }
            let b = DocId::try_from(base).map_err(|_| {
                Error::invalid_argument("an index holds at most 2^32 - 1 documents")
            })?;
            base += segment.num_docs() as u64;
            views.push(SegmentView {
                segment,
                base: b,
                block_keys: Arc::new(bounds::BlockKeyCache::default()),
            });
        }
        if base > u64::from(u32::MAX) {
            return Err(Error::invalid_argument(
                "an index holds at most 2^32 - 1 documents",
            ));
        }
        let norm = LengthNorm::new(&meta.scoring, &stats);
        Ok(Self {
            meta,
            analyzer,
            views,
            stats,
            norm,
            dir,
        })
    }

    /// Loads the index saved in `dir`.
    ///
    /// A save into `dir` by another thread or process while this loads is safe: should the
    /// save replace `meta.json` and remove the segments the one read here names (a save
    /// removes the files its index no longer uses), loading starts again from the new
    /// `meta.json`, as Lucene's `FindSegmentsFile` does (up to [`LOAD_ATTEMPTS`] times).
    ///
    /// # Errors
    /// [`Error::Io`] (missing/unreadable), [`Error::Corrupted`] (damaged or inconsistent files),
    /// [`Error::IncompatibleFormat`] (written by an incompatible version).
    pub fn load(dir: &Path, options: LoadOptions) -> Result<Self> {
        Self::load_starting_from(dir, options, IndexMeta::read(dir)?)
    }

    /// [`Index::load`] after its first read of `meta.json`, `meta` (which a save may have
    /// replaced since).
    fn load_starting_from(dir: &Path, options: LoadOptions, mut meta: IndexMeta) -> Result<Self> {
        let mut attempt = 1;
        loop {
            match Self::load_from(dir, options, meta.clone()) {
                Ok(index) => return Ok(index),
                Err(e) if attempt < LOAD_ATTEMPTS => match IndexMeta::read(dir) {
                    // A failure under a meta.json that has since been replaced: a save ran.
                    Ok(now) if now != meta => {
                        meta = now;
                        attempt += 1;
                    }
                    _ => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }

    /// [`Index::load`] of the segments that `meta` (read from `dir`) names.
    fn load_from(dir: &Path, options: LoadOptions, meta: IndexMeta) -> Result<Self> {
        let meta_path = dir.join(META_FILE);
        let analyzer = Analyzer::new(meta.analyzer.clone())
            .map_err(|e| Error::corrupted(&meta_path, format!("analyzer config: {e}")))?;
        meta.scoring
            .validate()
            .map_err(|e| Error::corrupted(&meta_path, format!("scoring config: {e}")))?;
        let mut segments = Vec::with_capacity(meta.segments.len());
        let (mut docs, mut nonempty, mut total) = (0u64, 0u64, 0u64);
        let mut total_length = 0f64;
        for sm in &meta.segments {
            for f in &sm.files {
                let p = dir.join(&f.file);
                let len = std::fs::metadata(&p).with_path(&p)?.len();
                if len != f.bytes {
                    return Err(Error::corrupted(
                        &p,
                        format!("{len} bytes on disk, meta.json records {}", f.bytes),
                    ));
                }
            }
            let seg = Segment::open(dir, &sm.name, options.mmap, options.verify)?;
            if seg.num_docs() as u64 != sm.num_docs
                || seg.num_terms() as u64 != sm.num_terms
                || seg.num_postings() as u64 != sm.num_postings
                || seg.total_terms() != sm.total_terms
            {
                return Err(Error::corrupted(
                    dir.join(&sm.name),
                    "segment does not match meta.json",
                ));
            }
            docs += sm.num_docs;
            total += sm.total_terms;
            total_length += seg.total_length();
            if options.verify {
                // O(documents): only when verifying, so that opening stays O(1) otherwise.
                nonempty += seg.lengths().num_nonempty();
            }
            segments.push(seg);
        }
        if !options.verify {
            nonempty = meta.num_nonempty_docs;
        }
        if docs != meta.num_docs
            || total != meta.total_terms
            || total_length.to_bits() != meta.total_length.to_bits()
            || nonempty != meta.num_nonempty_docs
        {
            return Err(Error::corrupted(
                &meta_path,
                "statistics do not match the segments",
            ));
        }
        Self::from_segments(meta, analyzer, segments, Some(absolute(dir)))
    }

    /// Appends the segments of `other` (built with the same analyzer and scoring) after this
    /// index's: their documents get the next doc ids, and collection statistics become those
    /// of the union. Segments are shared, not copied; `save` writes the combined index.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the analyzers or scoring configs differ, an external id
    /// repeats, or the union would exceed 2^32 - 1 documents.
    pub fn append(&mut self, other: Index) -> Result<()> {
        if self.meta.analyzer != other.meta.analyzer || self.meta.scoring != other.meta.scoring {
            return Err(Error::invalid_argument(
                "cannot append an index built with another analyzer or scoring",
            ));
        }
        if self.meta.num_docs + other.meta.num_docs > u64::from(u32::MAX) {
            return Err(Error::invalid_argument(
                "an index holds at most 2^32 - 1 documents",
            ));
        }
        let ids: std::collections::HashSet<String> = self.doc_ids()?.into_iter().collect();
        if let Some(dup) = other.doc_ids()?.into_iter().find(|id| ids.contains(id)) {
            return Err(Error::invalid_argument(format!(
                "duplicate document id {dup:?}"
            )));
        }
        let mut meta = self.meta.clone();
        meta.num_docs += other.meta.num_docs;
        meta.num_nonempty_docs += other.meta.num_nonempty_docs;
        meta.total_terms += other.meta.total_terms;
        meta.total_length = self
            .views
            .iter()
            .chain(&other.views)
            .map(|v| v.segment.total_length())
            .sum();
        meta.segments
            .extend(other.meta.segments.iter().cloned().map(|mut s| {
                s.files.clear();
                s
            }));
        let segments = std::mem::take(&mut self.views)
            .into_iter()
            .chain(other.views)
            .map(|v| v.segment)
            .collect();
        let analyzer = self.analyzer.clone();
        *self = Self::from_segments(meta, analyzer, segments, self.dir.take())?;
        Ok(())
    }

    /// Saves the index into `dir` (created if needed), atomically with respect to crashes.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `dir` exists, is not empty and is not a thresher index
    /// (it is never overwritten); [`Error::Io`] on write failures.
    pub fn save(&mut self, dir: &Path) -> Result<()> {
        let abs_dir = absolute(dir);
        let own_dir = self.dir.as_deref() == Some(abs_dir.as_path());
        if !own_dir {
            // A segment opened without verification may hold damaged bytes; a copy would get
            // fresh checksums and hide the damage. Checked before anything is written, so that
            // a refused save leaves no files behind.
            for view in &self.views {
                for (component, _) in view.segment.payloads() {
                    if self.recorded_file(&view.segment, component).is_some() {
                        self.check_source(&view.segment, component, "save")?;
                    }
                }
            }
        }
        if dir.exists() {
            if !dir.is_dir() {
                return Err(Error::invalid_argument(format!(
                    "{} exists and is not a directory",
                    dir.display()
                )));
            }
            // The lock file alone (left by a save that failed before its first meta.json)
            // does not make a directory non-empty.
            let non_empty = std::fs::read_dir(dir)
                .with_path(dir)?
                .flatten()
                .any(|e| e.file_name() != LOCK_FILE);
            if non_empty && !is_index_dir(dir) {
                return Err(Error::invalid_argument(format!(
                    "{} is a non-empty directory that is not a thresher index; refusing to overwrite it",
                    dir.display()
                )));
            }
        } else {
            std::fs::create_dir_all(dir).with_path(dir)?;
        }
        let _lock = lock_dir(dir)?;
        let mut meta = self.meta.clone();
        for (view, sm) in self.views.iter().zip(meta.segments.iter_mut()) {
            sm.files.clear();
            for (component, bytes) in view.segment.payloads() {
                let name = Segment::file_name(view.segment.name(), component);
                let path = dir.join(&name);
                // Segment files are immutable and uniquely named: one that exists with the
                // recorded size and CRC (the index was loaded from here) is reused.
                let recorded = self.recorded_file(&view.segment, component).cloned();
                let reuse = match &recorded {
                    Some(f) => {
                        own_dir && std::fs::metadata(&path).is_ok_and(|m| m.len() == f.bytes)
                    }
                    None => false,
                };
                if reuse {
                    sm.files.push(recorded.expect("checked"));
                    continue;
                }
                // Into its own directory, a file that is gone or changed is rewritten from
                // memory: checked as above (other directories were checked up front).
                if own_dir && recorded.is_some() {
                    self.check_source(&view.segment, component, "save")?;
                }
                write_component(&path, component, bytes.as_slice())?;
                let (len, crc) = read_footer(&path)?;
                sm.files.push(FileMeta {
                    file: name,
                    bytes: len,
                    crc32: crc,
                });
            }
        }
        meta.checksum = 0;
        meta.checksum = meta.content_crc();
        let json = serde_json::to_vec_pretty(&meta).expect("meta serialises");
        write_atomic(&dir.join(META_FILE), |w| w.write_all(&json))?;
        self.meta = meta;
        self.dir = Some(abs_dir);
        remove_unreferenced(dir, &self.meta);
        Ok(())
    }

    /// What `meta.json` recorded for the file of `segment`'s `component` (`None` for a segment
    /// that was not loaded from, or saved to, a directory).
    fn recorded_file(&self, segment: &Segment, component: Component) -> Option<&FileMeta> {
        let name = Segment::file_name(segment.name(), component);
        self.meta
            .segments
            .iter()
            .find(|s| s.name == segment.name())
            .and_then(|s| s.files.iter().find(|f| f.file == name))
    }

    /// For a segment loaded without verification, checks its `component` bytes before they are
    /// copied (`save`) or derived from (`reweight`), either of which would give damaged bytes
    /// fresh checksums: against the size and CRC `meta.json` recorded for their file, and when
    /// those differ (damage, or a file of an older format version) by verifying the file they
    /// came from (mapped, or read from it at load). Nothing to do for verified or in-memory
    /// segments.
    ///
    /// # Errors
    /// [`Error::Corrupted`] when the bytes are damaged, or differ from the recorded checksum
    /// and the file cannot be read.
    pub(crate) fn check_source(
        &self,
        segment: &Segment,
        component: Component,
        action: &str,
    ) -> Result<()> {
        let Some(src) = self.dir.as_deref().filter(|_| !segment.verified()) else {
            return Ok(());
        };
        let name = Segment::file_name(segment.name(), component);
        // The bytes in memory against the size and CRC `meta.json` recorded for their file:
        // equal when the file was written at the current format version and nothing in the
        // bytes is damaged. That needs no source file (it may have been replaced since).
        let recorded = self.recorded_file(segment, component);
        let payload = segment
            .payloads()
            .into_iter()
            .find(|(c, _)| *c == component)
            .map(|(_, b)| b.as_slice());
        if let (Some(f), Some(payload)) = (recorded, payload) {
            if crate::format::component_checksum(component, payload) == (f.bytes, f.crc32) {
                return Ok(());
            }
        }
        // Otherwise (another format version, or damage) the file itself decides.
        let path = src.join(name);
        read_component(&path, component, true, true)
            .map(drop)
            .map_err(|e| {
                let why = match e {
                    Error::Io { .. } => {
                        "it was loaded without verification, its bytes do not match the \
                         checksum recorded for them (damage, or an older format version), and \
                         the file it came from cannot be read to check it"
                    }
                    _ => "the index is damaged",
                };
                Error::corrupted(&path, format!("refusing to {action}: {why}: {e}"))
            })
    }

    /// Builds a query from input with this index's analyzer.
    ///
    /// # Errors
    /// As [`Query::new`].
    pub fn query(&self, input: QueryInput<'_>) -> Result<Query> {
        Query::new(input, &self.analyzer)
    }

    /// Top-`k` documents for one query (exact; best first; ties by smaller doc id), with the
    /// automatic algorithm and no filter.
    ///
    /// # Errors
    /// As [`Index::search_with`].
    pub fn search(&self, query: &Query, k: usize) -> Result<Vec<(DocId, Score)>> {
        self.search_with(query, k, &SearchOptions::default())
    }

    /// Top-`k` documents for one query with explicit options. Every algorithm returns the same
    /// hits and bit-identical scores; with a filter, the hits are the top-`k` of the allowed
    /// documents.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `k == 0`, the filter was made for another index size,
    /// or the query's scores could overflow float32 ([`Prepared::check_range`]).
    pub fn search_with(
        &self,
        query: &Query,
        k: usize,
        options: &SearchOptions<'_>,
    ) -> Result<Vec<(DocId, Score)>> {
        self.check_search(k, options)?;
        self.run(query, k, options)
    }

    fn check_search(&self, k: usize, options: &SearchOptions<'_>) -> Result<()> {
        check_k(k)?;
        if let Some(f) = options.allow {
            if f.num_docs() != self.num_docs() {
                return Err(Error::invalid_argument(format!(
                    "the filter covers {} documents but the index has {}",
                    f.num_docs(),
                    self.num_docs()
                )));
            }
        }
        Ok(())
    }

    fn run(
        &self,
        query: &Query,
        k: usize,
        options: &SearchOptions<'_>,
    ) -> Result<Vec<(DocId, Score)>> {
        let prep = Prepared::new(self, query);
        prep.check_range(self)?;
        // No more slots than documents: a huge k must not allocate a huge heap.
        let mut top = TopK::new(k.min(self.num_docs().max(1)));
        let allow = options.allow;
        match options.algorithm.resolve(&prep, k) {
            Algorithm::MaxScore => maxscore::search(self, &prep, &mut top, allow),
            Algorithm::Bmw => bmw::search(self, &prep, &mut top, allow),
            Algorithm::Exhaustive | Algorithm::Auto => {
                exhaustive::search(self, &prep, &mut top, allow)
            }
        }
        Ok(top.into_sorted())
    }

    /// Top-`k` documents for each query, in parallel over queries.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `k == 0` or `threads == Some(0)`.
    pub fn search_batch(
        &self,
        queries: &[Query],
        k: usize,
        threads: Option<usize>,
    ) -> Result<Vec<Vec<(DocId, Score)>>> {
        self.search_batch_with(queries, k, threads, &SearchOptions::default())
    }

    /// [`Index::search_batch`] with explicit options (one filter for all queries).
    ///
    /// # Errors
    /// As [`Index::search_with`], and when `threads == Some(0)`.
    pub fn search_batch_with(
        &self,
        queries: &[Query],
        k: usize,
        threads: Option<usize>,
        options: &SearchOptions<'_>,
    ) -> Result<Vec<Vec<(DocId, Score)>>> {
        let mut rows: Vec<(&Query, Vec<(DocId, Score)>)> =
            queries.iter().map(|q| (q, Vec::new())).collect();
        let one = |(q, hits): &mut (&Query, Vec<(DocId, Score)>)| {
            *hits = self.run(q, k, options)?;
            Ok(())
        };
        self.for_each_job(&mut rows, one, k, threads, options)?;
        Ok(rows.into_iter().map(|(_, hits)| hits).collect())
    }

    /// [`Index::search_batch_with`] for queries made by `make` from `jobs` (for example, texts
    /// to analyse, each with the output row its hits go to), each on the thread that then
    /// runs it and hands the hits to `write` with the same job: query analysis and copying
    /// the hits out are shared between the threads too (done on the calling thread, before or
    /// after the parallel part, they capped the 2-thread speed-up of short queries and of
    /// large k).
    ///
    /// # Errors
    /// As [`Index::search_batch_with`], and an error of `make` (which one, when several jobs
    /// fail, depends on the threads; jobs may then be left unwritten).
    pub fn search_batch_into<J: Send>(
        &self,
        jobs: &mut [J],
        make: impl Fn(&J) -> Result<Query> + Sync,
        write: impl Fn(&mut J, &[(DocId, Score)]) + Sync,
        k: usize,
        threads: Option<usize>,
        options: &SearchOptions<'_>,
    ) -> Result<()> {
        let one = |job: &mut J| -> Result<()> {
            let hits = self.run(&make(job)?, k, options)?;
            write(job, &hits);
            Ok(())
        };
        self.for_each_job(jobs, one, k, threads, options)
    }

    /// Runs `one` on every job, on the calling thread or in the pool for `threads` (after
    /// checking `k` and the options once).
    fn for_each_job<J: Send>(
        &self,
        jobs: &mut [J],
        one: impl Fn(&mut J) -> Result<()> + Sync,
        k: usize,
        threads: Option<usize>,
        options: &SearchOptions<'_>,
    ) -> Result<()> {
        use rayon::prelude::*;
        self.check_search(k, options)?;
        let workers = crate::pool::resolve_threads(threads)?;
        if workers == 1 || jobs.len() <= 1 {
            // Nothing to share out: run on the calling thread. Handing the work to a pool
            // thread and waiting for it cost ~40 us per call (realprose, one query per call,
            // from Python), a third of a k=10 query.
            return jobs.iter_mut().try_for_each(one);
        }
        ThreadPools::install(Some(workers), || jobs.par_iter_mut().try_for_each(&one))?
    }

    /// The scorer of a term with document frequency `df` and query weight `weight`.
    pub fn term_scorer(&self, df: u64, weight: f32) -> TermScorer {
        TermScorer::new(&self.meta.scoring, &self.stats, df, weight)
    }

    /// Number of documents containing `term` (over all segments).
    pub fn doc_freq(&self, term: &str) -> u64 {
        self.views.iter().map(|v| v.segment.doc_freq(term)).sum()
    }

    /// Postings of the query's terms over all segments: what exhaustive evaluation of the
    /// query reads, an upper bound of the work any algorithm does for it (dictionary lookups,
    /// memoised per thread, so a search that follows repeats none).
    pub fn query_postings(&self, query: &Query) -> u64 {
        self.views
            .iter()
            .map(|v| {
                query
                    .terms()
                    .filter_map(|(t, _)| v.segment.lookup(t))
                    .map(|(_, info)| u64::from(info.df))
                    .sum::<u64>()
            })
            .sum()
    }

    /// The length factors of this index's scoring model.
    pub fn length_norm(&self) -> &LengthNorm {
        &self.norm
    }

    /// The segments with their doc-id bases.
    pub fn segment_views(&self) -> &[SegmentView] {
        &self.views
    }

    /// External id of global document `doc`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when out of range; [`Error::Corrupted`] for a damaged id.
    pub fn doc_id(&self, doc: DocId) -> Result<String> {
        let i = self.views.partition_point(|v| v.base <= doc);
        let v = i.checked_sub(1).map(|i| &self.views[i]).ok_or_else(|| {
            Error::invalid_argument(format!("document number {doc} out of range"))
        })?;
        v.segment.doc_id(doc - v.base)
    }

    /// Calls `f(i, id)` with the external id of `docs[i]`, for every `i`, in doc-id order
    /// rather than in the order of `docs` (each block of ids is decoded at most once).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a number is out of range; [`Error::Corrupted`] for a
    /// damaged id. `f` may have been called for other documents before the error.
    pub fn visit_doc_ids(&self, docs: &[DocId], mut f: impl FnMut(usize, &str)) -> Result<()> {
        // Sorted as packed u64 keys (document, position): twice as fast as sorting pairs.
        let order: Vec<(DocId, usize)> = if u32::try_from(docs.len()).is_ok() {
            let mut keys: Vec<u64> = (0u32..)
                .zip(docs)
                .map(|(i, &d)| u64::from(d) << 32 | u64::from(i))
                .collect();
            keys.sort_unstable();
            keys.iter()
                .map(|&k| ((k >> 32) as DocId, k as u32 as usize))
                .collect()
        } else {
            let mut pairs: Vec<(DocId, usize)> = docs.iter().copied().zip(0..).collect();
            pairs.sort_unstable();
            pairs
        };
        let mut rest = &order[..];
        let mut local = Vec::new();
        for v in &self.views {
            let end = u64::from(v.base) + v.segment.num_docs() as u64;
            let n = rest.partition_point(|&(d, _)| u64::from(d) < end);
            local.clear();
            local.extend(rest[..n].iter().map(|&(d, i)| (d - v.base, i)));
            v.segment.visit_doc_ids(&local, &mut f)?;
            rest = &rest[n..];
        }
        match rest.first() {
            Some(&(d, _)) => Err(Error::invalid_argument(format!(
                "document number {d} out of range"
            ))),
            None => Ok(()),
        }
    }

    /// All external ids in doc-id order.
    ///
    /// # Errors
    /// [`Error::Corrupted`] for a damaged id.
    pub fn doc_ids(&self) -> Result<Vec<String>> {
        let mut out = Vec::with_capacity(self.meta.num_docs as usize);
        for v in &self.views {
            v.segment.for_each_doc_id(|id| out.push(id.to_owned()))?;
        }
        Ok(out)
    }

    /// Metadata (statistics, configs, segments).
    pub fn meta(&self) -> &IndexMeta {
        &self.meta
    }

    /// The analyzer used for text.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Number of documents.
    pub fn num_docs(&self) -> usize {
        self.meta.num_docs as usize
    }

    /// Collection statistics used by scoring.
    pub fn stats(&self) -> CollectionStats {
        self.stats
    }

    /// The directory this index was loaded from or last saved to (absolute).
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
}

fn check_k(k: usize) -> Result<()> {
    if k == 0 {
        return Err(Error::invalid_argument("k must be a positive integer"));
    }
    Ok(())
}

/// Size and CRC of a just-written component file, read from its footer.
fn read_footer(path: &Path) -> Result<(u64, u32)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).with_path(path)?;
    let len = f.metadata().with_path(path)?.len();
    f.seek(SeekFrom::Start(len - 8)).with_path(path)?;
    let mut b = [0u8; 4];
    f.read_exact(&mut b).with_path(path)?;
    Ok((len, u32::from_le_bytes(b)))
}

/// `dir` made absolute against the current directory (lexically: symlinks are kept), so that
/// the directory an index remembers stays the same one when the process changes directory.
fn absolute(dir: &Path) -> PathBuf {
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Deletes segment files and stale temporaries that `meta` does not reference. Best effort:
/// leftovers only waste space, they never make the index unreadable.
fn remove_unreferenced(dir: &Path, meta: &IndexMeta) {
    let keep: std::collections::HashSet<&str> = meta
        .segments
        .iter()
        .flat_map(|s| s.files.iter().map(|f| f.file.as_str()))
        .collect();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = (name.starts_with("seg-")
            && [Component::Terms, Component::Postings, Component::Docs]
                .iter()
                .any(|c| name.ends_with(&format!(".{}", c.extension()))))
            || (name.starts_with('.') && name.contains(".tmp-"));
        if ours && !keep.contains(name) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DocInput, IndexBuilder};

    fn index_of(prefix: &str) -> Index {
        let docs = (0..50)
            .map(|i| {
                let words = vec![prefix.to_string(), format!("w{i}")];
                (format!("{prefix}{i}"), DocInput::Tokens(words))
            })
            .collect();
        let mut b =
            IndexBuilder::new(Analyzer::default(), ScoringConfig::default(), Some(1)).unwrap();
        b.add_batch(docs).unwrap();
        b.finish().unwrap()
    }

    /// A `meta.json` with a valid checksum whose segment or file names leave the index
    /// directory is refused as corrupted (not followed).
    #[test]
    fn segment_names_must_stay_inside_the_index_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idx");
        index_of("a").save(&path).unwrap();
        let good = IndexMeta::read(&path).unwrap();
        for bad in ["../evil", "/etc/passwd", "sub/seg", ".."] {
            for in_file in [false, true] {
                let mut meta = good.clone();
                if in_file {
                    meta.segments[0].files[0].file = bad.into();
                } else {
                    meta.segments[0].name = bad.into();
                }
                meta.checksum = 0;
                meta.checksum = meta.content_crc();
                std::fs::write(path.join(META_FILE), serde_json::to_vec(&meta).unwrap()).unwrap();
                let e = IndexMeta::read(&path).unwrap_err();
                assert!(matches!(e, Error::Corrupted { .. }), "{bad}: {e}");
                assert!(e.to_string().contains("not a plain file name"), "{e}");
            }
        }
    }

    /// A load that read a `meta.json` which a save then replaced (removing the segments it
    /// names) starts again from the new one, instead of failing on a vanished file; a
    /// failure under an unchanged `meta.json` is reported as it is.
    #[test]
    fn a_load_overtaken_by_a_save_starts_again_from_the_new_meta() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idx");
        index_of("a").save(&path).unwrap();
        let stale = IndexMeta::read(&path).unwrap();
        index_of("b").save(&path).unwrap();
        let options = LoadOptions::default();
        let first = Index::load_from(&path, options, stale.clone())
            .err()
            .unwrap();
        assert!(
            matches!(&first, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
            "{first}"
        );
        let index = Index::load_starting_from(&path, options, stale).unwrap();
        assert_eq!(index.doc_ids().unwrap()[0], "b0");
        // Nothing changed since: the error stands (no retry loop on a damaged index).
        let seg = &IndexMeta::read(&path).unwrap().segments[0];
        std::fs::remove_file(path.join(&seg.files[0].file)).unwrap();
        let now = IndexMeta::read(&path).unwrap();
        let err = Index::load_starting_from(&path, options, now)
            .err()
            .unwrap();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }
}
