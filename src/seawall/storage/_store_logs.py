"""The prediction-log half of the store's API: models, predictions, labels, volumes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import pyarrow as pa

from seawall.storage import _ingest, _models, _reads
from seawall.storage._connection import StoreConnection
from seawall.storage._results import IngestResult

__all__ = ["PredictionLogMethods"]


class PredictionLogMethods(StoreConnection):
    """Models, prediction logs and labels (methods of ``Store``)."""

    def register_models(
        self, data: object, *, model_col: str = "model", labels_col: str | None = None
    ) -> IngestResult:
        """Add or update models, their version, project and free labels.

        Columns ``version`` and ``project`` are model fields; every other column is
        a label (team, region, upstream source, ...) kept as text. A model already
        stored is updated column by column: fields and labels present in the batch
        overwrite the stored ones (a missing value removes a label), the others
        stay. Within a batch, the last row of a model wins.

        Parameters
        ----------
        data : str, os.PathLike, pyarrow.Table or pandas.DataFrame
            One row per model: a Parquet/CSV path (or directory), or a table.
        model_col : str, default="model"
            The column that holds the model name.
        labels_col : str or None, default=None
            A column holding each row's labels as a map of text to text (an Arrow
            ``map<string, string>``), instead of one column per label: a row then
            sets the labels of its map and leaves its model's other labels alone,
            whatever keys other rows carry. Other columns are ignored.

        Returns
        -------
        IngestResult
            ``inserted`` new models, ``replaced`` changed ones, ``duplicates``
            unchanged ones and repeats.

        Raises
        ------
        DataValidationError
            When the model column is missing or has missing values.

        Examples
        --------
        >>> import pandas as pd
        >>> from seawall.storage import Store
        >>> with Store() as store:
        ...     _ = store.register_models(pd.DataFrame(
        ...         {"model": ["a", "b"], "version": ["1", "2"], "source": ["crm", "crm"]}))
        ...     store.shared_labels(["a", "b"])
        {'source': 'crm'}
        """
        return self._write(
            "registering models",
            _models.register_models,
            data,
            model_col=model_col,
            labels_col=labels_col,
        )

    def models(self, labels: Mapping[str, str] | None = None) -> pa.Table:
        """Every model, with one column per label key.

        Parameters
        ----------
        labels : mapping of str to str, optional
            Keep only models that carry every one of these labels, e.g.
            ``{"source": "crm-feed"}``.

        Returns
        -------
        pyarrow.Table
            Columns ``model``, ``version``, ``project``, then one text column per
            label key (sorted), null where a model lacks the label; one row per
            model, sorted by name.
        """
        return self._read("reading models", _models.read_models, labels)

    def model_labels(self) -> pa.Table:
        """Every model label as one ``(model, key, value)`` row, sorted.

        Returns
        -------
        pyarrow.Table
            The long label table, e.g. to group models by a shared source.
        """
        return self._read("reading model labels", _models.model_labels)

    def shared_labels(self, models: Sequence[str]) -> dict[str, str]:
        """The labels (key and value) that every one of ``models`` carries.

        Parameters
        ----------
        models : sequence of str
            Model names.

        Returns
        -------
        dict of str to str
            The shared labels, sorted by key; empty when they share none.
        """
        return self._read("reading shared labels", _models.shared_labels, models)

    # ------------------------------------------------------------------ #
    # prediction logs and labels
    # ------------------------------------------------------------------ #

    def ingest_predictions(
        self,
        data: object,
        *,
        model_col: str = "model",
        time_col: str = "time",
        request_id_col: str = "request_id",
        prediction_col: str = "prediction",
        score_col: str | None = "score",
        sensitive_cols: Sequence[str] = (),
        feature_cols: Sequence[str] | None = None,
    ) -> IngestResult:
        """Store a batch of prediction logs, once per (model, request id).

        The batch is read in bulk (DuckDB's Parquet/CSV readers or Arrow) and
        written in one transaction. **The first write wins**: a row whose
        (model, request id) is stored already, or repeats an earlier row of the
        batch, is skipped, so re-sending a batch or overlapping files is harmless.
        Features and sensitive attributes are stored per model with their kind
        (numbers stay numbers, categories stay text); see :meth:`read_predictions`.

        Parameters
        ----------
        data : str, os.PathLike, pyarrow.Table, pandas.DataFrame or Arrow stream
            The logs: a Parquet or CSV file, a directory of them, or a table.
        model_col, time_col, request_id_col, prediction_col : str
            The columns holding the model name, the prediction time (a timestamp or
            ISO-8601 text), the request id and the prediction.
        score_col : str or None, default="score"
            The column holding the model's score; ``None`` when there is none.
        sensitive_cols : sequence of str, default=()
            Columns holding sensitive attributes (stored like features, flagged).
        feature_cols : sequence of str or None, default=None
            The logged features; ``None`` takes every other column.

        Returns
        -------
        IngestResult
            ``rows_read``, ``inserted`` and ``duplicates`` (skipped rows).

        Raises
        ------
        DataValidationError
            On a missing column, a time that cannot be parsed, a missing model,
            request id or time, a feature that turned from numbers to text, a
            path that does not exist or an unsupported file type. Nothing of the
            batch is stored then.
        StorageError
            When DuckDB fails; the batch is rolled back.
        """
        return self._write(
            "ingesting predictions",
            _ingest.ingest_predictions,
            data,
            model_col=model_col,
            time_col=time_col,
            request_id_col=request_id_col,
            prediction_col=prediction_col,
            score_col=score_col,
            sensitive_cols=sensitive_cols,
            feature_cols=feature_cols,
        )

    def ingest_labels(
        self,
        data: object,
        *,
        model_col: str | None = "model",
        request_id_col: str = "request_id",
        label_col: str = "label",
        label_time_col: str | None = "label_time",
    ) -> IngestResult:
        """Store ground-truth labels, once per (model, request id).

        **The latest write wins**, so a corrected label replaces the stored one;
        an identical label counts as a duplicate. Rows without a label value (not
        known yet) are counted as ``missing`` and skipped. Labels are joined to
        predictions by request id when read.

        Parameters
        ----------
        data : str, os.PathLike, pyarrow.Table, pandas.DataFrame or Arrow stream
            The labels (other columns are ignored).
        model_col : str or None, default="model"
            The column holding the model; ``None`` attributes each label to every
            model that logged its request id (labels matching none are counted as
            ``unmatched`` and not stored).
        request_id_col, label_col : str
            The columns holding the request id and the label.
        label_time_col : str or None, default="label_time"
            The column holding when the label became known; ``None`` for none.

        Returns
        -------
        IngestResult
            ``inserted``, ``replaced``, ``duplicates``, ``unmatched``, ``missing``.

        Raises
        ------
        DataValidationError
            As for :meth:`ingest_predictions`; nothing of the batch is stored then.
        StorageError
            When DuckDB fails; the batch is rolled back.
        """
        return self._write(
            "ingesting labels",
            _ingest.ingest_labels,
            data,
            model_col=model_col,
            request_id_col=request_id_col,
            label_col=label_col,
            label_time_col=label_time_col,
        )

    def read_predictions(
        self, model: str, start: object = None, end: object = None, *, with_labels: bool = True
    ) -> pa.Table:
        """One model's prediction logs as a wide table, labels joined by request id.

        Parameters
        ----------
        model : str
            The model.
        start, end : datetime, str or None, default=None
            Keep predictions with ``start <= time < end`` (UTC); ``None`` is open.
        with_labels : bool, default=True
            Left-join the labels: add ``label`` and ``label_time``, null where no
            label has arrived.

        Returns
        -------
        pyarrow.Table
            ``time, model, request_id, prediction, score``, then each feature and
            sensitive column in the order first logged, with its kind's type
            (integers ``int64``, floats ``float64``, booleans, text), then
            ``label, label_time``; sorted by time and request id.

        Raises
        ------
        InvalidParameterError
            When the model is not in the store or a bound is not a time.
        """
        return self._read(
            "reading predictions",
            _reads.read_predictions,
            model,
            start,
            end,
            with_labels=with_labels,
        )

    def read_labels(self, model: str) -> pa.Table:
        """One model's labels: ``model, request_id, label, label_time``, by request id.

        Parameters
        ----------
        model : str
            The model.

        Returns
        -------
        pyarrow.Table
            The labels, with the kind they were logged with.
        """
        return self._read("reading labels", _reads.read_labels, model)

    def model_columns(self, model: str) -> pa.Table:
        """What one model logs: each column's ``name``, ``role`` and ``kind``.

        Parameters
        ----------
        model : str
            The model.

        Returns
        -------
        pyarrow.Table
            One row per column, in logged order; ``role`` is one of
            ``prediction``, ``label``, ``feature``, ``sensitive``.
        """
        return self._read("reading a model's columns", _reads.read_model_columns, model)

    def time_range(self, model: str | None = None) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The first and last prediction time (UTC), of one model or of all.

        Parameters
        ----------
        model : str or None, default=None
            The model; ``None`` for the whole store.

        Returns
        -------
        (datetime or None, datetime or None)
            ``(None, None)`` when there are no predictions.
        """
        return self._read("reading the time range", _reads.time_range, model)

    def counts(self) -> pa.Table:
        """Per-model volumes.

        Returns
        -------
        pyarrow.Table
            ``model, n_predictions, n_labelled`` (predictions with a label),
            ``n_labels``, ``first_time, last_time``; one row per model.
        """
        return self._read("counting predictions", _reads.read_counts)

    def table_sizes(self) -> dict[str, int]:
        """The number of rows in each of the store's tables.

        Returns
        -------
        dict of str to int
            Table name to row count.
        """
        return self._read("counting rows", _reads.table_sizes)

    def window_counts(
        self,
        every: str | dt.timedelta = "1h",
        *,
        model: str | None = None,
        start: object = None,
        end: object = None,
    ) -> pa.Table:
        """Per-model, per-window volumes, computed in DuckDB with ``time_bucket``.

        Windows are ``[window_start, window_start + every)``, aligned on the Unix
        epoch as ``pandas.Timestamp.floor`` aligns them; windows without
        predictions are absent.

        Parameters
        ----------
        every : str or datetime.timedelta, default="1h"
            A fixed width: ``"15min"``, ``"1h"``, ``"1d"``, ``"7d"``...
        model : str or None, default=None
            One model, or all.
        start, end : datetime, str or None, default=None
            Keep predictions with ``start <= time < end``.

        Returns
        -------
        pyarrow.Table
            ``model, window_start, window_end, n_predictions, n_labelled,
            n_scored, mean_score``, sorted by model and window.
        """
        return self._read(
            "counting windows", _reads.window_counts, every, model=model, start=start, end=end
        )
