"""Input batches as DuckDB FROM items: files read natively, tables registered as Arrow.

A batch is a path (a Parquet or CSV file, or a directory of them), a pyarrow
Table, a pandas DataFrame, or any object that speaks the Arrow stream protocol
(``__arrow_c_stream__``, e.g. a polars DataFrame). Nothing is read row by row in
Python: files go to DuckDB's ``read_parquet``/``read_csv``; tables are registered
on the cursor as Arrow and scanned in place.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from seawall._validation import param_error
from seawall.exceptions import DataValidationError
from seawall.storage._sql import quote_identifier

__all__ = ["INPUT_VIEW", "Source", "load_rows", "open_source", "require_columns"]

INPUT_VIEW = "__seawall_input"
"""The name an in-memory batch is registered under, on the cursor that ingests it."""

_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv"}


@dataclass(frozen=True, slots=True)
class Source:
    """One input batch, ready to appear after ``FROM`` in a query.

    Attributes
    ----------
    sql : str
        The FROM item: a registered view's name or a table function call.
    params : tuple
        The values of the ``?`` markers in ``sql`` (file paths), in order.
    columns : dict of str to str
        Each column's name and DuckDB type, in the input's order.
    label : str
        How messages name the input, e.g. ``"the file 'logs.csv'"``.
    """

    sql: str
    params: tuple[object, ...]
    columns: dict[str, str]
    label: str


def _files(path: Path, caller: str) -> tuple[str, list[str]]:
    """The format and the files of a path (a file or a directory of files)."""
    if not path.exists():
        raise DataValidationError(
            f"{caller}: the path {str(path)!r} does not exist; expected a Parquet or CSV "
            f"file or a directory of them. Check the path."
        )
    if path.is_dir():
        found = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in _SUFFIXES and not p.name.startswith((".", "_"))
        )
        kinds = {_SUFFIXES[p.suffix.lower()] for p in found}
        if not found:
            raise DataValidationError(
                f"{caller}: the directory {str(path)!r} holds no Parquet or CSV files "
                f"(expected names ending in {sorted(_SUFFIXES)}); got none. Point to the "
                f"folder that holds the files."
            )
        if len(kinds) > 1:
            raise DataValidationError(
                f"{caller}: the directory {str(path)!r} holds both Parquet and CSV files; "
                f"expected one format. Ingest each format from its own directory."
            )
        return kinds.pop(), [str(p) for p in found]
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataValidationError(
            f"{caller}: the file {str(path)!r} has the unsupported suffix {path.suffix!r}; "
            f"expected one of {sorted(_SUFFIXES)} (Parquet or CSV). Convert or rename the file."
        )
    return kind, [str(path)]


def _describe(
    cur: duckdb.DuckDBPyConnection, sql: str, params: tuple[object, ...], label: str, caller: str
) -> dict[str, str]:
    """Each column's name and DuckDB type; unreadable input is a validation error."""
    try:
        rows = cur.sql(f"DESCRIBE SELECT * FROM {sql}", params=list(params)).fetchall()
    except duckdb.Error as e:
        raise DataValidationError(
            f"{caller}: could not read {label}: {e}. Check that it is a valid, "
            f"non-empty Parquet or CSV file."
        ) from e
    return {str(r[0]): str(r[1]) for r in rows}


def _file_source(
    cur: duckdb.DuckDBPyConnection, path: Path, caller: str, text_columns: Iterable[str]
) -> Source:
    kind, files = _files(path, caller)
    label = f"the {'directory' if path.is_dir() else 'file'} {str(path)!r}"
    if kind == "parquet":
        sql = "read_parquet(?, union_by_name = true)"
        params: tuple[object, ...] = (files,)
        return Source(sql, params, _describe(cur, sql, params, label, caller), label)
    sql, params = "read_csv(?, union_by_name = true)", (files,)
    columns = _describe(cur, sql, params, label, caller)
    # Keys stay text as written: the sniffer would read '0123' as the number 123.
    keep = {c: "VARCHAR" for c in text_columns if c in columns and columns[c] != "VARCHAR"}
    if keep:
        sql, params = "read_csv(?, union_by_name = true, types = ?)", (files, keep)
        columns = _describe(cur, sql, params, label, caller)
    return Source(sql, params, columns, label)


