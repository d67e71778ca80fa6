"""Seeded generators of realistic synthetic data for demos, tests and benchmarks.

Each generator tells one story that an audit should uncover, with a known answer:

- :func:`make_lending`: a proxy (distance to a branch) carries a biased history into
  a model, which then fails the four-fifths rule for the low-income group.
- :func:`make_health`: a rare group (patients aged 65+) whose outcomes follow a
  different pattern is served far worse by a model fitted to everyone.

Two more plant several effects each, for investigations of unwarranted associations
(FairTest-style context search, weak-slice discovery, screening thousands of output
labels), and come with a *null twin* (``effects="null"``) that keeps the same
features but none of the effects, so that a method's false discoveries can be counted:

- :func:`make_slices`: a binary classifier's log with two weak slices (a large mild
  one and a small strong one), an error disparity and an output association in a
  context each, and an association that an explanatory attribute accounts for.
  Returns :class:`PlantedData`.
- :func:`make_tagging`: an image tagger's sparse output over thousands of Zipf-popular
  tags, with a rare offensive confusion for one group in one context, a tag whose
  association with a group is explained by region, and a benign cultural association.
  Returns :class:`PlantedTags`.

Every planted effect is described by a :class:`PlantedEffect`: its kind, context,
group, size and the share of rows it covers.

:func:`simulate_fleet` simulates a fleet of deployed models (hourly metric series
with daily and weekly seasons, growth and label delay) with injected incidents of
known cause: an upstream source that breaks many models at once, a slow drift in
one region, fairness creeping in one model, a sudden accuracy drop. Returns a
:class:`SimulatedFleet` whose ``events`` (:class:`FleetEvent`) are the truth.

Two writers produce data sets too large for memory as partitioned Parquet (files
``part-00000.parquet``, ... written one at a time, for scale-out benchmarks and
tests, one task per file), each file seeded on its own so that it does not depend on
the others: :func:`write_audit_parquet` (a classifier's decision log with a planted
selection-rate disparity and a weak slice, cheap at 100 million rows) and
:func:`write_fleet_parquet` (a fleet's metric series in long format, whole series per
file, with a planted upstream-source break and spikes). Both return a
:class:`PartitionedData`: the files, the columns and the planted truth (the
log's :class:`PlantedEffect` effects, the fleet's :class:`FleetEvent` events).

Two readers load public data sets from a folder the user has (nothing is
downloaded): :func:`load_compas` (ProPublica's filter) and :func:`load_adult`.

The generators are deterministic given ``random_state``, vectorised, and return
``pandas.DataFrame`` frames with string (not categorical) group columns.
"""

from __future__ import annotations

from seawall.datasets._fleet import SimulatedFleet, simulate_fleet
from seawall.datasets._fleet_events import FleetEvent
from seawall.datasets._health import make_health
from seawall.datasets._lending import make_lending
from seawall.datasets._parquet_audit import write_audit_parquet
from seawall.datasets._parquet_fleet import write_fleet_parquet
from seawall.datasets._parquet_result import PartitionedData
from seawall.datasets._planted import PlantedData, PlantedEffect, PlantedTags
from seawall.datasets._public import load_adult, load_compas
from seawall.datasets._slices import make_slices
from seawall.datasets._tagging import make_tagging

__all__ = [
    "FleetEvent",
    "PartitionedData",
    "PlantedData",
    "PlantedEffect",
    "PlantedTags",
    "SimulatedFleet",
    "load_adult",
    "load_compas",
    "make_health",
    "make_lending",
    "make_slices",
    "make_tagging",
    "simulate_fleet",
    "write_audit_parquet",
    "write_fleet_parquet",
]
