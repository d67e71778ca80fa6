"""Which models belong to which project (models without one are in ``default``)."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from seawall.service._errors import ApiError
from seawall.storage import Store

__all__ = [
    "DEFAULT_PROJECT",
    "PROJECT_OF",
    "check_batch_models",
    "check_names_free",
    "project_models",
]

DEFAULT_PROJECT = "default"
"""The project of models stored without one (by ``seawall monitor ingest``, say)."""

PROJECT_OF = f"coalesce(m.project, '{DEFAULT_PROJECT}')"
"""SQL for the project of a row ``m`` of ``models``."""


def project_models(store: Store, project: str, models: Sequence[str]) -> set[str]:
    """Those of ``models`` registered in ``project``."""
    cur = store.cursor()
    try:
        rows = cur.execute(
            f"SELECT m.model FROM models m WHERE list_contains(?, m.model) AND {PROJECT_OF} = ?",
            [list(models), project],
        ).fetchall()
    finally:
        cur.close()
    return {str(r[0]) for r in rows}


def check_batch_models(store: Store, project: str, table: pa.Table, where: str) -> None:
    """422 unless every row's model is registered in ``project``.

    Parameters
    ----------
    store : Store
    project : str
    table : pyarrow.Table
        The batch, with a ``model`` column.
    where : str
        How rows are named in the message (``rows`` for JSON, ``row`` for tables).
    """
    if "model" not in table.column_names:
        raise ApiError(
            422,
            f"the batch has no 'model' column (it has {table.column_names}); every row "
            f"names the model it belongs to. Nothing was stored.",
            details=[{"loc": "model", "message": "missing column"}],
        )
    names = [None if v is None else str(v) for v in table.column("model").to_pylist()]
    wanted = sorted({n for n in names if n is not None})
    known = project_models(store, project, wanted)
    for i, name in enumerate(names):
        if name is not None and name not in known:
            loc = f"rows[{i}].model" if where == "rows" else f"row {i} (counting from 0), model"
            raise ApiError(
                422,
                f"{loc}: {name!r} is not a model of the project {project!r}. Register it "
                f"first with POST /api/v1/projects/{project}/models. Nothing was stored.",
                details=[{"loc": f"rows[{i}].model", "message": "not a model of this project"}],
            )


def check_names_free(store: Store, project: str, table: pa.Table, where: str) -> None:
    """409 when a model of the batch is registered in another project.

    Parameters are those of :func:`check_batch_models`; rows are named
    ``models[i]`` (the JSON body of a registration).
    """
    names = [str(v) for v in table.column("model").to_pylist()]
    cur = store.cursor()
    try:
        taken = cur.execute(
            f"SELECT m.model FROM models m WHERE list_contains(?, m.model) AND {PROJECT_OF} <> ?",
            [names, project],
        ).fetchall()
    finally:
        cur.close()
    if taken:
        name = str(taken[0][0])
        i = names.index(name)
        raise ApiError(
            409,
            f"models[{i}].model: the name {name!r} is taken by a model of another "
            f"project; choose another name. Nothing was stored.",
            details=[{"loc": f"models[{i}].model", "message": "name taken"}],
        )
