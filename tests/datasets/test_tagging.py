from __future__ import annotations

import dataclasses
import json
import re
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from scipy import sparse

from seawall.datasets import PlantedEffect, PlantedTags, make_tagging
from seawall.exceptions import InvalidParameterError

N = 100_000
N_TAGS = 10_000
COLUMNS = ["user_group", "region", "device", "topic", "time_of_day"]
PLANTED = ("snow", "festival_lanterns", "primate")
# Planted sizes are checked to within this many standard errors.
Z = 4.0


@lru_cache(maxsize=8)
def _data(effects: str, seed: int) -> PlantedTags:
    return make_tagging(N, N_TAGS, effects=effects, random_state=seed)  # type: ignore[arg-type]


def _tag(data: PlantedTags, name: str) -> npt.NDArray[np.float64]:
    j = data.tag_names.index(name)
    return data.tags[:, [j]].toarray().ravel().astype(np.float64)


def _is(data: PlantedTags, column: str, value: str) -> npt.NDArray[np.bool_]:
    return (data.frame[column] == value).to_numpy()


def _diff(
    x: npt.NDArray[np.float64], a: npt.NDArray[np.bool_], b: npt.NDArray[np.bool_]
) -> tuple[float, float]:
    """Mean of x over a minus over b, and its standard error.

    Rare tags can have no hit in a small cell, so the error is the larger of the
    unpooled one and the pooled one (which holds under equal rates).
    """
    na, nb = a.sum(), b.sum()
    pa, pb = x[a].mean(), x[b].mean()
    pooled = (pa * na + pb * nb) / (na + nb)
    se = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    se_pooled = np.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    return float(pa - pb), max(float(se), float(se_pooled), 1e-4)


def _measure(data: PlantedTags, effect: PlantedEffect) -> tuple[float, float]:
    """The label's rate for the effect's group minus the other groups', in its context."""
    assert effect.label is not None and effect.group is not None
    x = _tag(data, effect.label)
    m = effect.mask(data.frame)
    g = _is(data, "user_group", effect.group)
    return _diff(x, m & g, m & ~g)


def test_frame_columns_and_dtypes() -> None:
    data = make_tagging(2_000, 200, random_state=3)
    df = data.frame
    assert list(df.columns) == COLUMNS
    assert isinstance(df.index, pd.RangeIndex)
    for name in COLUMNS:
        assert not isinstance(df[name].dtype, pd.CategoricalDtype), name
        assert pd.api.types.is_string_dtype(df[name].dtype), name
        assert all(isinstance(v, str) for v in df[name]), name
    assert set(df["user_group"]) == {"A", "B", "C"}
    assert set(df["region"]) == {"north", "south", "east", "west", "centre"}
    assert set(df["device"]) == {"phone", "camera", "tablet"}
    assert set(df["time_of_day"]) == {"day", "night"}
    assert df["topic"].nunique() == 12
    assert {"people", "celebration", "food", "pets", "landscape"} <= set(df["topic"])
    assert data.protected == ("user_group",)
    assert data.context_columns == ("region", "device", "topic", "time_of_day")


def test_tags_are_canonical_sparse_bool() -> None:
    data = _data("planted", 0)
    tags = data.tags
    assert sparse.issparse(tags) and tags.format == "csr"
    assert tags.shape == (N, N_TAGS)
    assert tags.dtype == np.bool_
    assert tags.has_canonical_format
    assert tags.data.all()
    assert len(data.tag_names) == N_TAGS == len(set(data.tag_names))
    assert all(isinstance(name, str) for name in data.tag_names)
    assert data.tag_names[-3:] == PLANTED
    assert data.tag_names[0] == "tag_00000"
    assert "weapon" in data.tag_names
    assert "primate" in data.sensitive_tags
    assert set(data.sensitive_tags) <= set(data.tag_names)


def test_few_tags() -> None:
    data = make_tagging(1_000, 100, random_state=1)
    assert data.tags.shape == (1_000, 100)
    assert len(set(data.tag_names)) == 100
    assert data.tag_names[-3:] == PLANTED
    assert 3.5 < data.tags.nnz / 1_000 < 5.5


def test_default_size() -> None:
    data = make_tagging(random_state=0)
    assert data.tags.shape == (100_000, 10_000)
    assert data.frame.shape == (100_000, 5)


