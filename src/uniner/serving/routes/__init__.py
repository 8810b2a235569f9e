"""The HTTP endpoints, one router per group: ``extract`` (the API's work), ``info`` (what the
model and the server are: ``/v1/models``, ``/health``) and ``page`` (the web page and its
assets). Each route reads the app's :class:`~uniner.serving.lifecycle.ServingState` through a
dependency, so a router holds no state of its own and one module can be read alone.
"""

from __future__ import annotations

from typing import Any

from uniner.serving.schemas import ErrorResponse

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": desc}
    for code, desc in {
        401: "Missing or wrong API key",
        408: "The request body did not arrive in time",
        413: "Body, a text, the batch or its estimated work is too large",
        422: "Malformed JSON or a field breaks a rule or limit",
        503: "Overloaded (see Retry-After) or shutting down",
        504: "Request timed out (its work was stopped)",
    }.items()
}
"""The error answers the API documents (one JSON shape, see :mod:`uniner.serving.handlers`)."""
