//! State backends: where a configuration's state lives, per workspace, and
//! how it is locked.
//!
//! [`LocalBackend`] keeps files as Terraform's `local` backend does:
//! `terraform.tfstate` for the default workspace,
//! `terraform.tfstate.d/NAME/terraform.tfstate` for the others.
//!
//! Local locking: an exclusive, non-blocking OS advisory lock (`flock`) on
//! `.terraform.tfstate.lock.info` next to the state file, with the holder's
//! [`LockInfo`] written into it. The backend keeps the locked file open
//! until [`Backend::unlock`]. Since the OS drops the lock when its holder
//! exits, a killed process never leaves a stale lock: a lock info file whose
//! flock nobody holds is stale and the next locker takes it over.
//!
//! Unlocking removes the lock info file while still holding its flock, then
//! closes it. A locker that opened the file just before it was removed
//! notices (after taking the flock) that the path no longer names the file
//! it locked, and tries again on a fresh file, so removal never lets two
//! holders in by accident.
//!
//! Force-unlock from another process (or another backend instance) with the
//! right lock id removes the lock info file, as Terraform's force-unlock
//! does, even when its holder is alive: the next locker creates a fresh file
//! and gets the lock. The old holder keeps a flock on the removed file only;
//! its own later unlock sees that the path names another file and leaves it
//! alone. A wrong id is refused.
//!
//! File I/O here is synchronous (small files; the fsyncs of a state write
//! are short) and runs on the calling task.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{State, StateError, TERRAFORM_VERSION, new_uuid_v4};
use crate::value::Value;

/// Where states live and how they are locked.
#[async_trait]
pub trait Backend: Send + Sync {
    /// A short description for messages: `local (terraform.tfstate)`.
    fn describe(&self) -> String;
    /// The workspaces that exist, `default` always first.
    async fn workspaces(&self) -> Result<Vec<String>, StateError>;
    /// Deletes a workspace's state. `default` can't be deleted.
    async fn delete_workspace(&self, name: &str) -> Result<(), StateError>;
    /// The workspace's state, `None` when none was written.
    async fn read(&self, workspace: &str) -> Result<Option<State>, StateError>;
    /// Replaces the workspace's state, atomically.
    async fn write(&self, workspace: &str, state: &State) -> Result<(), StateError>;
    /// Takes the workspace's lock; [`StateError::Locked`] with the holder's
    /// info when someone else holds it.
    async fn lock(&self, workspace: &str, info: &LockInfo) -> Result<(), StateError>;
    /// Releases the lock held with `id` (force-unlock uses this too). A wrong
    /// id is an error.
    async fn unlock(&self, workspace: &str, id: &str) -> Result<(), StateError>;
}

/// Who holds a state lock, as Terraform records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    /// `OperationTypeApply`, `OperationTypePlan`, `OperationTypeInvalid`...
    #[serde(rename = "Operation")]
    pub operation: String,
    #[serde(rename = "Info")]
    pub info: String,
    /// `user@host`.
    #[serde(rename = "Who")]
    pub who: String,
    #[serde(rename = "Version")]
    pub version: String,
    /// RFC 3339, UTC.
    #[serde(rename = "Created")]
    pub created: String,
    #[serde(rename = "Path")]
    pub path: String,
}

impl LockInfo {
    /// A lock info for `operation` with a fresh id, the current user and
    /// host, and the current time. `path` is filled in by the backend when
    /// empty.
    pub fn new(operation: &str) -> LockInfo {
        LockInfo {
            id: new_uuid_v4(),
            operation: operation.to_string(),
            info: String::new(),
            who: who(),
            version: TERRAFORM_VERSION.to_string(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            path: String::new(),
        }
    }
}

fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_string());
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string());
    format!("{user}@{host}")
}

/// Takes the lock, retrying while another holder has it until `timeout`
/// has passed (a zero timeout tries once). The final error is the last
/// [`StateError::Locked`], naming the holder.
pub async fn lock_with_timeout(
    b: &dyn Backend,
    ws: &str,
    info: &LockInfo,
    timeout: Duration,
) -> Result<(), StateError> {
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(50);
    loop {
        match b.lock(ws, info).await {
            Err(StateError::Locked(holder)) => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(StateError::Locked(holder));
                }
                tokio::time::sleep(delay.min(deadline - now)).await;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
            other => return other,
        }
    }
}

/// Checks a workspace name as Terraform does: non-empty, only URL path safe
/// characters (letters, digits, `-._~$&+,;=:@`), no path separators, and
/// not `.` or `..`.
pub fn validate_workspace_name(name: &str) -> Result<(), StateError> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~$&+,;=:@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(StateError::InvalidWorkspace(name.to_string()))
    }
}

