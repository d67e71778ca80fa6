"""The connection half of the store: one DuckDB connection, cursors, transactions."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import duckdb

from seawall._validation import param_error
from seawall.exceptions import StorageError
from seawall.storage._schema import ensure_schema

__all__ = ["StoreConnection"]

T = TypeVar("T")


class StoreConnection:
    """Owns the DuckDB connection; the base of :class:`~seawall.storage.Store`.

    Every operation runs on a cursor of its own (DuckDB connections are not
    shared between threads); reads wrap a ``duckdb.Error`` as
    :class:`StorageError`, and writes also run in one transaction under a lock,
    rolled back whole when anything fails. See :class:`~seawall.storage.Store`
    for the parameters.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, read_only: bool = False):
        if path is not None and not isinstance(path, str | os.PathLike):
            raise param_error("path", "Store", "a file path, ':memory:' or None", path)
        if not isinstance(read_only, bool):
            raise param_error("read_only", "Store", "a bool", read_only)
        memory = path is None or str(path) == ":memory:"
        if memory and read_only:
            raise param_error("read_only", "Store", "False for an in-memory store", read_only)
        self._path: Path | None = None if memory else Path(path)  # type: ignore[arg-type]
        self._read_only = read_only
        self._lock = threading.Lock()  # guards the connection: cursors, close
        self._write_lock = threading.Lock()  # one write transaction at a time
        where = "in memory" if self._path is None else repr(str(self._path))
        try:
            self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(
                ":memory:" if self._path is None else str(self._path), read_only=read_only
            )
        except duckdb.Error as e:
            raise StorageError(
                f"could not open the store {where}: {e}. Check that the folder exists, the "
                f"file is a DuckDB database and no other process holds it for writing."
            ) from e
        try:
            with self._cursor() as cur:
                self._schema_version = ensure_schema(cur, read_only=read_only, where=where)
        except duckdb.Error as e:
            self.close()
            raise StorageError(f"could not create the tables of the store {where}: {e}") from e
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ #
    # connection
    # ------------------------------------------------------------------ #

    @property
    def path(self) -> Path | None:
        """The database file, or ``None`` for an in-memory store."""
        return self._path

    @property
    def read_only(self) -> bool:
        """Whether the store was opened for reading only."""
        return self._read_only

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._con is None

    @property
    def schema_version(self) -> int:
        """The schema version of the store's tables."""
        return self._schema_version

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new DuckDB cursor on the store, for one thread or one request.

        DuckDB connections are not safe to share between threads; a cursor is a
        connection of its own to the same database, so give each thread (or each
        request of a service) its own and close it when done. Its ``TimeZone`` is
        UTC, like the store's own cursors. Keep values in parameters
        (``cur.execute("... WHERE model = ?", [name])``) and quote names with
        :func:`quote_identifier`.

        Returns
        -------
        duckdb.DuckDBPyConnection
            The cursor; the caller closes it.

        Raises
        ------
        StorageError
            When the store is closed.

        Examples
        --------
        >>> from seawall.storage import Store
        >>> with Store() as store:
        ...     cur = store.cursor()
        ...     n = cur.execute("SELECT count(*) FROM predictions").fetchall()[0][0]
        ...     cur.close()
        >>> n
        0
        """
        with self._lock:
            if self._con is None:
                raise StorageError("the store is closed; open a new Store to read or write.")
            try:
                cur = self._con.cursor()
                cur.execute("SET TimeZone = 'UTC'")
            except duckdb.Error as e:
                raise StorageError(f"could not open a cursor on the store: {e}") from e
        return cur

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def _read(self, what: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        with self._cursor() as cur:
            try:
                return fn(cur, *args, **kwargs)
            except duckdb.Error as e:
                raise StorageError(f"{what} failed: {e}") from e

    @contextlib.contextmanager
    def transaction(self, what: str = "writing") -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one write transaction, committed when the block ends.

        Writes are serialised with the store's own (one transaction at a time), so
        a block may read, check and write without another writer interleaving. When
        the block raises, everything it wrote is rolled back and the error goes on
        (a ``duckdb.Error`` as :class:`StorageError`). When it returns, the commit
        has happened: for a file store the rows are in its write-ahead log.

        Parameters
        ----------
        what : str, default="writing"
            What the block does, used in the message of a failure.

        Yields
        ------
        duckdb.DuckDBPyConnection
            The cursor; keep values in parameters.

        Raises
        ------
        StorageError
            When the store is read-only or closed, or DuckDB fails.

        Examples
        --------
        >>> from seawall.storage import Store
        >>> with Store() as store:
        ...     with store.transaction("adding a model") as cur:
        ...         _ = cur.execute("INSERT INTO models (model) VALUES (?)", ["churn"])
        ...     store.models()["model"].to_pylist()
        ['churn']
        """
        if self._read_only:
            raise StorageError(f"{what} needs a writable store; this one is read_only=True.")
        with self._write_lock, self._cursor() as cur:
            try:
                cur.begin()
                yield cur
                cur.commit()
            except duckdb.Error as e:
                with contextlib.suppress(duckdb.Error):
                    cur.rollback()
                raise StorageError(f"{what} failed and was rolled back: {e}") from e
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    cur.rollback()
                raise

    def _write(self, what: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        with self.transaction(what) as cur:
            return fn(cur, *args, **kwargs)

    def close(self) -> None:
        """Close the connection; further calls raise :class:`StorageError`.

        Cursors handed out by :meth:`cursor` should be closed first. Closing twice
        does nothing.
        """
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where = ":memory:" if self._path is None else str(self._path)
        state = "closed" if self.closed else ("read-only" if self._read_only else "open")
        return f"Store({where!r}, {state})"
