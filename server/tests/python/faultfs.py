"""A disk that fails and works again without being unmounted, for the tests: a passthrough
FUSE file system (mfusepy, over libfuse 3) that mirrors a backing directory at a mount point
and answers every request on it with EIO while a switch file exists — what a process sees of
a drive whose cable is pulled and reseated, or whose controller resets. (A loop device cannot
do this: a shut-down ext4 stays down until unmounted, and a busy file system refuses to be
remounted read-only.)

    python faultfs.py BACKING MOUNTPOINT SWITCH

runs in the foreground until the mount point is unmounted. Needs root (no fusermount3 is
assumed), /dev/fuse and libfuse3.so.3. Stat of the mount point itself keeps working, as the
mount of a failing drive stays in place.
"""
import ctypes
import errno
import os
import sys

import mfusepy as fuse

_libc = ctypes.CDLL("libc.so.6", use_errno=True)


class FaultFS(fuse.Operations):
    use_ns = True

    def __init__(self, root, switch):
        self.root, self.switch = root, switch

    def _failing(self):
        return os.path.exists(self.switch)

    def _p(self, path):
        """The backing path of `path`; EIO while failing (the mount point's own stat aside)."""
        if path != "/" and self._failing():
            raise fuse.FuseOSError(errno.EIO)
        return os.path.join(self.root, path.lstrip("/"))

    def _io(self):
        if self._failing():
            raise fuse.FuseOSError(errno.EIO)

    def getattr(self, path, fh=None):
        st = os.lstat(self._p(path))
        attrs = {k: getattr(st, k) for k in ("st_atime_ns", "st_ctime_ns", "st_mtime_ns", "st_gid",
                                              "st_mode", "st_nlink", "st_size", "st_uid", "st_ino")}
        attrs.update(st_atime=st.st_atime, st_mtime=st.st_mtime, st_ctime=st.st_ctime)
        return attrs

    def readdir(self, path, fh):
        self._io()
        return [".", ".."] + os.listdir(self._p(path))

    def statfs(self, path):
        s = os.statvfs(self.root)
        return {k: getattr(s, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail",
                                            "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")}

    def access(self, path, amode):
        self._p(path)
        return 0

    def mkdir(self, path, mode):
        return os.mkdir(self._p(path), mode)

    def rmdir(self, path):
        return os.rmdir(self._p(path))

    def unlink(self, path):
        return os.unlink(self._p(path))

    def rename(self, old, new):
        return os.rename(self._p(old), self._p(new))

    def chmod(self, path, mode):
        return os.chmod(self._p(path), mode)

    def chown(self, path, uid, gid):
        return os.chown(self._p(path), uid, gid)

    def utimens(self, path, times=None):
        return os.utime(self._p(path), ns=times) if times else os.utime(self._p(path))

    def truncate(self, path, length, fh=None):
        return os.truncate(self._p(path), length)

    def open(self, path, flags):
        # The kernel has done O_DIRECT's alignment checks; the backing file need not be direct.
        return os.open(self._p(path), flags & ~os.O_DIRECT)

    def create(self, path, mode, fi=None):
        return os.open(self._p(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

    def read(self, path, size, offset, fh):
        self._io()
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        self._io()
        return os.pwrite(fh, data, offset)

    def fsync(self, path, datasync, fh):
        self._io()
        return os.fdatasync(fh) if datasync else os.fsync(fh)

    def fsyncdir(self, path, datasync, fh):
        self._io()
        return 0

    def fallocate(self, path, mode, offset, length, fh):
        self._io()
        if _libc.fallocate(fh, ctypes.c_int(mode), ctypes.c_longlong(offset),
                           ctypes.c_longlong(length)) != 0:
            raise fuse.FuseOSError(ctypes.get_errno())
        return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        return os.close(fh)


if __name__ == "__main__":
    backing, mount_point, switch = sys.argv[1:4]
    fuse.FUSE(FaultFS(backing, switch), mount_point, foreground=True)
