//! Reading corpora: BEIR folders and JSON-lines files (optionally gzip-compressed).
//!
//! One JSON object per line. The document id is taken from `_id` (BEIR), `id` or `docid`; the
//! text is the configured fields joined by one space (BEIR flat indexing: `title + " " + text`,
//! as Pyserini does). A corpus in Anserini's `JsonCollection` layout (`{"id", "contents"}`) is
//! read by asking for the field `contents`.
//!
//! Every requested field must exist in the first document (so a misspelt field name is an
//! error, not an empty index); later documents may lack a field or hold `null` (read as empty).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use rayon::prelude::*;

use crate::error::{Error, IoContext, Result};

/// Id fields tried in order.
pub const ID_FIELDS: [&str; 3] = ["_id", "id", "docid"];

/// Finds the corpus file of a BEIR folder (`corpus.jsonl` or `corpus.jsonl.gz`), or returns
/// `path` itself when it is a file.
///
/// # Errors
/// [`Error::Io`] (NotFound) when neither exists.
pub fn resolve_corpus_path(path: &Path) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    if path.is_dir() {
        for name in ["corpus.jsonl", "corpus.jsonl.gz"] {
            let p = path.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
        return Err(Error::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no corpus.jsonl or corpus.jsonl.gz in this folder",
            ),
        ));
    }
    Err(Error::io(
        path,
        std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
    ))
}

/// Streams raw lines of a JSONL corpus in batches; parsing happens in parallel in
/// [`parse_batch`].
///
/// A background thread reads (and decompresses) ahead of the caller, so that reading overlaps
/// with the parsing and indexing of the previous batch. It stops at the end of the file, at
/// the first read error, or when the reader is dropped.
pub struct CorpusReader {
    path: PathBuf,
    ahead: Receiver<ReadAhead>,
    pending: VecDeque<RawLine>,
    /// The read error met by the thread, and whether it was bad data (after it is
    /// reported, later calls fail too, with the same kind of error).
    failed: Option<(String, bool)>,
    finished: bool,
    fields: Vec<String>,
    checked_fields: bool,
    bytes_read: u64,
    file_len: u64,
}

/// What the read-ahead thread sends.
enum ReadAhead {
    /// The next non-blank lines.
    Lines(Vec<RawLine>),
    /// The end of the file, after this many bytes of (decompressed) input.
    End(u64),
    /// A read error; nothing follows.
    Failed(Error),
}

/// Lines per read-ahead message, and the most bytes per message.
const AHEAD_LINES: usize = 4096;
const AHEAD_BYTES: u64 = 8 << 20;

/// Read-ahead messages buffered between the thread and the caller.
const AHEAD_MESSAGES: usize = 4;

/// Reads `reader` to its end in messages of at most [`AHEAD_LINES`] lines, until `tx` closes.
fn read_ahead(
    path: &Path,
    mut reader: Box<dyn BufRead + Send>,
    gzip: bool,
    tx: &SyncSender<ReadAhead>,
) {
    let (mut line_no, mut bytes) = (0u64, 0u64);
    loop {
        let mut lines = Vec::with_capacity(AHEAD_LINES);
        let start = bytes;
        let end = loop {
            if lines.len() >= AHEAD_LINES || bytes - start >= AHEAD_BYTES {
                break None;
            }
            let mut buf = Vec::new();
            match reader.read_until(b'\n', &mut buf) {
                Err(e) => break Some(ReadAhead::Failed(read_error(path, gzip, line_no, e))),
                Ok(0) => break Some(ReadAhead::End(bytes)),
                Ok(n) => {
                    line_no += 1;
                    bytes += n as u64;
                    if !buf.iter().all(u8::is_ascii_whitespace) {
                        lines.push(RawLine {
                            line_no,
                            bytes: buf,
                            bytes_through: bytes,
                        });
                    }
                }
            }
        };
        if !lines.is_empty() && tx.send(ReadAhead::Lines(lines)).is_err() {
            return;
        }
        if let Some(last) = end {
            let _ = tx.send(last);
            return;
        }
    }
}

/// A read error: damaged gzip data is bad input ([`Error::InvalidData`], naming the last
/// good line), anything else an I/O error.
fn read_error(path: &Path, gzip: bool, line_no: u64, e: std::io::Error) -> Error {
    use std::io::ErrorKind::{InvalidData, InvalidInput, UnexpectedEof};
    if gzip && matches!(e.kind(), InvalidData | InvalidInput | UnexpectedEof) {
        Error::InvalidData(format!(
            "{}: damaged gzip data after line {line_no} (truncated or corrupt file: {e})",
            path.display()
        ))
    } else {
        Error::io(path, e)
    }
}

