//! Prometheus remote write 1.0: the protobuf messages, snappy block
//! compression, a receiver's decoder, and a sending queue per endpoint
//! (batching, retries with back-off on 5xx/429 and network errors).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prost::Message;
use thiserror::Error;
use tokio::sync::{mpsc, watch};

use crate::LabeledSample;
use crate::labels::Labels;
use crate::relabel::{self, Rule};

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries` (exemplars and native histograms are not sent;
/// received ones are ignored).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    #[prost(string, tag = "4")]
    pub help: String,
    #[prost(string, tag = "5")]
    pub unit: String,
}

#[derive(Debug, Error, PartialEq)]
pub enum DecodeError {
    #[error("snappy: {0}")]
    Snappy(String),
    #[error("protobuf: {0}")]
    Protobuf(String),
    #[error("series {index} has no labels")]
    NoLabels { index: usize },
    #[error("series {index}: invalid label name {name:?}")]
    BadLabel { index: usize, name: String },
    #[error("series {index} has no __name__ label")]
    NoName { index: usize },
    #[error("decompressed body is larger than {limit} bytes")]
    TooLarge { limit: usize },
}

/// Largest decompressed request accepted by [`decode_request`].
pub const MAX_DECODED: usize = 64 << 20;

/// Encodes samples as a snappy-compressed `WriteRequest` body. Series are
/// grouped by labels, labels sorted by name, samples in input order.
pub fn encode_request(samples: &[LabeledSample]) -> Vec<u8> {
    let mut by_series: BTreeMap<&Labels, Vec<Sample>> = BTreeMap::new();
    for (l, t, v) in samples {
        by_series.entry(l).or_default().push(Sample {
            value: *v,
            timestamp: *t,
        });
    }
    let req = WriteRequest {
        timeseries: by_series
            .into_iter()
            .map(|(l, samples)| TimeSeries {
                labels: l
                    .iter()
                    .map(|(k, v)| Label {
                        name: k.to_string(),
                        value: v.to_string(),
                    })
                    .collect(),
                samples,
            })
            .collect(),
        metadata: Vec::new(),
    };
    let raw = req.encode_to_vec();
    // Compressing an in-memory buffer only fails on inputs over 4 GiB of
    // snappy's limit, which a batch never reaches.
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

/// Decodes a receiver's request body into samples.
pub fn decode_request(body: &[u8]) -> Result<Vec<LabeledSample>, DecodeError> {
    let raw = decompress(body)?;
    Ok(decode_view(&raw)?.to_samples())
}

/// Decompresses a receiver's request body (snappy block format), refusing
/// bodies that would decompress to more than [`MAX_DECODED`] bytes.
pub fn decompress(body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let len = snap::raw::decompress_len(body).map_err(|e| DecodeError::Snappy(e.to_string()))?;
    if len > MAX_DECODED {
        return Err(DecodeError::TooLarge { limit: MAX_DECODED });
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| DecodeError::Snappy(e.to_string()))
}

/// A label name and value borrowed from a request body.
pub type LabelPair<'a> = (&'a str, &'a str);

/// A decoded `WriteRequest` whose strings borrow the decompressed body:
/// every series' labels sorted by name, without duplicates or empty
/// values (as [`Labels::new`] would leave them), and its samples.
#[derive(Debug, Default)]
pub struct WriteView<'a> {
    labels: Vec<(&'a str, &'a str)>,
    samples: Vec<(i64, f64)>,
    /// Per series, where its labels and its samples end.
    ends: Vec<(usize, usize)>,
}

impl<'a> WriteView<'a> {
    /// Each series' label pairs and samples, in request order.
    pub fn series(&self) -> impl Iterator<Item = (&[LabelPair<'a>], &[(i64, f64)])> {
        let mut from = (0, 0);
        self.ends.iter().map(move |&(l, s)| {
            let out = (&self.labels[from.0..l], &self.samples[from.1..s]);
            from = (l, s);
            out
        })
    }

    pub fn series_count(&self) -> usize {
        self.ends.len()
    }

    pub fn sample_count(&self) -> usize {
        self.samples.len()
    }

    /// Every sample with its series' label set (one shared set per series).
    pub fn to_samples(&self) -> Vec<LabeledSample> {
        let mut out = Vec::with_capacity(self.sample_count());
        for (pairs, samples) in self.series() {
            let labels = Labels::new(pairs.iter().copied());
            out.extend(samples.iter().map(|&(t, v)| (labels.clone(), t, v)));
        }
        out
    }
}

/// Decodes a decompressed `prometheus.WriteRequest` without copying its
/// strings. Metadata, exemplars, native histograms and unknown fields are
/// skipped. The whole message is decoded before series are checked, so a
/// wire error wins over a bad series; of bad series the first is named:
/// one without labels, with an invalid label name or without `__name__`.
pub fn decode_view(raw: &[u8]) -> Result<WriteView<'_>, DecodeError> {
    // A sample takes about 20 bytes on the wire, a label at least 8.
    let mut out = WriteView {
        labels: Vec::with_capacity(raw.len() / 64),
        samples: Vec::with_capacity(raw.len() / 24),
        ends: Vec::with_capacity(raw.len() / 256),
    };
    let mut r = Pb::new(raw);
    while let Some((field, wire)) = r.key()? {
        match field {
            1 => {
                r.expect(wire, LEN)?;
                decode_series(r.message()?, &mut out)?;
                out.ends.push((out.labels.len(), out.samples.len()));
            }
            // Metadata.
            3 => r.expect(wire, LEN).and_then(|_| r.skip(field, wire))?,
            _ => r.skip(field, wire)?,
        }
    }
    tidy_labels(&mut out)?;
    Ok(out)
}

fn decode_series<'a>(mut r: Pb<'a>, out: &mut WriteView<'a>) -> Result<(), DecodeError> {
    while let Some((field, wire)) = r.key()? {
        match field {
            1 => {
                r.expect(wire, LEN)?;
                let mut l = r.message()?;
                let (mut name, mut value) = ("", "");
                while let Some((field, wire)) = l.key()? {
                    match field {
                        1 => name = l.expect(wire, LEN).and_then(|_| l.str())?,
                        2 => value = l.expect(wire, LEN).and_then(|_| l.str())?,
                        _ => l.skip(field, wire)?,
                    }
                }
                out.labels.push((name, value));
            }
            2 => {
                r.expect(wire, LEN)?;
                let mut s = r.message()?;
                let (mut t, mut v) = (0i64, 0f64);
                while let Some((field, wire)) = s.key()? {
                    match field {
                        1 => v = f64::from_bits(s.expect(wire, FIXED64).and_then(|_| s.fixed64())?),
                        2 => t = s.expect(wire, VARINT).and_then(|_| s.varint())? as i64,
                        _ => s.skip(field, wire)?,
                    }
                }
                out.samples.push((t, v));
            }
            // Exemplars, native histograms and anything newer.
            _ => r.skip(field, wire)?,
        }
    }
    Ok(())
}

/// Checks every series' labels and puts them in [`Labels`] order: sorted
/// by name, the last of equal names kept, empty values dropped. Requests
/// from Prometheus are already in that order and are left as they are.
fn tidy_labels(out: &mut WriteView<'_>) -> Result<(), DecodeError> {
    let mut from = 0;
    let mut all_tidy = true;
    for (index, &(to, _)) in out.ends.iter().enumerate() {
        let pairs = &out.labels[from..to];
        from = to;
        if pairs.is_empty() {
            return Err(DecodeError::NoLabels { index });
        }
        if let Some(bad) = pairs.iter().find(|(k, _)| !valid_label_name(k)) {
            return Err(DecodeError::BadLabel {
                index,
                name: bad.0.to_string(),
            });
        }
        let named = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .any(|&(k, v)| k == crate::labels::METRIC_NAME && !v.is_empty())
        };
        let tidy =
            pairs.windows(2).all(|w| w[0].0 < w[1].0) && pairs.iter().all(|p| !p.1.is_empty());
        all_tidy &= tidy;
        if tidy && !named(pairs) {
            return Err(DecodeError::NoName { index });
        }
        if !tidy && !named(&tidied(pairs)) {
            return Err(DecodeError::NoName { index });
        }
    }
    if all_tidy {
        return Ok(());
    }
    let mut labels = Vec::with_capacity(out.labels.len());
    let mut from = 0;
    for end in &mut out.ends {
        labels.extend(tidied(&out.labels[from..end.0]));
        from = end.0;
        end.0 = labels.len();
    }
    out.labels = labels;
    Ok(())
}

/// Label pairs as [`Labels::new`] would keep them.
fn tidied<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut sorted = pairs.to_vec();
    // Stable, so of equal names the last stays last and is kept.
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(sorted.len());
    for p in sorted {
        match out.last_mut() {
            Some(last) if last.0 == p.0 => *last = p,
            _ => out.push(p),
        }
    }
    out.retain(|p| !p.1.is_empty());
    out
}

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;
/// Nested groups skipped before a request is refused.
const MAX_GROUP_DEPTH: usize = 100;

/// A protobuf wire-format reader over one message's bytes.
struct Pb<'a> {
    b: &'a [u8],
    at: usize,
    /// Where `b` starts in the whole request, for error positions.
    base: usize,
}

impl<'a> Pb<'a> {
    fn new(b: &'a [u8]) -> Pb<'a> {
        Pb { b, at: 0, base: 0 }
    }

    fn fail(&self, what: &str) -> DecodeError {
        DecodeError::Protobuf(format!("{what} at byte {}", self.base + self.at))
    }

    /// A length-delimited field read as a nested message.
    fn message(&mut self) -> Result<Pb<'a>, DecodeError> {
        let b = self.bytes()?;
        Ok(Pb {
            b,
            at: 0,
            base: self.base + self.at - b.len(),
        })
    }

    /// The next field number and wire type, `None` at the end.
    #[inline]
    fn key(&mut self) -> Result<Option<(u64, u8)>, DecodeError> {
        if self.at == self.b.len() {
            return Ok(None);
        }
        let k = self.varint()?;
        let field = k >> 3;
        if field == 0 || k > u64::from(u32::MAX) {
            return Err(self.fail(&format!("invalid field key {k}")));
        }
        Ok(Some((field, (k & 7) as u8)))
    }

    /// Refuses a known field sent with another wire type.
    #[inline]
    fn expect(&self, wire: u8, want: u8) -> Result<(), DecodeError> {
        if wire == want {
            Ok(())
        } else {
            Err(self.fail(&format!("wire type {wire} where {want} belongs")))
        }
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, DecodeError> {
        // Keys and short lengths: one byte.
        if let Some(&byte) = self.b.get(self.at)
            && byte < 0x80
        {
            self.at += 1;
            return Ok(byte as u64);
        }
        let mut v = 0u64;
        for i in 0..10 {
            let Some(&byte) = self.b.get(self.at) else {
                return Err(self.fail("truncated varint"));
            };
            self.at += 1;
            if i == 9 && byte > 1 {
                break;
            }
            v |= ((byte & 0x7f) as u64) << (7 * i);
            if byte < 0x80 {
                return Ok(v);
            }
        }
        Err(self.fail("varint overflows 64 bits"))
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        match self.b.get(self.at..self.at.saturating_add(n)) {
            Some(s) => {
                self.at += n;
                Ok(s)
            }
            None => Err(self.fail("truncated field")),
        }
    }

    #[inline]
    fn fixed64(&mut self) -> Result<u64, DecodeError> {
        let s = self.take(8)?;
        Ok(u64::from_le_bytes([
            s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
        ]))
    }

    #[inline]
    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.varint()?;
        self.take(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let at = self.base + self.at;
        std::str::from_utf8(self.bytes()?)
            .map_err(|_| DecodeError::Protobuf(format!("invalid UTF-8 in a string at byte {at}")))
    }

    /// Skips the value of a field this decoder does not use.
    fn skip(&mut self, field: u64, wire: u8) -> Result<(), DecodeError> {
        self.skip_nested(field, wire, 0)
    }

    fn skip_nested(&mut self, field: u64, wire: u8, depth: usize) -> Result<(), DecodeError> {
        match wire {
            VARINT => self.varint().map(drop),
            FIXED64 => self.take(8).map(drop),
            LEN => self.bytes().map(drop),
            FIXED32 => self.take(4).map(drop),
            START_GROUP if depth < MAX_GROUP_DEPTH => loop {
                match self.key()? {
                    None => return Err(self.fail("unterminated group")),
                    Some((f, END_GROUP)) if f == field => return Ok(()),
                    Some((_, END_GROUP)) => return Err(self.fail("mismatched end of group")),
                    Some((f, w)) => self.skip_nested(f, w, depth + 1)?,
                }
            },
            START_GROUP => Err(self.fail("groups nested too deeply")),
            END_GROUP => Err(self.fail("end of a group that was not started")),
            _ => Err(self.fail(&format!("invalid wire type {wire}"))),
        }
    }
}

fn valid_label_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// One `remote_write` endpoint. Its `Debug` output hides credentials.
#[derive(Clone)]
pub struct Endpoint {
    pub url: String,
    /// Extra headers (e.g. `X-Scope-OrgID` for Mimir).
    pub headers: Vec<(String, String)>,
    pub bearer_token: Option<String>,
    pub basic_auth: Option<(String, String)>,
    pub write_relabel_configs: Vec<Rule>,
    /// Samples buffered before new ones are dropped (counted).
    pub capacity: usize,
    pub max_samples_per_send: usize,
    pub batch_send_deadline: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    pub timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let secret = k.eq_ignore_ascii_case("authorization");
                (k.as_str(), if secret { "<redacted>" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("headers", &headers)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "basic_auth",
                &self.basic_auth.as_ref().map(|(u, _)| (u, "<redacted>")),
            )
            .field("write_relabel_configs", &self.write_relabel_configs.len())
            .field("capacity", &self.capacity)
            .field("max_samples_per_send", &self.max_samples_per_send)
            .field("batch_send_deadline", &self.batch_send_deadline)
            .field("min_backoff", &self.min_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Endpoint {
    /// An endpoint with Prometheus 2.42's queue defaults.
    pub fn new(url: impl Into<String>) -> Endpoint {
        Endpoint {
            url: url.into(),
            headers: Vec::new(),
            bearer_token: None,
            basic_auth: None,
            write_relabel_configs: Vec::new(),
            capacity: 2500 * 10,
            max_samples_per_send: 500,
            batch_send_deadline: Duration::from_secs(5),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Counters of one queue, shared with whoever reports them.
#[derive(Debug, Default)]
pub struct QueueStats {
    pub sent: AtomicU64,
    pub dropped: AtomicU64,
    pub failed_batches: AtomicU64,
    pub retries: AtomicU64,
}

/// The sending side of a queue: cheap to clone, never blocks.
#[derive(Clone)]
pub struct QueueHandle {
    tx: mpsc::Sender<LabeledSample>,
    rules: Arc<Vec<Rule>>,
    pub stats: Arc<QueueStats>,
}

impl QueueHandle {
    /// Offers samples to the queue after write relabeling. When the queue
    /// is full the newest samples are dropped and counted.
    pub fn offer(&self, samples: &[LabeledSample]) {
        for (l, t, v) in samples {
            let labels = if self.rules.is_empty() {
                l.clone()
            } else {
                let map: BTreeMap<String, String> = l
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                match relabel::process(&self.rules, map) {
                    Some(m) => Labels::new(m),
                    None => continue,
                }
            };
            if self.tx.try_send((labels, *t, *v)).is_err() {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Starts the sender task for an endpoint. It sends a batch when it has
/// `max_samples_per_send` samples or `batch_send_deadline` has passed,
/// retries recoverable failures with doubling back-off, and drains what is
/// buffered when `shutdown` turns true.
pub fn start(
    endpoint: Endpoint,
    client: reqwest::Client,
    shutdown: watch::Receiver<bool>,
) -> (QueueHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(endpoint.capacity.max(1));
    let stats = Arc::new(QueueStats::default());
    let handle = QueueHandle {
        tx,
        rules: Arc::new(endpoint.write_relabel_configs.clone()),
        stats: stats.clone(),
    };
    let task = tokio::spawn(run_queue(endpoint, client, rx, stats, shutdown));
    (handle, task)
}

async fn run_queue(
    ep: Endpoint,
    client: reqwest::Client,
    mut rx: mpsc::Receiver<LabeledSample>,
    stats: Arc<QueueStats>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut batch: Vec<LabeledSample> = Vec::with_capacity(ep.max_samples_per_send);
    loop {
        let deadline = tokio::time::sleep(ep.batch_send_deadline);
        tokio::pin!(deadline);
        let mut stopping = false;
        while batch.len() < ep.max_samples_per_send {
            tokio::select! {
                s = rx.recv() => match s {
                    Some(s) => batch.push(s),
                    None => { stopping = true; break; }
                },
                _ = &mut deadline => break,
                _ = shutdown.changed() => { stopping = true; break; }
            }
        }
        if stopping {
            while let Ok(s) = rx.try_recv() {
                batch.push(s);
            }
        }
        for chunk in batch.chunks(ep.max_samples_per_send) {
            send_with_retries(&ep, &client, chunk, &stats, stopping).await;
        }
        batch.clear();
        if stopping || *shutdown.borrow() {
            return;
        }
    }
}

/// Why a send failed, and whether trying again can help.
#[derive(Debug)]
pub struct SendError {
    pub message: String,
    pub recoverable: bool,
}

/// Sends one batch once.
pub async fn send_batch(
    ep: &Endpoint,
    client: &reqwest::Client,
    samples: &[LabeledSample],
) -> Result<(), SendError> {
    let body = encode_request(samples);
    let mut req = client
        .post(&ep.url)
        .timeout(ep.timeout)
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body);
    for (k, v) in &ep.headers {
        req = req.header(k, v);
    }
    if let Some(t) = &ep.bearer_token {
        req = req.bearer_auth(t);
    }
    if let Some((u, p)) = &ep.basic_auth {
        req = req.basic_auth(u, Some(p));
    }
    match req.send().await {
        Ok(resp) if resp.status().is_success() => Ok(()),
        Ok(resp) => {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            let text: String = text.chars().take(512).collect();
            Err(SendError {
                message: format!("server returned HTTP status {status}: {}", text.trim()),
                recoverable: status.is_server_error() || status.as_u16() == 429,
            })
        }
        Err(e) => Err(SendError {
            message: e.to_string(),
            recoverable: true,
        }),
    }
}

async fn send_with_retries(
    ep: &Endpoint,
    client: &reqwest::Client,
    samples: &[LabeledSample],
    stats: &QueueStats,
    stopping: bool,
) {
    let mut backoff = ep.min_backoff;
    // While shutting down, a few attempts only, so shutdown ends.
    let mut attempts_left = if stopping { 3 } else { u32::MAX };
    loop {
        match send_batch(ep, client, samples).await {
            Ok(()) => {
                stats
                    .sent
                    .fetch_add(samples.len() as u64, Ordering::Relaxed);
                return;
            }
            Err(e) if e.recoverable && attempts_left > 1 => {
                attempts_left -= 1;
                stats.retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(url = %ep.url, error = %e.message, "remote write failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ep.max_backoff);
            }
            Err(e) => {
                stats.failed_batches.fetch_add(1, Ordering::Relaxed);
                stats
                    .dropped
                    .fetch_add(samples.len() as u64, Ordering::Relaxed);
                tracing::error!(url = %ep.url, error = %e.message, "remote write batch dropped");
                return;
            }
        }
    }
}

/// Endpoints from gantry.yml `remote_write:` with Prometheus 2.42's queue
/// defaults. Credential files are read now, so a missing one is reported
/// at its entry when the configuration is checked, not at the first send.
pub fn from_config(
    config: &gantry_config::Config,
) -> Result<Vec<Endpoint>, Vec<gantry_config::Diagnostic>> {
    let mut diags = Vec::new();
    let mut out = Vec::new();
    for rw in &config.remote_write {
        let at = |msg: String| {
            gantry_config::Diagnostic::error(rw.origin.file.as_str(), msg).with_span(rw.origin.span)
        };
        let mut read_secret = |inline: &Option<String>, file: &Option<String>| match (inline, file)
        {
            (Some(v), _) => Some(v.clone()),
            (None, Some(path)) => match std::fs::read_to_string(path) {
                Ok(text) => Some(text.trim().to_string()),
                Err(e) => {
                    diags.push(at(format!("cannot read {path}: {e}")));
                    None
                }
            },
            (None, None) => None,
        };
        let mut ep = Endpoint::new(rw.url.clone());
        ep.headers = rw
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(b) = &rw.basic_auth {
            let password = read_secret(&b.password, &b.password_file).unwrap_or_default();
            ep.basic_auth = Some((b.username.clone(), password));
        }
        if let Some(a) = &rw.authorization {
            let kind = a.kind.as_deref().unwrap_or("Bearer");
            if let Some(credentials) = read_secret(&a.credentials, &a.credentials_file) {
                if kind.eq_ignore_ascii_case("bearer") {
                    ep.bearer_token = Some(credentials);
                } else {
                    ep.headers
                        .push(("Authorization".into(), format!("{kind} {credentials}")));
                }
            }
        }
        if let Some(t) = rw.remote_timeout {
            ep.timeout = t;
        }
        let q = &rw.queue_config;
        if let Some(c) = q.capacity {
            ep.capacity = c as usize;
        }
        if let Some(n) = q.max_samples_per_send {
            ep.max_samples_per_send = (n as usize).max(1);
        }
        if let Some(d) = q.batch_send_deadline {
            ep.batch_send_deadline = d;
        }
        if let Some(d) = q.min_backoff {
            ep.min_backoff = d;
        }
        if let Some(d) = q.max_backoff {
            ep.max_backoff = d;
        }
        ep.write_relabel_configs =
            crate::scrape::compile_entries(&rw.write_relabel_configs, &mut diags);
        out.push(ep);
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}
