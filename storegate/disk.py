"""Reading and writing files so that the checked tree cannot redirect either.

storegate runs on trees written by strangers (the checkout of a pull request): every file it
reads on its own behalf (sources, config, packs, baselines, cache entries) and every file it
writes (the cache, ``--fix``, ``--output``, ``--write-baseline``) goes through this module.

- A read takes regular files only, opened without blocking and never more than a bound: a
  FIFO, a device or ``/proc/kmsg`` planted in the tree cannot hang or exhaust the run.
- A write replaces the destination by renaming a fresh temporary file onto it. It refuses a
  destination that is a symbolic link or not a regular file (so a planted link never turns a
  write into one outside the project), creates the temporary file with ``O_EXCL`` and
  ``O_NOFOLLOW``, gives a new file the default mode (never a link target's), and keeps an
  existing file's owner, group and mode, or refuses with the reason.
- A write killed before its rename leaves a temporary file named after the destination and the
  writer's process id; the next write to the same destination removes the ones whose writer is
  gone.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

_TEMP_SUFFIX = ".storegate-tmp"


class DiskError(OSError):
    """A file storegate will not read or write; ``reason`` is one line, for the user."""

    def __init__(self, reason: str, *, from_os: bool = False, code: int | None = None) -> None:
        super().__init__(reason)
        self.errno = code  # ENOENT, EISDIR, ...: what callers branch on, never the reason's text
        self.reason = reason
        self.from_os = from_os  # the system refused (permission, missing, ...), not storegate


def reason_of(exc: OSError) -> str:
    """The one-line reason of an ``OSError``: ``permission denied``, ``no such file or directory``."""
    if isinstance(exc, DiskError):
        return exc.reason
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if exc.errno == errno.ELOOP:
        return "is a symbolic link"  # what O_NOFOLLOW answers for a link
    if exc.errno == errno.EAGAIN:
        return "would block (not a regular file)"
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


def _size_text(limit: int) -> str:
    if limit >= 1024 * 1024 and limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MB"
    if limit >= 1024 and limit % 1024 == 0:
        return f"{limit // 1024} KB"
    return f"{limit} bytes"


def read_regular(path: str | os.PathLike, limit: int, *, follow_links: bool = True) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them; ``DiskError`` otherwise.

    The file is opened without blocking (a FIFO or a blocking ``/proc`` file fails at once), and
    checked on the open descriptor, so a swap between a check and the open changes nothing. With
    ``follow_links=False`` a symbolic link is refused too (cache entries are never links).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise DiskError("is a directory", code=errno.EISDIR) from None
        raise DiskError(reason_of(exc), from_os=exc.errno != errno.ELOOP, code=exc.errno) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise DiskError("is a directory", code=errno.EISDIR)
        if not stat.S_ISREG(info.st_mode):
            raise DiskError("not a regular file")
        if info.st_size > limit:
            raise DiskError(f"file is larger than {_size_text(limit)}")
        chunks, total = [], 0
        while total <= limit:  # /proc files say size 0 and may never end: read to the bound only
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise DiskError(f"file is larger than {_size_text(limit)}")
        return b"".join(chunks)
    except DiskError:
        raise
    except OSError as exc:
        raise DiskError(reason_of(exc), from_os=exc.errno != errno.EAGAIN) from None
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike, data: bytes | Iterable[bytes]) -> None:
    """Replace the regular file ``path`` (or create it) with ``data`` all at once.

    A temporary file beside it, then a rename: a reader or a second run never sees a half-written
    file. ``data`` may come in pieces, so that a large file is never one string in memory.
    Raises ``DiskError`` (an ``OSError``) with a one-line reason when the destination is a
    symbolic link, not a regular file, read-only, linked more than once, or owned by someone
    whose ownership this process cannot keep.
    """
    path = Path(path)
    directory, name = path.parent, path.name
    existing = _destination(path)
    clean_stale(directory, name)
    temporary = directory / temporary_name(name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(temporary, flags, 0o666)  # the umask applies, as to any new file
    except OSError as exc:
        raise DiskError(f"cannot create a file in {directory}: {reason_of(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.writelines([data] if isinstance(data, bytes) else data)
            out.flush()
            if existing is not None:
                _keep_metadata(out.fileno(), existing)
            os.fsync(out.fileno())
        if existing is not None:
            _destination(path, expected=existing)  # swapped for a link meanwhile: do not rename
        os.replace(temporary, path)  # a rename replaces the name itself, never a link's target
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def temporary_name(name: str) -> str:
    """The name of a temporary file that becomes ``name``: hidden, with this process's id, so
    that ``clean_stale`` can tell a killed writer's leftovers from a write under way."""
    return f".{name}.{os.getpid()}.{secrets.token_hex(4)}{_TEMP_SUFFIX}"


def _destination(path: Path, expected: os.stat_result | None = None) -> os.stat_result | None:
    """What ``path`` is now (``None`` if absent), or ``DiskError`` if it must not be replaced."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if expected is not None:
            raise DiskError("removed while it was being written; not written") from None
        return None
    except OSError as exc:
        raise DiskError(reason_of(exc)) from None
    if stat.S_ISLNK(info.st_mode):
        raise DiskError("is a symbolic link; not written")
    if not stat.S_ISREG(info.st_mode):
        raise DiskError("not a regular file; not written")
    if expected is not None and (info.st_ino, info.st_dev) != (expected.st_ino, expected.st_dev):
        raise DiskError("replaced while it was being written; not written")
    if not info.st_mode & stat.S_IWUSR:
        raise DiskError("is read-only; not written")
    if info.st_nlink > 1:
        raise DiskError(f"has {info.st_nlink} hard links, which replacing it would split; not written")
    return info


def _keep_metadata(fd: int, existing: os.stat_result) -> None:
    """Give the new file the old one's owner, group and mode, or refuse with the reason."""
    if (existing.st_uid, existing.st_gid) != _owner(fd):
        try:
            os.fchown(fd, existing.st_uid, existing.st_gid)
        except OSError:
            raise DiskError("owned by another user or group, which a rewrite cannot keep; not written") from None
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))


def _owner(fd: int) -> tuple[int, int]:
    info = os.fstat(fd)
    return info.st_uid, info.st_gid


def clean_stale(directory: str | os.PathLike[str], name: str) -> None:
    """Remove the temporary files that killed writes of ``directory/name`` left behind.

    Only regular files named as ``write_atomic`` names them, and only those whose writing
    process is gone: a write under way in another process is left alone.
    """
    prefix = f".{name}."
    try:
        with os.scandir(directory) as entries:
            stale = [
                entry.path
                for entry in entries
                if entry.name.startswith(prefix)
                and entry.name.endswith(_TEMP_SUFFIX)
                and entry.is_file(follow_symlinks=False)
                and _writer_gone(entry.name[len(prefix) : -len(_TEMP_SUFFIX)])
            ]
    except OSError:
        return
    for temporary in stale:
        try:
            os.unlink(temporary)
        except OSError:
            pass


def _writer_gone(middle: str) -> bool:
    """Whether ``PID.RANDOM`` (the middle of a temporary file's name) names a dead process."""
    pid_text, dot, token = middle.partition(".")
    if not dot or not pid_text.isdigit() or len(token) != 8:
        return False  # not one of ours
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, another user's
    return False
