"""Local folders through pyarrow's local filesystem; a move is an atomic rename."""

from __future__ import annotations

import os
import stat as stat_module
import tempfile
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.fs as pafs

from lakekit.errors import StorageError
from lakekit.storage.base import FileEntry


class LocalBackend:
    parallel_moves = False
    #: whether big files are better written to a local spool and uploaded whole
    spools_writes = False

    def __init__(self) -> None:
        self._fs = pafs.LocalFileSystem()

    def filesystem(self) -> pafs.FileSystem:
        return self._fs

    def path(self, uri: str) -> str:
        return uri

    def uri(self, path: str) -> str:
        return path

    def normalize(self, uri: str) -> str:
        return os.path.normpath(uri)

    # -- reading -----------------------------------------------------------------------
    def open_input(self, uri: str, *, decompress: bool = False) -> pa.NativeFile:
        try:
            return self._fs.open_input_stream(uri, compression="detect" if decompress else None)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot read {uri}: {ex}") from ex

    def open_random_access(self, uri: str) -> pa.NativeFile:
        try:
            return self._fs.open_input_file(uri)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot read {uri}: {ex}") from ex

    def info(self, uri: str) -> pafs.FileInfo:
        try:
            return self._fs.get_file_info(uri)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot look up {uri}: {ex}") from ex

    def etag(self, uri: str) -> str | None:
        return None  # local files have no content fingerprint for free

    def list_files(self, prefix: str, recursive: bool = True) -> Iterator[FileEntry]:
        root = prefix.rstrip("/") or "/"
        folders = [iter(_entries(root, root))]  # depth first, each folder in name order
        while folders:
            entry = next(folders[-1], None)
            if entry is None:
                folders.pop()
                continue
            kind, stat = _kind(entry)
            if kind == "file":
                yield FileEntry(entry.path, stat.st_size, stat.st_mtime_ns)
            elif kind == "dir" and recursive:
                folders.append(iter(_entries(entry.path, root)))

    def list_dirs(self, prefix: str) -> list[str]:
        root = prefix.rstrip("/") or "/"
        return [e.path for e in _entries(root, root) if _kind(e)[0] == "dir"]

    def read_tail(self, uri: str, nbytes: int) -> tuple[bytes, int]:
        try:
            with open(uri, "rb") as f:
                total = f.seek(0, os.SEEK_END)
                f.seek(max(0, total - nbytes))
                return f.read(), total
        except OSError as ex:
            raise StorageError(f"cannot read {uri}: {ex}") from ex

    # -- writing -----------------------------------------------------------------------
    def open_output(self, uri: str):
        try:
            self._fs.create_dir(os.path.dirname(uri), recursive=True)
            # No compression by extension: a caller writing `x.gz` hands over bytes already compressed.
            return self._fs.open_output_stream(uri, compression=None)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot write {uri}: {ex}") from ex

    def write_bytes(self, uri: str, data: bytes) -> None:
        with self.open_output(uri) as f:
            f.write(data)

    def copy(self, src: str, dst: str) -> None:
        try:
            self._fs.create_dir(os.path.dirname(dst), recursive=True)
            pafs.copy_files(src, dst, self._fs, self._fs)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot copy {src} to {dst}: {ex}") from ex

    def link(self, src: str, dst: str) -> None:
        """A hard link: the same bytes under a second name, made at once and for free;
        a copy where the filesystem has no links (or ``src`` is on another one)."""
        try:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.link(src, dst)
            return
        except FileExistsError:
            if os.path.samefile(src, dst):
                return
            raise StorageError(f"cannot link {src} to {dst}: {dst} exists") from None
        except OSError:
            pass  # EXDEV, EPERM, no link support: copy instead
        self.copy(src, dst)

    def create_exclusive(self, uri: str, data: bytes) -> bool:
        """Create ``uri`` whole, only if it does not exist: False when it does.

        The bytes go to a temporary file first, which is then linked to ``uri``: a link
        fails if the name exists, so of racing writers exactly one wins, and no reader
        ever sees a partly written file.
        """
        folder = os.path.dirname(uri)
        try:
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.link(tmp, uri)
            finally:
                os.unlink(tmp)
        except FileExistsError:
            return False
        except OSError as ex:
            raise StorageError(f"cannot write {uri}: {ex}") from ex
        return True

    def read_tagged(self, uri: str) -> tuple[bytes, str] | None:
        """The file's bytes and a tag of its identity (inode and change time)."""
        try:
            with open(uri, "rb") as f:
                st = os.fstat(f.fileno())
                return f.read(), f"{st.st_ino}-{st.st_ctime_ns}"
        except FileNotFoundError:
            return None
        except OSError as ex:
            raise StorageError(f"cannot read {uri}: {ex}") from ex

    def delete_if_unchanged(self, uri: str, tag: str) -> bool:
        """Delete ``uri`` if it is still the file ``tag`` names (best effort locally:
        the check and the delete are two steps)."""
        current = self.read_tagged(uri)
        if current is None or current[1] != tag:
            return False
        self.delete(uri)
        return True

    def move(self, src: str, dst: str) -> None:
        try:
            self._fs.create_dir(os.path.dirname(dst), recursive=True)
            self._fs.move(src, dst)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot move {src} to {dst}: {ex}") from ex

    def delete(self, uri: str, missing_ok: bool = True) -> None:
        try:
            self._fs.delete_file(uri)
        except FileNotFoundError:
            if not missing_ok:
                raise StorageError(f"cannot delete {uri}: it does not exist") from None
        except (OSError, pa.ArrowException) as ex:
            if missing_ok and self.info(uri).type == pafs.FileType.NotFound:
                return
            raise StorageError(f"cannot delete {uri}: {ex}") from ex

    def delete_many(self, uris: list[str]) -> None:
        for uri in uris:
            self.delete(uri)

    def delete_dir(self, uri: str) -> None:
        try:
            self._fs.delete_dir(uri)
        except FileNotFoundError:
            pass
        except (OSError, pa.ArrowException) as ex:
            if self.info(uri).type != pafs.FileType.NotFound:
                raise StorageError(f"cannot delete {uri}: {ex}") from ex

    def prune_empty_dirs(self, uri: str, stop: str) -> None:
        cur = os.path.normpath(uri)
        stop = os.path.normpath(stop)
        while cur.startswith(stop + os.sep):
            try:
                os.rmdir(cur)
            except OSError:
                return
            cur = os.path.dirname(cur)


