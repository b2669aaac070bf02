"""Finding the Python files to check and reading them as text.

Nothing here parses Python or knows about flags and sinks: ``discover`` turns the paths given on
the command line into a sorted list of files (and a list of paths it could not use), and
``read_source`` turns one file into a ``str`` or raises ``SourceError`` with a one-line reason.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import re
import tokenize
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from storegate import disk
from storegate.errors import SourceError
from storegate.model import Config, FileError

if TYPE_CHECKING:
    import pathspec

# Directories (and globs) never worth descending into; ``exclude`` replaces these,
# ``extend-exclude`` adds to them.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "__pycache__",
    "build",
    "dist",
    "node_modules",
    ".eggs",
    "*.egg-info",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".storegate_cache",
    "__pypackages__",
    "site-packages",
)

# Larger files are generated data, not handlers; reading them would only cost memory.
MAX_SOURCE_BYTES = 50 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# Excludes


def exclude_patterns(config: Config) -> tuple[str, ...]:
    """The effective gitignore-style exclude patterns of ``config``."""
    base = tuple(config.exclude) if config.exclude else DEFAULT_EXCLUDES
    return base + tuple(config.extend_exclude)


def compile_excludes(patterns: Iterable[str]) -> pathspec.PathSpec:
    """Compile gitignore-style patterns; raises ``ValueError`` (or a subclass) for a bad one."""
    import pathspec  # only for patterns ``_one_name`` does not read: 10 ms of every start

    # GitIgnoreSpec is pathspec's gitignore implementation (GitWildMatchPattern semantics, without
    # the deprecation warning pathspec 1.x attaches to the "gitwildmatch" factory name).
    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


def validate_excludes(patterns: Sequence[str]) -> None:
    """Raise ``ValueError`` (or a subclass) for a bad gitignore-style pattern. A one-name pattern
    (``_one_name``) is good by its form: a config of only such patterns needs no pathspec."""
    others = [pattern for pattern in patterns if _one_name(pattern) is None]
    if others:
        compile_excludes(others)


# A pattern of one name with ``*`` and ``?`` wildcards, as a directory's with a trailing ``/``:
# ``.git``, ``*.egg-info``, ``build/``. No slash inside, no ``**``, class, escape, negation,
# comment or space: gitignore's rule for it is simple enough to state here.
_NAME_PATTERN = re.compile(r"[^/!#\\\[\]\s]+/?")


def _one_name(pattern: str) -> tuple[str, bool] | None:
    """The regex of the name in a one-name pattern (``_NAME_PATTERN``), and whether it names only
    a directory (``build/``); None for any other pattern."""
    directory = pattern.endswith("/")
    name = pattern[:-1] if directory else pattern
    if not _NAME_PATTERN.fullmatch(pattern) or "**" in name or name in (".", ".."):
        return None
    return "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in name), directory


def _names_regex(names: list[tuple[str, bool]]) -> re.Pattern[str]:
    """One regex for one-name patterns, as gitignore reads them: the name at any depth, with
    everything below it (``name/``: only a directory of that name). Anchored, so that a search
    tries one position, and a path's directories are tried in one pass."""
    anywhere = "|".join(name for name, directory in names if not directory)
    directories = "|".join(name for name, directory in names if directory)
    ends = [f"(?:{anywhere})(?:/|$)" if anywhere else "", f"(?:{directories})/" if directories else ""]
    return re.compile("^(?:.+/)?(?:" + "|".join(end for end in ends if end) + ")")


def exclude_root(config: Config) -> Path:
    """The directory exclude patterns are relative to: the config file's, else the cwd."""
    if config.source is not None:
        return Path(os.path.abspath(config.source)).parent
    return Path(os.getcwd())


def _relative_posix(path: str, base: str) -> str | None:
    """``path`` relative to ``base`` (both absolute) as a posix string, or None if outside."""
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # another drive on Windows
        return None
    if rel == os.curdir:
        return ""
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return rel.replace(os.sep, "/")


class _Excluder:
    def __init__(self, config: Config) -> None:
        patterns = exclude_patterns(config)
        names = [_one_name(pattern) for pattern in patterns]
        self.spec: pathspec.PathSpec | None = None
        if patterns and all(name is not None for name in names):
            self.any: re.Pattern[str] | None = _names_regex([name for name in names if name is not None])
        else:
            self.spec = compile_excludes(patterns)
            self.any = _one_regex(self.spec)
        self.root = os.path.abspath(exclude_root(config))

    def matches(self, rel: str, is_dir: bool) -> bool:
        if not rel:
            return False
        path = rel + "/" if is_dir else rel
        if self.any is not None:
            return self.any.search(path) is not None
        return self.spec is not None and self.spec.match_file(path)

    def is_excluded(self, path: str | Path) -> bool:
        """Whether ``path`` (or a directory above it, up to the root) is excluded."""
        absolute = os.path.abspath(path)
        rel = _relative_posix(absolute, self.root)
        if rel is None:
            # Outside the project: only the path's own name can be judged.
            rel = os.path.basename(absolute)
        return self.matches(rel, os.path.isdir(absolute))


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def _one_regex(spec: pathspec.PathSpec) -> re.Pattern[str] | None:
    """The patterns as one regex, when none is negated (``!keep.py``): a path is then excluded
    if any pattern matches, and one search costs what pathspec's loop spends on one pattern
    (a warm run over 3,000 files matched each against every default pattern: a sixth of it).
    ``None``, where the order of patterns matters: pathspec decides."""
    patterns = [pattern for pattern in spec.patterns if pattern.include is not None]
    if not patterns or any(not pattern.include or not isinstance(getattr(pattern.regex, "pattern", None), str) for pattern in patterns):
        return None
    return re.compile("|".join(f"(?:{_NAMED_GROUP.sub('(?:', pattern.regex.pattern)})" for pattern in patterns))


def is_excluded(path: str | Path, config: Config) -> bool:
    """Whether the excludes of ``config`` skip ``path``, on disk or not (``--stdin-filename``)."""
    return _Excluder(config).is_excluded(path)


def drop_excluded(paths: Sequence[str | Path], config: Config) -> list[Path]:
    """The paths (as given) that are not excluded; nonexistent paths are kept.

    This is what ``--force-exclude`` does to explicitly named paths before discovery.
    """
    excluder = _Excluder(config)
    return [Path(p) for p in paths if not (os.path.exists(p) and excluder.is_excluded(p))]


# ---------------------------------------------------------------------------------------------
# Discovery


def discover(
    paths: Sequence[str | Path], config: Config, *, force_exclude: bool = False, directories: Directories | None = None
) -> tuple[list[Path], list[FileError]]:
    """The Python files under ``paths`` (sorted, deduplicated) and the paths that failed.

    Directories are walked for ``*.py`` files, skipping excluded entries. A path named explicitly
    is always used, even when an exclude matches it, unless ``force_exclude`` is true.
    Symbolic links are followed only where they stay inside what was named (a link that the
    checked tree holds never leads the walk, or a read, outside it), and never into a directory
    already visited. A named path that is itself a link must stay inside its own directory.
    ``directories`` is told what each directory walked holds (for the files' module names).
    """
    excluder = _Excluder(config)
    errors: list[FileError] = []
    # real path -> the first of the paths that reach that file, relative before absolute
    chosen: dict[str, Path] = {}

    def add(path: Path, real: str | None = None) -> None:
        real = real if real is not None else os.path.realpath(path)
        current = chosen.get(real)
        if current is None or (os.path.islink(path), _order(path)) < (os.path.islink(current), _order(current)):
            chosen[real] = path  # the file's own name before a link's: --fix never writes through a link

    visited_dirs: set[str] = set()
    for given in paths:
        top = Path(given)
        if not os.path.exists(top):
            errors.append(FileError(display_path(top), _missing_reason(top)))
            continue
        if force_exclude and excluder.is_excluded(top):
            continue
        if os.path.islink(top) and not is_inside(os.path.realpath(top), os.path.realpath(top.parent)):
            errors.append(FileError(display_path(top), "symbolic link out of its directory; not followed"))
            continue
        if not os.path.isdir(top):
            add(top)
            continue
        _walk(top, excluder, visited_dirs, add, errors, directories)

    files = sorted(chosen.values(), key=lambda p: p.as_posix())
    unique_errors = sorted(set(errors), key=lambda e: (e.path, e.message))
    return files, unique_errors


def _missing_reason(path: Path) -> str:
    """Why a named path cannot be used: missing, or a symbolic link that leads nowhere."""
    if not os.path.islink(path):
        return "no such file or directory"
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
    return "broken symbolic link"


