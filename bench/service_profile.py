"""Where a benchmarked service's time goes: py-spy samples its process, and each sample is labelled with the
activity its stack shows (`--profile` of the notifications benchmark)."""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path


def start_profiler(pid: int, output: Path) -> subprocess.Popen[bytes]:
    py_spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen(
        [
            str(py_spy),
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "200",
            "--nonblocking",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# What a sample was doing: the first label whose markers are all on its stack. SQLAlchemy's ORM runs in greenlets,
# which py-spy shows as stacks of their own, without the caller: they get a label of their own.
ACTIVITIES = [
    ("email: building the MIME message (email_of)", ["email_of ("]),
    ("email: serialising it for SMTP (email package)", ["SMTP.send_message (", "flatten_message ("]),
    ("email: SMTP conversation", ["SMTP.send_message ("]),
    ("email: unsubscribe link token", ["UnsubscribeLinks.url_for ("]),
    ("email: marking sent (one SELECT per message)", ["EmailSender._record ("]),
    ("email: other", ["EmailSender."]),
    ("webhooks: a new httpx client each pass", ["WebhookSender.send_due (", "AsyncClient.__init__ ("]),
    ("webhooks: signing", ["signature_headers ("]),
    ("webhooks: HTTP request", ["WebhookSender._post ("]),
    ("webhooks: recording the attempt", ["WebhookSender._record ("]),
    ("webhooks: other", ["WebhookSender."]),
    ("consumer: rendering templates", ["IdempotentConsumer", "Templates.render ("]),
    ("consumer: building Message rows", ["IdempotentConsumer", "message_row ("]),
    ("consumer: rest of the message batch", ["IdempotentConsumer", "MessageBatch."]),
    ("consumer: commit", ["IdempotentConsumer", "UnitOfWork.commit ("]),
    ("consumer: queries and the rest", ["IdempotentConsumer"]),
    ("consumer: FastStream/aiokafka around the handler", ["_run_consume_loop ("]),
    ("outbox relay", ["OutboxRelay"]),
    ("aiokafka (fetching, producing, committing offsets)", ["aiokafka/"]),
    ("other periodic jobs and leader checks", ["_run_periodically ("]),
    ("HTTP API", ["uvicorn/protocols"]),
]

ROOTS = [
    ("email: serialising it for SMTP (email package)", ["email/"]),
    ("email: SMTP conversation", ["aiosmtplib/"]),
    ("email: other", ["notifications/email_delivery.py"]),
    ("other threads (getfqdn for each SMTP connection's EHLO)", ["threading.py"]),
    ("database: SQLAlchemy ORM and asyncpg (caller not visible)", ["sqlalchemy/", "sqlmodel/", "asyncpg/"]),
    ("webhooks: HTTP request", ["httpx/", "httpcore/", "anyio/"]),
    ("consumer: rendering templates", [".j2", "rendering.py", "jinja2/"]),
]

# Threads waiting for work (py-spy's --nonblocking cannot always tell they are idle).
IDLE_LEAVES = ("Condition.wait (", "_worker (concurrent/futures/thread.py")


def activity_of(stack: str) -> str:
    frames = stack.split(";")
    if not frames[0].startswith("_run_module_as_main"):  # a greenlet's or a resumed coroutine's own stack
        for label, markers in ROOTS:
            if any(marker in frames[0] for marker in markers):
                return label
        return "event loop and the rest"
    for label, markers in ACTIVITIES:
        if all(marker in stack for marker in markers):
            return label
    return "event loop and the rest"


def summarise_profile(path: Path) -> list[tuple[str, float]]:
    """Share of the service's samples per activity."""
    shares: collections.Counter[str] = collections.Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.rsplit(";", 1)[-1]
        if count.isdigit() and not leaf.startswith(IDLE_LEAVES):
            shares[activity_of(stack)] += int(count)
    total = sum(shares.values()) or 1
    return [(label, round(100 * count / total, 1)) for label, count in shares.most_common()]


def print_profile(profile: Path, during: str) -> None:
    print(f"==> where the service's time went during {during} (share of samples; raw stacks in {profile})")
    for frame, share in summarise_profile(profile):
        print(f"    {share:5.1f}%  {frame}")
