"""Structured logs: one JSON object per line, with the request id, and no personal data.

What keeps personal data out: the access log carries route templates, never paths or query
strings (the API's own middleware writes it; uvicorn's access log is switched off);
exceptions are logged with their type and stack frames but *without* their message (a
database error's DETAIL can quote a national ID); the engine hides SQL parameters
(``hide_parameters=True`` in ``registry.core.db``).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: The id of the request being served (set by the API middleware), for every log line.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "color_message", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _, tb = record.exc_info
            entry["exc_type"] = exc_type.__name__
            # frames only: the exception's message may quote personal data
            entry["stack"] = "".join(traceback.format_tb(tb))[-4000:]
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, still without exception messages."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = request_id_var.get()
        prefix = f"[{request_id}] " if request_id else ""
        line = f"{record.levelname:<7} {record.name}: {prefix}{record.getMessage()}"
        if record.exc_info and record.exc_info[0] is not None:
            line += f" ({record.exc_info[0].__name__})"
        return line


def formatter(fmt: str) -> logging.Formatter:
    """The formatter for a REGISTRY_LOG_FORMAT value (`json` or `text`)."""
    return JsonFormatter() if fmt == "json" else TextFormatter()


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send every log record (ours and uvicorn's) through one structured handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # HTTP client libraries log whole URLs at INFO: query strings can hold personal data
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn's access log prints raw paths with query strings: personal data; ours replaces it
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False
    access.disabled = True


def uvicorn_log_config(level: str = "INFO", fmt: str = "json") -> dict[str, Any]:
    """A logging dictConfig for uvicorn.run: everything through our formatter on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "registry": {"()": f"registry.core.logging.{type(formatter(fmt)).__name__}"},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "registry",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "CRITICAL"},
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }
