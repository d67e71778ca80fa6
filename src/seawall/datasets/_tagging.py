"""A synthetic image tagger's output with planted associations between tags and groups."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from seawall._validation import check_choice, check_real, check_seed
from seawall.datasets._planted import PlantedEffect, PlantedTags, string_column

__all__ = ["make_tagging"]

_CALLER = "make_tagging"

# Shares are multiples of 1/1000 and drawn through lookup tables, as in make_slices.
_RESOLUTION = 1000
_GROUPS = ("A", "B", "C")
_GROUP_SHARES = (0.60, 0.25, 0.15)
_REGIONS = ("north", "south", "east", "west", "centre")
# Region by user group: group C lives mostly in the north (where it snows).
_REGION_SHARES = (
    (0.15, 0.25, 0.20, 0.20, 0.20),
    (0.10, 0.30, 0.20, 0.20, 0.20),
    (0.70, 0.05, 0.05, 0.05, 0.15),
)
_DEVICES = ("phone", "camera", "tablet")
_DEVICE_SHARES = (0.70, 0.20, 0.10)
_TOPICS = (
    "people",
    "food",
    "pets",
    "landscape",
    "celebration",
    "sports",
    "architecture",
    "nature",
    "vehicles",
    "art",
    "night_sky",
    "documents",
)
_TOPIC_SHARES = (0.16, 0.12, 0.10, 0.10, 0.08, 0.07, 0.07, 0.07, 0.06, 0.06, 0.06, 0.05)
_TIMES = ("day", "night")
_NIGHT_SHARE = 0.20

# Tag popularity: tag i (0-based) of the ordinary tags has Zipf weight (i + 1)^-1.1.
_ZIPF_EXPONENT = 1.1
# Each draw comes from the item's topic's own tags (tag i belongs to topic i mod 12)
# with this probability, else from all tags.
_HOME_SHARE = 0.6
# Draws per item are 1 + Poisson(_EXTRA_DRAWS); duplicate draws collapse, which brings
# the mean to about 5 tags per item with the default 10,000 tags (4.6 to 5.2 from 100
# tags up).
_EXTRA_DRAWS = 4.9
# A readable, sensitive but ordinary tag: a negative control with no planted effect.
_WEAPON_INDEX = 57

# The planted tags take the last three columns.
_PLANTED_TAGS = ("snow", "festival_lanterns", "primate")
_PRIMATE_CONTEXT = (("topic", "people"), ("time_of_day", "night"))
_PRIMATE_RATE = 0.03  # for group B in _PRIMATE_CONTEXT
_PRIMATE_ELSEWHERE = 0.0002
_SNOW_NORTH = 0.15
_SNOW_ELSEWHERE = 0.01
_LANTERN_CONTEXT = (("topic", "celebration"),)
_LANTERN_A = 0.05  # group A's celebration photos
_LANTERN_OTHERS = 0.005  # other groups' celebration photos
_LANTERN_ELSEWHERE = 0.0005  # any other photo


def _table(shares: tuple[float, ...]) -> npt.NDArray[np.int32]:
    counts = np.rint(np.asarray(shares) * _RESOLUTION).astype(np.intp)
    return np.repeat(np.arange(len(shares), dtype=np.int32), counts)


_GROUP_TABLE = _table(_GROUP_SHARES)
_REGION_TABLES = np.stack([_table(s) for s in _REGION_SHARES])
_DEVICE_TABLE = _table(_DEVICE_SHARES)
_TOPIC_TABLE = _table(_TOPIC_SHARES)

_PEOPLE = _TOPICS.index("people")
_CELEBRATION = _TOPICS.index("celebration")
_NORTH = _REGIONS.index("north")
_SNOW_BY_GROUP = np.array(
    [s[_NORTH] * _SNOW_NORTH + (1.0 - s[_NORTH]) * _SNOW_ELSEWHERE for s in _REGION_SHARES]
)
# The null twin gives every photo the planted data's overall rate of "snow", and every
# celebration photo the planted data's overall rate of "festival_lanterns".
_SNOW_NULL = float(np.dot(_GROUP_SHARES, _SNOW_BY_GROUP))
_LANTERN_NULL = _GROUP_SHARES[0] * _LANTERN_A + (1.0 - _GROUP_SHARES[0]) * _LANTERN_OTHERS


def _effects() -> tuple[PlantedEffect, ...]:
    share_c = _GROUP_SHARES[2]
    snow_c = float(_SNOW_BY_GROUP[2])
    snow_rest = float(np.dot(_GROUP_SHARES[:2], _SNOW_BY_GROUP[:2]) / (1.0 - share_c))
    return (
        PlantedEffect(
            "label_association",
            _PRIMATE_CONTEXT,
            "B",
            round(_PRIMATE_RATE - _PRIMATE_ELSEWHERE, 12),
            round(_TOPIC_SHARES[_PEOPLE] * _NIGHT_SHARE, 12),
            None,
            "Rare offensive confusion: the tag 'primate' (a stand-in for an offensive "
            "mislabelling of people, as in the 2015 Google Photos incident) is given to 3% "
            "of group B's night-time photos of people and to 0.02% of all other photos.",
            label="primate",
        ),
        PlantedEffect(
            "label_association",
            (),
            "C",
            round(snow_c - snow_rest, 12),
            1.0,
            "region",
            f"Association explained by region: 'snow' is given to 15% of photos from the "
            f"north and 1% of the others, and group C lives mostly in the north, so "
            f"group C gets 'snow' on {snow_c:.1%} of its photos against {snow_rest:.1%} "
            f"for the others, but equally often within each region.",
            label="snow",
        ),
        PlantedEffect(
            "label_association",
            _LANTERN_CONTEXT,
            "A",
            round(_LANTERN_A - _LANTERN_OTHERS, 12),
            _TOPIC_SHARES[_CELEBRATION],
            None,
            "Benign, expected association: 'festival_lanterns' is given to 5% of group "
            "A's celebration photos and 0.5% of the other groups' (a real cultural event; "
            "a reviewer marks it benign).",
            label="festival_lanterns",
        ),
    )


def _tag_names(n_tags: int) -> tuple[str, ...]:
    width = max(5, len(str(n_tags - 1)))
    names = [f"tag_{i:0{width}d}" for i in range(n_tags)]
    names[_WEAPON_INDEX] = "weapon"
    names[n_tags - len(_PLANTED_TAGS) :] = _PLANTED_TAGS
    return tuple(names)


def _alias(weights: npt.NDArray[np.float64]) -> tuple[list[float], list[int]]:
    """Walker's alias table of a discrete distribution (Vose's construction).

    Slot ``i`` keeps outcome ``i`` with probability ``prob[i]`` and otherwise gives
    ``alias[i]``; a uniform slot and one more uniform draw an outcome in O(1).
    """
    k = weights.size
    scaled = (weights * (k / weights.sum())).tolist()
    prob = [1.0] * k
    alias = list(range(k))
    small = [i for i, w in enumerate(scaled) if w < 1.0]
    large = [i for i, w in enumerate(scaled) if w >= 1.0]
    while small and large:
        lo, hi = small.pop(), large[-1]
        prob[lo], alias[lo] = scaled[lo], hi
        scaled[hi] += scaled[lo] - 1.0
        if scaled[hi] < 1.0:
            small.append(large.pop())
    # Whatever is left has probability 1 up to rounding: it keeps its own outcome.
    return prob, alias


def _draw_ordinary_tags(
    rng: np.random.Generator, topic: npt.NDArray[np.int32], n_ordinary: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Draw the ordinary (Zipf, topic-tied) tags: (row, column) pairs with repeats."""
    n = topic.size
    n_topics = len(_TOPICS)
    weights = np.arange(1, n_ordinary + 1, dtype=np.float64) ** -_ZIPF_EXPONENT
    # Thirteen distributions laid end to end in one alias table: topic t's own tags
    # (tag i belongs to topic i mod 12), then all tags (segment 12).
    home = np.arange(n_ordinary) % n_topics
    segments = [np.flatnonzero(home == t) for t in range(n_topics)]
    segments.append(np.arange(n_ordinary))
    sizes = np.array([seg.size for seg in segments])
    starts = np.cumsum(sizes) - sizes
    keep: list[float] = []
    outcome: list[int] = []
    other: list[int] = []
    for seg in segments:
        prob, alias = _alias(weights[seg])
        keep += prob
        outcome += seg.tolist()
        other += seg[alias].tolist()
    keep_arr, outcome_arr, other_arr = np.array(keep), np.array(outcome), np.array(other)

    n_draws = 1 + rng.poisson(_EXTRA_DRAWS, n)
    rows = np.repeat(np.arange(n, dtype=np.int64), n_draws)
    u = rng.random(rows.size)
    segment = np.where(rng.random(rows.size) < _HOME_SHARE, topic[rows], n_topics)
    x = u * sizes[segment]
    slot = np.minimum(x.astype(np.int64), sizes[segment] - 1) + starts[segment]
    # The fraction of x is a second uniform, independent of the slot.
    columns = np.where(x - np.floor(x) < keep_arr[slot], outcome_arr[slot], other_arr[slot])
    return rows, columns.astype(np.int64, copy=False)


