"""A synthetic classifier log with planted weak slices and unwarranted associations."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from seawall._validation import check_choice, check_real, check_seed
from seawall.datasets._planted import PlantedData, PlantedEffect, string_column

__all__ = ["make_slices"]

_CALLER = "make_slices"

# The ten context features: value labels and shares, independent of each other. The
# planted contexts below use values with round shares (0.10, 0.20, 0.25) so that their
# expected sizes are exact products.
_FEATURES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "f0": (("a", "b"), (0.60, 0.40)),
    "f1": (("a", "b", "c", "d", "e"), (0.35, 0.20, 0.25, 0.10, 0.10)),
    "f2": (("a", "b", "c"), (0.50, 0.30, 0.20)),
    "f3": (
        ("a", "b", "c", "d", "e", "f", "g", "h"),
        (0.22, 0.18, 0.14, 0.12, 0.10, 0.10, 0.08, 0.06),
    ),
    "f4": (("a", "b", "c", "d"), (0.40, 0.20, 0.25, 0.15)),
    "f5": (("a", "b", "c", "d", "e", "f"), (0.30, 0.25, 0.10, 0.15, 0.12, 0.08)),
    "f6": (("a", "b", "c", "d"), (0.35, 0.30, 0.25, 0.10)),
    "f7": (("a", "b"), (0.75, 0.25)),
    "f8": (("a", "b", "c", "d", "e", "f", "g"), (0.25, 0.20, 0.15, 0.15, 0.10, 0.10, 0.05)),
    "f9": (("a", "b", "c"), (0.45, 0.35, 0.20)),
}
_GROUPS = ("A", "B")
_B_SHARE = 0.30
_QUALIFICATIONS = ("low", "medium", "high")
# Qualification by group when planted; B has more "low". The null twin draws everyone
# from the population mixture 0.7 * A + 0.3 * B, so the marginal is the same.
_QUAL_A = np.array([0.25, 0.50, 0.25])
_QUAL_B = np.array([0.55, 0.35, 0.10])
_QUAL_ALL = (1.0 - _B_SHARE) * _QUAL_A + _B_SHARE * _QUAL_B
_P_POSITIVE = np.array([0.25, 0.50, 0.75])  # P(y_pred = 1 | qualification) when planted
_BASE_ERROR = 0.10

_LARGE = (("f1", "b"), ("f4", "b"))  # 0.20 * 0.20 = 4% of rows
_SMALL = (("f1", "d"), ("f6", "c"), ("f8", "b"))  # 0.10 * 0.25 * 0.20 = 0.5%; f1 != "b"
_DISPARITY = (("f3", "e"),)  # 10%
_OUTPUT = (("f5", "c"),)  # 10%
_LARGE_EFFECT = 0.15
_SMALL_EFFECT = 0.30
_DISPARITY_EFFECT = 0.20
_OUTPUT_EFFECT = -0.20


_RESOLUTION = 1000


def _table(shares: tuple[float, ...]) -> npt.NDArray[np.int32]:
    counts = np.rint(np.asarray(shares) * _RESOLUTION).astype(np.intp)
    return np.repeat(np.arange(len(shares), dtype=np.int32), counts)


_TABLES = {name: _table(shares) for name, (_, shares) in _FEATURES.items()}
_TABLE_QUAL_A = _table(tuple(_QUAL_A))
_TABLE_QUAL_B = _table(tuple(_QUAL_B))
_TABLE_QUAL_ALL = _table(tuple(_QUAL_ALL))


def _share(context: tuple[tuple[str, str], ...]) -> float:
    share = 1.0
    for column, value in context:
        labels, shares = _FEATURES[column]
        share *= shares[labels.index(value)]
    return round(share, 12)


def _in_context(
    codes: dict[str, npt.NDArray[np.int32]], context: tuple[tuple[str, str], ...]
) -> npt.NDArray[np.bool_]:
    out = np.ones(next(iter(codes.values())).shape, dtype=np.bool_)
    for column, value in context:
        out &= codes[column] == _FEATURES[column][0].index(value)
    return out


def _effects() -> tuple[PlantedEffect, ...]:
    explained = float(np.dot(_P_POSITIVE, _QUAL_B - _QUAL_A))
    return (
        PlantedEffect(
            "weak_slice",
            _LARGE,
            None,
            _LARGE_EFFECT,
            _share(_LARGE),
            None,
            "Large mild weak slice: where f1 == 'b' and f4 == 'b' (about 4% of rows) the "
            "model errs on 0.25 of rows instead of 0.10, for both groups alike.",
        ),
        PlantedEffect(
            "weak_slice",
            _SMALL,
            None,
            _SMALL_EFFECT,
            _share(_SMALL),
            None,
            "Small strong weak slice: where f1 == 'd', f6 == 'c' and f8 == 'b' (about "
            "0.5% of rows) the model errs on 0.40 of rows instead of 0.10, for both "
            "groups alike.",
        ),
        PlantedEffect(
            "error_disparity",
            _DISPARITY,
            "B",
            _DISPARITY_EFFECT,
            _share(_DISPARITY),
            None,
            "Error disparity: where f3 == 'e' (about 10% of rows) the model errs on 0.30 "
            "of group B's rows and 0.10 of group A's.",
        ),
        PlantedEffect(
            "output_association",
            _OUTPUT,
            "B",
            _OUTPUT_EFFECT,
            _share(_OUTPUT),
            None,
            "Output association: where f5 == 'c' (about 10% of rows) group B's "
            "positive-decision rate is 0.20 below group A's within every qualification "
            "level, so qualification does not explain it.",
        ),
        PlantedEffect(
            "explained_association",
            (),
            "B",
            round(explained, 12),
            1.0,
            "qualification",
            f"Explained association: outside the output association's context, decisions "
            f"depend on qualification only and group B has more 'low' qualifications, so "
            f"its positive-decision rate is {-explained:.4f} below group A's but equal "
            f"within each qualification level.",
        ),
    )


def make_slices(
    n_samples: int = 100_000,
    *,
    effects: Literal["planted", "null"] = "planted",
    random_state: int = 0,
) -> PlantedData:
    """Generate a binary classifier's log with planted weak slices and associations.

    Each row is one decision of a model, with ten categorical context features
    ``f0`` ... ``f9`` (2 to 8 values each, non-uniform shares, independent of each
    other and of the group), a numeric ``age`` (for automatic binning; no effect
    planted on it), the protected ``group`` (``"A"`` about 70%, ``"B"`` about 30%),
    the explanatory ``qualification``, the decision ``y_pred`` and the true label
    ``y_true``. The decision is drawn first; the label is then ``y_pred XOR err`` with
    ``err ~ Bernoulli(p_err(row))``, so the decision process and the error process are
    independent of each other given the row's features and group.

    With ``effects="planted"`` five effects are planted, each described in
    :attr:`PlantedData.effects` (the base error rate is 0.10; error effects add up
    where contexts overlap, which only the independent features make happen by chance):

    1. weak slice, large and mild: ``f1 == "b" and f4 == "b"`` (4% of rows), error
       rate 0.10 + 0.15 for both groups;
    2. weak slice, small and strong: ``f1 == "d" and f6 == "c" and f8 == "b"`` (0.5%),
       error rate 0.10 + 0.30 for both groups; disjoint from the first (``f1``
       differs);
    3. error disparity: where ``f3 == "e"`` (10%), group B's error rate is 0.10 + 0.20
       while group A's stays at 0.10;
    4. output association: where ``f5 == "c"`` (10%), group B's probability of a
       positive decision is 0.20 below group A's within every qualification level
       (group A's positive rate there is 0.5);
    5. explained association: ``P(y_pred = 1)`` is 0.25, 0.50 and 0.75 for ``"low"``,
       ``"medium"`` and ``"high"`` qualification; qualification is 25/50/25% in group A
       and 55/35/10% in group B, so outside ``f5 == "c"`` group B's positive rate is
       0.1125 lower (0.3875 against 0.5) but equal within each qualification level
       (over all rows, with the output association, it is 0.1325 lower).

    With ``effects="null"`` (the null twin) every row has error probability 0.10,
    ``P(y_pred = 1) = 0.5`` for every row, and qualification (34/45.5/20.5%, the same
    marginal) is independent of the group. The same seed gives exactly the same
    ``f0`` ... ``f9``, ``age`` and ``group`` columns in both.

    Rows are independent draws, so any split of the rows is a random split. The
    data are identical for the same ``n_samples``, ``effects``, ``random_state`` and
    numpy version.

    Parameters
    ----------
    n_samples : int, default=100_000
        The number of decisions (rows); at least 1,000.
    effects : {"planted", "null"}, default="planted"
        Whether to plant the effects or to generate the null twin.
    random_state : int, default=0
        The seed of the ``numpy.random.default_rng`` generator; a non-negative int.

    Returns
    -------
    PlantedData
        ``frame`` has shape (n_samples, 15), with the columns, in order:

        ``f0`` ... ``f9`` : str
            Context features with values ``"a"``, ``"b"``, ...; 2, 5, 3, 8, 4, 6, 4, 2,
            7 and 3 values.
        ``age`` : float64
            Age in years, in [18, 90], one decimal; mean about 45.
        ``group`` : str
            The protected attribute, ``"A"`` or ``"B"``.
        ``qualification`` : str
            ``"low"``, ``"medium"`` or ``"high"``.
        ``y_pred`` : int64
            The model's decision, 0 or 1.
        ``y_true`` : int64
            The true label, 0 or 1.

        String columns have pandas' default string dtype (``str`` from pandas 3,
        ``object`` before); they are never ``category``. ``effects`` is empty for the
        null twin.

    Raises
    ------
    InvalidParameterError
        If ``n_samples`` is not an int of at least 1,000, ``effects`` is not
        ``"planted"`` or ``"null"``, or ``random_state`` is not a non-negative int.

    See Also
    --------
    make_tagging : an image tagger's output with planted label associations.
    PlantedData : the result.

    References
    ----------
    .. [1] F. Tramèr, V. Atlidakis, R. Geambasu, D. Hsu, J.-P. Hubaux, M. Humbert,
       A. Juels and H. Lin, "FairTest: Discovering Unwarranted Associations in
       Data-Driven Applications", IEEE European Symposium on Security and Privacy
       (EuroS&P), pp. 401-416, 2017.
    .. [2] Y. Chung, T. Kraska, N. Polyzotis, K. H. Tae and S. E. Whang, "Slice
       Finder: Automated Data Slicing for Model Validation", IEEE 35th International
       Conference on Data Engineering (ICDE), pp. 1550-1553, 2019.

    Examples
    --------
    >>> from seawall.datasets import make_slices
    >>> data = make_slices(2_000, random_state=0)
    >>> data.frame.shape
    (2000, 15)
    >>> [e.kind for e in data.effects]  # doctest: +NORMALIZE_WHITESPACE
    ['weak_slice', 'weak_slice', 'error_disparity', 'output_association',
     'explained_association']
    >>> data.effects[0].context
    (('f1', 'b'), ('f4', 'b'))
    >>> null = make_slices(2_000, effects="null", random_state=0)
    >>> null.effects
    ()
    >>> bool((null.frame["group"] == data.frame["group"]).all())
    True
    """
    n = int(check_real(n_samples, "n_samples", _CALLER, low=1_000, integer=True))
    planted = check_choice(effects, "effects", _CALLER, ("planted", "null")) == "planted"
    seed = check_seed(random_state, "random_state", _CALLER)
    rng = np.random.default_rng(seed)

    # Every draw covers all n rows, in a fixed order and whatever `effects` says, so
    # the null twin shares the features and the group with the planted data.
    # Shares are multiples of 1/1000: a lookup table of 1000 codes, indexed by uniform
    # integers, gives them exactly and is several times faster than a searchsorted.
    draws = rng.integers(0, _RESOLUTION, size=(len(_FEATURES), n), dtype=np.int16)
    codes = {name: _TABLES[name][draw] for name, draw in zip(_FEATURES, draws, strict=True)}
    age = np.round(18.0 + 72.0 * rng.beta(1.8, 3.0, n), 1)
    b = rng.random(n) < _B_SHARE
    draw_qual = rng.integers(0, _RESOLUTION, size=n, dtype=np.int16)
    u_pred = rng.random(n)
    u_err = rng.random(n)

    if planted:
        qual = np.where(b, _TABLE_QUAL_B[draw_qual], _TABLE_QUAL_A[draw_qual])
        output = _in_context(codes, _OUTPUT)
        p_pred = _P_POSITIVE[qual] + _OUTPUT_EFFECT * (output & b)
        p_err = (
            _BASE_ERROR
            + _LARGE_EFFECT * _in_context(codes, _LARGE)
            + _SMALL_EFFECT * _in_context(codes, _SMALL)
            + _DISPARITY_EFFECT * (_in_context(codes, _DISPARITY) & b)
        )
    else:
        qual = _TABLE_QUAL_ALL[draw_qual]
        p_pred = np.full(n, 0.5)
        p_err = np.full(n, _BASE_ERROR)
    y_pred = u_pred < p_pred
    y_true = y_pred ^ (u_err < p_err)

    columns: dict[str, pd.Series | npt.NDArray[np.generic]] = {
        name: string_column(_FEATURES[name][0], code) for name, code in codes.items()
    }
    columns["age"] = age
    columns["group"] = string_column(_GROUPS, b.astype(np.intp))
    columns["qualification"] = string_column(_QUALIFICATIONS, qual)
    columns["y_pred"] = y_pred.astype(np.int64)
    columns["y_true"] = y_true.astype(np.int64)
    return PlantedData(
        frame=pd.DataFrame(columns),
        effects=_effects() if planted else (),
        protected=("group",),
        context_columns=(*_FEATURES, "age"),
        explanatory=("qualification",),
        label="y_true",
        prediction="y_pred",
    )
