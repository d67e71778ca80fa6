"""What a generator with planted effects returns: the data and its known answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from seawall._json import json_value
from seawall._validation import param_error

if TYPE_CHECKING:
    from scipy.sparse import csr_array

__all__ = ["PlantedData", "PlantedEffect", "PlantedTags"]

EffectKind = Literal[
    "weak_slice",
    "error_disparity",
    "output_association",
    "explained_association",
    "label_association",
]


@dataclass(frozen=True, slots=True)
class PlantedEffect:
    """One effect planted in a synthetic data set: the answer an investigation should find.

    Attributes
    ----------
    kind : str
        What was planted: a slice where the model errs more for everyone
        (``"weak_slice"``), a context where one group's error rate is higher
        (``"error_disparity"``), a context where one group's positive-decision rate
        is lower (``"output_association"``), an association of the decision with the
        group that an explanatory attribute accounts for (``"explained_association"``),
        or an output label given more often to one group (``"label_association"``).
    context : tuple of (str, str) pairs
        The conjunction of ``column == value`` conditions that defines where the
        effect lives; the empty tuple for the whole population.
    group : str or None
        The protected group affected, or ``None`` when every group is affected alike.
    effect : float
        The planted difference in rate: the affected rows' rate minus that of the rows
        they are compared with (e.g. ``0.15``, or ``-0.20`` for a lower rate).
    share : float
        The expected share of all rows that fall in ``context`` (1.0 for the whole
        population), whatever their group.
    explained_by : str or None
        The explanatory column that accounts for the association, if any.
    description : str
        One sentence for a human reader.
    label : str or None, default=None
        The output label (tag) concerned, for ``"label_association"``.

    See Also
    --------
    make_slices : a classifier's log with planted weak slices and associations.
    make_tagging : an image tagger's output with planted label associations.

    Examples
    --------
    >>> from seawall.datasets import PlantedEffect
    >>> e = PlantedEffect("weak_slice", (("f1", "b"), ("f4", "b")), None, 0.15, 0.04,
    ...                   None, "The model errs more in f1 == b and f4 == b.")
    >>> e.to_dict()["context"]
    [['f1', 'b'], ['f4', 'b']]
    """

    kind: EffectKind
    context: tuple[tuple[str, str], ...]
    group: str | None
    effect: float
    share: float
    explained_by: str | None
    description: str
    label: str | None = None

    def mask(self, frame: pd.DataFrame) -> npt.NDArray[np.bool_]:
        """The rows of ``frame`` that lie in :attr:`context`, whatever their group.

        Parameters
        ----------
        frame : pandas.DataFrame
            A frame with every column named in :attr:`context`.

        Returns
        -------
        ndarray of bool, shape (n_rows,)
            True for the rows in the context (every row for the empty context).

        Examples
        --------
        >>> import pandas as pd
        >>> from seawall.datasets import PlantedEffect
        >>> e = PlantedEffect("error_disparity", (("f3", "e"),), "B", 0.2, 0.1, None, "...")
        >>> e.mask(pd.DataFrame({"f3": ["a", "e", "e"]})).tolist()
        [False, True, True]
        """
        out = np.ones(len(frame), dtype=np.bool_)
        for column, value in self.context:
            out &= (frame[column] == value).to_numpy(dtype=np.bool_)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The effect as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            Every field, in order; ``context`` as a list of ``[column, value]`` lists.
        """
        return {
            "kind": self.kind,
            "context": [[column, value] for column, value in self.context],
            "group": self.group,
            "effect": json_value(self.effect),
            "share": json_value(self.share),
            "explained_by": self.explained_by,
            "description": self.description,
            "label": self.label,
        }


@dataclass(frozen=True, slots=True, eq=False)
class PlantedData:
    """A classifier's log with the effects planted in it (see :func:`make_slices`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per decision: the context columns, the protected and explanatory
        columns, the prediction and the true label.
    effects : tuple of PlantedEffect
        What was planted; empty for the null twin (``effects="null"``).
    protected : tuple of str
        The protected attribute(s), ``("group",)``.
    context_columns : tuple of str
        The columns that define contexts (``"f0"`` ... ``"f9"`` and ``"age"``).
    explanatory : tuple of str
        The explanatory attribute(s), ``("qualification",)``.
    label : str
        The true label's column, ``"y_true"``.
    prediction : str
        The model's decision's column, ``"y_pred"``.

    See Also
    --------
    make_slices : the generator.

    Examples
    --------
    >>> from seawall.datasets import make_slices
    >>> data = make_slices(2_000, random_state=0)
    >>> data.to_dict()["protected"]
    ['group']
    """

    frame: pd.DataFrame
    effects: tuple[PlantedEffect, ...]
    protected: tuple[str, ...]
    context_columns: tuple[str, ...]
    explanatory: tuple[str, ...]
    label: str
    prediction: str

    def to_dict(self) -> dict[str, Any]:
        """The metadata (not the frame) as JSON-safe primitives with stable keys.

        Returns
        -------
        dict
            ``n_rows``, the column roles and the planted effects.
        """
        return {
            "n_rows": len(self.frame),
            "protected": list(self.protected),
            "context_columns": list(self.context_columns),
            "explanatory": list(self.explanatory),
            "label": self.label,
            "prediction": self.prediction,
            "effects": [e.to_dict() for e in self.effects],
        }