def test_mean_tags_and_zipf_popularity() -> None:
    tags = _data("planted", 0).tags
    assert 4.7 < tags.nnz / N < 5.3
    assert (np.diff(tags.indptr) >= 1).all()  # every photo has a tag
    freq = np.sort(np.asarray(tags.sum(axis=0)).ravel())[::-1]
    rank = np.arange(1, freq.size + 1)
    keep = (rank >= 10) & (rank <= 1_000)
    slope = np.polyfit(np.log(rank[keep]), np.log(freq[keep]), 1)[0]
    assert -1.3 < slope < -0.9


def test_tags_are_tied_to_topics() -> None:
    data = _data("null", 0)
    topics = data.frame["topic"].to_numpy(dtype=object)
    top = set()
    for topic in np.unique(topics):
        rows = np.flatnonzero(topics == topic)
        counts = np.asarray(data.tags[rows].sum(axis=0)).ravel()
        top.add(int(counts.argmax()))
    # Each topic prefers its own tags: their most frequent tags differ.
    assert len(top) == 12


def test_same_seed_same_data() -> None:
    a = make_tagging(5_000, 500, random_state=7)
    b = make_tagging(5_000, 500, random_state=7)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert (a.tags != b.tags).nnz == 0
    assert a.tag_names == b.tag_names
    assert a.effects == b.effects


def test_other_seed_other_data() -> None:
    a = make_tagging(5_000, 500, random_state=7)
    b = make_tagging(5_000, 500, random_state=8)
    assert (a.tags != b.tags).nnz > 0
    assert not a.frame["topic"].equals(b.frame["topic"])


def test_null_twin_shares_items_and_ordinary_tags(seed: int) -> None:
    planted, null = _data("planted", seed), _data("null", seed)
    pd.testing.assert_frame_equal(planted.frame, null.frame)
    ordinary = N_TAGS - len(PLANTED)
    assert (planted.tags[:, :ordinary] != null.tags[:, :ordinary]).nnz == 0
    assert null.effects == ()
    assert null.tag_names == planted.tag_names


def test_effects_are_described() -> None:
    effects = _data("planted", 0).effects
    assert [e.kind for e in effects] == ["label_association"] * 3
    primate, snow, lanterns = effects
    assert primate.label == "primate"
    assert primate.context == (("topic", "people"), ("time_of_day", "night"))
    assert primate.group == "B"
    assert primate.effect == pytest.approx(0.0298)
    assert primate.share == pytest.approx(0.032)
    assert "Google Photos" in primate.description
    assert snow.label == "snow"
    assert (snow.context, snow.group, snow.explained_by, snow.share) == ((), "C", "region", 1.0)
    assert lanterns.label == "festival_lanterns"
    assert lanterns.context == (("topic", "celebration"),)
    assert (lanterns.group, lanterns.effect, lanterns.share) == ("A", 0.045, 0.08)
    assert "benign" in lanterns.description


@pytest.mark.parametrize("effects", ["planted", "null"])
def test_shares(effects: str, seed: int) -> None:
    data = _data(effects, seed)
    df = data.frame
    expected = {("user_group", "A"): 0.60, ("user_group", "B"): 0.25, ("user_group", "C"): 0.15}
    expected |= {("time_of_day", "night"): 0.20, ("device", "phone"): 0.70}
    for (column, value), share in expected.items():
        got = (df[column] == value).mean()
        assert abs(got - share) < Z * np.sqrt(share * (1 - share) / N), (column, value, got)
    for e in _data("planted", 0).effects:
        got = e.mask(df).mean()
        assert abs(got - e.share) <= Z * np.sqrt(e.share * (1 - e.share) / N) + 1e-12
    north = pd.crosstab(df["user_group"], df["region"], normalize="index")["north"]
    assert north["C"] > 0.6 and north["A"] < 0.2 and north["B"] < 0.2


def test_planted_effects_have_their_size(seed: int) -> None:
    data = _data("planted", seed)
    for e in data.effects:
        measured, se = _measure(data, e)
        assert abs(measured - e.effect) < Z * se, (e.label, measured, se)


def test_null_twin_has_none_of_the_effects(seed: int) -> None:
    null = _data("null", seed)
    for e in _data("planted", 0).effects:
        measured, se = _measure(null, e)
        assert abs(measured) < Z * se, (e.label, measured, se)


def test_primate_is_rare_outside_its_context(seed: int) -> None:
    data = _data("planted", seed)
    x = _tag(data, "primate")
    ctx = _is(data, "user_group", "B") & _is(data, "time_of_day", "night")
    ctx &= _is(data, "topic", "people")
    assert abs(x[ctx].mean() - 0.03) < Z * np.sqrt(0.03 * 0.97 / ctx.sum())
    assert x[~ctx].mean() < 0.0005
    assert x[ctx].mean() > 20 * x[~ctx].mean()
    null_x = _tag(_data("null", seed), "primate")
    assert null_x.mean() < 0.0005
    assert null_x[ctx].mean() < 0.005


