"""Local folders through pyarrow's local filesystem; a move is an atomic rename."""

from __future__ import annotations

import os
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
        selector = pafs.FileSelector(prefix.rstrip("/"), recursive=recursive, allow_not_found=True)
        try:
            infos = self._fs.get_file_info(selector)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot list {prefix}: {ex}") from ex
        for info in infos:
            if info.type == pafs.FileType.File:
                yield FileEntry(info.path, info.size, info.mtime_ns)

    def list_dirs(self, prefix: str) -> list[str]:
        selector = pafs.FileSelector(prefix.rstrip("/"), recursive=False, allow_not_found=True)
        try:
            infos = self._fs.get_file_info(selector)
        except (OSError, pa.ArrowException) as ex:
            raise StorageError(f"cannot list {prefix}: {ex}") from ex
        return [i.path for i in infos if i.type == pafs.FileType.Directory]

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
