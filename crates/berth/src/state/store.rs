//! The state root: one directory per container, each holding `state.json`
//! (written atomically), a lock file and the exec fifo.
//!
//! Commands that change a container (start, kill, delete, create) hold a
//! POSIX record lock on `<root>/<id>/lock` for their whole run, so they
//! serialise per container. POSIX locks belong to the process and are not
//! inherited by the cloned init, which must never hold a lock `start`
//! waits for. Readers (`state`, `list`) need no lock: `state.json` is
//! replaced by an exchange or rename (renameat2(2)), so it is always whole.
//!
//! A container's directory appears under its id only with its lock file
//! already held by `create` (made as `creating:ID:PID`, then renamed into
//! place): nothing ever finds it bare.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{fcntl, renameat2, FcntlArg, RenameFlags, AT_FDCWD};

use super::id::{self, InvalidId};
use super::record::Record;

/// A state-store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The id is not acceptable.
    #[error(transparent)]
    InvalidId(#[from] InvalidId),
    /// `create` with an id in use.
    #[error("container {0} already exists")]
    Exists(String),
    /// No such container.
    #[error("container {0} does not exist")]
    NotFound(String),
    /// A file operation failed.
    #[error("{op} {}", path.display())]
    Io {
        /// What was attempted.
        op: &'static str,
        /// On which path.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// The state root directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// A container directory whose lock this process holds.
#[derive(Debug)]
pub struct Locked {
    id: String,
    dir: PathBuf,
    lock_file: File,
}

impl Store {
    /// A store at `root` (created on first `create`).
    pub fn new(root: PathBuf) -> Self {
        Store { root }
    }

    /// runc's default root: `/run/berth` for root, `$XDG_RUNTIME_DIR/berth`
    /// for other users when that is set.
    pub fn default_root() -> PathBuf {
        match std::env::var_os("XDG_RUNTIME_DIR") {
            Some(xdg) if !nix::unistd::geteuid().is_root() && !xdg.is_empty() => {
                PathBuf::from(xdg).join("berth")
            }
            _ => PathBuf::from("/run/berth"),
        }
    }

    fn dir(&self, id: &str) -> Result<PathBuf, StoreError> {
        id::validate(id)?;
        Ok(self.root.join(id))
    }

    /// Claims `id` and locks it. The directory is made under a name no id
    /// can have (`creating:ID:PID`; ids have no `:`), locked, and renamed
    /// into place with `RENAME_NOREPLACE`, the atomic claim: two creates of
    /// one id cannot both succeed. Made in place, it would be bare for a
    /// moment, and a `delete -f` of the id then takes it for a crashed
    /// create's leftover and removes it under us. A filesystem without
    /// `RENAME_NOREPLACE` gets the `mkdir` in place.
    pub fn create(&self, id: &str) -> Result<Locked, StoreError> {
        let dir = self.dir(id)?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)
            .map_err(io_err("create", &self.root))?;
        let temp = self
            .root
            .join(format!("{}{}", claim_prefix(id), std::process::id()));
        let make = || fs::DirBuilder::new().mode(0o711).create(&temp);
        match make() {
            // Left by a create killed mid-way whose pid we now have.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                fs::remove_dir_all(&temp).map_err(io_err("remove", &temp))?;
                make()
            }
            other => other,
        }
        .map_err(io_err("create", &temp))?;
        let mut locked = match Locked::acquire(id, temp.clone(), true) {
            Ok(locked) => locked,
            Err(e) => {
                let _ = fs::remove_dir_all(&temp);
                return Err(e);
            }
        };
        match renameat2(
            AT_FDCWD,
            &temp,
            AT_FDCWD,
            &dir,
            RenameFlags::RENAME_NOREPLACE,
        ) {
            Ok(()) => {
                locked.dir = dir;
                Ok(locked)
            }
            Err(errno) => {
                drop(locked);
                let _ = fs::remove_dir_all(&temp);
                match errno {
                    Errno::EEXIST | Errno::ENOTEMPTY => Err(StoreError::Exists(id.to_string())),
                    Errno::EINVAL => self.create_in_place(id, dir),
                    e => Err(io_err("rename", &dir)(e.into())),
                }
            }
        }
    }

    /// The claim where the filesystem has no `RENAME_NOREPLACE`: `mkdir`
    /// of the directory itself, then its lock.
    fn create_in_place(&self, id: &str, dir: PathBuf) -> Result<Locked, StoreError> {
        match fs::DirBuilder::new().mode(0o711).create(&dir) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                Err(StoreError::Exists(id.to_string()))
            }
            other => other.map_err(io_err("create", &dir)),
        }?;
        Locked::acquire(id, dir, true)
    }

    /// Locks an existing container (waiting for another command to finish).
    pub fn lock(&self, id: &str) -> Result<Locked, StoreError> {
        let dir = self.dir(id)?;
        if !dir.is_dir() {
            return Err(StoreError::NotFound(id.to_string()));
        }
        let locked = Locked::acquire(id, dir, false)?;
        // The container may have been deleted while we waited (and its id
        // taken again: then the lock we hold is the old directory's).
        if !locked.is_current() || !locked.state_path().exists() {
            return Err(StoreError::NotFound(id.to_string()));
        }
        Ok(locked)
    }

    /// Reads a container's record without locking.
    pub fn load(&self, id: &str) -> Result<(Record, PathBuf), StoreError> {
        let dir = self.dir(id)?;
        let record = read_record(id, &dir)?;
        Ok((record, dir))
    }

    /// Every container with a record, in id order.
    pub fn list(&self) -> Result<Vec<(Record, PathBuf)>, StoreError> {
        let entries = match fs::read_dir(&self.root) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            other => other.map_err(io_err("read", &self.root))?,
        };
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        ids.sort();
        // A directory without a record is a create in progress or a leftover.
        Ok(ids.iter().filter_map(|id| self.load(id).ok()).collect())
    }

    /// For `delete --force`: locks the container when it has a record;
    /// otherwise removes what a create that died mid-way left of `id` (its
    /// directory without a record, claims whose creator is gone; see
    /// [`Store::create`]) and returns `None`. The directory is removed only
    /// while we hold its lock: a live create holds it until its record is
    /// saved or its directory is gone, so a create in progress is waited
    /// for, never removed under it.
    pub fn lock_for_delete(&self, id: &str) -> Result<Option<Locked>, StoreError> {
        let dir = self.dir(id)?;
        if dir.is_dir() {
            match Locked::acquire(id, dir.clone(), false) {
                // Removed while we waited, perhaps made anew since: not ours.
                Ok(locked) if !locked.is_current() => {}
                Ok(locked) if locked.state_path().exists() => return Ok(Some(locked)),
                // Without a record, removed while we hold its lock.
                Ok(_locked) => remove_dir(&dir)?,
                // No lock file: only a berth before claims, or a filesystem
                // without RENAME_NOREPLACE, made a directory bare.
                Err(StoreError::NotFound(_)) => remove_dir(&dir)?,
                Err(e) => return Err(e),
            }
        }
        self.remove_abandoned_claims(id)?;
        Ok(None)
    }

    /// Removes the claims of `id` whose create no longer runs.
    fn remove_abandoned_claims(&self, id: &str) -> Result<(), StoreError> {
        let prefix = claim_prefix(id);
        let abandoned = fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| {
                name.strip_prefix(&prefix)
                    .and_then(|pid| pid.parse::<i32>().ok())
                    .is_some_and(|pid| !process_exists(pid))
            });
        for name in abandoned {
            remove_dir(&self.root.join(name))?;
        }
        Ok(())
    }
}

