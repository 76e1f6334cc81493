"""Structured JSON logging that never writes an email address, phone number or IP address."""

from __future__ import annotations

import ipaddress
import logging
import re
import sys
from typing import Any

import structlog

# The lookbehind starts a match only where a run of local-part characters starts: without it a long run with no
# "@" is rescanned from every position (quadratic: seconds per log line for 16 KB of text).
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
IPV6_CANDIDATE = re.compile(r"(?<![\w:])[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?![\w:])")
PHONE = re.compile(r"(?<![\w.])\+?\d[\d\s().\-]{7,}\d\b")
SENSITIVE_KEYS = {"email", "phone", "ip", "client_ip", "address", "password", "api_key", "write_key"}


def _ipv6_or_same(match: re.Match[str]) -> str:
    try:
        ipaddress.IPv6Address(match.group(0))
    except ValueError:
        return match.group(0)  # a time such as 12:30:45, not an address
    return "[ip]"


def redact_text(text: str) -> str:
    """Replace email addresses, IP addresses and phone numbers in free text."""
    text = EMAIL.sub("[email]", text)
    text = IPV6_CANDIDATE.sub(_ipv6_or_same, text)
    text = IPV4.sub("[ip]", text)
    return PHONE.sub("[phone]", text)


def _redact_value(key: str, value: Any) -> Any:
    if key.lower() in SENSITIVE_KEYS:
        return "[redacted]"
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(key, v) for v in value]
    return value


def redact_personal_data(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: personal data never reaches a log line."""
    return {key: _redact_value(key, value) for key, value in event_dict.items()}


def configure_logging(level: str = "INFO", *, json: bool = True, service: str = "") -> None:
    """Route structlog and the standard library through one redacting JSON renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_personal_data,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        # Filter by level first, so a dropped debug line costs nothing (redaction is not free).
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log carries client addresses; we log requests ourselves without them.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    if service:
        structlog.contextvars.bind_contextvars(service=service)
