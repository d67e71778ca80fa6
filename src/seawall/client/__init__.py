"""A client of the Seawall service: send logs, labels and metrics in batches.

- :class:`Client`: batches, retries with backoff, reports what was refused.
- :class:`UploadReport`, :class:`Rejected`: what an upload did.
- :class:`ServiceError`: the service is unreachable or refused the token.
"""

from __future__ import annotations

from seawall.client._client import Client, ServiceError
from seawall.client._report import Rejected, UploadReport

__all__ = ["Client", "Rejected", "ServiceError", "UploadReport"]
