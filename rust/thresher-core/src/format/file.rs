//! Writing and reading one component file: header, payload, footer; atomic replacement.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::{
    Bytes, FOOTER_LEN, FOOTER_MAGIC, FORMAT_VERSION, HEADER_LEN, MAGIC,
    OLDEST_SUPPORTED_FORMAT_VERSION,
};
use crate::error::{Error, IoContext, Result};

/// The kinds of component file. The number is written in the header so a file renamed to
/// the wrong role is detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Component {
    /// Sorted term dictionary of a segment.
    Terms = 1,
    /// Posting lists of a segment.
    Postings = 2,
    /// Per-document data of a segment: lengths, norms, external ids.
    Docs = 3,
}

impl Component {
    /// File extension used for this component.
    pub fn extension(self) -> &'static str {
        match self {
            Component::Terms => "terms",
            Component::Postings => "postings",
            Component::Docs => "docs",
        }
    }

    fn from_u32(v: u32) -> Option<Self> {
        match v {
            1 => Some(Component::Terms),
            2 => Some(Component::Postings),
            3 => Some(Component::Docs),
            _ => None,
        }
    }
}

/// Builds a payload in an 8-byte-aligned buffer, little-endian. The buffer is the one the
/// finished [`Bytes`] owns: finishing copies nothing (the copy was a third of the peak memory
/// of building a large segment).
#[derive(Default)]
pub struct PayloadWriter {
    /// Zero beyond `len`.
    words: Vec<u64>,
    len: usize,
}

impl PayloadWriter {
    /// An empty payload.
    pub fn new() -> Self {
        Self::default()
    }

    /// Current length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Makes room for `extra` more bytes exactly (no amortised over-allocation).
    pub fn reserve_exact(&mut self, extra: usize) {
        let need = (self.len + extra).div_ceil(8);
        self.words
            .reserve_exact(need.saturating_sub(self.words.len()));
    }

    /// Extends the zeroed buffer to hold `end` bytes.
    fn grow_to(&mut self, end: usize) {
        let need = end.div_ceil(8);
        if need > self.words.len() {
            self.words.resize(need, 0);
        }
    }

    /// Pads with zeros up to a multiple of `align`.
    pub fn align(&mut self, align: usize) {
        let end = self.len.next_multiple_of(align);
        self.grow_to(end);
        self.len = end;
    }

    /// Appends one `u64`.
    pub fn put_u64(&mut self, v: u64) {
        self.put_bytes(&v.to_le_bytes());
    }

    /// Appends raw bytes.
    pub fn put_bytes(&mut self, v: &[u8]) {
        let end = self.len + v.len();
        self.grow_to(end);
        bytemuck::cast_slice_mut::<u64, u8>(&mut self.words)[self.len..end].copy_from_slice(v);
        self.len = end;
    }

    /// Appends a slice of plain values (8-aligned first).
    pub fn put_slice<T: bytemuck::Pod>(&mut self, v: &[T]) {
        self.align(8);
        self.put_bytes(bytemuck::cast_slice(v));
    }

    /// Inserts `prefix` (a multiple of 8 bytes, so the payload stays aligned) before the bytes
    /// written so far, moving them within the buffer rather than copying them to a new one.
    pub fn prepend(&mut self, prefix: &[u8]) {
        assert!(
            prefix.len().is_multiple_of(8),
            "a prefix keeps the payload 8-aligned"
        );
        let (len, n) = (self.len, prefix.len());
        self.words
            .reserve_exact((len + n).div_ceil(8).saturating_sub(self.words.len()));
        self.grow_to(len + n);
        let bytes = bytemuck::cast_slice_mut::<u64, u8>(&mut self.words);
        bytes.copy_within(0..len, n);
        bytes[..n].copy_from_slice(prefix);
        self.len = len + n;
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &bytemuck::cast_slice::<u64, u8>(&self.words)[..self.len]
    }

    /// Finishes into an aligned [`Bytes`] (padded to 8 with zeros).
    pub fn finish(self) -> Bytes {
        Bytes::from_words(self.words, self.len)
    }
}

fn header(component: Component) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&(component as u32).to_le_bytes());
    h
}

/// A temporary name in the same directory as `path` (same filesystem, so rename is atomic).
fn temp_path(path: &Path) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}-{nanos}", std::process::id()))
}