/// A raw line with its 1-based line number.
pub struct RawLine {
    pub(crate) line_no: u64,
    pub(crate) bytes: Vec<u8>,
    /// Bytes of input read up to the end of this line.
    bytes_through: u64,
}

impl RawLine {
    /// The line as text; invalid UTF-8 is an error naming `path`, the line and the byte.
    pub(crate) fn text(&self, path: &Path) -> Result<&str> {
        std::str::from_utf8(&self.bytes).map_err(|e| {
            Error::InvalidData(format!(
                "{} line {}: invalid UTF-8 at byte {}",
                path.display(),
                self.line_no,
                e.valid_up_to()
            ))
        })
    }
}

impl CorpusReader {
    /// Opens a corpus file or BEIR folder; `fields` are joined with a space to form the text.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be opened; [`Error::InvalidArgument`] when `fields`
    /// is empty.
    pub fn open(path: &Path, fields: &[String]) -> Result<Self> {
        if fields.is_empty() {
            return Err(Error::invalid_argument("at least one text field is needed"));
        }
        let path = resolve_corpus_path(path)?;
        let mut file = File::open(&path).with_path(&path)?;
        let file_len = file.metadata().with_path(&path)?.len();
        let mut magic = [0u8; 2];
        let n = file.read(&mut magic).with_path(&path)?;
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(0)).with_path(&path)?;
        let gzip = n == 2 && magic == [0x1f, 0x8b];
        let reader: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(
                1 << 20,
                flate2::read::MultiGzDecoder::new(file),
            ))
        } else {
            Box::new(BufReader::with_capacity(1 << 20, file))
        };
        let (tx, ahead) = sync_channel(AHEAD_MESSAGES);
        let thread_path = path.clone();
        std::thread::Builder::new()
            .name("thresher-corpus".into())
            .spawn(move || read_ahead(&thread_path, reader, gzip, &tx))
            .with_path(&path)?;
        Ok(Self {
            path,
            ahead,
            pending: VecDeque::new(),
            failed: None,
            finished: false,
            fields: fields.to_vec(),
            checked_fields: false,
            bytes_read: 0,
            file_len,
        })
    }

    /// The corpus file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the file on disk.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Bytes of (decompressed) input consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Reads up to `max` non-blank lines. An empty result means the end of the file.
    ///
    /// # Errors
    /// [`Error::InvalidData`] for a damaged gzip stream, [`Error::Io`] on other read errors;
    /// after an error, every later call fails the same way.
    pub fn next_lines(&mut self, max: usize) -> Result<Vec<RawLine>> {
        if let Some((msg, data)) = &self.failed {
            let msg = format!("reading stopped at an earlier error: {msg}");
            return Err(if *data {
                Error::InvalidData(msg)
            } else {
                Error::io(&self.path, std::io::Error::other(msg))
            });
        }
        let mut out = Vec::with_capacity(max.min(1 << 16));
        while out.len() < max {
            if let Some(line) = self.pending.pop_front() {
                self.bytes_read = line.bytes_through;
                out.push(line);
                continue;
            }
            if self.finished {
                break;
            }
            match self.ahead.recv() {
                Ok(ReadAhead::Lines(lines)) => self.pending.extend(lines),
                Ok(ReadAhead::End(bytes)) => {
                    self.bytes_read = bytes;
                    self.finished = true;
                }
                Ok(ReadAhead::Failed(e)) => {
                    self.failed = Some((e.to_string(), matches!(e, Error::InvalidData(_))));
                    return Err(e);
                }
                Err(_) => {
                    let msg = "the corpus reading thread stopped";
                    self.failed = Some((msg.into(), false));
                    return Err(Error::io(&self.path, std::io::Error::other(msg)));
                }
            }
        }
        Ok(out)
    }

    /// Reads and parses the next batch of up to `max` documents as `(id, text)`; empty at the end.
    ///
    /// # Errors
    /// As [`CorpusReader::next_lines`] and [`parse_batch`].
    pub fn next_batch(&mut self, max: usize) -> Result<Vec<(String, String)>> {
        let lines = self.next_lines(max)?;
        let docs = parse_batch(&self.path, &lines, &self.fields, !self.checked_fields)?;
        self.checked_fields = true;
        Ok(docs)
    }
}

