# -*- test-case-name: tests.modules.test_cache -*-
"""
The on-disk store of the C{cache} module: one file per complete MAPI stream,
keyed by mailbox and object, safe for several proxies sharing a directory.

Layout under the cache directory (mode 0700, files 0600)::

    m-<hash of the mailbox>/0x<fid>/0x<mid>/[a<attachment number>/]0x<tag>.stream

A file is only ever created complete: the bytes go to a temporary file
(C{.<name>.<random>.tmp}) in the same directory, which is fsynced and then
renamed over the final name (C{os.replace}, atomic on POSIX), so a reader,
in this process or in another proxy using the same directory, never sees a
partial stream. While one writer downloads an entry it holds an exclusive
C{flock} on C{<name>.lock}; another writer of the same entry (another
session, another proxy on a shared filesystem with working locks) does not
cache it meanwhile. Readers take no lock: a complete file never changes,
and a file removed by the eviction stays readable through descriptors that
are already open.

The size limit is kept by evicting the least recently used entries, by
modification time (L{EntryStore.lookup} touches an entry it finds, so its
mtime is its last use; access times are not relied on, many filesystems
are mounted C{noatime}).

Plain file access; no Twisted.
"""

import errno
import fcntl
import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from typing import Optional

from mapiproxy.errors import MapiProxyError

__all__ = [
    "STREAM_SUFFIX",
    "STALE_TEMPORARY_SECONDS",
    "CacheStoreError",
    "EntryKey",
    "EntryStore",
    "EntryWriter",
]

#: The suffix of a complete entry.
STREAM_SUFFIX = ".stream"
#: A temporary file older than this belongs to a writer that died.
STALE_TEMPORARY_SECONDS = 3600
_TEMPORARY_SUFFIX = ".tmp"
_LOCK_SUFFIX = ".lock"


class CacheStoreError(MapiProxyError):
    """
    The cache directory cannot be used (missing and not creatable, not a
    directory, not writable).
    """


@dataclass(frozen=True)
class EntryKey:
    """
    What a cached stream is: a property stream of a message or of one of
    its attachments, in one mailbox.

    @ivar mailbox: The mailbox, as the logon named it (its MailboxGuid, or
        a DN when no GUID is known).
    @type mailbox: L{str}
    @ivar folderId: The FolderId of RopOpenMessage ([MS-OXCDATA] 2.2.1.1).
    @type folderId: L{int}
    @ivar messageId: The MessageId of RopOpenMessage.
    @type messageId: L{int}
    @ivar attachmentId: The AttachmentID of RopOpenAttachment, or L{None}
        for a stream of the message itself.
    @type attachmentId: L{int} or L{None}
    @ivar propertyTag: The PropertyTag of RopOpenStream.
    @type propertyTag: L{int}
    """

    mailbox: str
    folderId: int
    messageId: int
    attachmentId: Optional[int]
    propertyTag: int

    def relativePath(self):
        """
        The entry's path below the cache directory. The mailbox name is
        hashed, so that no DN or GUID text ever reaches the filesystem.

        @rtype: L{str}
        """
        mailbox = hashlib.sha256(self.mailbox.encode("utf-8")).hexdigest()[:32]
        parts = ["m-" + mailbox, "0x%x" % (self.folderId,), "0x%x" % (self.messageId,)]
        if self.attachmentId is not None:
            parts.append("a%d" % (self.attachmentId,))
        parts.append("0x%08x%s" % (self.propertyTag, STREAM_SUFFIX))
        return os.path.join(*parts)