@dataclass(frozen=True, slots=True, eq=False)
class PlantedTags:
    """An image tagger's output with the label associations planted in it.

    See :func:`make_tagging`.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per item (photo): its protected group and context columns.
    tags : scipy.sparse.csr_array of bool, shape (n_items, n_tags)
        True where the tagger gave the item the tag; canonical CSR (sorted indices,
        no duplicates).
    tag_names : tuple of str
        The name of each of the ``n_tags`` columns of :attr:`tags`, unique.
    sensitive_tags : tuple of str
        The tags a reviewer should look at first.
    effects : tuple of PlantedEffect
        What was planted; empty for the null twin (``effects="null"``).
    protected : tuple of str
        The protected attribute(s), ``("user_group",)``.
    context_columns : tuple of str
        The columns that define contexts.

    See Also
    --------
    make_tagging : the generator.

    Examples
    --------
    >>> from seawall.datasets import make_tagging
    >>> data = make_tagging(2_000, 200, random_state=0)
    >>> data.tags.shape
    (2000, 200)
    >>> list(data.to_frame().columns)
    ['user_group', 'region', 'device', 'topic', 'time_of_day', 'tags']
    """

    frame: pd.DataFrame
    tags: csr_array
    tag_names: tuple[str, ...]
    sensitive_tags: tuple[str, ...]
    effects: tuple[PlantedEffect, ...]
    protected: tuple[str, ...]
    context_columns: tuple[str, ...]

    def to_frame(self, tags_column: str = "tags") -> pd.DataFrame:
        """The item frame plus one column of each item's tag names (for Parquet).

        Parameters
        ----------
        tags_column : str, default="tags"
            The name of the new column; it must not be a column of :attr:`frame`.

        Returns
        -------
        pandas.DataFrame of shape (n_items, n_columns + 1)
            A copy of :attr:`frame` with ``tags_column`` holding, for each item, a
            Python list of its tag names in column order of :attr:`tags`.

        Raises
        ------
        InvalidParameterError
            If ``tags_column`` is not a str or is already a column.

        Examples
        --------
        >>> from seawall.datasets import make_tagging
        >>> data = make_tagging(2_000, 200, random_state=0)
        >>> frame = data.to_frame("labels")
        >>> isinstance(frame["labels"].iloc[0], list)
        True
        """
        if not isinstance(tags_column, str) or tags_column in self.frame.columns:
            taken = ", ".join(repr(c) for c in self.frame.columns)
            raise param_error(
                "tags_column", "PlantedTags.to_frame", f"a str other than {taken}", tags_column
            )
        names = np.asarray(self.tag_names, dtype=object)
        flat = names[self.tags.indices].tolist()
        bounds = self.tags.indptr.tolist()
        lists = [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        out = self.frame.copy()
        out[tags_column] = pd.Series(lists, index=out.index, dtype=object)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The metadata (not the frame, the tags or all tag names) as JSON-safe primitives.

        Returns
        -------
        dict
            ``n_items``, ``n_tags``, the mean number of tags per item, the column
            roles, the sensitive tags and the planted effects.
        """
        n_items, n_tags = self.tags.shape
        return {
            "n_items": int(n_items),
            "n_tags": int(n_tags),
            "mean_tags_per_item": float(self.tags.nnz / n_items),
            "protected": list(self.protected),
            "context_columns": list(self.context_columns),
            "sensitive_tags": list(self.sensitive_tags),
            "effects": [e.to_dict() for e in self.effects],
        }


def string_column(labels: tuple[str, ...], codes: npt.NDArray[np.integer[Any]]) -> pd.Series:
    """``labels[codes]`` as a pandas column of the default string dtype, quickly.

    Going through Arrow (a ``take`` on the few labels) is about ten times faster than
    an object array of a million Python strings, and gives pandas' default string
    dtype (``str`` from pandas 3, ``object`` before), never ``category``.

    Parameters
    ----------
    labels : tuple of str
        The distinct values.
    codes : ndarray of int, shape (n,)
        Each row's index into ``labels``; assumed valid.

    Returns
    -------
    pandas.Series of shape (n,)
        The values.

    Examples
    --------
    >>> import numpy as np
    >>> string_column(("a", "b"), np.array([1, 0, 1])).tolist()
    ['b', 'a', 'b']
    """
    arrow = pa.array(labels, type=pa.large_string()).take(
        pa.array(codes.astype(np.int32, copy=False))
    )
    column = arrow.to_pandas()
    return column if isinstance(column, pd.Series) else pd.Series(column)
