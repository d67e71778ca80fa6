"""The monitoring half of the store's API: metric points, anomalies, incidents, feedback."""

from __future__ import annotations

import pyarrow as pa

from seawall.storage import _incidents, _tables
from seawall.storage._connection import StoreConnection
from seawall.storage._results import IngestResult

__all__ = ["MonitoringMethods"]


class MonitoringMethods(StoreConnection):
    """Metric series, anomalies, incidents and feedback (methods of ``Store``)."""

    def write_metric_points(self, data: object) -> IngestResult:
        """Store metric points; a recomputed window replaces the stored point.

        A point is keyed by its series ``(model, metric, qualifier)`` and
        ``window_start``; the latest write of a key wins.

        Parameters
        ----------
        data : str, os.PathLike, pyarrow.Table or pandas.DataFrame
            Columns ``model, metric, window_start, value`` (required),
            ``qualifier`` (feature or group; missing means ``""``), ``window_end,
            lower, upper, n`` (optional); further numeric columns are kept too.

        Returns
        -------
        IngestResult
            ``inserted``, ``replaced`` and ``duplicates``.
        """
        return self._write("writing metric points", _tables.write_metric_points, data)

    def read_metric_points(
        self,
        *,
        model: str | None = None,
        metric: str | None = None,
        qualifier: str | None = None,
        start: object = None,
        end: object = None,
    ) -> pa.Table:
        """Metric points, filtered by series and ``start <= window_start < end``.

        Returns
        -------
        pyarrow.Table
            ``model, metric, qualifier, window_start, window_end, value, lower,
            upper, n`` and any extra numeric columns, sorted by series and window.
        """
        return self._read(
            "reading metric points",
            _tables.read_metric_points,
            model=model,
            metric=metric,
            qualifier=qualifier,
            start=start,
            end=end,
        )

    def write_anomalies(self, data: object, *, replace_series: bool = False) -> IngestResult:
        """Store anomaly scores, keyed by ``(series, timestamp)``; the latest write wins.

        Parameters
        ----------
        data : str, os.PathLike, pyarrow.Table or pandas.DataFrame
            Columns ``series, timestamp, is_anomaly`` (required), ``value, score,
            baseline, scale`` (the step's expected value and robust scale).
        replace_series : bool, default=False
            Whether the batch is the whole scored history of each of its series:
            their stored rows are then deleted first (faster than comparing row by
            row, and steps no longer scored do not linger). The counts are then
            ``inserted`` (rows now stored) and ``duplicates`` (repeats in the batch).

        Returns
        -------
        IngestResult
            ``inserted``, ``replaced`` and ``duplicates``.
        """
        return self._write(
            "writing anomalies", _tables.write_anomalies, data, replace_series=replace_series
        )

    def read_anomalies(
        self,
        *,
        series: str | None = None,
        start: object = None,
        end: object = None,
        only_anomalies: bool = False,
    ) -> pa.Table:
        """Anomaly rows, filtered; ``only_anomalies`` keeps flagged steps only.

        Returns
        -------
        pyarrow.Table
            ``series, timestamp, value, score, is_anomaly, baseline, scale``, sorted.
        """
        return self._read(
            "reading anomalies",
            _tables.read_anomalies,
            series=series,
            start=start,
            end=end,
            only_anomalies=only_anomalies,
        )

    def write_incidents(self, data: object) -> IngestResult:
        """Store incidents, keyed by ``id``; the latest write wins.

        Parameters
        ----------
        data : str, os.PathLike, pyarrow.Table or pandas.DataFrame
            Columns ``id, start, end, members`` (a list of series keys) required;
            ``severity, shared_labels`` (a dict or Arrow map), ``status, summary,
            peak_score, n_anomalies`` optional. Without ``status`` a new incident
            is ``"open"`` and a stored one keeps its status.

        Returns
        -------
        IngestResult
            ``inserted``, ``replaced`` and ``duplicates``.
        """
        return self._write("writing incidents", _incidents.write_incidents, data)

    def read_incidents(self, *, status: str | None = None) -> pa.Table:
        """Incidents, most severe first; ``status`` keeps one status only.

        Returns
        -------
        pyarrow.Table
            ``id, start, end, severity, members, shared_labels, status, summary,
            peak_score, n_anomalies``.
        """
        return self._read("reading incidents", _incidents.read_incidents, status=status)

    def write_feedback(self, data: object) -> IngestResult:
        """Store feedback and set each touched incident's status from its latest action.

        Parameters
        ----------
        data : str, os.PathLike, pyarrow.Table or pandas.DataFrame
            Columns ``incident_id, action`` (``"acknowledge"``, ``"resolve"`` or
            ``"false_alarm"``), ``time`` required; ``note`` optional. An event
            already stored (same incident, action and time) is skipped.

        Returns
        -------
        IngestResult
            ``inserted`` and ``duplicates``.

        Raises
        ------
        DataValidationError
            On an unknown action or an incident the store does not hold.
        """
        return self._write("writing feedback", _incidents.write_feedback, data)

    def record_feedback(
        self, incident_id: str, action: str, *, time: object = None, note: str = ""
    ) -> IngestResult:
        """Store one feedback event (see :meth:`write_feedback`); ``time`` defaults to now.

        Examples
        --------
        >>> import pandas as pd
        >>> from seawall.storage import Store
        >>> with Store() as store:
        ...     _ = store.write_incidents(pd.DataFrame({
        ...         "id": ["i1"], "start": pd.to_datetime(["2024-05-01"]),
        ...         "end": pd.to_datetime(["2024-05-02"]), "members": [["m1/volume"]]}))
        ...     _ = store.record_feedback("i1", "false_alarm", note="holiday")
        ...     store.read_incidents().column("status").to_pylist()
        ['false_alarm']
        """
        return self._write(
            "recording feedback",
            _incidents.record_feedback,
            incident_id,
            action,
            time=time,
            note=note,
        )

    def read_feedback(
        self, *, incident_id: str | None = None, action: str | None = None
    ) -> pa.Table:
        """Feedback events with the member series of their incident.

        Returns
        -------
        pyarrow.Table
            ``incident_id, action, time, note, members``, by time.
        """
        return self._read(
            "reading feedback", _incidents.read_feedback, incident_id=incident_id, action=action
        )

    def false_alarm_series(self, *, since: object = None) -> pa.Table:
        """The series named in incidents marked false alarm, for a detector to damp.

        Returns
        -------
        pyarrow.Table
            ``series, n_false_alarms, last_time`` (false-alarm actions at or after
            ``since``), sorted by series.
        """
        return self._read("reading false alarms", _incidents.false_alarm_series, since=since)