def _order(path: Path) -> tuple[bool, str]:
    return (path.is_absolute(), path.as_posix())


def _walk(top: Path, excluder: _Excluder, visited: set[str], add, errors: list[FileError], directories: Directories | None) -> None:
    top_abs = os.path.abspath(top)
    # Patterns are matched relative to the project root. A directory named explicitly although it
    # is excluded (``storegate check build/``) is walked with patterns relative to itself, so that
    # the exclude that matched it does not hide everything below it.
    base = excluder.root
    top_rel = _relative_posix(top_abs, base)
    if top_rel is None or excluder.is_excluded(top_abs):
        base, top_rel = top_abs, ""
    real_top = os.path.realpath(top)
    if real_top in visited:
        return
    visited.add(real_top)
    # Depth first in name order, like a top-down os.walk. Each entry's real path and relative
    # path are its directory's plus its name, so a tree costs one scandir per directory and no
    # per-file stat or path arithmetic; only symbolic links are resolved.
    stack = [(os.fspath(top), real_top, top_rel, top_abs)]
    while stack:
        directory, real_directory, rel_directory, absolute = stack.pop()
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            name = exc.filename if exc.filename is not None else directory
            errors.append(FileError(display_path(name), f"cannot read directory: {disk.reason_of(exc)}"))
            continue
        if directories is not None:
            directories.listed(absolute, entries)
        subdirectories = []
        for entry in entries:
            name = entry.name
            rel = f"{rel_directory}/{name}" if rel_directory else name
            link = entry.is_symlink()
            real = os.path.realpath(entry.path) if link else os.path.join(real_directory, name)
            if link and not is_inside(real, real_top):
                continue  # out of the tree that was named: never followed
            if _is_dir(entry):
                if excluder.matches(rel, True):
                    continue
                if real in visited:  # a symlink loop, or a second way into the same directory
                    continue
                visited.add(real)
                subdirectories.append((entry.path, real, rel, os.path.join(absolute, name)))
            elif name.endswith(".py") and not excluder.matches(rel, False):
                # Only regular files (or symlinks to them): not FIFOs, sockets or broken links.
                if (os.path.isfile(entry.path) if link else entry.is_file(follow_symlinks=False)):
                    add(Path(entry.path), real)
        stack.extend(reversed(subdirectories))


def is_inside(real: str, root: str) -> bool:
    """Whether the real path ``real`` is ``root`` or below it."""
    return real == root or real.startswith(root if root.endswith(os.sep) else root + os.sep)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows a symbolic link
    except OSError:
        return False


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()  # follows a symbolic link
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# Reading


def read_source(path: Path) -> str:
    """The text of the Python file ``path``, decoded as Python would decode it.

    Honors a UTF-8 BOM and a PEP 263 coding cookie; line endings are kept as they are.
    Raises ``SourceError`` with a one-line reason for anything that is not readable source.
    """
    return decode_source(read_bytes(path))


def read_bytes(path: Path) -> bytes:
    """The bytes of the regular file ``path``; ``SourceError`` for anything else."""
    try:
        return disk.read_regular(path, MAX_SOURCE_BYTES)
    except disk.DiskError as exc:
        raise SourceError(f"cannot read file: {exc.reason}" if exc.from_os else exc.reason) from None


_WIDE = "{} is not supported: Python source must be in an ASCII-compatible encoding such as UTF-8"


def decode_source(data: bytes) -> str:
    """Decode the bytes of a Python file (see ``read_source``); raises ``SourceError``."""
    return decode_with_encoding(data)[0]