def _arrow_table(data: object, caller: str) -> tuple[pa.Table, str]:
    if isinstance(data, pa.Table):
        return data, "the pyarrow Table"
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data]), "the pyarrow RecordBatch"
    if isinstance(data, pd.DataFrame):
        try:
            return pa.Table.from_pandas(data, preserve_index=False), "the DataFrame"
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise DataValidationError(
                f"{caller}: the DataFrame could not be converted to Arrow: {e}. Give each "
                f"column one type (e.g. numbers or text, not both)."
            ) from e
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data), f"the {type(data).__name__}"
    raise param_error(
        "data",
        caller,
        "a path to a Parquet/CSV file or directory, a pyarrow Table or a pandas DataFrame",
        data if isinstance(data, str | int | float) else type(data).__name__,
    )


def open_source(
    cur: duckdb.DuckDBPyConnection,
    data: object,
    *,
    caller: str,
    text_columns: Iterable[str] = (),
) -> Source:
    """Make an input batch readable by DuckDB on ``cur``.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        The cursor that will read the batch (a registered table lives on it).
    data : str, os.PathLike, pyarrow.Table, pandas.DataFrame or Arrow stream
        The batch.
    caller : str
        The public method, used in messages.
    text_columns : iterable of str, default=()
        Columns a CSV reader must keep as text (request ids, model names).

    Returns
    -------
    Source
        The FROM item, its parameters and its columns.

    Raises
    ------
    DataValidationError
        When a path does not exist, has an unsupported format or cannot be read.
    InvalidParameterError
        When ``data`` is of an unsupported type.
    """
    if isinstance(data, str | os.PathLike):
        return _file_source(cur, Path(data), caller, text_columns)
    table, label = _arrow_table(data, caller)
    cur.register(INPUT_VIEW, table)
    return Source(INPUT_VIEW, (), _describe(cur, INPUT_VIEW, (), label, caller), label)


def require_columns(source: Source, needed: Mapping[str, str] | Sequence[str], caller: str) -> None:
    """Check that the batch has every needed column.

    Parameters
    ----------
    source : Source
        The batch.
    needed : mapping of str to str, or sequence of str
        The parameter that names each column (e.g. ``{"time_col": "ts"}``), or the
        fixed names of the columns a table needs.
    caller : str
        The public method, used in the message.

    Raises
    ------
    DataValidationError
        Naming the first missing column, the parameter (if any), the columns there
        are, and the fix.
    """
    have = list(source.columns)
    shown = have[:20] + (["..."] if len(have) > 20 else [])
    if isinstance(needed, Mapping):
        for param, column in needed.items():
            if column not in source.columns:
                raise DataValidationError(
                    f"{caller}: the column {column!r} ({param}={column!r}) is missing from "
                    f"{source.label}, which has the columns {shown}. Add the column or pass "
                    f"{param}= the name of the column that holds it."
                )
        return
    for column in needed:
        if column not in source.columns:
            raise DataValidationError(
                f"{caller}: the required column {column!r} is missing from {source.label}, "
                f"which has the columns {shown}; expected the columns {list(needed)}. Add "
                f"or rename the column."
            )


def load_rows(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    select: str,
    params: Sequence[object],
    source: Source,
    caller: str,
) -> None:
    """Read the batch into a temporary table of typed rows, in input order.

    Runs ``CREATE OR REPLACE TEMP TABLE table AS SELECT select FROM source s``. A
    value DuckDB's readers cannot convert (a CSV row past the type sniffer's sample
    that does not fit its column, say) is bad input, and is reported as such.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        The cursor, inside the ingest transaction.
    table : str
        The temporary table to create.
    select : str
        The select list over the batch aliased ``s``.
    params : sequence
        The values of the ``?`` markers in ``select``.
    source : Source
        The batch.
    caller : str
        The public method, used in messages.

    Raises
    ------
    DataValidationError
        When DuckDB cannot convert a value of the input.
    """
    try:
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {quote_identifier(table)} AS SELECT {select} "
            f"FROM {source.sql} s",
            [*params, *source.params],
        )
    except (duckdb.ConversionException, duckdb.InvalidInputException) as e:
        raise DataValidationError(
            f"{caller}: could not read {source.label}: {e}. Fix or drop the rows it "
            f"names, or give the column one type throughout."
        ) from e
