//! Compressed chunks of (timestamp, value) samples.
//!
//! The encoding is the one described in Facebook's Gorilla paper and used
//! by Prometheus's XOR chunks: timestamps (milliseconds) as delta-of-deltas
//! in variable-width buckets, values as the XOR with the previous value,
//! storing only the meaningful bits. A regular 15 s scrape of a slowly
//! changing gauge costs about 1–2 bytes per sample.
//!
//! Layout of [`XorChunk::bytes`]: a big-endian `u16` sample count, then the
//! bit stream. Sample 0 is a zig-zag varint timestamp and the raw 64 value
//! bits; sample 1 a varint timestamp delta and an XOR value; every later
//! sample a delta-of-delta and an XOR value.

use thiserror::Error;

/// Why a sample could not be appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AppendError {
    #[error("out of order sample: timestamp {t} is not after {last}")]
    OutOfOrder { t: i64, last: i64 },
    #[error("chunk is full ({max} samples)")]
    Full { max: usize },
}

/// Why stored bytes could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("chunk is truncated: {0} of its samples are missing")]
    Truncated(usize),
    #[error("chunk has no header")]
    NoHeader,
}

/// Most samples one chunk holds (its header counts them in a `u16`).
pub const MAX_SAMPLES: usize = u16::MAX as usize;

/// Appends bits to a byte vector, most significant bit first.
#[derive(Debug, Clone, Default)]
struct BitWriter {
    bytes: Vec<u8>,
    /// Bits still free in the last byte (0 means a new byte is needed).
    free: u8,
}

impl BitWriter {
    fn bit(&mut self, on: bool) {
        if self.free == 0 {
            self.bytes.push(0);
            self.free = 8;
        }
        if on {
            // The vector is non-empty: a byte was pushed above if none was free.
            let last = self.bytes.len() - 1;
            self.bytes[last] |= 1 << (self.free - 1);
        }
        self.free -= 1;
    }

    /// Writes the low `n` bits of `v`, highest first.
    fn bits(&mut self, v: u64, mut n: u8) {
        while n > 0 {
            if self.free == 0 {
                self.bytes.push(0);
                self.free = 8;
            }
            let take = n.min(self.free);
            let shift = n - take;
            let chunk = ((v >> shift) & ((1u64 << take) - 1)) as u8;
            let last = self.bytes.len() - 1;
            self.bytes[last] |= chunk << (self.free - take);
            self.free -= take;
            n -= take;
        }
    }

    fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.bits((v as u8 | 0x80) as u64, 8);
            v >>= 7;
        }
        self.bits(v, 8);
    }

    fn varint(&mut self, v: i64) {
        self.uvarint(((v << 1) ^ (v >> 63)) as u64);
    }
}

/// Reads bits written by [`BitWriter`].
#[derive(Debug, Clone)]
struct BitReader<'a> {
    bytes: &'a [u8],
    /// Position in bits from the start of `bytes`.
    pos: usize,
}

impl<'a> BitReader<'a> {
    fn bit(&mut self) -> Option<bool> {
        let byte = *self.bytes.get(self.pos / 8)?;
        let on = byte & (0x80 >> (self.pos % 8)) != 0;
        self.pos += 1;
        Some(on)
    }

    /// The 8 bytes from the current byte on, big-endian, zero-padded
    /// past the end.
    #[inline]
    fn word(&self) -> u64 {
        let i = self.pos / 8;
        match self.bytes.get(i..i + 8) {
            Some(b) => {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                u64::from_be_bytes(a)
            }
            None => {
                let mut a = [0u8; 8];
                let rest = self.bytes.get(i..).unwrap_or(&[]);
                a[..rest.len()].copy_from_slice(rest);
                u64::from_be_bytes(a)
            }
        }
    }

    /// The next `n` (≤ 64) bits as an unsigned number. One unaligned
    /// 8-byte load serves up to 57 bits; longer reads take two.
    #[inline]
    fn bits(&mut self, n: u8) -> Option<u64> {
        if self.pos + n as usize > self.bytes.len() * 8 {
            return None;
        }
        if n == 0 {
            return Some(0);
        }
        if n > 56 {
            let hi = self.bits(n - 32)?;
            let lo = self.bits(32)?;
            return Some((hi << 32) | lo);
        }
        let v = (self.word() << (self.pos % 8)) >> (64 - n);
        self.pos += n as usize;
        Some(v)
    }

    fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.bits(8)?;
            if shift == 63 && b > 1 {
                return None;
            }
            v |= (b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn varint(&mut self) -> Option<i64> {
        let u = self.uvarint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
}

/// Delta-of-delta buckets: (control bits, control length, value width).
const DOD_BUCKETS: [(u64, u8, u8); 3] = [(0b10, 2, 14), (0b110, 3, 17), (0b1110, 4, 20)];

/// A chunk being appended to, or read back from bytes.
#[derive(Debug, Clone)]
pub struct XorChunk {
    bits: BitWriter,
    count: usize,
    last_t: i64,
    last_delta: i64,
    last_v: u64,
    /// Leading and trailing zero counts of the last XOR window written with
    /// a full header; `None` before the first.
    window: Option<(u8, u8)>,
}

impl Default for XorChunk {
    fn default() -> Self {
        XorChunk::new()
    }
}

impl XorChunk {
    pub fn new() -> XorChunk {
        XorChunk {
            bits: BitWriter::default(),
            count: 0,
            last_t: 0,
            last_delta: 0,
            last_v: 0,
            window: None,
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The timestamp of the newest sample, if any.
    pub fn last_timestamp(&self) -> Option<i64> {
        (self.count > 0).then_some(self.last_t)
    }

    /// Bytes the samples take, without the header.
    pub fn encoded_len(&self) -> usize {
        self.bits.bytes.len()
    }

    /// Appends a sample; timestamps must strictly increase.
    pub fn append(&mut self, t: i64, v: f64) -> Result<(), AppendError> {
        if self.count >= MAX_SAMPLES {
            return Err(AppendError::Full { max: MAX_SAMPLES });
        }
        let vb = v.to_bits();
        match self.count {
            0 => {
                self.bits.varint(t);
                self.bits.bits(vb, 64);
            }
            1 => {
                if t <= self.last_t {
                    return Err(AppendError::OutOfOrder {
                        t,
                        last: self.last_t,
                    });
                }
                // Positive by the check above; wrapping covers i64 extremes.
                let delta = t.wrapping_sub(self.last_t);
                self.bits.uvarint(delta as u64);
                self.last_delta = delta;
                self.put_value(vb);
            }
            _ => {
                if t <= self.last_t {
                    return Err(AppendError::OutOfOrder {
                        t,
                        last: self.last_t,
                    });
                }
                let delta = t.wrapping_sub(self.last_t);
                let dod = delta.wrapping_sub(self.last_delta);
                self.put_dod(dod);
                self.last_delta = delta;
                self.put_value(vb);
            }
        }
        self.last_t = t;
        self.last_v = vb;
        self.count += 1;
        Ok(())
    }

    fn put_dod(&mut self, dod: i64) {
        if dod == 0 {
            self.bits.bit(false);
            return;
        }
        for (ctl, ctl_len, width) in DOD_BUCKETS {
            let lim = 1i64 << (width - 1);
            if (-lim..lim).contains(&dod) {
                self.bits.bits(ctl, ctl_len);
                self.bits.bits(dod as u64 & ((1u64 << width) - 1), width);
                return;
            }
        }
        self.bits.bits(0b1111, 4);
        self.bits.bits(dod as u64, 64);
    }

    fn put_value(&mut self, vb: u64) {
        let x = vb ^ self.last_v;
        if x == 0 {
            self.bits.bit(false);
            return;
        }
        self.bits.bit(true);
        // Leading zeros are written in 5 bits, so at most 31.
        let lead = (x.leading_zeros() as u8).min(31);
        let trail = x.trailing_zeros() as u8;
        if let Some((pl, pt)) = self.window
            && lead >= pl
            && trail >= pt
        {
            self.bits.bit(false);
            self.bits.bits(x >> pt, 64 - pl - pt);
            return;
        }
        self.bits.bit(true);
        let sig = 64 - lead - trail;
        self.bits.bits(lead as u64, 5);
        // 64 significant bits are written as 0 (6 bits hold 0..=63).
        self.bits.bits((sig % 64) as u64, 6);
        self.bits.bits(x >> trail, sig);
        self.window = Some((lead, trail));
    }

    /// The chunk as stored: a `u16` count, then the bit stream.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.bits.bytes.len());
        // count ≤ MAX_SAMPLES = u16::MAX, checked in append.
        out.extend_from_slice(&(self.count as u16).to_be_bytes());
        out.extend_from_slice(&self.bits.bytes);
        out
    }

    /// Reads a chunk written by [`XorChunk::to_bytes`], ready for more
    /// appends. Every sample is decoded once to restore the append state.
    pub fn from_bytes(bytes: &[u8]) -> Result<XorChunk, DecodeError> {
        let mut it = iter_bytes(bytes)?;
        let count = it.remaining;
        let mut last = None;
        for s in it.by_ref() {
            last = Some(s);
        }
        if it.failed {
            return Err(DecodeError::Truncated(it.remaining));
        }
        let mut chunk = XorChunk::new();
        chunk.bits.bytes = bytes[2..].to_vec();
        let used = it.reader.pos;
        // Bits of the last byte that the stream has not used yet.
        chunk.bits.free = ((8 - used % 8) % 8) as u8;
        chunk.bits.bytes.truncate(used.div_ceil(8));
        if chunk.bits.free > 0
            && let Some(b) = chunk.bits.bytes.last_mut()
        {
            // Appends OR bits into the free ones: they must be zero.
            *b &= !((1u8 << chunk.bits.free) - 1);
        }
        chunk.count = count;
        if let Some((t, v)) = last {
            chunk.last_t = t;
            chunk.last_v = v.to_bits();
        }
        chunk.last_delta = it.delta;
        chunk.window = it.window;
        Ok(chunk)
    }

    /// The samples in order.
    pub fn iter(&self) -> Samples<'_> {
        Samples::new(&self.bits.bytes, self.count)
    }
}

/// Decodes a stored chunk lazily. Stops early (and sets
/// [`Samples::truncated`]) if the bytes end before the count says.
pub fn iter_bytes(bytes: &[u8]) -> Result<Samples<'_>, DecodeError> {
    if bytes.len() < 2 {
        return Err(DecodeError::NoHeader);
    }
    let count = u16::from_be_bytes([bytes[0], bytes[1]]) as usize;
    Ok(Samples::new(&bytes[2..], count))
}

/// Iterator over a chunk's samples.
#[derive(Debug, Clone)]
pub struct Samples<'a> {
    reader: BitReader<'a>,
    remaining: usize,
    index: usize,
    t: i64,
    delta: i64,
    v: u64,
    window: Option<(u8, u8)>,
    failed: bool,
}