# Listing walks the folders itself rather than through pyarrow's recursive selector:
# other writers remove their staging folders, spill files and the temporary files of
# exclusive creates while a listing runs, and concurrent first ingests create a new
# table's folder. pyarrow's selector, finding no folder, asks again whether it exists
# and fails the listing when another writer created it in between. Here an entry not
# there when it is read is simply not listed. Symbolic links are followed, as pyarrow's
# listing does.


def _entries(folder: str, root: str) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except FileNotFoundError:
        # Not there when it was listed. Whether it exists a moment later says nothing:
        # another writer may be creating the table's first folder right now.
        return []
    except NotADirectoryError:
        if folder == root:
            raise StorageError(f"cannot list {root}: not a folder") from None
        return []  # replaced by a file since its parent was listed
    except OSError as ex:
        raise StorageError(f"cannot list {folder}: {ex}") from ex


def _kind(entry: os.DirEntry) -> tuple[str | None, os.stat_result | None]:
    """("dir" | "file" | None, its stat): None for an entry gone since it was listed
    (or a dangling link)."""
    try:
        stat = entry.stat()
    except FileNotFoundError:
        return None, None
    except OSError as ex:
        raise StorageError(f"cannot list {entry.path}: {ex}") from ex
    if stat_module.S_ISDIR(stat.st_mode):
        return "dir", stat
    return ("file", stat) if stat_module.S_ISREG(stat.st_mode) else (None, None)