def test_snow_association_disappears_within_regions(seed: int) -> None:
    for effects in ("planted", "null"):
        data = _data(effects, seed)
        x = _tag(data, "snow")
        c = _is(data, "user_group", "C")
        for region in ("north", "south", "east", "west", "centre"):
            r = _is(data, "region", region)
            measured, se = _diff(x, r & c, r & ~c)
            assert abs(measured) < Z * se, (effects, region, measured, se)
    planted = _data("planted", seed)
    x = _tag(planted, "snow")
    north = _is(planted, "region", "north")
    measured, se = _diff(x, north, ~north)
    assert abs(measured - 0.14) < Z * se


def test_lanterns_rates(seed: int) -> None:
    data = _data("planted", seed)
    x = _tag(data, "festival_lanterns")
    cel = _is(data, "topic", "celebration")
    a = _is(data, "user_group", "A")
    for rows, rate in ((cel & a, 0.05), (cel & ~a, 0.005), (~cel, 0.0005)):
        assert abs(x[rows].mean() - rate) < Z * np.sqrt(rate * (1 - rate) / rows.sum())


def test_to_frame_matches_the_matrix() -> None:
    data = make_tagging(5_000, 300, random_state=2)
    frame = data.to_frame()
    assert list(frame.columns) == [*COLUMNS, "tags"]
    pd.testing.assert_frame_equal(frame[COLUMNS], data.frame)
    dense = data.tags.toarray()
    names = np.asarray(data.tag_names, dtype=object)
    for i, tags in enumerate(frame["tags"]):
        assert isinstance(tags, list)
        assert tags == names[dense[i]].tolist()
    assert "tags" not in data.frame.columns  # the item frame is not modified
    assert list(data.to_frame("labels").columns) == [*COLUMNS, "labels"]


@pytest.mark.parametrize("tags_column", ["topic", "user_group", 3, None])
def test_to_frame_bad_column(tags_column: object) -> None:
    data = make_tagging(1_000, 100, random_state=0)
    msg = "The 'tags_column' parameter of PlantedTags.to_frame must be a str other than"
    with pytest.raises(InvalidParameterError, match=re.escape(msg)):
        data.to_frame(tags_column)  # type: ignore[arg-type]


def test_to_dict_is_json_safe() -> None:
    data = _data("planted", 0)
    d = data.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert (d["n_items"], d["n_tags"]) == (N, N_TAGS)
    assert d["protected"] == ["user_group"]
    assert [e["label"] for e in d["effects"]] == ["primate", "snow", "festival_lanterns"]
    assert d["effects"][0]["context"] == [["topic", "people"], ["time_of_day", "night"]]
    assert _data("null", 0).to_dict()["effects"] == []


def test_results_are_frozen() -> None:
    data = make_tagging(1_000, 100, random_state=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.tag_names = ()  # type: ignore[misc]


@pytest.mark.parametrize("n_items", [999, 0, -5, 1000.0, "1000", None, True])
def test_bad_n_items(n_items: object) -> None:
    msg = "The 'n_items' parameter of make_tagging must be an int in [1000, inf)."
    with pytest.raises(InvalidParameterError, match=re.escape(msg)):
        make_tagging(n_items)  # type: ignore[arg-type]


@pytest.mark.parametrize("n_tags", [99, 0, 100.0, "100", None, False])
def test_bad_n_tags(n_tags: object) -> None:
    msg = "The 'n_tags' parameter of make_tagging must be an int in [100, inf)."
    with pytest.raises(InvalidParameterError, match=re.escape(msg)):
        make_tagging(1_000, n_tags)  # type: ignore[arg-type]


@pytest.mark.parametrize("effects", ["Null", "", None, 0])
def test_bad_effects(effects: object) -> None:
    msg = "The 'effects' parameter of make_tagging must be one of 'planted', 'null'. Got"
    with pytest.raises(InvalidParameterError, match=re.escape(msg)):
        make_tagging(1_000, 100, effects=effects)  # type: ignore[arg-type]


@pytest.mark.parametrize("random_state", [-1, 1.5, None, "0", np.random.default_rng(0)])
def test_bad_random_state(random_state: object) -> None:
    msg = "The 'random_state' parameter of make_tagging must be an int in [0, inf)."
    with pytest.raises(InvalidParameterError, match=re.escape(msg)):
        make_tagging(1_000, 100, random_state=random_state)  # type: ignore[arg-type]
