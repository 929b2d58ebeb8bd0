//! The simulated disk's directory tree, with a durable and a current view.
//!
//! Every file and directory is an inode. A directory holds two entry maps: `current` (what
//! `list`, `open` and `exists` see) and `durable` (what the medium holds). Each namespace
//! operation (create, mkdir, rename, remove, rmdir) changes `current` at once and is queued as
//! a [`DirChange`]: a list of entry [`Effect`]s, applied together or not at all (a rename is one
//! change, so a crash never shows a file under both names, or under neither).
//!
//! `sync_dir(d)` makes durable every queued change that touches `d`, together with every
//! earlier queued change it depends on (the renames that brought a file into `d`, say).
//!
//! A crash decides each queued change's fate in order: lost with the configured probability,
//! and lost for sure if it depends on a lost change. Two changes depend on each other when they
//! touch the same directory entry or the same inode. Keeping a dependency-closed subset is
//! exactly what a disk that reorders independent metadata writes can produce, so every state
//! after a crash is one a real file system could show.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path};

use super::super::{IoError, Result};
use super::content::FileContent;

/// An inode number. The root directory is [`ROOT`].
pub(crate) type InodeId = u64;

/// The root directory's inode.
pub(crate) const ROOT: InodeId = 0;

/// A directory's entries, current and durable.
#[derive(Clone, Debug, Default)]
pub(crate) struct Dir {
    pub current: BTreeMap<String, InodeId>,
    pub durable: BTreeMap<String, InodeId>,
}

/// An inode.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Dir(Dir),
    File(FileContent),
}

/// One entry change: `dir/name` goes from `old` to `new`.
#[derive(Clone, Debug)]
pub(crate) struct Effect {
    pub dir: InodeId,
    pub name: String,
    pub old: Option<InodeId>,
    pub new: Option<InodeId>,
}

/// One namespace operation, queued until a `sync_dir` or a crash decides it.
#[derive(Clone, Debug)]
pub(crate) struct DirChange {
    /// Human description for crash reports (`"rename /a -> /b"`).
    pub what: String,
    pub effects: Vec<Effect>,
}

/// What a change reads or writes; two changes sharing one are ordered.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Resource {
    Entry(InodeId, String),
    Inode(InodeId),
}

impl DirChange {
    fn resources(&self) -> BTreeSet<Resource> {
        let mut out = BTreeSet::new();
        for e in &self.effects {
            out.insert(Resource::Entry(e.dir, e.name.clone()));
            out.extend(e.old.map(Resource::Inode));
            out.extend(e.new.map(Resource::Inode));
        }
        out
    }

    fn touches(&self, dir: InodeId) -> bool {
        self.effects.iter().any(|e| e.dir == dir)
    }
}

/// A path cut into normalised components (no `.`, `..` resolved lexically, root implied).
pub(crate) fn components(op: &'static str, path: &Path) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(s) => match s.to_str() {
                Some(s) => out.push(s.to_string()),
                None => return Err(IoError::invalid(op, path, "path is not valid UTF-8")),
            },
        }
    }
    Ok(out)
}

/// A POSIX error by number, so messages and kinds match the real backends.
pub(crate) fn errno(op: &'static str, path: &Path, code: i32) -> IoError {
    IoError::from_os(op, path, std::io::Error::from_raw_os_error(code))
}

/// The tree of inodes plus the queue of unsynced namespace changes.
#[derive(Clone, Debug)]
pub(crate) struct Namespace {
    pub nodes: BTreeMap<InodeId, Node>,
    pub pending: Vec<DirChange>,
    next_inode: InodeId,
}

/// What a crash did to the namespace.
#[derive(Debug, Default)]
pub(crate) struct NamespaceCrash {
    /// Each queued change's description and whether it survived, in order.
    pub changes: Vec<(String, bool)>,
    /// Inodes that no longer have a name after the crash (and were deleted).
    pub inodes_lost: u64,
}

