"""Disparate impact remover (Feldman et al., KDD 2015): features repaired towards a common law.

The estimator: its parameters, its input (arrays or DataFrames, sensitive
columns, numeric and categorical features) and its fitted state. Each numeric
feature is repaired group by group through quantile functions
(:mod:`seawall.mitigation._quantiles`), each categorical one, optionally, by
moving rows between categories (:mod:`seawall.mitigation._proportions`). After
a full repair every group's feature has the target's distribution, so the
feature alone no longer tells the groups apart, while each group keeps its rank
order. Only the marginal distributions are repaired: relations between
features that differ by group remain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Tags
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from seawall._validation import check_choice, check_real, check_seed, module_of, param_error
from seawall.exceptions import DataValidationError
from seawall.mitigation._columns import (
    Layout,
    categories_of,
    check_present,
    floats,
    is_numeric,
    uniforms,
)
from seawall.mitigation._proportions import proportions_of, repair_categories
from seawall.mitigation._quantiles import group_quantiles, group_runs, median_target, repair_feature
from seawall.mitigation._sensitive import GroupEncoder, SensitiveColumn, split_sensitive

__all__ = ["DEFAULT_N_QUANTILES", "DisparateImpactRemover"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Knots per group and feature when ``n_quantiles=None``: levels 0, 0.001, ..., 1.
DEFAULT_N_QUANTILES = 1001


# --------------------------------------------------------------------------- #
# input
# --------------------------------------------------------------------------- #


def _rows(x: object) -> int | None:
    """The number of rows of sensitive features, where it can be read without converting."""
    if isinstance(x, Mapping | str) or not hasattr(x, "__len__"):
        return None
    return len(x)


def _column(X: Any, j: int) -> Any:
    return X.iloc[:, j] if isinstance(X, pd.DataFrame) else X[:, j]


class DisparateImpactRemover(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Repair features so that they no longer reveal the protected group (Feldman et al.).

    For each numeric feature, ``fit`` learns every group's quantile function
    ``Q_g`` and the *target* ``T(u) = median_g Q_g(u)``, the median at each
    quantile level ``u`` over the groups (any number of groups; with two groups
    the median is the midpoint of the two curves, so both groups move halfway
    towards each other). ``transform`` maps a value ``x`` of group ``g`` to its
    level ``u = F_g(x)`` under the group's quantile function *learned in fit*
    (so test rows are repaired with training statistics) and to the full repair
    ``t = T(u)``, then moves it a fraction ``λ = repair_level`` of the way:

    * ``mode="geometric"``: ``x' = (1 - λ) x + λ t``.
    * ``mode="combinatorial"`` (rank-preserving, the paper's combinatorial
      repair): the value moves in *rank*, not in value. With ``P`` the quantile
      function of the pooled training data (all groups) and ``F_P`` its inverse,
      ``x' = P((1 - λ) F_P(x) + λ F_P(t))``: the pooled quantile at the level
      moved a fraction ``λ`` from the level of ``x`` to that of ``t``. Values
      inside the training data's range stay inside it. (BlackBoxAuditing, the
      authors' code, moves the index among the *distinct* values instead; the
      two agree when the values are distinct.)

    Both modes are monotone within a group, so each group's rank order is kept
    (``x < x'`` gives repaired values in the same order, ties aside: see
    below), and at ``λ = 1`` both give ``t``: every group's repaired feature then has
    the target's distribution. ``λ = 0`` returns the features unchanged.

    Quantile functions are the empirical ones of numpy's default (linear)
    method: the i-th smallest of ``n`` values sits at level ``(i - 1) / (n - 1)``,
    linear in between. Each is stored as ``n_quantiles`` knots at the even
    levels ``0, 1/(n_quantiles-1), ..., 1``, and ``F_g`` is its inverse, linear
    between knots. Values outside the range a group had in fit get level 0 or
    1 and keep their distance to the range: ``T(0) - (Q_g(0) - x)`` below,
    ``T(1) + (x - Q_g(1))`` above (combinatorial mode carries the same
    overshoot, weighted by ``λ``). Missing values (NaN) of numeric features
    pass through unchanged.

    Ties: a value that many rows of a group share (an atom, as in a discrete
    feature) spans a range of levels, and each of those rows gets a level drawn
    uniformly in that range. Atoms are thus split as the target requires, and
    after a full repair the groups share one distribution for discrete features
    too. A deterministic rule (every tied row at its mid-rank) would send each
    group's atom to a value of its own, which then *identifies* the group: on
    the Adult data that made sex easier, not harder, to predict from the
    repaired features. The draws come from
    ``numpy.random.default_rng([random_state, 1, j])`` for feature ``j``, one per
    row by its position: a transform is a deterministic function of its input
    and ``random_state``, but a tied row's repaired value depends on its
    position in ``X``. Rows without ties are repaired by a fixed function.

    Categorical features (non-numeric columns, booleans, and those listed in
    ``categorical_features``) are left alone with ``categorical="keep"``. With
    ``categorical="proportions"`` each group's category proportions ``p_g`` are
    moved towards the target ``π`` (the median over groups of each category's
    proportion, renormalised to sum to 1): the desired law is
    ``d_g = (1 - λ) p_g + λ π``; a row of a category with a surplus leaves it
    with probability ``(p_g,c - d_g,c) / p_g,c`` (proportions from fit) and
    goes to a category with a deficit, drawn in proportion to the deficits. In
    expectation each group then follows ``d_g``; row ``i``'s two draws are row
    ``i`` of ``numpy.random.default_rng([random_state, 0, j]).random((n, 2))``
    for feature ``j``. Missing values and categories not seen in fit are kept.
    Since every draw belongs to a row position, a table cut into consecutive
    parts is repaired part by part exactly as a whole
    (:func:`seawall.distributed.repair` does so on a Dask cluster).

    Parameters
    ----------
    repair_level : float, default=1.0
        ``λ`` in [0, 1]: 0 leaves the data as they are, 1 repairs fully.
        Read by ``transform``.
    mode : {"geometric", "combinatorial"}, default="geometric"
        How a partial repair moves a value (see above). Read by ``transform``.
    categorical : {"keep", "proportions"}, default="keep"
        What happens to categorical features.
    categorical_features : str, int or sequence of them, default=None
        Numeric columns to treat as categorical: names (DataFrame) or positions
        in ``X`` as passed (before the sensitive columns are removed).
        Non-numeric columns are categorical anyway.
    sensitive_column : str, int or sequence of them, default=None
        Columns of ``X`` that hold the protected attribute(s), removed from the
        features; the alternative to ``sensitive_features=``.
    n_quantiles : int, default=None
        Knots per group and feature; ``None`` means ``DEFAULT_N_QUANTILES``
        (1001, levels 0.001 apart). Between knots the stored quantile function
        is linear, so the learned CDF differs from the empirical one by at most
        ``1 / (n_quantiles - 1)`` plus one step ``1 / n_g``: after a full repair
        the groups' distributions differ by about ``2 / (n_quantiles - 1)`` in
        Kolmogorov-Smirnov distance beyond sampling noise. The fitted state is
        ``n_quantiles * (n_groups + 2)`` floats per feature, whatever ``n``.
    random_state : int, default=0
        Seed of the split of atoms and of the category reassignment.

    Attributes
    ----------
    groups_ : ndarray of str, shape (n_groups,)
        The groups seen in fit (intersections joined with ``" & "``).
    encoder_ : GroupEncoder
        Maps protected attributes to group codes.
    numeric_features_ : ndarray of int
        Positions, among the output columns, of the features repaired by quantiles.
    categorical_features_ : ndarray of int
        Positions, among the output columns, of the categorical features.
    quantile_levels_ : ndarray of float64, shape (n_quantiles,)
        The levels of the knots.
    quantiles_ : ndarray of float64, shape (n_numeric, n_groups, n_quantiles)
        Each group's quantile function of each numeric feature, at the levels.
    target_quantiles_ : ndarray of float64, shape (n_numeric, n_quantiles)
        The target: the median over groups of ``quantiles_``.
    pooled_quantiles_ : ndarray of float64, shape (n_numeric, n_quantiles)
        The quantile function of all rows (the combinatorial mode's ranks).
    categories_ : list of ndarray
        The categories of each categorical feature, in order of first appearance.
    category_proportions_ : list of ndarray, each of shape (n_groups, n_categories)
        Each group's category proportions in fit.
    target_proportions_ : list of ndarray
        The target proportions ``π`` of each categorical feature.
    feature_positions_ : ndarray of int
        Positions in ``X`` (as passed) of the output columns.
    n_features_in_ : int
        Columns of ``X`` in fit, sensitive columns included.
    feature_names_in_ : ndarray of str
        Their names, when ``X`` was a DataFrame with string column names.

    See Also
    --------
    seawall.mitigation.certify : Whether the protected attribute can still be
        predicted from the features.
    seawall.mitigation.repair_effect : The repair's effect on a retrained model.

    References
    ----------
    .. [1] M. Feldman, S. A. Friedler, J. Moeller, C. Scheidegger,
       S. Venkatasubramanian, "Certifying and removing disparate impact",
       KDD 2015, pp. 259-268.

    Examples
    --------
    >>> X = [[1.0], [2.0], [3.0], [4.0], [11.0], [12.0], [13.0], [14.0]]
    >>> sex = ["F"] * 4 + ["M"] * 4
    >>> DisparateImpactRemover().fit_transform(X, sensitive_features=sex).ravel()
    array([6., 7., 8., 9., 6., 7., 8., 9.])
    >>> half = DisparateImpactRemover(repair_level=0.5).fit(X, sensitive_features=sex)
    >>> half.transform([[2.0], [12.0]], sensitive_features=["F", "M"]).ravel()
    array([4.5, 9.5])
    """

    def __init__(
        self,
        repair_level: float = 1.0,
        *,
        mode: Literal["geometric", "combinatorial"] = "geometric",
        categorical: Literal["keep", "proportions"] = "keep",
        categorical_features: SensitiveColumn = None,
        sensitive_column: SensitiveColumn = None,
        n_quantiles: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.repair_level = repair_level
        self.mode = mode
        self.categorical = categorical
        self.categorical_features = categorical_features
        self.sensitive_column = sensitive_column
        self.n_quantiles = n_quantiles
        self.random_state = random_state

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

    # ------------------------------------------------------------------ checks

    def _check_params(self) -> tuple[float, bool, int]:
        name = type(self).__name__
        level = check_real(self.repair_level, "repair_level", name, low=0, high=1)
        mode = check_choice(self.mode, "mode", name, ["geometric", "combinatorial"])
        check_choice(self.categorical, "categorical", name, ["keep", "proportions"])
        check_seed(self.random_state, "random_state", name)
        k = DEFAULT_N_QUANTILES
        if self.n_quantiles is not None:
            k = int(check_real(self.n_quantiles, "n_quantiles", name, low=2, integer=True))
        return level, mode == "combinatorial", k

    def _input(
        self, X: Any, sensitive_features: object, caller: str, reset: bool
    ) -> tuple[Any, Any, object]:
        """``X`` checked (feature count and names); it, its features and its sensitive features."""
        if module_of(X) in ("polars", "pyarrow") and hasattr(X, "to_pandas"):
            X = X.to_pandas()
        if isinstance(X, pd.DataFrame):
            if X.shape[0] == 0:
                raise DataValidationError(
                    f"{caller}: Found array with 0 sample(s) (shape={X.shape}) while a "
                    "minimum of 1 is required."
                )
        else:
            try:
                X = check_array(X, dtype=None, ensure_all_finite="allow-nan")
            except ValueError as e:
                raise DataValidationError(f"{caller}: {e}") from e
        validate_data(self, X, reset=reset, skip_check_array=True)
        features, sensitive = split_sensitive(X, sensitive_features, self.sensitive_column, caller)
        n_s = _rows(sensitive)
        if n_s is not None and n_s != X.shape[0]:
            raise DataValidationError(
                f"{caller}: sensitive_features has {n_s} rows but X has {X.shape[0]}; "
                "they must align row for row."
            )
        return X, features, sensitive

    def _positions(self, X: Any) -> IntArray:
        """Positions in ``X`` (as passed) of the non-sensitive columns."""
        cols = self.sensitive_column
        listed = [] if cols is None else [cols] if isinstance(cols, str | int) else list(cols)
        if isinstance(X, pd.DataFrame):
            drop = {int(i) for i in X.columns.get_indexer(pd.Index(listed))}
        else:
            drop = {int(c) % X.shape[1] for c in listed}
        return np.array([j for j in range(X.shape[1]) if j not in drop], dtype=np.intp)

    def _declared_categorical(self, X: Any, positions: IntArray) -> set[int]:
        """Output positions of the columns listed in ``categorical_features``."""
        name = type(self).__name__
        cols = self.categorical_features
        if cols is None:
            return set()
        listed = [cols] if isinstance(cols, str | int) else list(cols)
        out = set()
        for c in listed:
            if isinstance(X, pd.DataFrame) and c in X.columns:
                pos = int(X.columns.get_indexer(pd.Index([c]))[0])
            elif isinstance(c, int) and not isinstance(c, bool) and -X.shape[1] <= c < X.shape[1]:
                pos = c % X.shape[1]
            else:
                raise param_error(
                    "categorical_features",
                    name,
                    "column names of X (a DataFrame) or positions in [0, n_features)",
                    cols,
                )
            hits = np.flatnonzero(positions == pos)
            if hits.size == 0:
                raise param_error(
                    "categorical_features", name, "columns other than sensitive_column", cols
                )
            out.add(int(hits[0]))
        return out

    # ------------------------------------------------------------------ fit

    def fit(self, X: Any, y: object = None, *, sensitive_features: object = None) -> Self:
        """Learn each group's quantile functions (and category proportions) and the target.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features (with the sensitive columns when ``sensitive_column`` is set).
        y : None
            Ignored.
        sensitive_features : array-like of shape (n_samples,) or table, default=None
            The protected attribute(s); several columns are intersected.

        Returns
        -------
        self : DisparateImpactRemover
            The fitted remover.

        Raises
        ------
        InvalidParameterError
            On a parameter out of range.
        DataValidationError
            On misaligned or infinite data.
        InsufficientDataError
            When a group has no non-missing value of a numeric feature.
        """
        caller = f"{type(self).__name__}.fit"
        _, _, k = self._check_params()
        X, s, layout = self._layout(X, sensitive_features, caller)
        n = X.shape[0]
        encoder, codes = GroupEncoder.fit(s, n, caller)
        n_groups = encoder.n_groups
        order, bounds = group_runs(codes, n_groups)
        quantiles = np.empty((len(layout.numeric), n_groups, k))
        pooled = np.empty((len(layout.numeric), k))
        for f, j in enumerate(layout.numeric):
            name = layout.names[j]
            x = floats(_column(X, j), name, caller)
            check_present(np.bincount(codes[~np.isnan(x)], minlength=n_groups), encoder, name)
            quantiles[f], pooled[f] = group_quantiles(x, order, bounds, k)
        categories, counts = [], []
        for j in layout.categorical:
            cats, cat_counts = categories_of(_column(X, j), codes, n_groups)
            categories.append(cats)
            counts.append(cat_counts)
        return self._set_fitted(encoder, layout, quantiles, pooled, categories, counts)

    def _layout(
        self, X: Any, sensitive_features: object, caller: str
    ) -> tuple[Any, object, Layout]:
        """Check ``X`` as fit does (resetting feature names); its features, groups and layout."""
        X_full, X, s = self._input(X, sensitive_features, caller, reset=True)
        positions = self._positions(X_full)
        declared = self._declared_categorical(X_full, positions)
        names = self._names(X, positions)
        p = X.shape[1]
        numeric = [j for j in range(p) if j not in declared and is_numeric(_column(X, j))]
        categorical = [j for j in range(p) if j not in numeric]
        return X, s, Layout(positions, tuple(names), tuple(numeric), tuple(categorical))

    def _set_fitted(
        self,
        encoder: GroupEncoder,
        layout: Layout,
        quantiles: FloatArray,
        pooled: FloatArray,
        categories: list[np.ndarray[Any, Any]],
        counts: list[FloatArray],
    ) -> Self:
        """Store the fitted state from quantile functions and category counts per group."""
        n_numeric, k = pooled.shape
        self.categories_ = categories
        self.category_proportions_: list[FloatArray] = []
        self.target_proportions_: list[FloatArray] = []
        for c in counts:
            props, target = proportions_of(c)
            self.category_proportions_.append(props)
            self.target_proportions_.append(target)
        self.encoder_ = encoder
        self.groups_ = np.asarray(encoder.labels, dtype=object)
        self.feature_positions_ = layout.positions
        self.numeric_features_ = np.asarray(layout.numeric, dtype=np.intp)
        self.categorical_features_ = np.asarray(layout.categorical, dtype=np.intp)
        self.quantile_levels_ = np.linspace(0.0, 1.0, k)
        self.quantiles_ = quantiles
        self.target_quantiles_ = (
            median_target(quantiles) if encoder.n_groups else np.empty((n_numeric, k))
        )
        self.pooled_quantiles_ = pooled
        return self

    def _names(self, X: Any, positions: IntArray) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return [str(names[i]) for i in positions]
        if isinstance(X, pd.DataFrame):
            return [str(c) for c in X.columns]
        return [f"x{i}" for i in positions]

    # ------------------------------------------------------------------ transform

    def transform(self, X: Any, *, sensitive_features: object = None) -> Any:
        """Repair the features of new (or the training) rows with the quantiles learned in fit.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features, with the same columns as in fit.
        sensitive_features : array-like of shape (n_samples,) or table, default=None
            The protected attribute(s), with groups seen in fit.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
            The repaired features (float64 when all are numeric, object otherwise),
            or a DataFrame keeping the categorical columns' dtypes under
            ``set_output(transform="pandas")``.

        Raises
        ------
        DataValidationError
            On a group not seen in fit, a different number of columns, misaligned
            sensitive features, non-numeric values in a numeric feature or infinities.
        """
        check_is_fitted(self)
        caller = f"{type(self).__name__}.transform"
        _, X, s = self._input(X, sensitive_features, caller, reset=False)
        return self._repair(X, s, caller, 0)

    def _repair(self, X: Any, s: object, caller: str, offset: int) -> Any:
        """Repair the checked features ``X`` of groups ``s``, the first row at position ``offset``.

        The tie-breaking and category draws of row ``i`` are the ``offset + i``-th
        of their streams, so a table cut into consecutive parts and repaired part
        by part (each with its offset) is repaired exactly as a whole.
        """
        level, combinatorial, _ = self._check_params()
        n, p = X.shape
        codes = self.encoder_.encode(s, n, caller)
        names = self._names(X, self.feature_positions_)
        n_groups = self.groups_.size
        order, bounds = group_runs(codes, n_groups)

        columns: dict[int, Any] = {}
        for f, j in enumerate(self.numeric_features_):
            x = floats(_column(X, j), names[j], caller)
            knots = self.quantiles_[f]
            spread = None
            if level > 0 and (knots[:, 1:] == knots[:, :-1]).any():
                # Atoms: one uniform per row, by row position, from the feature's own stream.
                spread = uniforms([int(self.random_state), 1, int(j)], n, 1, offset)[:, 0]
            columns[int(j)] = repair_feature(
                x,
                order,
                bounds,
                knots,
                self.target_quantiles_[f],
                self.pooled_quantiles_[f],
                level,
                combinatorial,
                spread,
            )
        for c, j in enumerate(self.categorical_features_):
            columns[int(j)] = self._repair_categorical(X, int(j), c, codes, level, offset)

        pandas_out = _get_output_config("transform", self)["dense"] == "pandas"
        if pandas_out:
            index = X.index if isinstance(X, pd.DataFrame) else None
            return pd.DataFrame(
                {names[j]: columns[j] for j in range(p)}, index=index, columns=names
            )
        if self.categorical_features_.size == 0:
            result = np.empty((p, n)).T  # column-major: each column written contiguously
            for j in range(p):
                result[:, j] = columns[j]
            return result
        obj = np.empty((n, p), dtype=object)
        for j in range(p):
            obj[:, j] = np.asarray(columns[j], dtype=object)
        return obj

    def _repair_categorical(
        self, X: Any, j: int, c: int, codes: IntArray, level: float, offset: int
    ) -> Any:
        """One categorical column, kept or repaired by proportions (original dtype)."""
        col = _column(X, j)
        if self.categorical == "keep" or level == 0.0:
            return col.copy() if isinstance(col, pd.Series) else np.asarray(col)
        values = np.asarray(col, dtype=object)
        cats = self.categories_[c]
        cat_codes = pd.Index(cats, dtype=object).get_indexer(values)
        cat_codes[pd.isna(values)] = -1
        draws = uniforms([int(self.random_state), 0, j], codes.size, 2, offset)
        props, target = self.category_proportions_[c], self.target_proportions_[c]
        draws_codes = repair_categories(codes, cat_codes, props, target, level, draws)
        moved = draws_codes != cat_codes
        values = values.copy()
        values[moved] = cats[draws_codes[moved]]
        if isinstance(col, pd.Series):
            return pd.Series(values, index=col.index, name=col.name).astype(col.dtype)
        return values

    def fit_transform(self, X: Any, y: object = None, *, sensitive_features: object = None) -> Any:
        """Fit on ``X`` and repair it.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The features.
        y : None
            Ignored.
        sensitive_features : array-like of shape (n_samples,) or table, default=None
            The protected attribute(s).

        Returns
        -------
        ndarray or DataFrame of shape (n_samples, n_features_out)
            The repaired features, as :meth:`transform` returns them.
        """
        return self.fit(X, y, sensitive_features=sensitive_features).transform(
            X, sensitive_features=sensitive_features
        )

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> Any:
        """The names of the output columns: the input's, without the sensitive columns.

        Parameters
        ----------
        input_features : sequence of str, default=None
            Input names; ``feature_names_in_`` (or ``x0, x1, ...``) when None.

        Returns
        -------
        ndarray of str
            One name per output column.
        """
        check_is_fitted(self)
        fitted = getattr(self, "feature_names_in_", None)
        if input_features is None:
            names = (
                list(fitted)
                if fitted is not None
                else [f"x{i}" for i in range(self.n_features_in_)]
            )
        else:
            names = list(input_features)
            if len(names) != self.n_features_in_ or (fitted is not None and names != list(fitted)):
                raise param_error(
                    "input_features",
                    f"{type(self).__name__}.get_feature_names_out",
                    f"the {self.n_features_in_} input feature names seen in fit",
                    input_features,
                )
        return np.asarray([names[i] for i in self.feature_positions_], dtype=object)
