"""Campaign sending: personalised emails per second from `tessera up` into a local SMTP sink, beside raw aiosmtplib.

Run: .venv/bin/python -m bench.send [--recipients 5000] [--runs 3] [--warmup 100] [--quick]. Quick check
(`--quick`): --recipients 500 --runs 1 --warmup 20.

- Sink: aiosmtpd in a child process (uvloop), counting what it accepts per recipient marker (the address up to its
  first "-"), the bytes, the first and last acceptance time, and how many subjects carry the first name of the
  recipient they were addressed to; also the pauses (>= 50 ms) between acceptances, i.e. when mail is not flowing.
  In a child so that it never shares a GIL with the reference's client: in this process (aiosmtpd's Controller)
  the reference measured ~2,000 emails/s against ~2,800-3,500 from the child.
- Stack: `tessera up` (a subprocess in its own session, SQLite in a temp dir) with campaigns pointed at the sink.
- Each run, a fresh marker: N people identified through tracking's `/v1/batch` (email, first name, `tier: marker`,
  email consent), waited for in segmentation's preview, a segment `tier == marker` built; a campaign of two
  variants (Jinja subject and body with `first_name` and a link) and a 10% holdout, timed from the launch request to
  `status == "completed"` (polled every 50 ms). Figure: emails accepted by the sink / that time. The sink must
  have exactly `progress.sent` messages for the marker.
- Same-run reference: N pre-built messages of the campaign's mean size sent with bare aiosmtplib over the same
  number of connections (10, the service's default `smtp_concurrency`) to the same sink: what SMTP alone allows.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import uvloop
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.results import add_quick, record
from tessera.broker import die_with_parent, free_port, wait_for_port

ADMIN_KEY = "tsk_bench_send_admin"
WRITE_KEY = "twk_bench_send"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
SERVICES = ("tracking", "profiles", "segmentation", "campaigns", "console")
CONCURRENCY = 10  # SMTP connections, for the service and for the reference
POLL = 0.05
GAP = 0.05
BODY = """<html><body><p>Hello {{ first_name | default("friend") }},</p>
<p>Our spring collection has arrived: light jackets, linen shirts and the sandals you asked about.</p>
<p><a href="https://shop.example/spring?variant=%s">See what is new</a></p></body></html>"""
VARIANTS = [
    {"name": "A", "subject": "Hi {{ first_name }}, spring is here", "body": BODY % "a"},
    {"name": "B", "subject": "{{ first_name }}, a gift for you", "body": BODY % "b"},
]
SUBJECT_NAME = re.compile(rb"^Subject: [^\r\n]*?\bName(\d+)\b", re.MULTILINE)

# ---------------------------------------------------------------- the SMTP sink (child process)


@dataclass
class Tally:
    """What the sink accepted for one marker."""

    count: int = 0
    size: int = 0
    personalised: int = 0  # the subject names the recipient the message was addressed to
    first: float = 0.0  # time.monotonic(), comparable across processes on Linux
    last: float = 0.0
    gaps: float = 0.0  # the sum of pauses of GAP seconds or more between two acceptances: mail not flowing


class TallyHandler:
    """aiosmtpd handler: accepts everything, keeps only tallies per marker."""

    def __init__(self) -> None:
        self.tallies: dict[str, Tally] = {}

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        now, content = time.monotonic(), envelope.content
        assert isinstance(content, bytes)
        named = SUBJECT_NAME.search(content)
        for rcpt in envelope.rcpt_tos:
            marker, _, rest = rcpt.partition("-")
            tally = self.tallies.get(marker) or self.tallies.setdefault(marker, Tally(first=now))
            if now - tally.last >= GAP and tally.count:
                tally.gaps += now - tally.last
            tally.count, tally.size, tally.last = tally.count + 1, tally.size + len(content), now
            tally.personalised += bool(named and named.group(1).decode() == rest.split("@", 1)[0])
        return "250 OK"


def sink_main(port: int, control: Connection) -> None:
    """The child: an SMTP server on the main thread's loop; tallies answered over `control` from a thread."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    die_with_parent()
    counter, loop = TallyHandler(), uvloop.new_event_loop()
    factory = lambda: SMTP(counter, hostname="sink.bench", ident="bench sink")  # noqa: E731
    loop.run_until_complete(loop.create_server(factory, "127.0.0.1", port))

    def answer() -> None:
        try:
            while (marker := control.recv()) is not None:
                control.send(asdict(counter.tallies.get(marker, Tally())))
        except EOFError:
            pass
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=answer, daemon=True).start()
    loop.run_forever()


