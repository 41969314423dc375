"""`./filiera bench [name ...]`: the benchmarks named (all when none is), figures printed and written to
bench/results/. Options (--profile...) are left for the benchmarks that read them."""

import sys
from collections.abc import Callable

from bench import (
    events_registrations,
    funding_matching,
    members_writes,
    notifications_fanout,
    system_gateway,
    web_portal,
)

BENCHMARKS: dict[str, Callable[[], None]] = {
    "members_writes": members_writes.main,
    "events_registrations": events_registrations.main,
    "funding_matching": funding_matching.main,
    "notifications_fanout": notifications_fanout.main,
    "system_gateway": system_gateway.main,
    "web_portal": web_portal.main,
}

if __name__ == "__main__":
    named = [argument for argument in sys.argv[1:] if not argument.startswith("-")]
    if unknown := [name for name in named if name not in BENCHMARKS]:
        sys.exit(f"no benchmark {', '.join(unknown)}; there are: {', '.join(BENCHMARKS)}")
    for name, run in BENCHMARKS.items():
        if not named or name in named:
            run()