/// `remove_dir_all`, where a directory already gone is no error.
fn remove_dir(dir: &Path) -> Result<(), StoreError> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other.map_err(io_err("remove", dir)),
    }
}

/// `create` of `id` makes its directory as this prefix plus its pid, then
/// renames it into place.
fn claim_prefix(id: &str) -> String {
    format!("creating:{id}:")
}

/// Whether a process `pid` exists (signal 0 reaches it or is refused).
fn process_exists(pid: i32) -> bool {
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(Errno::ESRCH)
    )
}

/// The exec fifo of the container whose directory is `dir`: present from
/// `create` until `start`.
pub fn fifo_in(dir: &Path) -> PathBuf {
    dir.join("exec.fifo")
}

fn read_record(id: &str, dir: &Path) -> Result<Record, StoreError> {
    let path = dir.join("state.json");
    let bytes = match fs::read(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(StoreError::NotFound(id.to_string()))
        }
        other => other.map_err(io_err("read", &path))?,
    };
    serde_json::from_slice(&bytes).map_err(|e| StoreError::Io {
        op: "parse",
        path,
        source: e.into(),
    })
}

impl Locked {
    /// Takes the lock of the container at `dir`, waiting for whoever holds
    /// it. Only `create` makes the lock file: another command that found
    /// the directory must not make it again, or a `delete` emptying the
    /// directory meanwhile would fail to remove it (ENOTEMPTY) and leave a
    /// directory that makes the id look taken.
    fn acquire(id: &str, dir: PathBuf, create: bool) -> Result<Self, StoreError> {
        let path = dir.join("lock");
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&path)
        {
            Err(e) if !create && e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(id.to_string()))
            }
            other => other.map_err(io_err("open", &path))?,
        };
        let whole = libc::flock {
            // F_WRLCK (1) and SEEK_SET (0) fit the c_short fields.
            l_type: libc::c_short::try_from(libc::F_WRLCK).unwrap_or_default(),
            l_whence: libc::c_short::try_from(libc::SEEK_SET).unwrap_or_default(),
            l_start: 0,
            l_len: 0,
            l_pid: 0,
        };
        loop {
            match fcntl(file.as_fd(), FcntlArg::F_SETLKW(&whole)) {
                Ok(_) => break,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => {
                    return Err(StoreError::Io {
                        op: "lock",
                        path,
                        source: e.into(),
                    })
                }
            }
        }
        Ok(Locked {
            id: id.to_string(),
            dir,
            lock_file: file,
        })
    }

    /// The container id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the lock file we hold is still the one in our directory.
    fn is_current(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        match (
            self.lock_file.metadata(),
            fs::metadata(self.dir.join("lock")),
        ) {
            (Ok(held), Ok(there)) => held.dev() == there.dev() && held.ino() == there.ino(),
            _ => false,
        }
    }

    /// The container's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// Where init waits for `start`.
    pub fn fifo_path(&self) -> PathBuf {
        fifo_in(&self.dir)
    }

    /// Reads the record.
    pub fn record(&self) -> Result<Record, StoreError> {
        read_record(&self.id, &self.dir)
    }

    /// Replaces `state.json` atomically: temp file, rename. No fsync: the
    /// state describes processes and mounts that a reboot ends anyway, and a
    /// rename is atomic against a crash of berth itself (runc and crun do not
    /// sync either); on a disk-backed `--root` an fsync cost 0.5-4 ms per
    /// write, twice per `create` (hack/bench.sh).
    pub fn save(&self, record: &Record) -> Result<(), StoreError> {
        let tmp = self.dir.join("state.json.tmp");
        let bytes = serde_json::to_vec(record).map_err(|e| StoreError::Io {
            op: "encode",
            path: tmp.clone(),
            source: e.into(),
        })?;
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&tmp)
            .map_err(io_err("create", &tmp))?;
        file.write_all(&bytes).map_err(io_err("write", &tmp))?;
        let path = self.state_path();
        replace(&tmp, &path).map_err(io_err("rename", &path))
    }

    /// Removes the container's directory; the lock goes with it.
    pub fn destroy(self) -> Result<(), StoreError> {
        fs::remove_dir_all(&self.dir).map_err(io_err("remove", &self.dir))
    }
}