impl Namespace {
    /// A disk holding only an empty root directory (durable).
    pub fn new() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(ROOT, Node::Dir(Dir::default()));
        Namespace {
            nodes,
            pending: Vec::new(),
            next_inode: ROOT + 1,
        }
    }

    fn dir(&self, id: InodeId) -> Option<&Dir> {
        match self.nodes.get(&id) {
            Some(Node::Dir(d)) => Some(d),
            _ => None,
        }
    }

    fn dir_mut(&mut self, id: InodeId) -> Option<&mut Dir> {
        match self.nodes.get_mut(&id) {
            Some(Node::Dir(d)) => Some(d),
            _ => None,
        }
    }

    /// The file content of inode `id`, if it is a file.
    pub fn file(&self, id: InodeId) -> Option<&FileContent> {
        match self.nodes.get(&id) {
            Some(Node::File(f)) => Some(f),
            _ => None,
        }
    }

    /// The file content of inode `id`, mutably.
    pub fn file_mut(&mut self, id: InodeId) -> Option<&mut FileContent> {
        match self.nodes.get_mut(&id) {
            Some(Node::File(f)) => Some(f),
            _ => None,
        }
    }

    pub fn is_dir(&self, id: InodeId) -> bool {
        self.dir(id).is_some()
    }

    /// Resolve a path in the current view. `Ok(None)` if the last component is missing;
    /// NotFound if a parent is missing; ENOTDIR if a parent is a file.
    pub fn lookup(&self, op: &'static str, path: &Path) -> Result<Option<InodeId>> {
        let parts = components(op, path)?;
        let mut at = ROOT;
        for (i, name) in parts.iter().enumerate() {
            let Some(dir) = self.dir(at) else {
                return Err(errno(op, path, libc::ENOTDIR));
            };
            match dir.current.get(name) {
                Some(&id) => at = id,
                None if i + 1 == parts.len() => return Ok(None),
                None => return Err(errno(op, path, libc::ENOENT)),
            }
        }
        Ok(Some(at))
    }

    /// The parent directory's inode and the last component's name, for operations that create
    /// or remove `path`. NotFound if the parent is missing; ENOTDIR if it is a file.
    pub fn parent_of(&self, op: &'static str, path: &Path) -> Result<(InodeId, String)> {
        let mut parts = components(op, path)?;
        let Some(name) = parts.pop() else {
            return Err(IoError::invalid(
                op,
                path,
                "the root directory has no parent",
            ));
        };
        let mut at = ROOT;
        for part in &parts {
            let Some(dir) = self.dir(at) else {
                return Err(errno(op, path, libc::ENOTDIR));
            };
            at = *dir
                .current
                .get(part)
                .ok_or_else(|| errno(op, path, libc::ENOENT))?;
        }
        if !self.is_dir(at) {
            return Err(errno(op, path, libc::ENOTDIR));
        }
        Ok((at, name))
    }

    /// Sorted entry names of a directory in the current view.
    pub fn list(&self, op: &'static str, path: &Path) -> Result<Vec<String>> {
        let id = self
            .lookup(op, path)?
            .ok_or_else(|| errno(op, path, libc::ENOENT))?;
        let dir = self.dir(id).ok_or_else(|| errno(op, path, libc::ENOTDIR))?;
        Ok(dir.current.keys().cloned().collect())
    }

    /// Apply a change to the current view and queue it.
    fn record(&mut self, change: DirChange) {
        for e in &change.effects {
            let dir = self
                .dir_mut(e.dir)
                .expect("effects name existing directories");
            let before = match e.new {
                Some(id) => dir.current.insert(e.name.clone(), id),
                None => dir.current.remove(&e.name),
            };
            assert_eq!(before, e.old, "effect's old value matches the current view");
        }
        self.pending.push(change);
    }

    fn alloc(&mut self, node: Node) -> InodeId {
        let id = self.next_inode;
        self.next_inode += 1;
        self.nodes.insert(id, node);
        id
    }

    /// Create a new empty file named `name` in `dir` (which must not hold `name`).
    pub fn create_file(&mut self, dir: InodeId, name: String, path: &Path) -> InodeId {
        let id = self.alloc(Node::File(FileContent::new()));
        self.record(DirChange {
            what: format!("create {}", path.display()),
            effects: vec![Effect {
                dir,
                name,
                old: None,
                new: Some(id),
            }],
        });
        id
    }

    /// Create every missing directory along `path`.
    pub fn create_dir_all(&mut self, op: &'static str, path: &Path) -> Result<()> {
        let parts = components(op, path)?;
        let mut at = ROOT;
        let mut so_far = std::path::PathBuf::from("/");
        for name in parts {
            so_far.push(&name);
            let existing = self
                .dir(at)
                .expect("walk stays on directories")
                .current
                .get(&name);
            at = match existing {
                Some(&id) if self.is_dir(id) => id,
                Some(_) => return Err(errno(op, path, libc::EEXIST)),
                None => {
                    let id = self.alloc(Node::Dir(Dir::default()));
                    self.record(DirChange {
                        what: format!("mkdir {}", so_far.display()),
                        effects: vec![Effect {
                            dir: at,
                            name,
                            old: None,
                            new: Some(id),
                        }],
                    });
                    id
                }
            };
        }
        Ok(())
    }

    /// Unlink a file.
    pub fn remove_file(&mut self, op: &'static str, path: &Path) -> Result<()> {
        let (dir, name) = self.parent_of(op, path)?;
        let id = *self
            .dir(dir)
            .and_then(|d| d.current.get(&name))
            .ok_or_else(|| errno(op, path, libc::ENOENT))?;
        if self.is_dir(id) {
            return Err(errno(op, path, libc::EISDIR));
        }
        self.record(DirChange {
            what: format!("remove {}", path.display()),
            effects: vec![Effect {
                dir,
                name,
                old: Some(id),
                new: None,
            }],
        });
        Ok(())
    }

    /// Remove an empty directory.
    pub fn remove_dir(&mut self, op: &'static str, path: &Path) -> Result<()> {
        let (dir, name) = self.parent_of(op, path)?;
        let id = *self
            .dir(dir)
            .and_then(|d| d.current.get(&name))
            .ok_or_else(|| errno(op, path, libc::ENOENT))?;
        let target = self.dir(id).ok_or_else(|| errno(op, path, libc::ENOTDIR))?;
        if !target.current.is_empty() {
            return Err(errno(op, path, libc::ENOTEMPTY));
        }
        self.record(DirChange {
            what: format!("rmdir {}", path.display()),
            effects: vec![Effect {
                dir,
                name,
                old: Some(id),
                new: None,
            }],
        });
        Ok(())
    }

    /// POSIX rename: atomically point `to` at what `from` names, replacing a file or an empty
    /// directory there.
    pub fn rename(&mut self, op: &'static str, from: &Path, to: &Path) -> Result<()> {
        let (from_dir, from_name) = self.parent_of(op, from)?;
        let id = *self
            .dir(from_dir)
            .and_then(|d| d.current.get(&from_name))
            .ok_or_else(|| errno(op, from, libc::ENOENT))?;
        let (to_dir, to_name) = self.parent_of(op, to)?;
        if (from_dir, &from_name) == (to_dir, &to_name) {
            return Ok(());
        }
        let moving_dir = self.is_dir(id);
        if moving_dir {
            // A directory cannot move inside itself: walk up from the target's parent.
            let (from_parts, to_parts) = (components(op, from)?, components(op, to)?);
            if to_parts.len() > from_parts.len() && to_parts.starts_with(&from_parts) {
                return Err(IoError::invalid(
                    op,
                    to,
                    format!("cannot move directory {} inside itself", from.display()),
                ));
            }
        }
        let replaced = self
            .dir(to_dir)
            .and_then(|d| d.current.get(&to_name))
            .copied();
        if let Some(old) = replaced {
            match (moving_dir, self.dir(old)) {
                (false, Some(_)) => return Err(errno(op, to, libc::EISDIR)),
                (true, None) => return Err(errno(op, to, libc::ENOTDIR)),
                (true, Some(d)) if !d.current.is_empty() => {
                    return Err(errno(op, to, libc::ENOTEMPTY))
                }
                _ => {}
            }
        }
        self.record(DirChange {
            what: format!("rename {} -> {}", from.display(), to.display()),
            effects: vec![
                Effect {
                    dir: from_dir,
                    name: from_name,
                    old: Some(id),
                    new: None,
                },
                Effect {
                    dir: to_dir,
                    name: to_name,
                    old: replaced,
                    new: Some(id),
                },
            ],
        });
        Ok(())
    }

    /// Make durable every queued change touching directory `dir`, plus the earlier queued
    /// changes those depend on. Returns how many changes became durable.
    pub fn sync_dir(&mut self, dir: InodeId) -> usize {
        let mut needed: BTreeSet<Resource> = BTreeSet::new();
        let mut selected = vec![false; self.pending.len()];
        for (i, change) in self.pending.iter().enumerate().rev() {
            let res = change.resources();
            if change.touches(dir) || res.iter().any(|r| needed.contains(r)) {
                selected[i] = true;
                needed.extend(res);
            }
        }
        let pending = std::mem::take(&mut self.pending);
        let mut committed = 0;
        for (change, commit) in pending.into_iter().zip(selected) {
            if commit {
                self.apply_durable(&change);
                committed += 1;
            } else {
                self.pending.push(change);
            }
        }
        committed
    }

    fn apply_durable(&mut self, change: &DirChange) {
        for e in &change.effects {
            // The directory may have been collected if nothing can reach it any more; then the
            // change has nowhere to land and cannot matter.
            if let Some(d) = self.dir_mut(e.dir) {
                match e.new {
                    Some(id) => d.durable.insert(e.name.clone(), id),
                    None => d.durable.remove(&e.name),
                };
            }
        }
    }

    /// A crash: decide each queued change (lost with `lose_p`, or because it depends on a lost
    /// one), make the survivors durable, reset every current view to the durable one, and
    /// delete inodes that no longer have a name.
    pub fn crash(&mut self, mut lose: impl FnMut() -> bool) -> NamespaceCrash {
        let mut report = NamespaceCrash::default();
        let mut lost_resources: BTreeSet<Resource> = BTreeSet::new();
        for change in std::mem::take(&mut self.pending) {
            let res = change.resources();
            let depends_on_lost = res.iter().any(|r| lost_resources.contains(r));
            // Always draw, so one change's dependency never shifts the next change's draw.
            let unlucky = lose();
            let kept = !(depends_on_lost || unlucky);
            if kept {
                self.apply_durable(&change);
            } else {
                lost_resources.extend(res);
            }
            report.changes.push((change.what, kept));
        }
        for node in self.nodes.values_mut() {
            if let Node::Dir(d) = node {
                d.current = d.durable.clone();
            }
        }
        let live = self.reachable(&BTreeSet::new());
        let before = self.nodes.len();
        self.nodes.retain(|id, _| live.contains(id));
        report.inodes_lost = (before - self.nodes.len()) as u64;
        // A durable entry can point at a collected inode only if the same inode were reachable
        // twice, which dependency closure rules out; drop such entries rather than trust them.
        let nodes: BTreeSet<InodeId> = self.nodes.keys().copied().collect();
        for node in self.nodes.values_mut() {
            if let Node::Dir(d) = node {
                d.durable.retain(|_, id| nodes.contains(id));
                d.current = d.durable.clone();
            }
        }
        report
    }

    /// Delete inodes nothing can reach any more: not from the root (current or durable view),
    /// not from a queued change, not from an open handle (`pinned`).
    pub fn collect_garbage(&mut self, pinned: &BTreeSet<InodeId>) {
        let mut roots = pinned.clone();
        for change in &self.pending {
            for e in &change.effects {
                roots.insert(e.dir);
                roots.extend(e.old);
                roots.extend(e.new);
            }
        }
        let live = self.reachable(&roots);
        self.nodes.retain(|id, _| live.contains(id));
    }

    /// Every inode reachable from the root and `extra_roots` through current or durable entries.
    fn reachable(&self, extra_roots: &BTreeSet<InodeId>) -> BTreeSet<InodeId> {
        let mut seen: BTreeSet<InodeId> = BTreeSet::new();
        let mut stack: Vec<InodeId> = vec![ROOT];
        stack.extend(extra_roots.iter().copied());
        // Bounded: each inode is pushed at most once per entry pointing at it.
        while let Some(id) = stack.pop() {
            if !self.nodes.contains_key(&id) || !seen.insert(id) {
                continue;
            }
            if let Some(d) = self.dir(id) {
                stack.extend(d.current.values().copied());
                stack.extend(d.durable.values().copied());
            }
        }
        seen
    }

    /// The current path of every named inode (for reports).
    pub fn current_paths(&self) -> BTreeMap<InodeId, String> {
        let mut out = BTreeMap::new();
        let mut stack: Vec<(InodeId, String)> = vec![(ROOT, String::new())];
        while let Some((id, path)) = stack.pop() {
            if out.contains_key(&id) {
                continue;
            }
            if let Some(d) = self.dir(id) {
                for (name, &child) in &d.current {
                    stack.push((child, format!("{path}/{name}")));
                }
            }
            out.insert(id, if path.is_empty() { "/".into() } else { path });
        }
        out
    }

    /// Total bytes of files reachable in the current view or through `pinned` inodes: the
    /// space ENOSPC is judged against.
    pub fn live_bytes(&self, pinned: &BTreeSet<InodeId>) -> u64 {
        let mut seen: BTreeSet<InodeId> = BTreeSet::new();
        let mut stack: Vec<InodeId> = vec![ROOT];
        stack.extend(pinned.iter().copied());
        let mut total = 0u64;
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            match self.nodes.get(&id) {
                Some(Node::Dir(d)) => stack.extend(d.current.values().copied()),
                Some(Node::File(f)) => total += f.len(),
                None => {}
            }
        }
        total
    }

    /// Number of queued namespace changes.
    pub fn pending_changes(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> &Path {
        Path::new(s)
    }

    fn create(ns: &mut Namespace, path: &str) -> InodeId {
        let (dir, name) = ns.parent_of("create", p(path)).unwrap();
        ns.create_file(dir, name, p(path))
    }

    #[test]
    fn components_normalise() {
        assert_eq!(components("t", p("/a/./b/../c")).unwrap(), vec!["a", "c"]);
        assert_eq!(components("t", p("a/b")).unwrap(), vec!["a", "b"]);
        assert!(components("t", p("/")).unwrap().is_empty());
        assert!(components("t", p("/..")).unwrap().is_empty());
    }

    #[test]
    fn create_is_lost_without_sync_dir() {
        let mut ns = Namespace::new();
        create(&mut ns, "/f");
        let r = ns.crash(|| true);
        assert_eq!(r.changes, vec![("create /f".to_string(), false)]);
        assert_eq!(ns.lookup("t", p("/f")).unwrap(), None);
        assert_eq!(r.inodes_lost, 1);
    }

    #[test]
    fn sync_dir_makes_entries_durable() {
        let mut ns = Namespace::new();
        ns.create_dir_all("t", p("/d")).unwrap();
        ns.sync_dir(ROOT);
        let d = ns.lookup("t", p("/d")).unwrap().unwrap();
        let f = create(&mut ns, "/d/f");
        assert_eq!(ns.sync_dir(d), 1);
        ns.crash(|| true);
        assert_eq!(ns.lookup("t", p("/d/f")).unwrap(), Some(f));
    }

    #[test]
    fn new_directory_needs_its_parent_synced() {
        let mut ns = Namespace::new();
        ns.create_dir_all("t", p("/d")).unwrap();
        let d = ns.lookup("t", p("/d")).unwrap().unwrap();
        create(&mut ns, "/d/f");
        ns.sync_dir(d); // the file's entry is durable in d, but d itself is not in /
        assert_eq!(ns.pending_changes(), 1);
        ns.crash(|| true);
        assert!(ns.lookup("t", p("/d")).unwrap().is_none());
    }

    #[test]
    fn rename_is_atomic_and_depends_on_create() {
        for lose_first in [false, true] {
            for lose_second in [false, true] {
                let mut ns = Namespace::new();
                let f = create(&mut ns, "/tmp");
                ns.rename("t", p("/tmp"), p("/final")).unwrap();
                let mut draws = vec![lose_first, lose_second].into_iter();
                let r = ns.crash(|| draws.next().unwrap());
                let at_tmp = ns.lookup("t", p("/tmp")).unwrap();
                let at_final = ns.lookup("t", p("/final")).unwrap();
                match (lose_first, lose_second) {
                    (false, false) => assert_eq!((at_tmp, at_final), (None, Some(f))),
                    (false, true) => assert_eq!((at_tmp, at_final), (Some(f), None)),
                    // The rename depends on the lost create: lost too, nothing is named.
                    (true, _) => {
                        assert_eq!((at_tmp, at_final), (None, None));
                        assert!(!r.changes[1].1);
                    }
                }
            }
        }
    }

    #[test]
    fn sync_dir_of_target_pulls_in_the_moves_it_depends_on() {
        let mut ns = Namespace::new();
        ns.create_dir_all("t", p("/a")).unwrap();
        ns.create_dir_all("t", p("/b")).unwrap();
        ns.create_dir_all("t", p("/c")).unwrap();
        ns.sync_dir(ROOT);
        let [a, b, c] = ["/a", "/b", "/c"].map(|s| ns.lookup("t", p(s)).unwrap().unwrap());
        let f = create(&mut ns, "/a/x");
        ns.sync_dir(a);
        ns.rename("t", p("/a/x"), p("/b/x")).unwrap();
        ns.rename("t", p("/b/x"), p("/c/x")).unwrap();
        assert_eq!(ns.sync_dir(c), 2, "both renames become durable");
        ns.crash(|| true);
        assert_eq!(ns.lookup("t", p("/c/x")).unwrap(), Some(f));
        assert_eq!(
            ns.lookup("t", p("/a/x")).unwrap(),
            None,
            "never under two names"
        );
        assert_eq!(ns.lookup("t", p("/b/x")).unwrap(), None);
        let _ = b;
    }

    #[test]
    fn posix_errors() {
        let mut ns = Namespace::new();
        ns.create_dir_all("t", p("/d/e")).unwrap();
        create(&mut ns, "/f");
        let kind = |r: Result<()>| r.unwrap_err().to_string();
        assert!(kind(ns.remove_dir("t", p("/d"))).contains("not empty"));
        assert!(kind(ns.remove_dir("t", p("/f"))).contains("Not a directory"));
        assert!(kind(ns.remove_file("t", p("/d"))).contains("directory"));
        assert!(kind(ns.rename("t", p("/f"), p("/d"))).contains("directory"));
        assert!(kind(ns.rename("t", p("/d"), p("/d/e/x"))).contains("inside itself"));
        assert!(ns.create_dir_all("t", p("/f/g")).is_err());
        assert!(ns
            .rename("t", p("/nope"), p("/x"))
            .unwrap_err()
            .is_not_found());
        assert!(ns.list("t", p("/nope")).unwrap_err().is_not_found());
        ns.rename("t", p("/f"), p("/f")).unwrap();
        assert_eq!(ns.list("t", p("/")).unwrap(), vec!["d", "f"]);
    }

    #[test]
    fn garbage_collection_keeps_what_a_crash_could_bring_back() {
        let mut ns = Namespace::new();
        let f = create(&mut ns, "/f");
        ns.sync_dir(ROOT);
        ns.remove_file("t", p("/f")).unwrap();
        ns.collect_garbage(&BTreeSet::new());
        assert!(ns.file(f).is_some(), "the durable entry still names it");
        ns.sync_dir(ROOT);
        ns.collect_garbage(&BTreeSet::new());
        assert!(ns.file(f).is_none());
    }
}
