"""What the partitioned Parquet writers share: checks, seeding, file names and writing.

The writers (:func:`~seawall.datasets.write_audit_parquet` in ``_parquet_audit`` and
:func:`~seawall.datasets.write_fleet_parquet` in ``_parquet_fleet``) draw and write
one file at a time, a row group at a time, so memory stays at about one row group
(:data:`ROW_GROUP_ROWS` rows) whatever the total size. Files are named
``part-00000.parquet``, ``part-00001.parquet``... (more digits past 100,000 files).

Seeding: file ``i`` draws from its own stream,
``SeedSequence(random_state, spawn_key=(0, i))`` (the ``i``-th child of the first
child of ``SeedSequence(random_state)``), so it is the same whichever other files
are written, in whatever order. A writer that decides something for every file up
front draws it from another first key (the fleet uses ``(1,)`` and ``(2,)``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from seawall._validation import param_error

__all__ = [
    "ROW_GROUP_ROWS",
    "Progress",
    "check_directory",
    "check_progress",
    "dictionary_array",
    "file_rng",
    "write_files",
]

Progress = Callable[[int, int], object]

# About a million rows per row group: big enough to compress well, small enough
# for a reader to skip by statistics.
ROW_GROUP_ROWS = 1 << 20
_COMPRESSION = "zstd"


def check_directory(directory: object, caller: str) -> Path:
    """``directory`` as a path, if it is new or an empty directory (checked before writing)."""
    if not isinstance(directory, str | os.PathLike):
        raise param_error("directory", caller, "a str or os.PathLike path", directory)
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise param_error(
            "directory", caller, "a new or empty directory (this path is a file)", str(path)
        )
    if path.is_dir():
        seen = [p.name for p in itertools.islice(path.iterdir(), 3)]
        if seen:
            err = param_error("directory", caller, "a new or empty directory", str(path))
            raise type(err)(
                f"{err} It already holds files (e.g. {', '.join(map(repr, seen))}); the "
                f"writer refuses to mix its files with others or overwrite them. Pass a new "
                f"directory, or empty this one first."
            )
    return path


def check_progress(progress: object, caller: str) -> Progress | None:
    """``progress`` if it is None or callable as ``progress(files_done, n_files)``."""
    if progress is not None and not callable(progress):
        raise param_error("progress", caller, "None or a callable (files_done, n_files)", progress)
    return progress


def file_rng(seed: int, i: int) -> np.random.Generator:
    """File ``i``'s own generator: the same whichever other files are written."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, i)))


def dictionary_array(codes: npt.NDArray[Any], labels: tuple[str, ...] | list[str]) -> pa.Array:
    """A dictionary-encoded string column: ``labels[codes]``."""
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(labels, pa.string()))


def write_files(
    path: Path,
    n_files: int,
    make: Callable[[int], Iterator[pa.Table]],
    progress: Progress | None,
) -> tuple[Path, ...]:
    """Write each file in turn, one row group at a time, as ``make(i)`` draws them.

    Only one row group is ever held in memory.
    """
    path.mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(n_files - 1)))
    files = []
    for i in range(n_files):
        file = path / f"part-{i:0{width}d}.parquet"
        groups = make(i)
        first = next(groups)
        with pq.ParquetWriter(file, first.schema, compression=_COMPRESSION) as writer:
            for table in itertools.chain([first], groups):
                writer.write_table(table, row_group_size=table.num_rows)
        files.append(file)
        if progress is not None:
            progress(i + 1, n_files)
    return tuple(files)