def source_lines(text: str) -> list[str]:
    """``text``'s lines with their ends, as Python's tokenizer counts them (only CR, LF and CRLF
    end a line; ``str.splitlines`` also splits at a form feed or U+2028)."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


def decode_with_encoding(data: bytes) -> tuple[str, str]:
    """``decode_source``, and the encoding the text was decoded with (``utf-8-sig`` for a file
    with a byte order mark): what a rewrite of the file must encode with."""
    wide = _wide_encoding(data)
    if wide is not None:
        raise SourceError(_WIDE.format(wide), 1)
    if b"\0" in data:
        raise SourceError("source contains NUL bytes", _line_of(data, data.index(b"\0")))
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        message = str(exc.msg if hasattr(exc, "msg") and exc.msg else exc)
        if message.startswith("invalid or missing encoding declaration"):
            # No cookie and the first lines are not UTF-8: report the offending byte below.
            encoding = "utf-8"
        elif message.startswith("encoding problem"):
            raise SourceError("coding cookie conflicts with the UTF-8 byte order mark", 1) from None
        elif message.startswith("unknown encoding"):
            name = message.split(":", 1)[-1].strip()
            raise SourceError(f"unknown encoding {name!r}", _cookie_line(data)) from None
        else:
            raise SourceError(message) from None
    wide = _wide_codec(encoding)
    if wide is not None:  # a cookie naming it: neither CPython nor libcst can read such a file
        raise SourceError(_WIDE.format(wide), _cookie_line(data))
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        shown = "utf-8" if encoding == "utf-8-sig" else encoding
        raise SourceError(f"invalid {shown} at byte {exc.start}", _line_of(data, exc.start)) from None
    except LookupError:  # a codec detect_encoding knows but this Python cannot decode with
        raise SourceError(f"unknown encoding {encoding!r}", _cookie_line(data)) from None


def _wide_encoding(data: bytes) -> str | None:
    """``"UTF-16"`` or ``"UTF-32"`` for a file in one of them (a byte order mark, or ASCII text
    with every other byte NUL), else None."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "UTF-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16"
    head = data[:200]
    for nul, text in ((head[1::2], head[0::2]), (head[0::2], head[1::2])):
        if len(head) >= 2 and not nul.strip(b"\0") and b"\0" not in text:
            return "UTF-16"
    return None


def _wide_codec(encoding: str) -> str | None:
    """``"UTF-16"`` or ``"UTF-32"`` when a coding cookie names one of them, else None."""
    name = codecs.lookup(encoding).name
    return "UTF-32" if name.startswith("utf-32") else "UTF-16" if name.startswith("utf-16") else None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _cookie_line(data: bytes) -> int:
    first = data.split(b"\n", 1)[0]
    return 1 if b"coding" in first else 2


# ---------------------------------------------------------------------------------------------
# Display


def display_path(path: Path | str) -> str:
    """``path`` relative to the current directory when it is inside it, else as given; posix."""
    given = path if isinstance(path, PurePath) else Path(path)
    try:
        cwd = os.getcwd()
    except OSError:  # the cwd was removed
        return given.as_posix()
    absolute = os.path.abspath(path)
    if os.path.normcase(absolute) == os.path.normcase(cwd):
        return "."
    prefix = cwd if cwd.endswith(os.sep) else cwd + os.sep
    if os.path.normcase(absolute).startswith(os.path.normcase(prefix)):
        return absolute[len(prefix) :].replace(os.sep, "/")
    return given.as_posix()


class Directories:
    """What module names are found from, asked once per directory of a run: whether it is a
    package (holds a file ``__init__.py``) and whether it marks a project's top (holds one of
    ``_PROJECT_MARKERS``). ``discover`` tells it what the directories it lists hold, so a run
    over 3,000 files stats no directory again."""

    def __init__(self) -> None:
        self._package: dict[str, bool] = {}
        self._marks: dict[str, bool] = {}

    def listed(self, directory: str, entries: Iterable[os.DirEntry]) -> None:
        """What the absolute ``directory`` holds, from its listing."""
        package = marks = False
        for entry in entries:
            if entry.name == "__init__.py":
                package = _is_file(entry)
            elif entry.name in _PROJECT_MARKERS:
                marks = marks or not entry.is_symlink() or os.path.exists(entry.path)
        self._package[directory], self._marks[directory] = package, marks

    def is_package(self, directory: str) -> bool:
        known = self._package.get(directory)
        if known is None:
            known = self._package[directory] = os.path.isfile(os.path.join(directory, "__init__.py"))
        return known

    def marks_project(self, directory: str) -> bool:
        known = self._marks.get(directory)
        if known is None:
            known = self._marks[directory] = any(os.path.exists(os.path.join(directory, marker)) for marker in _PROJECT_MARKERS)
        return known


def module_name(path: Path | str, directories: Directories | None = None, names: dict[str, str] | None = None) -> str:
    """The dotted module name of a file, from the packages (``__init__.py``) around it.

    ``directories`` memoises what the directories hold, and ``names`` their names
    (``package_name``), for one run over many files.
    """
    directory, filename = os.path.split(os.path.abspath(path))
    return module_in(directory, filename, Directories() if directories is None else directories, {} if names is None else names)


