"""``seawall serve``: the monitoring service and dashboard over a store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from seawall.cli._errors import UserError, reports_errors

__all__ = ["serve_command"]


@click.command("serve")
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The store's DuckDB file, created when missing [default: $SEAWALL_STORE, "
    "else seawall.duckdb].",
)
@click.option(
    "--host",
    default=None,
    help="The address to bind [default: $SEAWALL_HOST, else 127.0.0.1, this machine only]. "
    "Pass 0.0.0.0 deliberately to serve a network.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="The port [default: $SEAWALL_PORT, else 8000].",
)
@reports_errors
def serve_command(store_path: Path | None, host: str | None, port: int | None) -> None:
    """Run the monitoring service: ingestion API, dashboard and alerts over a store.

    On a store without an admin token, the first start creates one and prints it
    once. Open http://HOST:PORT/ and log in with a read token; the API is
    described at /docs and /openapi.json. Other settings come from SEAWALL_...
    environment variables (SEAWALL_MAX_BODY_BYTES, ...).

    \b
    Example:
      seawall serve --store seawall-demo/fleet/fleet.duckdb
    """
    import os

    import uvicorn

    from seawall.service import ServiceSettings, create_app, open_service_store

    given: dict[str, Any] = {"store": store_path, "host": host, "port": port}
    overrides = {k: v for k, v in given.items() if v is not None}
    if "store" not in overrides and "SEAWALL_STORE" not in os.environ:
        overrides["store"] = Path("seawall.duckdb")
    try:
        settings = ServiceSettings(**overrides)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(
            f"the setting {where} is invalid: {first['msg']} (got {first.get('input')!r}). "
            f"Fix the option or the SEAWALL_{where.upper()} environment variable."
        ) from e
    store, token = open_service_store(settings)
    where = "in memory (lost at exit)" if settings.store is None else str(settings.store)
    click.echo(f"Seawall serves the store {where} on http://{settings.host}:{settings.port}/")
    if token is not None:
        click.echo(
            "This store had no admin token, so one was created. It is shown this once; "
            f"keep it:\n  {token}"
        )
    uvicorn.run(create_app(settings, store=store), host=settings.host, port=settings.port)
