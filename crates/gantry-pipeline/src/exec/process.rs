//! Child-process plumbing: line readers and process-group termination
//! (through the `kill` command, since the workspace forbids unsafe code).

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

/// Lines longer than this are split into pieces of at most this many bytes.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Out,
    Err,
}

/// Reads `r` line by line (`\n`, with a trailing `\r` dropped) and sends each
/// line, lossily decoded, on `tx`. Overlong lines are split at a character
/// boundary near [`MAX_LINE_BYTES`].
pub(crate) async fn read_lines<R: AsyncRead + Unpin>(
    mut r: R,
    stream: Stream,
    tx: mpsc::Sender<(Stream, String)>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut line: Vec<u8> = Vec::new();
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let mut rest = &buf[..n];
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            line.extend_from_slice(&rest[..pos]);
            rest = &rest[pos + 1..];
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if !send_pieces(&mut line, stream, &tx, true).await {
                return;
            }
        }
        line.extend_from_slice(rest);
        if !send_pieces(&mut line, stream, &tx, false).await {
            return;
        }
    }
    if !line.is_empty() {
        send_pieces(&mut line, stream, &tx, true).await;
    }
}

/// Sends every full-size piece of `line`; with `all`, also the remainder
/// (even when empty, which is an empty line). Returns false when the
/// receiver is gone.
async fn send_pieces(
    line: &mut Vec<u8>,
    stream: Stream,
    tx: &mpsc::Sender<(Stream, String)>,
    all: bool,
) -> bool {
    while line.len() > MAX_LINE_BYTES {
        let cut = utf8_cut(&line[..MAX_LINE_BYTES]);
        let piece: Vec<u8> = line.drain(..cut).collect();
        if tx
            .send((stream, String::from_utf8_lossy(&piece).into_owned()))
            .await
            .is_err()
        {
            return false;
        }
    }
    if all {
        let piece = std::mem::take(line);
        if tx
            .send((stream, String::from_utf8_lossy(&piece).into_owned()))
            .await
            .is_err()
        {
            return false;
        }
    }
    true
}

/// Where to cut `chunk` so a UTF-8 sequence at its end is not split.
fn utf8_cut(chunk: &[u8]) -> usize {
    match std::str::from_utf8(chunk) {
        Ok(_) => chunk.len(),
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => e.valid_up_to(),
        Err(_) => chunk.len(),
    }
}

/// Live (non-zombie) members of process group `pgid`. One `kill(-pgid, 0)`
/// answers the common case (the group is gone); only when it still exists
/// is `/proc` read, to leave out zombies that nobody reaps.
pub(crate) async fn group_members(pgid: u32) -> Vec<u32> {
    let Some(group) = group_pid(pgid) else {
        return Vec::new();
    };
    if rustix::process::test_kill_process_group(group).is_err() {
        return Vec::new();
    }
    match std::fs::read_dir("/proc") {
        Ok(dir) => dir
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                    return false;
                };
                // "pid (comm) state ppid pgrp ..."; comm may contain spaces and ')'.
                let Some(close) = stat.rfind(')') else {
                    return false;
                };
                let mut fields = stat[close + 1..].split_whitespace();
                let state = fields.next();
                let pgrp = fields.nth(1).and_then(|p| p.parse::<u32>().ok());
                state != Some("Z") && state != Some("X") && pgrp == Some(pgid)
            })
            .collect(),
        Err(_) => vec![pgid],
    }
}

/// The group to signal; never "every process" (-1) or our own group (0).
fn group_pid(pgid: u32) -> Option<rustix::process::Pid> {
    if pgid <= 1 {
        return None;
    }
    i32::try_from(pgid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
}

/// Sends `signal` to process group `pgid`. Returns whether it was delivered.
pub(crate) fn signal_group(pgid: u32, signal: rustix::process::Signal) -> bool {
    group_pid(pgid).is_some_and(|group| rustix::process::kill_process_group(group, signal).is_ok())
}

/// SIGTERM to the group, up to `grace` for it to empty, then SIGKILL and a
/// short wait for the kernel to remove the processes.
pub(crate) async fn terminate_group(pgid: u32, grace: Duration) {
    if pgid <= 1 || group_members(pgid).await.is_empty() {
        return;
    }
    signal_group(pgid, rustix::process::Signal::TERM);
    let deadline = tokio::time::Instant::now() + grace;
    while tokio::time::Instant::now() < deadline {
        if group_members(pgid).await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tracing::debug!(pgid, "process group survived SIGTERM, sending SIGKILL");
    signal_group(pgid, rustix::process::Signal::KILL);
    for _ in 0..80 {
        if group_members(pgid).await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tracing::warn!(pgid, "process group still has members after SIGKILL");
}