/// Writes `path` atomically: the content goes to a temporary file in the same directory,
/// which is fsynced and renamed over `path`; then the directory is fsynced. A crash at any
/// point leaves either the old file or the new one, never a mix.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = temp_path(path);
    let result = (|| -> std::io::Result<()> {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut file);
            write(&mut w)?;
            w.flush()?;
        }
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// The lock file [`lock_dir`] creates in an index directory (kept there; it holds no data).
pub const LOCK_FILE: &str = ".thresher.lock";

/// Directories this process is saving into (the in-process half of [`lock_dir`]).
fn held_dirs() -> &'static std::sync::Mutex<std::collections::HashSet<PathBuf>> {
    static HELD: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<PathBuf>>> =
        std::sync::OnceLock::new();
    HELD.get_or_init(Default::default)
}

/// An exclusive lock on a directory, held while this value lives.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    key: PathBuf,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        held_dirs()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.key);
        // Closing the file releases the process's record lock.
    }
}

fn busy(path: &Path) -> Error {
    Error::io(
        path,
        std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            "another writer is saving an index to this directory",
        ),
    )
}

/// Takes the exclusive lock of `dir` without waiting, as Lucene's `write.lock`: two writers
/// saving to one directory at once would delete each other's files. Between processes it is
/// a POSIX record lock (`fcntl(F_SETLK)`) on [`LOCK_FILE`], which a child made by `fork`
/// does not inherit (a `flock` would stay held by every child forked during a save); within
/// the process, a set of the directories being saved into.
///
/// # Errors
/// [`Error::Io`] (kind `WouldBlock`) when another writer holds the lock, or when the lock file
/// cannot be created.
pub fn lock_dir(dir: &Path) -> Result<DirLock> {
    let path = dir.join(LOCK_FILE);
    let key = std::fs::canonicalize(dir).with_path(dir)?;
    if !held_dirs()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(key.clone())
    {
        return Err(busy(&path));
    }
    let file = match OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) => {
            held_dirs()
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&key);
            return Err(Error::io(&path, e));
        }
    };
    // From here on DirLock's drop releases the key, also on the error path below.
    let lock = DirLock { _file: file, key };
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: `fl` is a plain C struct, zeroed then filled; fcntl only reads it, and the
        // descriptor belongs to the file `lock` owns.
        #[allow(unsafe_code)]
        let rc = unsafe {
            let mut fl: libc::flock = std::mem::zeroed();
            fl.l_type = libc::F_WRLCK as libc::c_short;
            fl.l_whence = libc::SEEK_SET as libc::c_short;
            libc::fcntl(lock._file.as_raw_fd(), libc::F_SETLK, &fl)
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(c) if c == libc::EAGAIN || c == libc::EACCES => busy(&path),
                _ => Error::io(&path, e),
            });
        }
    }
    Ok(lock)
}

/// fsyncs a directory so a rename inside it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let d = File::open(dir).with_path(dir)?;
        d.sync_all().with_path(dir)?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes one component file atomically (header + payload + footer).
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_component(path: &Path, component: Component, payload: &[u8]) -> Result<()> {
    write_atomic(path, |w| {
        let h = header(component);
        let mut crc = crc32fast::Hasher::new();
        crc.update(&h);
        crc.update(payload);
        w.write_all(&h)?;
        w.write_all(payload)?;
        w.write_all(&(payload.len() as u64).to_le_bytes())?;
        w.write_all(&crc.finalize().to_le_bytes())?;
        w.write_all(&FOOTER_MAGIC.to_le_bytes())
    })
}

/// The size and footer CRC of the file [`write_component`] would write for `payload` at the
/// current format version (the figures `meta.json` records for a component file).
pub(crate) fn component_checksum(component: Component, payload: &[u8]) -> (u64, u32) {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header(component));
    crc.update(payload);
    (
        (HEADER_LEN + payload.len() + FOOTER_LEN) as u64,
        crc.finalize(),
    )
}