def module_in(directory: str, filename: str, directories: Directories, names: dict[str, str]) -> str:
    """``module_name`` of the file ``filename`` in the absolute, normalized ``directory``."""
    stem = filename.rsplit(".", 1)[0]
    above = package_name(directory, directories, names)
    if stem == "__init__":
        return above or os.path.basename(directory)
    return f"{above}.{stem}" if above else stem


def package_name(directory: str, directories: Directories, names: dict[str, str]) -> str:
    """The dotted name a module in the absolute ``directory`` has before its own (``pkg.sub``
    for ``pkg/sub/``; "" where imports start), as ``_package_walk`` finds it: its parent's and
    its own, for a package or a namespace portion of one. From its parent's, memoised in
    ``names``: a run over 3,000 files walks each directory once."""
    known = names.get(directory)
    if known is not None:
        return known
    parent, base = os.path.split(directory)
    name = ""
    if parent != directory and base:
        portion = base.isidentifier() and (directories.is_package(parent) or package_name(parent, directories, names) != "")
        if directories.is_package(directory) or (portion and not directories.marks_project(directory)):
            above = package_name(parent, directories, names)
            name = f"{above}.{base}" if above else base
    names[directory] = name
    return name


# Files that mark the top directory of a project, for a file checked outside the run's root.
_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")


def namespace_names(
    path: Path | str, root: Path | str, directories: Directories | None = None, marked: dict[str, str | None] | None = None
) -> tuple[str, ...]:
    """The longer names ``import`` may give a file than its ``module_name``: that name under
    each directory without ``__init__.py`` above its top package, up to the project root
    (``app.db`` and ``src.app.db`` for ``src/app/db.py`` when ``app/`` is a namespace package).
    Python imports a module by any of them, depending on which of these directories is on
    ``sys.path``. The project root is ``root`` (the config file's directory, else the cwd), or
    for a file outside it the nearest directory above it with a ``pyproject.toml``, a
    ``setup.py``, a ``setup.cfg`` or a ``.git``; none without one. ``directories`` and ``marked``
    memoise, for one run over many files."""
    path, root = os.path.abspath(path), os.path.abspath(root)
    directories = Directories() if directories is None else directories
    parts, directory = _package_walk(path, directories)
    if not is_inside(directory, root):
        top = _marked_above(directory, directories, {} if marked is None else marked)
        if top is None:
            return ()
        root = top
    names = []
    while directory != root:
        directory, name = os.path.split(directory)
        if not name.isidentifier():
            break  # ``my-app/``: no import can name what is below it through it
        parts.insert(0, name)
        names.append(".".join(parts))
    return tuple(names)


def _marked_above(directory: str, directories: Directories, marked: dict[str, str | None]) -> str | None:
    """The nearest of ``directory`` and the directories above it that holds a project marker."""
    if directory not in marked:
        parent = os.path.dirname(directory)
        if directories.marks_project(directory):
            marked[directory] = directory
        else:
            marked[directory] = None if parent == directory else _marked_above(parent, directories, marked)
    return marked[directory]


def _package_walk(path: str, directories: Directories) -> tuple[list[str], str]:
    """The dotted parts of the absolute ``path`` through the packages around it, and the first
    directory above them that is not a package (where ``sys.path`` must point).

    A directory without ``__init__.py`` inside a package is a namespace portion of it
    (``pkg/llms/azure/chat.py`` is ``pkg.llms.azure.chat`` when ``pkg/llms/`` is a package): the
    walk goes through it, never past a project's top (``_namespace_top``)."""
    directory, filename = os.path.split(path)
    stem = filename.rsplit(".", 1)[0]
    parts = [] if stem == "__init__" else [stem]
    while True:
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        if not directories.is_package(directory):
            above = _namespace_top(directory, directories)
            if above is None:
                break
            parts[:0] = os.path.relpath(directory, above).split(os.sep)
            directory = above
            continue
        parts.insert(0, os.path.basename(directory))
        directory = parent
    return parts, directory


def _namespace_top(directory: str, directories: Directories) -> str | None:
    """The package that ``directory`` (not one) is a namespace portion of: the nearest package
    above it through directories named like identifiers, without ``__init__.py`` and without a
    project marker; None when there is none (``directory`` is where imports start)."""
    while os.path.basename(directory).isidentifier() and not directories.marks_project(directory):
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        if directories.is_package(parent):
            return parent
        directory = parent
    return None