/// Parses lines into `(id, text)` in parallel (in the current rayon pool).
///
/// # Errors
/// [`Error::InvalidData`] naming file and line for invalid UTF-8, invalid JSON, a missing or
/// non-string id, a non-string field, or a record with none of the fields;
/// [`Error::InvalidArgument`] when `check_fields` and the first line lacks a requested field.
pub fn parse_batch(
    path: &Path,
    lines: &[RawLine],
    fields: &[String],
    check_fields: bool,
) -> Result<Vec<(String, String)>> {
    if check_fields {
        if let Some(first) = lines.first() {
            let obj = parse_object(path, first)?;
            for f in fields {
                if !obj.contains_key(f) {
                    return Err(Error::invalid_argument(format!(
                        "unknown field {f:?}: the first document of {} has fields {}",
                        path.display(),
                        field_names(&obj)
                    )));
                }
            }
        }
    }
    lines
        .par_iter()
        .map(|l| parse_line(path, l, fields))
        .collect()
}

/// The field names of a record, sorted, comma-separated (for error messages).
fn field_names(obj: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut have: Vec<&str> = obj.keys().map(String::as_str).collect();
    have.sort_unstable();
    have.join(", ")
}

fn parse_object(path: &Path, line: &RawLine) -> Result<serde_json::Map<String, serde_json::Value>> {
    let at = || format!("{} line {}", path.display(), line.line_no);
    let text = line.text(path)?;
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::InvalidData(format!(
            "{}: expected a JSON object",
            at()
        ))),
        Err(e) => Err(Error::InvalidData(format!("{}: invalid JSON: {e}", at()))),
    }
}