class Sink:
    """The parent's handle on the sink process."""

    def __init__(self) -> None:
        self.port = free_port()
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing of ours is forked
        self.control, child = context.Pipe()
        self.process = context.Process(target=sink_main, args=(self.port, child), daemon=True)

    def start(self) -> None:
        self.process.start()
        wait_for_port("127.0.0.1", self.port, 15)

    def tally(self, marker: str) -> Tally:
        """What was accepted so far for a marker."""
        self.control.send(marker)
        return Tally(**self.control.recv())

    def stop(self) -> None:
        if self.process.is_alive():
            try:
                self.control.send(None)
            except OSError:
                pass
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


# ---------------------------------------------------------------- the stack


@contextmanager
def tessera_up(data_dir: Path, smtp_port: int) -> Iterator[dict[str, str]]:
    """`tessera up` on free ports, mailing to the sink; yields the services' URLs; stopped (SIGTERM) afterwards."""
    ports = {name: free_port() for name in SERVICES}
    env = {**os.environ, "TESSERA_DATA_DIR": str(data_dir), "TESSERA_BROKER_PORT": str(free_port()),
           "TESSERA_ADMIN_API_KEY": ADMIN_KEY, "TESSERA_WRITE_KEY": WRITE_KEY, "TESSERA_LOG_LEVEL": "WARNING",
           "TESSERA_CAMPAIGNS_SMTP_PORT": str(smtp_port),
           "TESSERA_CAMPAIGNS_SMTP_CONCURRENCY": str(CONCURRENCY)}  # fmt: skip
    env.update({f"TESSERA_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    with open(data_dir / "tessera-up.log", "wb") as log:
        # Its own session: a Ctrl-C reaches only us, and we stop it once, cleanly.
        process = subprocess.Popen([sys.executable, "-m", "tessera.cli", "up"], env=env, stdout=subprocess.PIPE,
                                   stderr=log, start_new_session=True, preexec_fn=die_with_parent)  # fmt: skip
        try:
            line = process.stdout.readline().decode() if process.stdout else ""  # "READY <urls>"
            if not line.startswith("READY"):
                raise RuntimeError(f"tessera up did not get ready: {(data_dir / 'tessera-up.log').read_text()[-2000:]}")
            yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# ---------------------------------------------------------------- one run


async def wait_until(what: str, timeout: float, check: Any) -> Any:
    """Poll `check()` every 50 ms until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(POLL)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


async def load_audience(client: httpx.AsyncClient, urls: dict[str, str], marker: str, n: int) -> str:
    """N consenting people with email and first name, replicated to segmentation, in a ready segment of their own."""
    people = [{"type": "identify", "userId": f"u-{marker}-{i}",
               "traits": {"email": f"{marker}-{i}@example.com", "first_name": f"Name{i}", "tier": marker,
                          "consent": {"email": True}}} for i in range(n)]  # fmt: skip
    gate = asyncio.Semaphore(4)

    async def post(batch: list[dict[str, Any]]) -> None:
        async with gate:
            r = await client.post(f"{urls['tracking']}/v1/batch", auth=(WRITE_KEY, ""), json={"batch": batch})
            r.raise_for_status()

    await asyncio.gather(*(post(people[i : i + 100]) for i in range(0, n, 100)))
    definition = {"trait": "tier", "op": "eq", "value": marker}

    async def replicated() -> bool:
        r = await client.post(f"{urls['segmentation']}/v1/segments/preview", json={"definition": definition})
        return bool(r.json().get("count") == n)

    await wait_until("preview count", 60 + n / 50, replicated)
    created = await client.post(f"{urls['segmentation']}/v1/segments", json={"name": marker, "definition": definition})
    created.raise_for_status()
    segment_url = f"{urls['segmentation']}/v1/segments/{created.json()['id']}"

    async def ready() -> bool:
        status = (await client.get(segment_url)).json()["status"]
        if status == "error":
            raise RuntimeError(f"segment {marker} failed to build")
        return bool(status == "ready")

    await wait_until("segment ready", 60 + n / 50, ready)
    segment_id = str(created.json()["id"])

    async def caught_up() -> bool:
        # campaigns has applied the segment's entries: its consumer is no longer busy with the load (SQLite has
        # one writer, so a launch during that backlog measures the backlog, not sending)
        body = (await client.get(f"{urls['campaigns']}/v1/audiences/{segment_id}/size")).json()
        return bool(body.get("size") == n)

    await wait_until("campaigns caught up", 60 + n / 50, caught_up)
    return segment_id


async def send_campaign(client: httpx.AsyncClient, url: str, segment_id: str, n: int) -> tuple[float, dict[str, Any]]:
    """Create and launch the campaign; seconds from the launch request to `completed`, and the campaign."""
    created = await client.post(f"{url}/v1/campaigns", json={
        "name": f"bench {segment_id}", "target_segments": [segment_id], "holdout_percent": 10, "variants": VARIANTS})  # fmt: skip
    created.raise_for_status()
    campaign_url = f"{url}/v1/campaigns/{created.json()['id']}"
    started = time.monotonic()
    launched = await client.post(f"{campaign_url}/launch")
    launched.raise_for_status()

    async def completed() -> dict[str, Any] | None:
        body: dict[str, Any] = (await client.get(campaign_url)).json()
        if body["status"] == "paused":
            raise RuntimeError(f"the campaign paused: {body.get('last_error')}")
        return body if body["status"] == "completed" else None

    done = await wait_until("campaign completed", 120 + n / 10, completed)
    return time.monotonic() - started, done


def raw_message(to: str, size: int) -> bytes:
    """A plain message of about `size` bytes (76-character lines)."""
    head = (f"From: Tessera <marketing@tessera.invalid>\r\nTo: {to}\r\nSubject: Spring is here\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@bench.invalid>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n").encode()  # fmt: skip
    lines = max(size - len(head), 78) // 78
    return head + (b"x" * 76 + b"\r\n") * lines


async def reference(port: int, marker: str, n: int, size: int) -> float:
    """Seconds for bare aiosmtplib to send N pre-built messages over CONCURRENCY connections (connects included)."""
    queue = deque((f"{marker}-{i}@example.com", raw_message(f"{marker}-{i}@example.com", size)) for i in range(n))

    async def worker() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
        await smtp.connect()
        while queue:
            to, message = queue.popleft()
            await smtp.sendmail("marketing@tessera.invalid", [to], message)
        await smtp.quit()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.monotonic() - started


async def one_run(client: httpx.AsyncClient, urls: dict[str, str], sink: Sink, n: int) -> dict[str, Any]:
    """Audience, timed campaign, checks and the reference, all under a fresh marker."""
    marker = uuid.uuid4().hex[:8]
    segment_id = await load_audience(client, urls, marker, n)
    seconds, campaign = await send_campaign(client, urls["campaigns"], segment_id, n)
    started_at = time.monotonic() - seconds  # the launch request, on the sink's clock
    got, progress = sink.tally(marker), campaign["progress"]
    size = got.size // max(got.count, 1)
    ref_seconds = await reference(sink.port, f"ref{marker}", n, size)
    ref = sink.tally(f"ref{marker}")
    return {"marker": marker, "seconds": seconds, "rate": got.count / seconds, "sink": got.count,
            "progress": progress, "ok": got.count == progress.get("sent") and got.personalised == got.count,
            "personalised": got.personalised, "size": size, "first": got.first - started_at,
            "flowing": got.last - got.first - got.gaps, "paused": got.gaps, "tail": started_at + seconds - got.last,
            "ref_rate": ref.count / ref_seconds, "ref_seconds": ref_seconds, "ref_ok": ref.count == n}  # fmt: skip


def show(label: str, r: dict[str, Any], n: int) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(r["progress"].items()))
    check = "ok" if r["ok"] else "MISMATCH"
    print(f"  {label}: {r['sink']:,} emails in {r['seconds']:.2f} s = {r['rate']:,.0f} emails/s ({r['size']:,} B each)\n"
          f"      launch -> first mail {r['first']:.2f} s; then mail flowing {r['flowing']:.2f} s "
          f"({r['sink'] / r['flowing']:,.0f}/s) and paused {r['paused']:.2f} s (gaps >= {GAP * 1000:.0f} ms); "
          f"last mail -> completed seen {r['tail']:.2f} s\n"
          f"      progress: {counts}; sink got {r['sink']:,} for {r['marker']}, personalised {r['personalised']:,}: "
          f"{check}\n"
          f"      reference, raw aiosmtplib x{CONCURRENCY}: {n:,} in {r['ref_seconds']:.2f} s = "
          f"{r['ref_rate']:,.0f} emails/s{'' if r['ref_ok'] else ' (sink count MISMATCH)'}", flush=True)  # fmt: skip


async def bench(urls: dict[str, str], sink: Sink, args: argparse.Namespace) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(headers=ADMIN, timeout=60) as client:
        if args.warmup:  # connections, template compilation, the consumers' first fetches
            show("warm-up", await one_run(client, urls, sink, args.warmup), args.warmup)
        runs = []
        for i in range(args.runs):
            runs.append(await one_run(client, urls, sink, args.recipients))
            show(f"run {i + 1}", runs[-1], args.recipients)
        return runs


def report(runs: list[dict[str, Any]], args: argparse.Namespace) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    def each(key: str) -> str:
        return " / ".join(f"{r[key]:,.0f}" for r in runs)

    print(f"\nrecipients={args.recipients:,} runs={args.runs} cores={os.cpu_count()} "
          f"python={sys.version.split()[0]} smtp connections={CONCURRENCY}")  # fmt: skip
    print(f"campaign send, launch -> completed: {med('rate'):,.0f} emails/s (target >= 500), {med('seconds'):.2f} s"
          f"   runs {each('rate')}")  # fmt: skip
    print(f"  launch -> first mail {med('first'):.2f} s, mail flowing {med('flowing'):.2f} s, paused "
          f"{med('paused'):.2f} s, last mail -> completed seen {med('tail'):.2f} s")  # fmt: skip
    print(f"reference, raw aiosmtplib to the same sink: {med('ref_rate'):,.0f} emails/s   runs {each('ref_rate')}"
          f"   campaign / reference = {med('rate') / med('ref_rate'):.2f}")  # fmt: skip
    good = all(r["ok"] and r["ref_ok"] for r in runs)
    print(f"checks (sink count == progress.sent, every subject personalised): {'all runs ok' if good else 'FAILED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=100, help="recipients of an untimed first campaign (0: none)")
    add_quick(parser, "--recipients 500 --runs 1 --warmup 20")
    args = parser.parse_args()
    if args.quick:
        args.recipients, args.runs, args.warmup = 500, 1, 20
    sink = Sink()
    sink.start()
    try:
        with tempfile.TemporaryDirectory() as tmp, tessera_up(Path(tmp), sink.port) as urls:
            runs = uvloop.run(bench(urls, sink, args))
    finally:
        sink.stop()
    report(runs, args)
    checks = all(r["ok"] and r["ref_ok"] for r in runs)
    rate = statistics.median(r["rate"] for r in runs)
    record("send", "campaign send, launch -> completed", [r["rate"] for r in runs], "emails/s",
           reference=(f"raw aiosmtplib x{CONCURRENCY}, same sink", [r["ref_rate"] for r in runs]),
           target=">= 500 emails/s, sink count == sent, all personalised", met=rate >= 500 and checks,
           quick=args.quick, params={"recipients": args.recipients, "runs": args.runs, "warm-up": args.warmup,
                                     "smtp connections": CONCURRENCY, "checks": "ok" if checks else "FAILED"})  # fmt: skip
    if not all(r["ok"] and r["ref_ok"] for r in runs):
        raise SystemExit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # the stack and the sink have been stopped on the way out
        raise SystemExit(130) from None
