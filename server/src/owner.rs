//! Commands that root runs on an installed server's data act as the user who owns it (the
//! service's `hailong-server`), so that a database, its WAL or a certificate made by
//! `sudo hailong-server pair …` or `tls init` is never root's and the service can still open it.
//! Elsewhere (a developer's folder, the tests' temporary ones, all root's) nothing changes.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Who the command now runs as, if it changed.
#[derive(Debug, PartialEq, Eq)]
pub struct Became {
    pub uid: u32,
    pub gid: u32,
    /// The folder whose owner it is.
    pub of: PathBuf,
}

/// Becomes the owner of `place` (a folder the command writes in; the nearest one that exists)
/// when running as root and that owner is another user. Before any thread is started.
pub fn act_as_owner_of(place: &Path) -> io::Result<Option<Became>> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let Some(folder) = place
        .ancestors()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .find(|p| p.is_dir())
    else {
        return Ok(None);
    };
    let meta = std::fs::metadata(folder)?;
    let (uid, gid) = (meta.uid(), meta.gid());
    if uid == 0 {
        return Ok(None);
    }
    // SAFETY: plain system calls on integers; the group list is one valid gid. Groups first,
    // then the group, then the user: after setuid no more changes are allowed.
    unsafe {
        if libc::setgroups(1, &gid) != 0 || libc::setgid(gid) != 0 || libc::setuid(uid) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(Some(Became {
        uid,
        gid,
        of: folder.to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_who_is_not_root_or_data_of_root_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // The tests run as a user, or as root on root's own temporary folder: either way,
        // nobody is become, from the nearest folder that exists.
        assert_eq!(
            act_as_owner_of(&dir.path().join("a/b/server.db")).unwrap(),
            None
        );
    }
}
