"""Fleet monitoring: detection kernels over ``(n_series, n_steps)`` matrices.

Every kernel works on many series at once (vectorised over series, never a Python
loop over them) and tolerates missing values (NaN). :func:`detect` learns each
series' season, a robust causal baseline and scale, and scores every step with a
calibrated tail probability, so one threshold serves the whole fleet.

Examples
--------
>>> import numpy as np
>>> from seawall.monitoring import detect, detect_period
>>> t = np.arange(480)
>>> X = np.sin(2 * np.pi * t / 7)[None, :] + np.random.default_rng(1).normal(0, .2, (2, 480))
>>> detect_period(X).tolist()
[7, 7]
>>> detect(X).scores.shape
(2, 480)
"""

from __future__ import annotations

from seawall.monitoring._detect import detect
from seawall.monitoring._period import detect_period
from seawall.monitoring._result import Detection

__all__ = ["Detection", "detect", "detect_period"]