def make_tagging(
    n_items: int = 100_000,
    n_tags: int = 10_000,
    *,
    effects: Literal["planted", "null"] = "planted",
    random_state: int = 0,
) -> PlantedTags:
    """Generate an image tagger's output with planted associations between tags and groups.

    Each item is a photo that belongs to a user. The item frame holds the user's
    protected ``user_group`` and four context columns; the sparse matrix
    :attr:`PlantedTags.tags` holds the tags the model gave each photo, out of
    ``n_tags`` possible output labels. Tag popularity is Zipf-distributed (tag ``i``
    has weight ``(i + 1) ** -1.1``) and tied to topics: each draw comes with
    probability 0.6 from the photo's topic's own tags (tag ``i`` belongs to topic
    ``i mod 12``) and otherwise from all tags; a photo gets 1 + Poisson(4.4) draws,
    and repeated draws collapse, so photos carry about 5 tags on average. The ordinary
    tags are ``"tag_00000"``, ``"tag_00001"``, ... (most popular first), except
    ``"weapon"`` (column 57), a sensitive tag with no planted effect (a negative
    control). The last three columns are the planted tags ``"snow"``,
    ``"festival_lanterns"`` and ``"primate"``.

    With ``effects="planted"`` three label associations are planted, each described in
    :attr:`PlantedTags.effects`:

    1. a rare offensive confusion: ``"primate"``, the stand-in for an offensive
       mislabelling of people (as in the 2015 Google Photos incident, in which photos
       of Black people were tagged "gorillas"), is given to 3% of group B's night-time
       photos of topic ``"people"`` and to 0.02% of all other photos;
    2. an association explained by region: ``"snow"`` is given to 15% of photos from
       the ``"north"`` and 1% of the others; group C lives mostly (70%) in the north,
       so ``"snow"`` is associated with group C overall (about 10.8% against 2.9%)
       but not within any region;
    3. a benign, expected association: ``"festival_lanterns"`` is given to 5% of group
       A's photos of topic ``"celebration"`` and 0.5% of the other groups' (a real,
       harmless cultural event, the kind a reviewer marks benign); 0.05% elsewhere.

    With ``effects="null"`` (the null twin) the tags depend on nothing but the topic:
    ``"primate"`` is given to 0.02% of photos, ``"snow"`` to about 4.1% (the planted
    overall rate) and ``"festival_lanterns"`` to 3.2% of celebration photos (0.05%
    elsewhere). The same seed gives exactly the same item frame and the same ordinary
    tags in both.

    Items are independent draws, so any split of the items is a random split. The
    data are identical for the same ``n_items``, ``n_tags``, ``effects``,
    ``random_state`` and numpy version. One million items with 10,000 tags take a few
    seconds and a few hundred MB at most: the matrix is built from index arrays, never
    dense.

    Parameters
    ----------
    n_items : int, default=100_000
        The number of photos (rows); at least 1,000.
    n_tags : int, default=10_000
        The number of possible tags (columns); at least 100.
    effects : {"planted", "null"}, default="planted"
        Whether to plant the effects or to generate the null twin.
    random_state : int, default=0
        The seed of the ``numpy.random.default_rng`` generator; a non-negative int.

    Returns
    -------
    PlantedTags
        ``frame`` has shape (n_items, 5), with the columns, in order:

        ``user_group`` : str
            The protected attribute: ``"A"`` (60%), ``"B"`` (25%) or ``"C"`` (15%).
        ``region`` : str
            ``"north"``, ``"south"``, ``"east"``, ``"west"`` or ``"centre"``; depends on
            the group (``"north"`` is 15%, 10% and 70% in A, B and C).
        ``device`` : str
            ``"phone"`` (70%), ``"camera"`` (20%) or ``"tablet"`` (10%).
        ``topic`` : str
            One of 12 topics: ``"people"`` (16%), ``"food"``, ``"pets"``,
            ``"landscape"``, ``"celebration"`` (8%), ``"sports"``,
            ``"architecture"``, ``"nature"``, ``"vehicles"``, ``"art"``,
            ``"night_sky"`` and ``"documents"``.
        ``time_of_day`` : str
            ``"day"`` or ``"night"`` (20%).

        Device, topic and time of day are independent of each other and of the group.
        String columns have pandas' default string dtype (``str`` from pandas 3,
        ``object`` before); they are never ``category``. ``tags`` is a canonical
        ``scipy.sparse.csr_array`` of bool; ``sensitive_tags`` is
        ``("primate", "weapon")``; ``effects`` is empty for the null twin.

    Raises
    ------
    InvalidParameterError
        If ``n_items`` is not an int of at least 1,000, ``n_tags`` is not an int of at
        least 100, ``effects`` is not ``"planted"`` or ``"null"``, or ``random_state``
        is not a non-negative int.

    See Also
    --------
    make_slices : a classifier's log with planted weak slices and associations.
    PlantedTags : the result.

    References
    ----------
    .. [1] F. Tramèr, V. Atlidakis, R. Geambasu, D. Hsu, J.-P. Hubaux, M. Humbert,
       A. Juels and H. Lin, "FairTest: Discovering Unwarranted Associations in
       Data-Driven Applications", IEEE European Symposium on Security and Privacy
       (EuroS&P), pp. 401-416, 2017. (Its image-tagging investigation.)
    .. [2] J. Zhao, T. Wang, M. Yatskar, V. Ordonez and K.-W. Chang, "Men Also Like
       Shopping: Reducing Gender Bias Amplification using Corpus-level Constraints",
       Proceedings of EMNLP, pp. 2979-2989, 2017.

    Examples
    --------
    >>> from seawall.datasets import make_tagging
    >>> data = make_tagging(2_000, 200, random_state=0)
    >>> data.frame.shape, data.tags.shape
    ((2000, 5), (2000, 200))
    >>> data.tag_names[-3:]
    ('snow', 'festival_lanterns', 'primate')
    >>> [(e.label, e.group) for e in data.effects]
    [('primate', 'B'), ('snow', 'C'), ('festival_lanterns', 'A')]
    >>> data.sensitive_tags
    ('primate', 'weapon')
    """
    n = int(check_real(n_items, "n_items", _CALLER, low=1_000, integer=True))
    t = int(check_real(n_tags, "n_tags", _CALLER, low=100, integer=True))
    planted = check_choice(effects, "effects", _CALLER, ("planted", "null")) == "planted"
    seed = check_seed(random_state, "random_state", _CALLER)
    rng = np.random.default_rng(seed)

    # Every draw has a size fixed by n (or by earlier draws that do not depend on
    # `effects`), in a fixed order, so the null twin shares the items and the ordinary
    # tags with the planted data.
    draws = rng.integers(0, _RESOLUTION, size=(4, n), dtype=np.int16)
    group = _GROUP_TABLE[draws[0]]
    region = _REGION_TABLES[group, draws[1]]
    device = _DEVICE_TABLE[draws[2]]
    topic = _TOPIC_TABLE[draws[3]]
    night = rng.random(n) < _NIGHT_SHARE
    n_ordinary = t - len(_PLANTED_TAGS)
    rows, columns = _draw_ordinary_tags(rng, topic, n_ordinary)
    u_snow, u_lantern, u_primate = rng.random((3, n))

    celebration = topic == _CELEBRATION
    if planted:
        p_snow = np.where(region == _NORTH, _SNOW_NORTH, _SNOW_ELSEWHERE)
        p_lantern = np.where(group == 0, _LANTERN_A, _LANTERN_OTHERS)
        p_primate = np.where(
            (group == 1) & night & (topic == _PEOPLE), _PRIMATE_RATE, _PRIMATE_ELSEWHERE
        )
    else:
        p_snow = np.full(n, _SNOW_NULL)
        p_lantern = np.full(n, _LANTERN_NULL)
        p_primate = np.full(n, _PRIMATE_ELSEWHERE)
    p_lantern = np.where(celebration, p_lantern, _LANTERN_ELSEWHERE)
    # In the order of _PLANTED_TAGS, which take the last columns.
    hits = (u_snow < p_snow, u_lantern < p_lantern, u_primate < p_primate)

    # One key per (item, tag): sorting them gives the CSR order, and dropping repeats
    # collapses duplicate draws.
    planted_keys = [
        np.flatnonzero(hit).astype(np.int64) * t + (n_ordinary + j) for j, hit in enumerate(hits)
    ]
    keys = np.concatenate([rows * t + columns, *planted_keys])
    # A stable (radix/tim) sort is fast on keys that come grouped by item; np.unique's
    # hashing is many times slower here.
    keys.sort(kind="stable")
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    item = keys // t
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(item, minlength=n), out=indptr[1:])
    index_dtype = np.int32 if keys.size < np.iinfo(np.int32).max else np.int64
    tags = sparse.csr_array(
        (
            np.ones(keys.size, dtype=np.bool_),
            (keys - item * t).astype(np.int32),
            indptr.astype(index_dtype),
        ),
        shape=(n, t),
    )

    frame = {
        "user_group": string_column(_GROUPS, group),
        "region": string_column(_REGIONS, region),
        "device": string_column(_DEVICES, device),
        "topic": string_column(_TOPICS, topic),
        "time_of_day": string_column(_TIMES, night.astype(np.int32)),
    }
    return PlantedTags(
        frame=pd.DataFrame(frame),
        tags=tags,
        tag_names=_tag_names(t),
        sensitive_tags=("primate", "weapon"),
        effects=_effects() if planted else (),
        protected=("user_group",),
        context_columns=("region", "device", "topic", "time_of_day"),
    )