class EntryStore:
    """
    The cache directory.

    @ivar path: The cache directory.
    @ivar maxSize: The most bytes the complete entries may take.
    @ivar shared: Whether other proxies use the directory too: then the
        size of the directory is measured by walking it at each eviction,
        and only stale temporary files are removed at start-up.
    """

    def __init__(self, path, maxSize, shared=False, clock=time.time):
        """
        Create the directory (mode 0700) if needed and check that it is
        usable.

        @param path: The cache directory.
        @type path: L{str}
        @param maxSize: The size limit, in bytes.
        @type maxSize: L{int}
        @param shared: See L{shared}.
        @type shared: L{bool}
        @param clock: Returns the time in seconds (for tests).

        @raise CacheStoreError: The directory cannot be created, is not a
            directory, or a file cannot be created in it.
        """
        self.path = os.path.abspath(path)
        self.maxSize = maxSize
        self.shared = shared
        self._clock = clock
        self._size = None
        try:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
            if not os.path.isdir(self.path):
                raise CacheStoreError("%s is not a directory" % (self.path,))
            if os.stat(self.path).st_uid == os.geteuid():
                os.chmod(self.path, 0o700)
            probe = os.path.join(self.path, ".probe-%s%s" % (secrets.token_hex(8), _TEMPORARY_SUFFIX))
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            os.unlink(probe)
        except CacheStoreError:
            raise
        except OSError as e:
            raise CacheStoreError("cannot use cache directory %s: %s" % (self.path, e.strerror or e)) from None
        self._removeTemporaries(0 if not shared else STALE_TEMPORARY_SECONDS)

    def _final(self, key):
        return os.path.join(self.path, key.relativePath())

    def lookup(self, key, size):
        """
        Find a complete entry of the given size, and mark it used.

        @param key: The entry.
        @type key: L{EntryKey}
        @param size: The stream's size as the server announced it; an
            entry of another size is stale and not answered.
        @type size: L{int}

        @return: The entry's path, or L{None}.
        @rtype: L{str} or L{None}
        """
        path = self._final(key)
        try:
            if os.stat(path).st_size != size:
                return None
            os.utime(path)
        except OSError:
            return None
        return path

    def open(self, key, size):
        """
        Open a complete entry for reading.

        @return: A binary file object, or L{None} when there is no complete
            entry of that size.
        """
        path = self.lookup(key, size)
        if path is None:
            return None
        try:
            f = open(path, "rb")
        except OSError:
            return None
        if os.fstat(f.fileno()).st_size != size:
            f.close()
            return None
        return f

    def writer(self, key, size):
        """
        Start writing an entry, unless it is complete already, too large to
        keep, or being written by someone else.

        @param key: The entry.
        @type key: L{EntryKey}
        @param size: The stream's size.
        @type size: L{int}

        @return: An L{EntryWriter}, or L{None}.
        """
        if size <= 0 or size > self.maxSize or self.lookup(key, size) is not None:
            return None
        final = self._final(key)
        directory = os.path.dirname(final)
        try:
            _makeDirectories(self.path, directory)
            lock = _acquireLock(final + _LOCK_SUFFIX)
        except OSError:
            return None
        if lock is None:
            return None
        if self.lookup(key, size) is not None:
            # Completed by someone else between the two looks.
            _releaseLock(final + _LOCK_SUFFIX, lock)
            return None
        name = os.path.basename(final)
        temporary = os.path.join(directory, ".%s.%s%s" % (name, secrets.token_hex(8), _TEMPORARY_SUFFIX))
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError:
            _releaseLock(final + _LOCK_SUFFIX, lock)
            return None
        return EntryWriter(self, key, size, final, temporary, fd, lock)

    def _committed(self, path, size):
        if self._size is not None:
            self._size += size
        self.evict(keep=path)

    def evict(self, keep=None):
        """
        Remove the least recently used entries until the complete entries
        fit L{maxSize}; also remove stale temporary files.

        @param keep: A path never to remove (the entry just written).
        @return: The paths removed.
        @rtype: L{list} of L{str}
        """
        if self._size is not None and self._size <= self.maxSize and not self.shared:
            return []
        entries = []
        total = 0
        now = self._clock()
        for directory, subdirectories, files in os.walk(self.path):
            for name in files:
                path = os.path.join(directory, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                if name.endswith(_TEMPORARY_SUFFIX):
                    if now - st.st_mtime > STALE_TEMPORARY_SECONDS:
                        _unlink(path)
                    continue
                if name.endswith(STREAM_SUFFIX):
                    entries.append((st.st_mtime, path, st.st_size))
                    total += st.st_size
        removed = []
        entries.sort()
        for mtime, path, size in entries:
            if total <= self.maxSize:
                break
            if path == keep:
                continue
            if _unlink(path):
                removed.append(path)
            total -= size
        self._size = total
        return removed

    def _removeTemporaries(self, olderThan):
        now = self._clock()
        for directory, subdirectories, files in os.walk(self.path):
            for name in files:
                if not name.endswith(_TEMPORARY_SUFFIX):
                    continue
                path = os.path.join(directory, name)
                try:
                    if now - os.stat(path).st_mtime >= olderThan:
                        _unlink(path)
                except OSError:
                    pass


class EntryWriter:
    """
    One entry being downloaded: bytes are appended in stream order; the
    entry appears (atomically) when the last byte is written.

    @ivar key: The entry.
    @ivar size: The stream's size.
    @ivar written: How many bytes were written so far.
    @ivar done: True once committed or aborted.
    """

    def __init__(self, store, key, size, final, temporary, fd, lock):
        self.key = key
        self.size = size
        self.written = 0
        self.done = False
        self._store = store
        self._final = final
        self._temporary = temporary
        self._fd = fd
        self._lock = lock

    def append(self, data):
        """
        Append the next bytes of the stream; commit when complete.

        @param data: The bytes following the L{written} first ones.
        @type data: L{bytes}

        @return: True when the entry is now complete.
        @rtype: L{bool}
        """
        if self.done:
            return False
        if self.written + len(data) > self.size:
            self.abort()
            return False
        try:
            view = memoryview(data)
            while view:
                count = os.write(self._fd, view)
                view = view[count:]
        except OSError:
            self.abort()
            return False
        self.written += len(data)
        if self.written == self.size:
            return self._commit()
        return False

    def _commit(self):
        try:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            os.replace(self._temporary, self._final)
            _fsyncDirectory(os.path.dirname(self._final))
        except OSError:
            self.abort()
            return False
        self.done = True
        _releaseLock(self._final + _LOCK_SUFFIX, self._lock)
        self._store._committed(self._final, self.size)
        return True

    def abort(self):
        """
        Give up: the temporary file is removed and no entry appears.
        """
        if self.done:
            return
        self.done = True
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None
        _unlink(self._temporary)
        _releaseLock(self._final + _LOCK_SUFFIX, self._lock)


def _makeDirectories(top, directory):
    """
    Create C{directory} below C{top}, each missing level with mode 0700
    (C{os.makedirs} gives intermediate levels the default mode).
    """
    missing = []
    while directory != top and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass


def _acquireLock(path):
    """
    Take the entry's lock file without waiting.

    @return: The locked descriptor, or L{None} when someone else holds it.
    """
    for attempt in range(3):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
            raise
        # The holder before us may have removed the file after we opened
        # it: the lock must be on the file the path names now.
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
    return None


def _releaseLock(path, fd):
    _unlink(path)
    try:
        os.close(fd)
    except OSError:
        pass


def _unlink(path):
    try:
        os.unlink(path)
        return True
    except OSError:
        return False


def _fsyncDirectory(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