fn data_dir(dir: &Path) -> PathBuf {
    match std::env::var_os("TF_DATA_DIR") {
        Some(d) if !d.is_empty() => dir.join(d),
        _ => dir.join(".terraform"),
    }
}

/// The selected workspace of the working directory `dir`: `TF_WORKSPACE`
/// when set, else the name in `.terraform/environment` (under `TF_DATA_DIR`
/// when set), else `default`.
pub fn current_workspace(dir: &Path) -> String {
    if let Ok(ws) = std::env::var("TF_WORKSPACE")
        && !ws.is_empty()
    {
        return ws;
    }
    fs::read_to_string(data_dir(dir).join("environment"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

/// Records `name` as the selected workspace of `dir`
/// (`.terraform/environment`).
pub fn select_workspace(dir: &Path, name: &str) -> Result<(), StateError> {
    validate_workspace_name(name)?;
    let data = data_dir(dir);
    fs::create_dir_all(&data).map_err(io_err("create", &data))?;
    let file = data.join("environment");
    fs::write(&file, name).map_err(io_err("write", &file))
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StateError {
    let path = path.display().to_string();
    move |source| StateError::Io { op, path, source }
}

// ------------------------------------------------------------ local

/// Files in a directory, as Terraform's `local` backend keeps them.
pub struct LocalBackend {
    dir: PathBuf,
    /// The default workspace's state file.
    path: PathBuf,
    /// The folder of the other workspaces' folders.
    workspace_dir: PathBuf,
    /// Locks this instance holds: workspace → (locked file, its info).
    held: Mutex<HashMap<String, (File, LockInfo)>>,
}

const STATE_FILE: &str = "terraform.tfstate";
const WORKSPACE_DIR: &str = "terraform.tfstate.d";

impl LocalBackend {
    /// States under `dir`: `path` (relative to `dir` unless absolute) for the
    /// default workspace, `terraform.tfstate` when `None`.
    pub fn new(dir: impl Into<PathBuf>, path: Option<PathBuf>) -> LocalBackend {
        let dir = dir.into();
        let path = dir.join(path.unwrap_or_else(|| PathBuf::from(STATE_FILE)));
        let workspace_dir = dir.join(WORKSPACE_DIR);
        LocalBackend {
            dir,
            path,
            workspace_dir,
            held: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps non-default workspaces under `workspace_dir` (relative to the
    /// backend's directory unless absolute) rather than
    /// `terraform.tfstate.d`.
    pub fn with_workspace_dir(mut self, workspace_dir: impl AsRef<Path>) -> LocalBackend {
        self.workspace_dir = self.dir.join(workspace_dir);
        self
    }

    /// The state file of a workspace.
    pub fn state_path(&self, workspace: &str) -> Result<PathBuf, StateError> {
        validate_workspace_name(workspace)?;
        if workspace == "default" {
            Ok(self.path.clone())
        } else {
            Ok(self.workspace_dir.join(workspace).join(STATE_FILE))
        }
    }

    /// The lock info file of a workspace: `.NAME.lock.info` beside the state.
    pub fn lock_path(&self, workspace: &str) -> Result<PathBuf, StateError> {
        Ok(sibling(&self.state_path(workspace)?, |name| {
            format!(".{name}.lock.info")
        }))
    }

    /// The backup written before each state write: `STATE.backup`.
    pub fn backup_path(&self, workspace: &str) -> Result<PathBuf, StateError> {
        Ok(sibling(&self.state_path(workspace)?, |name| {
            format!("{name}.backup")
        }))
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<String, (File, LockInfo)>> {
        // A panic while holding this map leaves it consistent (plain inserts
        // and removes), so a poisoned lock is still usable.
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn display_path(&self, p: &Path) -> String {
        p.strip_prefix(&self.dir).unwrap_or(p).display().to_string()
    }
}

fn sibling(path: &Path, name: impl FnOnce(&str) -> String) -> PathBuf {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| STATE_FILE.to_string());
    path.with_file_name(name(&file))
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// folder, fsync, rename over `path`, fsync the folder.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = parent_of(path);
    let base = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{base}.tmp-{}", new_uuid_v4()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io_err("create", &tmp))?;
        f.write_all(bytes).map_err(io_err("write", &tmp))?;
        f.sync_all().map_err(io_err("sync", &tmp))?;
        drop(f);
        fs::rename(&tmp, path).map_err(io_err("rename", path))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("sync", dir))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// True when `f` is the file `path` names now.
fn same_file(f: &File, path: &Path) -> bool {
    match (rustix::fs::fstat(f), rustix::fs::stat(path)) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    }
}

fn try_flock(f: &File) -> Result<bool, std::io::Error> {
    match rustix::fs::flock(f, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn read_lock_info(f: &mut File) -> Option<LockInfo> {
    let mut s = String::new();
    f.rewind().ok()?;
    f.read_to_string(&mut s).ok()?;
    serde_json::from_str(&s).ok()
}

/// How often a locker retries when the lock file changes under it.
const LOCK_ATTEMPTS: usize = 20;

#[async_trait]
impl Backend for LocalBackend {
    fn describe(&self) -> String {
        format!("local ({})", self.display_path(&self.path))
    }

    async fn workspaces(&self) -> Result<Vec<String>, StateError> {
        let mut names = Vec::new();
        match fs::read_dir(&self.workspace_dir) {
            Ok(entries) => {
                for e in entries {
                    let e = e.map_err(io_err("read", &self.workspace_dir))?;
                    let name = e.file_name().to_string_lossy().into_owned();
                    if e.path().is_dir()
                        && name != "default"
                        && validate_workspace_name(&name).is_ok()
                    {
                        names.push(name);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("read", &self.workspace_dir)(e)),
        }
        names.sort();
        names.insert(0, "default".to_string());
        Ok(names)
    }

    /// Removes the workspace's folder (state, backup, lock file).
    /// [`StateError::WorkspaceNotFound`] when it has none.
    async fn delete_workspace(&self, name: &str) -> Result<(), StateError> {
        validate_workspace_name(name)?;
        if name == "default" {
            return Err(StateError::DeleteDefault);
        }
        let dir = self.workspace_dir.join(name);
        if !dir.is_dir() {
            return Err(StateError::WorkspaceNotFound(name.to_string()));
        }
        fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))?;
        self.held().remove(name);
        Ok(())
    }

    async fn read(&self, workspace: &str) -> Result<Option<State>, StateError> {
        let path = self.state_path(workspace)?;
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("read", &path)(e)),
        };
        // Terraform treats an empty state file as no state.
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        State::from_json(&bytes).map(Some).map_err(|e| match e {
            StateError::Parse(m) => StateError::Parse(format!("{}: {m}", self.display_path(&path))),
            other => other,
        })
    }

    /// Copies the previous state to `STATE.backup`, then writes atomically.
    async fn write(&self, workspace: &str, state: &State) -> Result<(), StateError> {
        let path = self.state_path(workspace)?;
        let dir = parent_of(&path);
        fs::create_dir_all(dir).map_err(io_err("create", dir))?;
        match fs::read(&path) {
            Ok(prev) => write_atomic(&self.backup_path(workspace)?, &prev)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("read", &path)(e)),
        }
        write_atomic(&path, &state.to_json_pretty())
    }

    async fn lock(&self, workspace: &str, info: &LockInfo) -> Result<(), StateError> {
        let lock_path = self.lock_path(workspace)?;
        let mut info = info.clone();
        if info.path.is_empty() {
            info.path = self.display_path(&self.state_path(workspace)?);
        }
        let dir = parent_of(&lock_path);
        fs::create_dir_all(dir).map_err(io_err("create", dir))?;
        for _ in 0..LOCK_ATTEMPTS {
            let mut f = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock_path)
                .map_err(io_err("open", &lock_path))?;
            if !try_flock(&f).map_err(io_err("lock", &lock_path))? {
                match read_lock_info(&mut f) {
                    Some(holder) => return Err(StateError::Locked(Box::new(holder))),
                    // The holder is still writing its info: look again.
                    None => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                }
            }
            if !same_file(&f, &lock_path) {
                // Unlocked (and removed) between our open and our flock.
                continue;
            }
            let json = serde_json::to_vec(&info).map_err(|e| StateError::Config(e.to_string()))?;
            f.set_len(0).map_err(io_err("write", &lock_path))?;
            f.rewind().map_err(io_err("write", &lock_path))?;
            f.write_all(&json).map_err(io_err("write", &lock_path))?;
            f.sync_all().map_err(io_err("sync", &lock_path))?;
            self.held().insert(workspace.to_string(), (f, info));
            return Ok(());
        }
        // Held all along by a holder whose info could not be read.
        Err(StateError::Locked(Box::new(LockInfo {
            id: String::new(),
            operation: String::new(),
            info: format!("the lock info in {} could not be read", lock_path.display()),
            who: String::new(),
            version: String::new(),
            created: String::new(),
            path: info.path,
        })))
    }

    async fn unlock(&self, workspace: &str, id: &str) -> Result<(), StateError> {
        let lock_path = self.lock_path(workspace)?;
        let mut held = self.held();
        if let Some((f, info)) = held.get(workspace) {
            if info.id != id {
                return Err(StateError::Unlock(format!(
                    "lock id {id:?} does not match existing lock id {:?}",
                    info.id
                )));
            }
            // Remove the file only while it is still ours (a force-unlock
            // may have removed it and another holder created a new one).
            if same_file(f, &lock_path) {
                fs::remove_file(&lock_path).map_err(io_err("remove", &lock_path))?;
            }
            // Closing the file releases the flock.
            held.remove(workspace);
            return Ok(());
        }
        drop(held);

        // Held elsewhere, or left by a process that died: force-unlock.
        let mut f = match OpenOptions::new().read(true).write(true).open(&lock_path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StateError::Unlock("the state is not locked".to_string()));
            }
            Err(e) => return Err(io_err("open", &lock_path)(e)),
        };
        let ours = try_flock(&f).map_err(io_err("lock", &lock_path))?;
        match read_lock_info(&mut f) {
            Some(holder) if holder.id != id => Err(StateError::Unlock(format!(
                "lock id {id:?} does not match existing lock id {:?}",
                holder.id
            ))),
            Some(_) => {
                fs::remove_file(&lock_path).map_err(io_err("remove", &lock_path))?;
                Ok(())
            }
            // A stale, empty file (its locker died before writing): nothing
            // holds the lock.
            None if ours => {
                fs::remove_file(&lock_path).map_err(io_err("remove", &lock_path))?;
                Err(StateError::Unlock("the state is not locked".to_string()))
            }
            None => Err(StateError::Unlock(format!(
                "cannot read the lock info in {}",
                lock_path.display()
            ))),
        }
    }
}

// ------------------------------------------------------------ selection

/// The backends [`backend_from_config`] knows by itself.
pub const SUPPORTED_BACKENDS: &[&str] = &["gantry", "local"];

/// Builds a backend kind implemented in another crate (gantry-aws's `s3`)
/// from its settings and the working directory.
pub type BackendConstructor =
    fn(&BTreeMap<String, Value>, &Path) -> Result<Box<dyn Backend>, StateError>;

static EXTERNAL_BACKENDS: Mutex<Vec<(&'static str, BackendConstructor)>> = Mutex::new(Vec::new());

/// Makes a backend kind implemented elsewhere available to
/// [`backend_from_config`] (the binary registers gantry-aws's `s3` at
/// start). Registering a kind again replaces it.
pub fn register_backend(kind: &'static str, constructor: BackendConstructor) {
    let mut all = EXTERNAL_BACKENDS.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|(k, _)| *k != kind);
    all.push((kind, constructor));
}

fn external_backend(kind: &str) -> Option<BackendConstructor> {
    EXTERNAL_BACKENDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, c)| *c)
}

/// Every backend kind available now, sorted.
pub fn supported_backends() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = SUPPORTED_BACKENDS.to_vec();
    all.extend(
        EXTERNAL_BACKENDS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, _)| *k),
    );
    all.sort_unstable();
    all.dedup();
    all
}

