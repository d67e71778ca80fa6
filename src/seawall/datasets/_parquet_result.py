"""What the partitioned Parquet writers return: where the files are and what they hold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seawall.datasets._fleet_events import FleetEvent
from seawall.datasets._planted import PlantedEffect

__all__ = ["PartitionedData"]


@dataclass(frozen=True, slots=True)
class PartitionedData:
    """A simulated data set written as partitioned Parquet, and its known answers.

    Attributes
    ----------
    directory : pathlib.Path
        The folder that holds the files (and nothing else).
    files : tuple of pathlib.Path
        The files, ``part-00000.parquet``, ``part-00001.parquet``... in row order.
    n_rows : int
        The number of rows over all files.
    columns : tuple of str
        The columns of every file, in order.
    seed : int
        The ``random_state`` the data were drawn with.
    effects : tuple of PlantedEffect, default=()
        What :func:`write_audit_parquet` planted; empty for a fleet.
    events : tuple of FleetEvent, default=()
        What :func:`write_fleet_parquet` planted; empty for an audit log.

    See Also
    --------
    write_audit_parquet : a classifier's decision log.
    write_fleet_parquet : a fleet's metric series, in long format.

    Examples
    --------
    >>> from pathlib import Path
    >>> data = PartitionedData(Path("out"), (Path("out/part-00000.parquet"),), 10,
    ...                        ("row_id",), 0)
    >>> data.to_dict()["files"]
    ['part-00000.parquet']
    """

    directory: Path
    files: tuple[Path, ...]
    n_rows: int
    columns: tuple[str, ...]
    seed: int
    effects: tuple[PlantedEffect, ...] = ()
    events: tuple[FleetEvent, ...] = ()

    @property
    def n_files(self) -> int:
        """The number of files."""
        return len(self.files)

    def to_dict(self) -> dict[str, Any]:
        """The metadata (not the rows) as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            ``directory`` (a string), ``files`` (names within it), ``n_files``,
            ``n_rows``, ``columns``, ``seed``, ``effects`` and ``events`` (each as
            its ``to_dict()``).
        """
        return {
            "directory": str(self.directory),
            "files": [f.name for f in self.files],
            "n_files": self.n_files,
            "n_rows": self.n_rows,
            "columns": list(self.columns),
            "seed": self.seed,
            "effects": [e.to_dict() for e in self.effects],
            "events": [e.to_dict() for e in self.events],
        }