/// Puts `tmp` in place of `path` atomically: readers see the old file or
/// the new one, never neither. Where `path` exists the two are exchanged
/// (`RENAME_EXCHANGE`) and the old one, now at `tmp`, is unlinked: ext4
/// makes a rename *over* an existing file first start writing the new
/// file's delayed-allocation blocks (`auto_da_alloc`), 0.1–0.6 ms per save
/// where `/run` is on ext4; an exchange does not. A first save, or a
/// filesystem without exchange, gets a plain rename.
fn replace(tmp: &Path, path: &Path) -> std::io::Result<()> {
    match renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RenameFlags::RENAME_EXCHANGE) {
        Ok(()) => fs::remove_file(tmp),
        Err(Errno::ENOENT | Errno::EINVAL) => fs::rename(tmp, path),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::record::Phase;

    fn record(id: &str) -> Record {
        Record {
            id: id.into(),
            pid: 1,
            start_time: 2,
            phase: Phase::Created,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "2026-01-01T00:00:00Z".into(),
            owner: "root".into(),
            oci_version: "1.2.0".into(),
            annotations: Default::default(),
            host_mounts: false,
            version: crate::state::record::VERSION,
            cgroups: None,
            device_rules: Vec::new(),
            no_process: false,
            hooks: Default::default(),
            exec: None,
        }
    }

    /// A store in a temp dir holding container `c1`, created and saved.
    fn store_with_c1() -> (tempfile::TempDir, Store, Locked) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path().join("root"));
        let c = store.create("c1").expect("create");
        c.save(&record("c1")).expect("save");
        (tmp, store, c)
    }

    #[test]
    fn create_save_load_list_destroy() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path().join("root"));
        let c = store.create("c1").expect("create");
        assert!(matches!(store.create("c1"), Err(StoreError::Exists(_))));
        c.save(&record("c1")).expect("save");
        assert_eq!(store.load("c1").expect("load").0, record("c1"));
        assert_eq!(store.list().expect("list").len(), 1);
        c.destroy().expect("destroy");
        assert!(matches!(store.load("c1"), Err(StoreError::NotFound(_))));
        assert!(store.list().expect("list").is_empty());
    }

    fn root_entries(store: &Store) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&store.root)
            .expect("read root")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn create_leaves_only_the_containers_directory_held_locked() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path().join("root"));
        // A claim a create killed mid-way left under the pid we have now.
        let stale = store
            .root
            .join(format!("creating:c1:{}", std::process::id()));
        fs::create_dir_all(stale.join("junk")).expect("stale claim");
        let c = store.create("c1").expect("create");
        assert_eq!(root_entries(&store), ["c1"]);
        assert_eq!(c.dir(), store.root.join("c1"));
        assert!(c.dir().join("lock").is_file());
    }

    #[test]
    fn delete_force_removes_the_claims_of_dead_creates_only() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path().join("root"));
        // pid_max is at most 2^22: no process has this pid.
        let dead = "creating:c1:4194304";
        let live = format!("creating:c1:{}", std::process::id());
        let other = "creating:c2:4194304";
        for name in [dead, &live, other] {
            fs::create_dir_all(store.root.join(name)).expect("claim");
        }
        assert!(store.lock_for_delete("c1").expect("delete -f").is_none());
        assert_eq!(root_entries(&store), [live.as_str(), other]);
    }

    #[test]
    fn delete_force_removes_a_record_less_directory_only_under_its_lock() {
        let (_tmp, store, c) = store_with_c1();
        // A create killed after its claim, before its first save.
        fs::remove_file(c.dir().join("state.json")).expect("rm state.json");
        let dir = c.dir().to_path_buf();
        drop(c);
        assert!(store.lock_for_delete("c1").expect("delete -f").is_none());
        assert!(!dir.exists(), "leftover directory kept");
        // A container with a record is locked for the real delete.
        let c = store.create("c1").expect("create again");
        c.save(&record("c1")).expect("save");
        drop(c);
        let locked = store.lock_for_delete("c1").expect("delete -f");
        assert!(locked.is_some_and(|l| l.dir() == dir));
    }

    #[test]
    fn a_later_save_replaces_the_record_and_leaves_no_temp_file() {
        let (_tmp, store, c) = store_with_c1();
        let mut later = record("c1");
        later.pid = 4242;
        c.save(&later).expect("second save");
        assert_eq!(store.load("c1").expect("load").0, later);
        let names: Vec<_> = fs::read_dir(c.dir())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(
            !names.iter().any(|n| n == "state.json.tmp"),
            "temp file left: {names:?}"
        );
    }

    #[test]
    fn lock_never_makes_the_lock_file_again() {
        let (_tmp, store, c) = store_with_c1();
        let dir = c.dir().to_path_buf();
        drop(c);
        // What a `delete` that another command waited for has done by the
        // time the waiter gets the directory: its files are gone, the
        // directory not yet.
        fs::remove_file(dir.join("state.json")).expect("rm state.json");
        fs::remove_file(dir.join("lock")).expect("rm lock");
        assert!(matches!(store.lock("c1"), Err(StoreError::NotFound(_))));
        assert!(!dir.join("lock").exists(), "lock file made again");
        fs::remove_dir(&dir).expect("the delete can still remove the directory");
    }

    #[test]
    fn bad_ids_never_become_paths() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path().join("root"));
        assert!(matches!(
            store.create("../escape"),
            Err(StoreError::InvalidId(_))
        ));
        assert!(!tmp.path().join("escape").exists());
        assert!(matches!(store.lock("a/b"), Err(StoreError::InvalidId(_))));
    }
}