/// The backend a `backend "KIND" { ... }` block (or its absence: `local`)
/// describes. `local` takes `path` and `workspace_dir`; `gantry` takes
/// `stack` and needs the Gantry store.
pub fn backend_from_config(
    kind: &str,
    settings: &BTreeMap<String, Value>,
    working_dir: &Path,
    store: Option<Arc<dyn gantry_store::Store>>,
) -> Result<Box<dyn Backend>, StateError> {
    let string = |name: &str| -> Result<Option<String>, StateError> {
        match settings.get(name).map(Value::unmarked) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(StateError::Config(format!(
                "invalid value for \"{name}\" in backend \"{kind}\": a string is required, not {}",
                other.kind_name()
            ))),
        }
    };
    let check_known = |allowed: &[&str]| -> Result<(), StateError> {
        match settings.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(StateError::Config(format!(
                "unsupported argument \"{k}\" in backend \"{kind}\": an argument named \"{k}\" is not expected here"
            ))),
            None => Ok(()),
        }
    };
    match kind {
        "local" => {
            check_known(&["path", "workspace_dir"])?;
            let mut b = LocalBackend::new(working_dir, string("path")?.map(PathBuf::from));
            if let Some(wd) = string("workspace_dir")? {
                b = b.with_workspace_dir(wd);
            }
            Ok(Box::new(b))
        }
        "gantry" => {
            check_known(&["stack"])?;
            let stack = string("stack")?.filter(|s| !s.is_empty()).ok_or_else(|| {
                StateError::Config(
                    "the backend \"gantry\" requires the argument \"stack\"".to_string(),
                )
            })?;
            let store = store.ok_or_else(|| {
                StateError::Config(
                    "the backend \"gantry\" needs the Gantry store, and none is configured"
                        .to_string(),
                )
            })?;
            Ok(Box::new(super::GantryBackend::new(store, stack)))
        }
        other => match external_backend(other) {
            Some(construct) => construct(settings, working_dir),
            None => Err(StateError::Config(format!(
                "backend \"{other}\" is not supported; the supported backends are: {}",
                supported_backends().join(", ")
            ))),
        },
    }
}