impl<'a> Samples<'a> {
    fn new(bytes: &'a [u8], count: usize) -> Samples<'a> {
        Samples {
            reader: BitReader { bytes, pos: 0 },
            remaining: count,
            index: 0,
            t: 0,
            delta: 0,
            v: 0,
            window: None,
            failed: false,
        }
    }

    /// True when the bytes ended before every sample was read.
    pub fn truncated(&self) -> bool {
        self.failed
    }

    fn read_value(&mut self) -> Option<u64> {
        if !self.reader.bit()? {
            return Some(self.v);
        }
        let (lead, trail) = if !self.reader.bit()? {
            self.window?
        } else {
            let lead = self.reader.bits(5)? as u8;
            let sig = match self.reader.bits(6)? as u8 {
                0 => 64,
                s => s,
            };
            if lead + sig > 64 {
                return None;
            }
            let w = (lead, 64 - lead - sig);
            self.window = Some(w);
            w
        };
        let sig = 64 - lead - trail;
        let bits = self.reader.bits(sig)?;
        Some(self.v ^ (bits << trail))
    }

    fn read_dod(&mut self) -> Option<i64> {
        let mut ctl_len = 0;
        while ctl_len < 4 && self.reader.bit()? {
            ctl_len += 1;
        }
        let width = match ctl_len {
            0 => return Some(0),
            1 => 14,
            2 => 17,
            3 => 20,
            _ => return Some(self.reader.bits(64)? as i64),
        };
        let raw = self.reader.bits(width)?;
        // Sign-extend the width-bit two's complement value.
        let shift = 64 - width;
        Some(((raw << shift) as i64) >> shift)
    }

    fn step(&mut self) -> Option<(i64, f64)> {
        match self.index {
            0 => {
                self.t = self.reader.varint()?;
                self.v = self.reader.bits(64)?;
            }
            1 => {
                self.delta = self.reader.uvarint()? as i64;
                self.t = self.t.wrapping_add(self.delta);
                self.v = self.read_value()?;
            }
            _ => {
                let dod = self.read_dod()?;
                self.delta = self.delta.wrapping_add(dod);
                self.t = self.t.wrapping_add(self.delta);
                self.v = self.read_value()?;
            }
        }
        Some((self.t, f64::from_bits(self.v)))
    }
}

impl Iterator for Samples<'_> {
    type Item = (i64, f64);

    fn next(&mut self) -> Option<(i64, f64)> {
        if self.remaining == 0 || self.failed {
            return None;
        }
        match self.step() {
            Some(s) => {
                self.remaining -= 1;
                self.index += 1;
                Some(s)
            }
            None => {
                self.failed = true;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_scrape_of_a_constant_is_about_two_bits_per_sample() {
        let mut c = XorChunk::new();
        for i in 0..120 {
            c.append(1_700_000_000_000 + i * 15_000, 42.0).unwrap();
        }
        // 1 bit of timestamp and 1 bit of value per sample after the first two.
        assert!(c.encoded_len() < 50, "{} bytes", c.encoded_len());
        let got: Vec<_> = c.iter().collect();
        assert_eq!(got.len(), 120);
        assert_eq!(got[119], (1_700_000_000_000 + 119 * 15_000, 42.0));
    }

    #[test]
    fn out_of_order_and_duplicate_timestamps_are_refused() {
        let mut c = XorChunk::new();
        c.append(10, 1.0).unwrap();
        assert_eq!(
            c.append(10, 2.0),
            Err(AppendError::OutOfOrder { t: 10, last: 10 })
        );
        c.append(20, 2.0).unwrap();
        assert_eq!(
            c.append(5, 2.0),
            Err(AppendError::OutOfOrder { t: 5, last: 20 })
        );
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn truncated_bytes_are_reported_not_misread() {
        let mut c = XorChunk::new();
        for i in 0..10 {
            c.append(i * 1000 + (i * i), i as f64 * 1.5).unwrap();
        }
        let bytes = c.to_bytes();
        let short = &bytes[..bytes.len() - 3];
        assert!(matches!(
            XorChunk::from_bytes(short),
            Err(DecodeError::Truncated(_))
        ));
        assert_eq!(
            XorChunk::from_bytes(&bytes[..1]).unwrap_err(),
            DecodeError::NoHeader
        );
    }
}
