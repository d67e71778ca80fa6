"""The public API of every package is pinned: a change here is a deliberate decision."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "seawall": ["Client", "__version__"],
    "seawall.client": ["Client", "Rejected", "ServiceError", "UploadReport"],
    "seawall.exceptions": [
        "ConfigError",
        "DataValidationError",
        "InsufficientDataError",
        "InvalidParameterError",
        "SeawallError",
        "SeawallWarning",
        "StorageError",
    ],
    "seawall.metrics": [
        "DISPARITY_NAMES",
        "PROPORTION_METRICS",
        "REGRESSION_METRICS",
        "SAME_TEST",
        "SCORE_METRICS",
        "DisparityTable",
        "Estimate",
        "GroupMetrics",
        "GroupTable",
        "MetricTable",
        "SummaryTable",
        "adjust_pvalues",
        "group_metrics",
        "katz_ratio_interval",
        "koopman_ratio_interval",
        "newcombe_interval",
        "ratio_interval",
        "regression_metrics",
        "two_proportion_pvalue",
        "wilson_interval",
    ],
    "seawall.audit": [
        "AuditAssociations",
        "AuditMitigation",
        "AuditParameters",
        "AuditResult",
        "Finding",
        "FourFifths",
        "Gate",
        "GateResult",
        "MitigationOutcome",
        "audit",
        "gate_names",
        "parse_gate",
    ],
    "seawall.distributed": [
        "FleetDetection",
        "RepairedParts",
        "StreamTick",
        "audit",
        "connect",
        "detect_fleet",
        "find_associations",
        "fit_remover",
        "fit_stream",
        "group_metrics",
        "parquet_files",
        "profile_errors",
        "regression_metrics",
        "repair",
        "tick_stream",
        "window_metrics",
    ],
    "seawall.evaluation": [
        "NAB_PROFILES",
        "NabBenchmark",
        "NabCorpus",
        "NabCurve",
        "NabFile",
        "NabFileScore",
        "NabProfile",
        "NabResult",
        "evaluate_detector",
        "load_nab",
        "probationary_length",
        "score_corpus",
        "threshold_curve",
    ],
    "seawall.storage": [
        "FEEDBACK_ACTIONS",
        "FleetLoad",
        "INCIDENT_STATUSES",
        "IngestResult",
        "SCHEMA_VERSION",
        "Store",
        "WindowsRun",
        "compute_windows",
        "detect_incidents",
        "incident_id",
        "ingest_fleet",
        "quote_identifier",
        "store_fleet_results",
    ],
    "seawall.service": [
        "SCOPES",
        "IssuedToken",
        "Principal",
        "ServiceSettings",
        "authenticate",
        "create_app",
        "issue_token",
        "open_service_store",
        "revoke_token",
        "sign",
        "verify_signature",
    ],
    "seawall.monitoring": [
        "CategoricalSketch",
        "DEFAULT_METRIC_WEIGHTS",
        "Detection",
        "DriftReport",
        "EventScore",
        "FAIRNESS_GUARDRAILS",
        "FeatureDrift",
        "Feedback",
        "FeedbackEntry",
        "FleetFlags",
        "FleetScore",
        "GroupCounts",
        "Incident",
        "Incidents",
        "MetricPoints",
        "NumericSketch",
        "OnsetFilter",
        "PERFORMANCE_FLOORS",
        "ReferenceProfile",
        "ScoreSketch",
        "SeriesMatrix",
        "StreamState",
        "StreamingDetector",
        "WindowState",
        "WindowStates",
        "WindowSummary",
        "breach_scores",
        "co_anomaly_groups",
        "daily_steps",
        "detect",
        "detect_period",
        "feature_drift",
        "flag_anomalies",
        "fleet_threshold",
        "fleet_flags",
        "group_incidents",
        "guardrail_bounds",
        "guardrail_flags",
        "metric_points",
        "onset_scores",
        "reference_floors",
        "score_incidents",
        "series_scores",
        "series_thresholds",
        "summarize",
        "summary_drift",
        "window_metrics",
        "window_states",
    ],
    "seawall.mitigation": [
        "Certification",
        "CertificationTest",
        "DisparateImpactRemover",
        "GroupThreshold",
        "RepairEffect",
        "Reweighing",
        "ReweighingClassifier",
        "ReweighingTable",
        "ThresholdPostprocessor",
        "ThresholdTable",
        "certify",
        "repair_effect",
        "reweighing_weights",
    ],
    "seawall.associations": [
        "HypothesisTable",
        "Investigation",
        "discover_labels",
        "find_associations",
        "profile_errors",
    ],
    "seawall.datasets": [
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
    ],
    "seawall.reports": [
        "ReportPaths",
        "render_html",
        "render_investigation_html",
        "write_investigation",
        "write_report",
    ],
    "seawall.cli": ["cli", "main"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_all_is_pinned(module: str) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(PUBLIC[module])
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.{name} is in __all__ but missing"


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_objects_are_documented(module: str) -> None:
    mod = importlib.import_module(module)
    assert mod.__doc__ and mod.__doc__.strip()
    for name in mod.__all__:
        obj = getattr(mod, name)
        if callable(obj) and not isinstance(obj, type(PUBLIC)):
            assert obj.__doc__ and len(obj.__doc__.strip()) > 20, f"{module}.{name}"


def test_core_does_not_import_the_edges() -> None:
    """Dependencies point inward: metrics and audit never import cli or reports."""
    import subprocess
    import sys

    code = (
        "import sys, seawall.metrics, seawall.audit, seawall.datasets, seawall.associations;"
        "bad = [m for m in sys.modules if m.startswith(('seawall.cli', 'seawall.reports',"
        " 'seawall.storage', 'seawall.service', 'seawall.client', 'fastapi', 'httpx'))];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_nothing_imports_dask_unless_asked() -> None:
    """Dask is imported by ``seawall.distributed`` only, and the CLI without --scheduler."""
    import subprocess
    import sys

    code = (
        "import sys, seawall, seawall.metrics, seawall.audit, seawall.monitoring,"
        " seawall.datasets, seawall.associations, seawall.storage, seawall.cli;"
        "from seawall.cli import main;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')"
        " or m.startswith('seawall.distributed')];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    code = "import sys, seawall.distributed; print('distributed' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # The package itself imports Dask lazily too: only connecting does.
    assert out.stdout.strip() == "False"
