"""Similar-ticket lookup on the triage card: time of `similar_open_tickets` as the bot calls it
(`bot.ticket_messages.card`: cosine + word overlap, cross-language terms), at N open tickets (SQLite).

    .venv/bin/python benchmarks/similar_tickets.py              # 100, 1,000 and 5,000 open tickets, SQLite
    .venv/bin/python benchmarks/similar_tickets.py --open 2000 --repeat 50

The card is rendered again on every triage click (assign, priority, status), so this is paid per click.
Vectors are random (the timing does not depend on them); texts are Chinese and English ticket reports.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bot.ticket_messages import similar_terms  # noqa: E402
from feedback import tickets as store  # noqa: E402
from feedback.db import Database  # noqa: E402

_ZH = "采购订单 PO{n} 收货数量不对，系统显示已经验收但是仓库只收到{m}箱，请帮忙看看怎么处理"
_EN = "Vendor bill {n} cannot be posted: the journal entry for {m} units is locked by the fiscal period"


def _fill(db: Database, n: int, rng: np.random.Generator) -> None:
    with db.begin() as session:
        for i in range(n):
            text = (_ZH if i % 3 else _EN).format(n=i, m=i % 17 + 1)
            vec = rng.standard_normal(384).astype(np.float32)
            store.create_ticket(session, reporter=f"U{i:05d}", description=text, embedding=vec)


def _time(db: Database, n: int, repeat: int, rng: np.random.Generator) -> list[float]:
    tokenize, render = similar_terms()
    query = _ZH.format(n=n + 1, m=3)
    out = []
    for _ in range(repeat):
        vec = rng.standard_normal(384).astype(np.float32)
        with db.session() as session:
            started = time.perf_counter()
            store.similar_open_tickets(
                session, vec, threshold=0.45, text=query, tokenize=tokenize, render=render
            )
            out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--open", type=int, action="append", help="open tickets (repeatable)")
    ap.add_argument("--repeat", type=int, default=20, help="card renders timed per size")
    args = ap.parse_args()
    sizes = args.open or [100, 1000, 5000]
    rng = np.random.default_rng(7)
    print(f"{'open tickets':>12}  {'first ms':>9}  {'p50 ms':>8}  {'p95 ms':>8}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{tmp}/bench.db")
            db.upgrade()
            _fill(db, n, rng)
            times = _time(db, n, args.repeat, rng)
            p95 = float(np.percentile(times, 95))
            print(f"{n:>12,}  {times[0]:>9.1f}  {statistics.median(times[1:]):>8.1f}  {p95:>8.1f}")
            db.dispose()


if __name__ == "__main__":
    main()