fn parse_line(path: &Path, line: &RawLine, fields: &[String]) -> Result<(String, String)> {
    let at = || format!("{} line {}", path.display(), line.line_no);
    let mut obj = parse_object(path, line)?;
    let id = ID_FIELDS
        .iter()
        .find_map(|f| obj.remove(*f))
        .ok_or_else(|| {
            Error::InvalidData(format!(
                "{}: no document id (looked for {})",
                at(),
                ID_FIELDS.join(", ")
            ))
        })?;
    let id = match id {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => {
            return Err(Error::InvalidData(format!(
                "{}: the document id must be a string",
                at()
            )))
        }
    };
    // A record with none of the fields is an error, not an empty document (as in
    // `Index.build`); a field that is present but null counts as empty text.
    if !fields.iter().any(|f| obj.contains_key(f)) {
        let have = if obj.is_empty() {
            "only its id".to_string()
        } else {
            field_names(&obj)
        };
        return Err(Error::InvalidData(format!(
            "{}: document {id:?} has none of the fields {} (it has {have})",
            at(),
            fields.join(", "),
        )));
    }
    let mut text = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        match obj.get(f) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(s)) => text.push_str(s),
            Some(_) => {
                return Err(Error::InvalidData(format!(
                    "{}: field {f:?} must be a string",
                    at()
                )))
            }
        }
    }
    Ok((id, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    fn fields() -> Vec<String> {
        vec!["title".into(), "text".into()]
    }

    #[test]
    fn reads_plain_and_gzip_beir_lines() {
        let dir = tempfile::tempdir().unwrap();
        let body = b"{\"_id\": \"d1\", \"title\": \"T\", \"text\": \"x y\"}\n\n{\"_id\": 7, \"title\": null, \"text\": \"z\"}\n";
        let p = write(dir.path(), "c.jsonl", body);
        let mut r = CorpusReader::open(&p, &fields()).unwrap();
        let docs = r.next_batch(10).unwrap();
        assert_eq!(
            docs,
            vec![("d1".into(), "T x y".into()), ("7".into(), " z".into())]
        );
        assert!(r.next_batch(10).unwrap().is_empty());

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(body).unwrap();
        let g = write(dir.path(), "corpus.jsonl.gz", &gz.finish().unwrap());
        std::fs::remove_file(&p).unwrap();
        assert_eq!(resolve_corpus_path(dir.path()).unwrap(), g);
        let mut r = CorpusReader::open(dir.path(), &fields()).unwrap();
        assert_eq!(r.next_batch(1).unwrap().len(), 1);
        assert_eq!(r.next_batch(5).unwrap().len(), 1);
    }

    #[test]
    fn read_ahead_keeps_order_line_numbers_and_byte_counts() {
        let dir = tempfile::tempdir().unwrap();
        let n = 3 * AHEAD_LINES + 17;
        let mut body = Vec::new();
        for i in 0..n {
            writeln!(
                body,
                "{{\"_id\": \"d{i}\", \"title\": \"\", \"text\": \"t{i}\"}}"
            )
            .unwrap();
            if i % 1000 == 0 {
                body.extend_from_slice(b"  \n");
            }
        }
        let p = write(dir.path(), "c.jsonl", &body);
        let mut r = CorpusReader::open(&p, &fields()).unwrap();
        let mut seen = 0;
        let mut last_line = 0;
        loop {
            let lines = r.next_lines(1000).unwrap();
            if lines.is_empty() {
                break;
            }
            for l in &lines {
                let want = format!("\"_id\": \"d{seen}\"");
                assert!(String::from_utf8_lossy(&l.bytes).contains(&want));
                assert!(l.line_no > last_line);
                last_line = l.line_no;
                seen += 1;
            }
            assert!(r.bytes_read() <= body.len() as u64);
        }
        assert_eq!(seen, n);
        assert_eq!(r.bytes_read(), body.len() as u64);
        assert_eq!(last_line as usize, n + n.div_ceil(1000));
    }

    #[test]
    fn a_damaged_gzip_stream_is_an_error_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = Vec::new();
        for i in 0..20_000 {
            writeln!(
                body,
                "{{\"_id\": \"d{i}\", \"title\": \"\", \"text\": \"w{}\"}}",
                i * 7919 % 10007
            )
            .unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&body).unwrap();
        let mut gz = gz.finish().unwrap();
        gz.truncate(gz.len() / 2);
        let p = write(dir.path(), "c.jsonl.gz", &gz);
        let mut r = CorpusReader::open(&p, &fields()).unwrap();
        let first = loop {
            match r.next_batch(5_000) {
                Ok(docs) => assert!(!docs.is_empty(), "a damaged stream must not end quietly"),
                Err(e) => break e,
            }
        };
        assert!(matches!(first, Error::InvalidData(_)), "{first}");
        assert!(
            first.to_string().contains("damaged gzip data after line"),
            "{first}"
        );
        let again = r.next_batch(5_000).unwrap_err();
        assert!(matches!(again, Error::InvalidData(_)), "{again}");
        assert!(again.to_string().contains("earlier error"), "{again}");
    }

    #[test]
    fn bad_input_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&[u8], &str); 6] = [
            (b"{\"_id\": \"a\", \"title\": \"\", \"text\": \"ok\"}\n{\"_id\": \"b\", \"title\": \"\", \"text\": \"\xff\"}\n", "invalid UTF-8"),
            (b"{\"_id\": \"a\", \"title\": \"\", \"text\": \"ok\"}\n{oops\n", "invalid JSON"),
            (b"{\"title\": \"\", \"text\": \"ok\"}\n", "no document id"),
            (b"{\"_id\": \"a\", \"title\": 3, \"text\": \"ok\"}\n", "must be a string"),
            // Fields are checked against the first record; a later one with none of them is
            // an error too (not an empty document), naming what it has.
            (b"{\"_id\": \"a\", \"title\": \"\", \"text\": \"ok\"}\n{\"_id\": \"b\", \"body\": \"x\"}\n", "\"b\" has none of the fields title, text (it has body)"),
            (b"{\"_id\": \"a\", \"title\": \"\", \"text\": \"ok\"}\n{\"_id\": \"b\"}\n", "(it has only its id)"),
        ];
        for (body, want) in cases {
            let p = write(dir.path(), "c.jsonl", body);
            let e = CorpusReader::open(&p, &fields())
                .unwrap()
                .next_batch(10)
                .unwrap_err()
                .to_string();
            assert!(e.contains(want) && e.contains("line"), "{e}");
        }
        let p = write(
            dir.path(),
            "c.jsonl",
            b"{\"_id\": \"a\", \"text\": \"ok\"}\n",
        );
        let e = CorpusReader::open(&p, &["titel".to_string()])
            .unwrap()
            .next_batch(10)
            .unwrap_err();
        assert!(
            matches!(e, Error::InvalidArgument(ref m) if m.contains("titel")),
            "{e}"
        );
        assert!(matches!(
            CorpusReader::open(&dir.path().join("nope"), &fields()),
            Err(Error::Io { .. })
        ));
    }
}
