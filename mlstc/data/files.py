"""Finding, verifying and downloading data files (introduced in chapter 00).

Every data set has a manifest ``data/checksums/<name>.sha256`` (the output of
``sha256sum``). A loader asks :func:`locate` for the folder, then :func:`verify`
checks the SHA-256 of every file the loader reads.

A data folder the user named (the ``data_dir`` argument or ``$MLSTC_DATA_DIR``) is
used as it is: if it does not exist or lacks the data set, that is an error naming
it, never a silent switch to another copy. Only when no folder was named does the
loader look in the download folder of the cache and, for a data set with an
upstream address, download it there, saying so.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from mlstc.core import paths, storage
from mlstc.data.dataset import DataError


def read_manifest(name: str) -> dict[str, str]:
    """File name -> SHA-256 from ``data/checksums/<name>.sha256``."""
    path = paths.manifest_dir() / "checksums" / f"{name}.sha256"
    if not path.is_file():
        raise FileNotFoundError(f"No checksum manifest {path}; the repository checkout is incomplete.")
    out = {}
    for line_no, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        digest, _, file = line.partition("  ")
        if len(digest) != 64 or not file:
            raise DataError(path, "not a `sha256sum` line.", row=line_no, fix="restore the file from git.")
        out[file.strip()] = digest
    return out



def verify(folder: Path, name: str, files: Iterable[str]) -> dict[str, str]:
    """Check ``files`` in ``folder`` against manifest ``name``; return their digests.

    A file missing from the folder, absent from the manifest or with another digest
    raises :class:`DataError` that says which and what to do.
    """
    manifest = read_manifest(name)
    checked = {}
    for file in files:
        path = folder / file
        if file not in manifest:
            raise DataError(path, f"is not listed in data/checksums/{name}.sha256.",
                            fix="only the files of the published data set can be verified.")
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing; the {name} folder {folder} is incomplete. "
                                    f"Restore the file, or delete the folder so it is fetched again.")
        actual = storage.file_sha256(path)
        if actual != manifest[file]:
            raise DataError(
                path,
                f"SHA-256 is {actual}, expected {manifest[file]} (data/checksums/{name}.sha256).",
                fix="the file is corrupt or another version; replace it with the published file "
                "(delete it and let the loader download it again where it has an upstream address).",
            )
        checked[file] = actual
    return checked


def locate(
    data_dir,
    folder: str,
    marker: str,
    *,
    urls: Sequence[str] = (),
    how_to_get: str,
    download: bool = True,
) -> Path:
    """The folder holding data set ``folder`` (a file named ``marker`` inside it).

    ``data_dir`` is the loader's argument (``None``: ``$MLSTC_DATA_DIR``, else the
    cache). In a named folder the data set is ``<folder>/<name>/``, the folder itself,
    or an archive ``<name>.tar.gz``/``.zip`` there (unpacked into the cache, the
    archive left as it is). Without a named folder: an earlier download in the cache,
    else a download from ``urls`` into the cache.
    """
    base, named = paths.data_dir(data_dir)
    unpacked = paths.download_dir() / folder
    source = "the data_dir argument" if data_dir else f"${paths.DATA_ENV}" if named else "the download cache"
    if named and not base.is_dir():
        raise FileNotFoundError(
            f"The data folder {base} (from {source}) does not exist. Point {source} at the folder that "
            f"holds {folder}/, or leave it unset to use the download cache {paths.download_dir()}."
        )
    candidates = [base / folder, base] if named else [unpacked]
    for candidate in candidates:
        if (candidate / marker).is_file():
            return candidate
    if named:
        for suffix in (".tar.gz", ".tgz", ".zip"):
            archive = base / f"{folder}{suffix}"
            if archive.is_file():
                cached = paths.download_dir() / f"{folder}-{storage.file_sha256(archive)[:12]}"
                return cached if (cached / marker).is_file() else unpack(archive, cached, marker)
    elif download and urls:
        print(f"No data folder given ({paths.DATA_ENV} unset): downloading {folder} into {unpacked}")
        return fetch(urls, unpacked, marker)
    looked = "\n  ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"Could not find the {folder} data ({marker}) in {source}. Looked in:\n  {looked}\n"
        f"Set {paths.DATA_ENV} (or the notebook's data_dir parameter) to the folder that holds "
        f"{folder}/. {how_to_get}"
    )


def unpack(archive: Path, dest: Path, marker: str) -> Path:
    """Unpack a .tar.gz or .zip (possibly a zip holding a tarball) into ``dest``,
    atomically: a half-unpacked folder is never left where :func:`locate` looks."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".unpack-") as tmp:
        tmp = Path(tmp)
        _extract(archive, tmp)
        inner = [p for p in tmp.rglob("*.tar.gz")] if not any(tmp.rglob(marker)) else []
        for nested in inner:
            _extract(nested, tmp)
        hits = list(tmp.rglob(marker))
        if not hits:
            raise DataError(archive, f"holds no {marker}.", fix="check that this is the published archive.")
        if dest.exists():
            shutil.rmtree(dest)
        hits[0].parent.rename(dest)
    return dest


def _extract(archive: Path, into: Path) -> None:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(into)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            tf.extractall(into, filter="data")
    else:
        raise DataError(archive, "is neither a tar nor a zip archive.", fix="download it again.")


def fetch(urls: Sequence[str], dest: Path, marker: str, timeout: float = 60) -> Path:
    """Download the first of ``urls`` that answers into the cache and unpack it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in urls:
        archive = dest.parent / (Path(url.split("?")[0]).name or "download")
        part = archive.with_name(archive.name + ".part")
        try:
            print(f"Downloading {url} -> {archive}")
            with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
                shutil.copyfileobj(response, out)
            part.replace(archive)
            return unpack(archive, dest, marker)
        except (OSError, DataError) as error:  # URLError is an OSError
            part.unlink(missing_ok=True)
            errors.append(f"{url}: {error}")
    raise FileNotFoundError("Download failed:\n  " + "\n  ".join(errors))


def read_text(path: Path) -> str:
    """A UTF-8 text file; bytes that are not UTF-8 raise :class:`DataError` with the line."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataError(path, f"byte {raw[error.start]:#x} at offset {error.start} is not UTF-8.", row=line,
                        fix="save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`).") from None
