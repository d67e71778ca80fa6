"""The command lines that repeat an audit or an investigation."""

from __future__ import annotations

import shlex

from seawall.audit import AuditParameters

__all__ = ["DATA_PLACEHOLDER", "OUT_PLACEHOLDER", "audit_command", "multiline_command"]

#: Stands in for the data file when the audit ran on an in-memory table.
DATA_PLACEHOLDER = "DATA"
#: The output directory written into the command.
OUT_PLACEHOLDER = "seawall-report"


def audit_command(params: AuditParameters, source: str | None, *, multiline: bool = False) -> str:
    r"""The shell command that runs the same audit again.

    Every parameter is written out, defaults included, so the command does not
    depend on the defaults of a later version.

    Parameters
    ----------
    params : AuditParameters
        The audit's parameters.
    source : str or None
        The data file; ``DATA`` is written when the data came from memory.
    multiline : bool, default=False
        Put each option on its own line, continued with a backslash.

    Returns
    -------
    str
        A POSIX shell command, each argument quoted as needed.

    Examples
    --------
    >>> from seawall.audit import AuditParameters
    >>> p = AuditParameters(label="y", prediction="p", score=None, sensitive=("sex", "race"),
    ...     positive_label=None, reference=(("sex", "male"),), task="classification",
    ...     min_group_size=30, confidence_level=0.95, correction="holm", n_bootstrap=1000,
    ...     random_state=0, gates=("disparate_impact<0.8",))
    >>> print(audit_command(p, "loans.csv"))  # doctest: +NORMALIZE_WHITESPACE
    seawall audit loans.csv --label y --prediction p --sensitive sex --sensitive race
    --reference sex=male --task classification --min-group-size 30
    --fail-on 'disparate_impact<0.8' --confidence-level 0.95 --correction holm
    --n-bootstrap 1000 --seed 0 --associations --association-depth 2 --out seawall-report
    >>> lines = audit_command(p, None, multiline=True).splitlines()
    >>> lines[0], lines[1], lines[-3], len(lines)
    ('seawall audit DATA \\', '  --label y \\', '  --associations \\', 16)
    """
    data = source if source is not None else DATA_PLACEHOLDER
    # One entry per option, with its value if it takes one.
    options: list[list[str]] = [["--label", params.label], ["--prediction", params.prediction]]
    if params.score is not None:
        options.append(["--score", params.score])
    options += [["--sensitive", feature] for feature in params.sensitive]
    options += [["--reference", f"{feature}={group}"] for feature, group in params.reference]
    if params.positive_label is not None:
        options.append(["--positive-label", params.positive_label])
    options += [["--task", params.task], ["--min-group-size", str(params.min_group_size)]]
    options += [["--fail-on", gate] for gate in params.gates]
    options += [
        ["--confidence-level", repr(float(params.confidence_level))],
        ["--correction", params.correction],
        ["--n-bootstrap", str(params.n_bootstrap)],
        ["--seed", str(params.random_state)],
    ]
    if params.associations:
        options += [["--associations"], ["--association-depth", str(params.association_depth)]]
        options += [["--context", c] for c in params.context or ()]
        if params.split_key is not None:
            options.append(["--split-key", params.split_key])
    else:
        options.append(["--no-associations"])
    if params.on_cluster:  # Parquet partitions: a local Dask cluster reads them again
        options.append(["--scheduler", "local"])
    options.append(["--out", OUT_PLACEHOLDER])
    head = " ".join(shlex.quote(a) for a in ("seawall", "audit", data))
    parts = [" ".join(shlex.quote(a) for a in option) for option in options]
    return (" \\\n  " if multiline else " ").join([head, *parts])


def multiline_command(command: str) -> str:
    r"""Break a shell command before each option, continuing lines with a backslash.

    Parameters
    ----------
    command : str
        A POSIX shell command, e.g. ``seawall investigate data.csv --protected g``.

    Returns
    -------
    str
        The same command over several lines; unchanged when it does not parse
        (an unbalanced quote).

    Examples
    --------
    >>> print(multiline_command("seawall investigate 'my data.csv' --protected g --alpha 0.05"))
    seawall investigate 'my data.csv' \
      --protected g \
      --alpha 0.05
    """
    try:
        args = shlex.split(command)
    except ValueError:
        return command
    lines: list[list[str]] = [[]]
    for arg in args:
        if arg.startswith("--") and lines[-1]:
            lines.append([])
        lines[-1].append(shlex.quote(arg))
    return " \\\n  ".join(" ".join(line) for line in lines)