/// Opens one component file and returns its payload.
///
/// Checks, in order: size, header magic, footer magic, payload length, (when `verify`) the
/// CRC32 of header + payload, then the format version range and the component kind. The CRC
/// comes before the version so that a damaged version field reads as corruption; the header and
/// footer layout is therefore fixed across all format versions.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::IncompatibleFormat`] for a version
/// outside `OLDEST_SUPPORTED_FORMAT_VERSION..=FORMAT_VERSION`, [`Error::Corrupted`] otherwise.
pub fn read_component(path: &Path, expected: Component, mmap: bool, verify: bool) -> Result<Bytes> {
    let mut file = File::open(path).with_path(path)?;
    let size = file.metadata().with_path(path)?.len();
    let size = usize::try_from(size).map_err(|_| Error::corrupted(path, "file too large"))?;
    if size < HEADER_LEN + FOOTER_LEN {
        return Err(Error::corrupted(
            path,
            format!(
                "file has {size} bytes, fewer than the {} of header and footer",
                HEADER_LEN + FOOTER_LEN
            ),
        ));
    }
    let bytes = if mmap {
        // SAFETY: the map is read-only. Index files are immutable once written (they are only
        // ever replaced by rename, which leaves this mapping on the old inode); a user truncating
        // the file in place while it is mapped would violate this, as with any mmap-based engine.
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(&file) }.with_path(path)?;
        if map.len() != size {
            return Err(Error::corrupted(path, "file changed size while opening"));
        }
        Bytes::from_mmap(map)
    } else {
        let mut words = vec![0u64; size.div_ceil(8)];
        file.read_exact(&mut bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..size])
            .with_path(path)?;
        Bytes::from_words(words, size)
    };
    let all = bytes.as_slice();
    if all[..8] != MAGIC {
        return Err(Error::corrupted(
            path,
            "not a thresher index file (bad magic number)",
        ));
    }
    let footer = &all[size - FOOTER_LEN..];
    let payload_len = u64::from_le_bytes(footer[..8].try_into().expect("8 bytes"));
    let crc = u32::from_le_bytes(footer[8..12].try_into().expect("4 bytes"));
    let magic = u32::from_le_bytes(footer[12..16].try_into().expect("4 bytes"));
    if magic != FOOTER_MAGIC {
        return Err(Error::corrupted(
            path,
            "bad footer magic (truncated or overwritten file)",
        ));
    }
    if payload_len != (size - HEADER_LEN - FOOTER_LEN) as u64 {
        return Err(Error::corrupted(
            path,
            format!(
                "footer records a {payload_len}-byte payload but the file holds {} bytes (truncated?)",
                size - HEADER_LEN - FOOTER_LEN
            ),
        ));
    }
    if verify {
        let actual = crc32fast::hash(&all[..size - FOOTER_LEN]);
        if actual != crc {
            return Err(Error::corrupted(
                path,
                format!("CRC32 mismatch (stored {crc:08x}, computed {actual:08x})"),
            ));
        }
    }
    let version = u32::from_le_bytes(all[8..12].try_into().expect("4 bytes"));
    if !(OLDEST_SUPPORTED_FORMAT_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(Error::IncompatibleFormat {
            path: path.to_path_buf(),
            found: version,
            supported: OLDEST_SUPPORTED_FORMAT_VERSION..=FORMAT_VERSION,
            hint: if version > FORMAT_VERSION {
                "it was written by a newer thresher: upgrade thresher to read it".into()
            } else {
                "rebuild the index with this version of thresher".into()
            },
        });
    }
    let kind = u32::from_le_bytes(all[12..16].try_into().expect("4 bytes"));
    if Component::from_u32(kind) != Some(expected) {
        return Err(Error::corrupted(
            path,
            format!(
                "header says component {kind}, expected {} ({expected:?})",
                expected as u32
            ),
        ));
    }
    Ok(bytes
        .slice(HEADER_LEN..size - FOOTER_LEN)
        .expect("bounds checked above"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_locked_directory_refuses_a_second_writer_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock_dir(dir.path()).unwrap();
        let e = lock_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("another writer is saving"), "{e}");
        drop(first);
        let again = lock_dir(dir.path()).unwrap();
        let p = std::ffi::CString::new(dir.path().join(LOCK_FILE).as_os_str().as_encoded_bytes())
            .unwrap();
        // Another process is refused while this one holds the lock (a forked child checks).
        // SAFETY: the child only calls async-signal-safe functions (open, fcntl, _exit).
        #[allow(unsafe_code)]
        let status = unsafe {
            let pid = libc::fork();
            if pid == 0 {
                let fd = libc::open(p.as_ptr(), libc::O_WRONLY);
                let mut fl: libc::flock = std::mem::zeroed();
                fl.l_type = libc::F_WRLCK as libc::c_short;
                fl.l_whence = libc::SEEK_SET as libc::c_short;
                let rc = libc::fcntl(fd, libc::F_SETLK, &fl);
                libc::_exit(if rc == 0 { 1 } else { 0 });
            }
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            status
        };
        assert_eq!(status, 0, "the child process took a lock the parent holds");
        // A child forked while the lock is held does not keep it: once the parent lets go,
        // the directory can be locked again although the child still runs.
        // SAFETY: the child only sleeps and exits.
        #[allow(unsafe_code)]
        let child = unsafe {
            let pid = libc::fork();
            if pid == 0 {
                libc::usleep(300_000);
                libc::_exit(0);
            }
            pid
        };
        drop(again);
        let third = lock_dir(dir.path());
        // SAFETY: waits for the child forked above.
        #[allow(unsafe_code)]
        unsafe {
            libc::waitpid(child, std::ptr::null_mut(), 0);
        }
        third.expect("a forked child kept the directory locked");
    }

    #[test]
    fn payload_writer_pads_and_prepends() {
        let mut p = PayloadWriter::new();
        p.put_bytes(b"abc");
        p.align(8);
        p.put_u64(7);
        p.put_bytes(b"xy");
        assert_eq!(p.len(), 18);
        p.prepend(&[9u8; 16]);
        let mut want = vec![9u8; 16];
        want.extend_from_slice(b"abc\0\0\0\0\0");
        want.extend_from_slice(&7u64.to_le_bytes());
        want.extend_from_slice(b"xy");
        assert_eq!(p.as_bytes(), &want[..]);
        let b = p.finish();
        assert_eq!(b.as_slice(), &want[..]);
    }

    fn roundtrip_dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn write_then_read_roundtrips_with_and_without_mmap() {
        let dir = roundtrip_dir();
        let p = dir.path().join("x.terms");
        let payload: Vec<u8> = (0..1000u32).flat_map(|v| v.to_le_bytes()).collect();
        write_component(&p, Component::Terms, &payload).unwrap();
        for mmap in [false, true] {
            let b = read_component(&p, Component::Terms, mmap, true).unwrap();
            assert_eq!(b.as_slice(), &payload[..]);
            assert_eq!(b.as_slice().as_ptr() as usize % 8, 0);
        }
        let e = read_component(&p, Component::Docs, false, true).unwrap_err();
        assert!(matches!(e, Error::Corrupted { .. }), "{e}");
    }

    #[test]
    fn every_single_byte_flip_and_every_truncation_is_detected() {
        let dir = roundtrip_dir();
        let p = dir.path().join("x.docs");
        let payload: Vec<u8> = (0..40u8).collect();
        write_component(&p, Component::Docs, &payload).unwrap();
        let good = std::fs::read(&p).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x5a;
            std::fs::write(&p, &bad).unwrap();
            let e = read_component(&p, Component::Docs, false, true).unwrap_err();
            assert!(matches!(e, Error::Corrupted { .. }), "flip at {i}: {e}");
        }
        for n in 0..good.len() {
            std::fs::write(&p, &good[..n]).unwrap();
            let e = read_component(&p, Component::Docs, true, true).unwrap_err();
            assert!(
                matches!(e, Error::Corrupted { .. }),
                "truncated to {n}: {e}"
            );
        }
    }

    #[test]
    fn newer_version_is_incompatible() {
        let dir = roundtrip_dir();
        let p = dir.path().join("x.docs");
        write_component(&p, Component::Docs, &[1, 2, 3]).unwrap();
        let mut b = std::fs::read(&p).unwrap();
        b[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let n = b.len();
        let crc = crc32fast::hash(&b[..n - FOOTER_LEN]);
        b[n - 8..n - 4].copy_from_slice(&crc.to_le_bytes());
        std::fs::write(&p, &b).unwrap();
        let e = read_component(&p, Component::Docs, false, true).unwrap_err();
        assert!(
            matches!(e, Error::IncompatibleFormat { found, .. } if found == FORMAT_VERSION + 1)
        );
        assert!(e.to_string().contains("upgrade"), "{e}");
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = roundtrip_dir();
        let p = dir.path().join("f");
        write_atomic(&p, |w| w.write_all(b"old")).unwrap();
        let r = write_atomic(&p, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("simulated crash"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
