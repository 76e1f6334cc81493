"""Personal data never reaches a log line."""

import json
import logging

import structlog

from shared.logging import configure_logging, redact_text


class TestRedaction:
    def test_email_ip_and_phone_are_replaced_in_text(self) -> None:
        text = redact_text("mail jane.doe+x@example.com from 203.0.113.7 and 2001:db8::1 call +44 20 7946 0958")
        assert "example.com" not in text and "203.0.113.7" not in text and "2001:db8" not in text
        assert "7946" not in text
        assert text.count("[email]") == 1 and text.count("[ip]") == 2 and "[phone]" in text

    def test_ids_and_amounts_survive(self) -> None:
        assert redact_text("order 12345 revenue 99.90 user u-42") == "order 12345 revenue 99.90 user u-42"

    def test_structured_and_stdlib_lines_are_redacted(self, capsys) -> None:  # type: ignore[no-untyped-def]
        configure_logging("INFO", json=True, service="test")
        structlog.get_logger("t").info("signup", email="a@b.io", note="ip 198.51.100.9", nested={"phone": "1"})
        logging.getLogger("lib").warning("user a@b.io from 198.51.100.9")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
        dumped = json.dumps(lines)
        assert "a@b.io" not in dumped and "198.51.100.9" not in dumped
        assert lines[0]["email"] == "[redacted]" and lines[0]["service"] == "test"
