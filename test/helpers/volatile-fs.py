#!/usr/bin/python3
"""A FUSE file system with a volatile write cache, for the power-cut test.

Usage: volatile-fs.py BACKING_DIR MOUNTPOINT

Every file and directory operation passes through to BACKING_DIR, except that written data (and
truncations) stay in this process's memory, page by page, until the file is fsynced or
fdatasynced: only then are they written to the backing file and fsynced there. Killing this
process is a power cut: what was not synced is gone, what was synced is on the backing disk.
(Creating, renaming and removing files is not held back; the WAL syncs its directory after those
anyway.) The kernel's page cache of the mount (mmap included) reaches it as ordinary writes.
"""
import errno
import os
import sys
import threading

from fusepy import FUSE, FuseOSError, Operations

PAGE = 4096


class VolatileFile:
    def __init__(self, size):
        self.size = size
        self.pages = {}


class VolatileFS(Operations):
    def __init__(self, root):
        self.root = root
        self.lock = threading.Lock()
        self.files = {}  # path -> VolatileFile

    def _full(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def _vol(self, path):
        v = self.files.get(path)
        if v is None:
            v = VolatileFile(os.stat(self._full(path)).st_size)
            self.files[path] = v
        return v

    def _page(self, path, v, index):
        p = v.pages.get(index)
        if p is None:
            p = bytearray(PAGE)
            with open(self._full(path), 'rb') as f:
                f.seek(index * PAGE)
                data = f.read(PAGE)
            durable_end = max(0, v.size - index * PAGE)
            p[:min(len(data), durable_end)] = data[:durable_end]
            v.pages[index] = p
        return p

    # metadata
    def getattr(self, path, fh=None):
        with self.lock:
            st = os.lstat(self._full(path))
            attrs = {k: getattr(st, k) for k in ('st_atime', 'st_ctime', 'st_gid', 'st_mode', 'st_mtime', 'st_nlink', 'st_size', 'st_uid', 'st_blocks', 'st_blksize')}
            v = self.files.get(path)
            if v is not None:
                attrs['st_size'] = v.size
            return attrs

    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self._full(path))

    def access(self, path, mode):
        if not os.access(self._full(path), mode):
            raise FuseOSError(errno.EACCES)

    def chmod(self, path, mode):
        os.chmod(self._full(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._full(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._full(path), times)

    def mkdir(self, path, mode):
        os.mkdir(self._full(path), mode)

    def rmdir(self, path):
        os.rmdir(self._full(path))

    def unlink(self, path):
        with self.lock:
            os.unlink(self._full(path))
            self.files.pop(path, None)

    def rename(self, old, new):
        with self.lock:
            os.rename(self._full(old), self._full(new))
            v = self.files.pop(old, None)
            self.files.pop(new, None)
            if v is not None:
                self.files[new] = v

    def statfs(self, path):
        s = os.statvfs(self._full(path))
        return {k: getattr(s, k) for k in ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files', 'f_flag', 'f_frsize', 'f_namemax')}

    # data
    def create(self, path, mode, fi=None):
        fd = os.open(self._full(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        os.close(fd)
        with self.lock:
            self.files.pop(path, None)
        return 0

    def open(self, path, flags):
        if flags & os.O_TRUNC:
            self.truncate(path, 0)
        return 0

    def read(self, path, size, offset, fh):
        with self.lock:
            v = self.files.get(path)
            if v is None:
                with open(self._full(path), 'rb') as f:
                    f.seek(offset)
                    return f.read(size)
            end = min(offset + size, v.size)
            out = bytearray()
            pos = offset
            while pos < end:
                index, within = divmod(pos, PAGE)
                take = min(PAGE - within, end - pos)
                out += self._page(path, v, index)[within:within + take]
                pos += take
            return bytes(out)

    def write(self, path, data, offset, fh):
        with self.lock:
            v = self._vol(path)
            pos = 0
            while pos < len(data):
                index, within = divmod(offset + pos, PAGE)
                take = min(PAGE - within, len(data) - pos)
                self._page(path, v, index)[within:within + take] = data[pos:pos + take]
                pos += take
            v.size = max(v.size, offset + len(data))
            return len(data)

    def truncate(self, path, length, fh=None):
        with self.lock:
            v = self._vol(path)
            if length < v.size:
                for index in [i for i in v.pages if i * PAGE >= length]:
                    del v.pages[index]
                last = length // PAGE
                if last in v.pages:
                    v.pages[last][length - last * PAGE:] = bytes(PAGE - (length - last * PAGE))
            v.size = length

    def fallocate(self, path, mode, offset, length, fh):
        raise FuseOSError(errno.EOPNOTSUPP)

    def _sync(self, path):
        with self.lock:
            v = self.files.pop(path, None)
            if v is None:
                return 0
            fd = os.open(self._full(path), os.O_WRONLY)
            try:
                for index in sorted(v.pages):
                    start = index * PAGE
                    if start >= v.size:
                        continue
                    os.pwrite(fd, bytes(v.pages[index][:min(PAGE, v.size - start)]), start)
                os.ftruncate(fd, v.size)
                os.fsync(fd)
            finally:
                os.close(fd)
            return 0

    def fsync(self, path, datasync, fh):
        return self._sync(path)

    def fsyncdir(self, path, datasync, fh):
        return 0

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        return 0


if __name__ == '__main__':
    FUSE(VolatileFS(sys.argv[1]), sys.argv[2], foreground=True, nothreads=False, allow_other=False, default_permissions=False)
