"""NAB's application profiles: the weights of true positives, false positives and misses."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from seawall._validation import check_real, param_error
from seawall.evaluation._nab_json import read_json_object
from seawall.exceptions import DataValidationError

__all__ = ["NAB_PROFILES", "NabProfile", "read_profiles"]


@dataclass(frozen=True, slots=True)
class NabProfile:
    """One NAB application profile (a row of NAB's ``config/profiles.json``).

    Parameters
    ----------
    name : str
        The profile's name (``"standard"``, ``"reward_low_FP_rate"``, ...).
    tp_weight : float
        The reward of a window detected at its first row (``tpWeight``).
    fp_weight : float
        The largest cost of one false positive (``fpWeight``).
    fn_weight : float
        The cost of a window without any detection (``fnWeight``).
    tn_weight : float, default=1.0
        ``tnWeight``; NAB's scoring never uses it, it is kept for completeness.

    Raises
    ------
    InvalidParameterError
        When a weight is negative or not a finite number.

    References
    ----------
    .. [1] A. Lavin, S. Ahmad, "Evaluating real-time anomaly detection algorithms:
       the Numenta Anomaly Benchmark", IEEE ICMLA, 2015.

    Examples
    --------
    >>> NabProfile("strict", tp_weight=1.0, fp_weight=0.5, fn_weight=1.0).fp_weight
    0.5
    """

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float
    tn_weight: float = 1.0

    def __post_init__(self) -> None:
        for field in ("tp_weight", "fp_weight", "fn_weight", "tn_weight"):
            value = getattr(self, field)
            if check_real(value, field, "NabProfile", low=0) == math.inf:
                raise param_error(field, "NabProfile", "a finite float in [0, inf)", value)
            object.__setattr__(self, field, float(value))

    def to_dict(self) -> dict[str, Any]:
        """The profile as JSON-safe primitives.

        Returns
        -------
        dict
            ``name`` and the four weights.

        Examples
        --------
        >>> NAB_PROFILES["standard"].to_dict()["fp_weight"]
        0.11
        """
        return {
            "name": self.name,
            "tp_weight": self.tp_weight,
            "fp_weight": self.fp_weight,
            "fn_weight": self.fn_weight,
            "tn_weight": self.tn_weight,
        }


NAB_PROFILES: Mapping[str, NabProfile] = MappingProxyType(
    {
        # NAB v1.1 config/profiles.json
        "standard": NabProfile("standard", 1.0, 0.11, 1.0),
        "reward_low_FP_rate": NabProfile("reward_low_FP_rate", 1.0, 0.22, 1.0),
        "reward_low_FN_rate": NabProfile("reward_low_FN_rate", 1.0, 0.11, 2.0),
    }
)
"""NAB v1.1's three profiles, as in its ``config/profiles.json``."""


def read_profiles(path: str | Path) -> Mapping[str, NabProfile]:
    """Read profiles from a file laid out as NAB's ``config/profiles.json``.

    Parameters
    ----------
    path : str or Path
        The JSON file: ``{name: {"CostMatrix": {"tpWeight": ..., "fpWeight": ...,
        "fnWeight": ..., "tnWeight": ...}}}``.

    Returns
    -------
    Mapping of str to NabProfile
        The profiles, in file order (read-only).

    Raises
    ------
    DataValidationError
        When the file is missing, is not JSON, or a profile lacks a weight.

    Examples
    --------
    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "profiles.json"
    ...     _ = p.write_text(json.dumps({"s": {"CostMatrix": {
    ...         "tpWeight": 1, "fpWeight": 0.11, "fnWeight": 1, "tnWeight": 1}}}))
    ...     read_profiles(p)["s"].fp_weight
    0.11
    """
    path = Path(path)
    raw = read_json_object(
        path,
        f"The NAB profiles file {str(path)!r}",
        "pass a folder laid out as NAB's repository (config/profiles.json).",
        "profile names to {'CostMatrix': {...}}",
    )
    profiles: dict[str, NabProfile] = {}
    for name, entry in raw.items():
        matrix = entry.get("CostMatrix") if isinstance(entry, dict) else None
        keys = ("tpWeight", "fpWeight", "fnWeight")
        if not isinstance(matrix, dict) or any(k not in matrix for k in keys):
            raise DataValidationError(
                f"Profile {name!r} in {str(path)!r} must hold a 'CostMatrix' with "
                f"'tpWeight', 'fpWeight' and 'fnWeight'; got {entry!r}."
            )
        profiles[name] = NabProfile(
            name,
            tp_weight=matrix["tpWeight"],
            fp_weight=matrix["fpWeight"],
            fn_weight=matrix["fnWeight"],
            tn_weight=matrix.get("tnWeight", 1.0),
        )
    return MappingProxyType(profiles)
