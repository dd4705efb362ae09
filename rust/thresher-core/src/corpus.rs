//! Reading corpora: BEIR folders and JSON-lines files (optionally gzip-compressed).
//!
//! One JSON object per line. The document id is taken from `_id` (BEIR), `id` or `docid`; the
//! text is the configured fields joined by one space (BEIR flat indexing: `title + " " + text`,
//! as Pyserini does). A corpus in Anserini's `JsonCollection` layout (`{"id", "contents"}`) is
//! read by asking for the field `contents`.
//!
//! Every requested field must exist in the first document (so a misspelt field name is an
//! error, not an empty index); later documents may lack a field or hold `null` (read as empty).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

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
pub struct CorpusReader {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    line_no: u64,
    fields: Vec<String>,
    checked_fields: bool,
    bytes_read: u64,
    file_len: u64,
}

/// A raw line with its 1-based line number.
pub struct RawLine {
    pub(crate) line_no: u64,
    pub(crate) bytes: Vec<u8>,
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
        let reader: Box<dyn BufRead + Send> = if n == 2 && magic == [0x1f, 0x8b] {
            Box::new(BufReader::with_capacity(
                1 << 20,
                flate2::read::MultiGzDecoder::new(file),
            ))
        } else {
            Box::new(BufReader::with_capacity(1 << 20, file))
        };
        Ok(Self {
            path,
            reader,
            line_no: 0,
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
    /// [`Error::Io`] on read errors (including a damaged gzip stream).
    pub fn next_lines(&mut self, max: usize) -> Result<Vec<RawLine>> {
        let mut out = Vec::with_capacity(max.min(1 << 16));
        while out.len() < max {
            let mut buf = Vec::new();
            let n = self
                .reader
                .read_until(b'\n', &mut buf)
                .with_path(&self.path)?;
            if n == 0 {
                break;
            }
            self.line_no += 1;
            self.bytes_read += n as u64;
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            out.push(RawLine {
                line_no: self.line_no,
                bytes: buf,
            });
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
/// non-string id, or a non-string field; [`Error::InvalidArgument`] when `check_fields` and the
/// first line lacks a requested field.
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
                    let mut have: Vec<&str> = obj.keys().map(String::as_str).collect();
                    have.sort_unstable();
                    return Err(Error::invalid_argument(format!(
                        "unknown field {f:?}: the first document of {} has fields {}",
                        path.display(),
                        have.join(", ")
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
    fn bad_input_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&[u8], &str); 4] = [
            (b"{\"_id\": \"a\", \"title\": \"\", \"text\": \"ok\"}\n{\"_id\": \"b\", \"title\": \"\", \"text\": \"\xff\"}\n", "invalid UTF-8"),
            (b"{\"_id\": \"a\", \"title\": \"\", \"text\": \"ok\"}\n{oops\n", "invalid JSON"),
            (b"{\"title\": \"\", \"text\": \"ok\"}\n", "no document id"),
            (b"{\"_id\": \"a\", \"title\": 3, \"text\": \"ok\"}\n", "must be a string"),
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
