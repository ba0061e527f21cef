"""Time-to-ack of the HTTP endpoint under concurrent signed requests, while answers still arrive.

Starts the real app (`erp-coach serve --http` code: waitress + Bolt) on loopback against the fake Slack
Web API, with a small sample knowledge base, then fires N signed DM events from C concurrent clients.
Prints p50/p95/p99/max time-to-ack and how many answers reached the fake Slack (and how fast).

    .venv/bin/python benchmarks/slack_http.py [--requests 200] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import Settings  # noqa: E402
from bot.services import Services  # noqa: E402
from feedback.db import Database  # noqa: E402
from tests.slack.fake_slack import FakeSlack  # noqa: E402
from tests.slack.harness import SIGNING_SECRET, start_app, write_sample_kb  # noqa: E402

QUESTIONS = [
    "How do I validate a receipt?",
    "怎么提交报销单？",
    "I forgot my ERP password",
    "how to give a discount on a quote",
    "月末盘点怎么做？",
    "今天食堂的菜单是什么？",
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="erp-coach-bench-"))
    write_sample_kb(tmp / "kb")
    fake = FakeSlack().start()
    for i in range(args.requests):
        fake.add_user(f"U{i:05d}", locale="zh-CN" if i % 2 else "en-US")
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    Database(db_url).upgrade()
    settings = Settings(
        _env_file=None,
        ERP_COACH_DATA_DIR=tmp / "data",
        DATABASE_URL=db_url,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
    )
    services = Services(settings)
    report = services.knowledge.ingest([tmp / "kb"])
    services.knowledge.search("warm up")
    print(
        f"knowledge base: {report.chunks} passages; threads: http={settings.http_threads} answer={settings.answer_workers}"
    )
    app = start_app(services, fake)
    try:
        # Warm the HTTP path once.
        app.sender.dm("U00000", QUESTIONS[0])
        fake.wait_for("chat.postMessage", timeout=30)
        mark = fake.mark()

        def one(i: int) -> tuple[int, float]:
            r = app.sender.dm(f"U{i:05d}", QUESTIONS[i % len(QUESTIONS)])
            return r.status, r.elapsed

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            results = list(pool.map(one, range(args.requests)))
        sent = time.perf_counter() - started
        fake.wait_for("chat.postMessage", count=args.requests, after=mark, timeout=300)
        done = time.perf_counter() - started
    finally:
        app.stop()
        fake.stop()
    acks = [e * 1000 for _, e in results]
    statuses = {s for s, _ in results}
    print(
        f"{args.requests} signed DM events, {args.concurrency} concurrent clients, statuses {sorted(statuses)}"
    )
    print(
        f"time-to-ack ms: p50 {pct(acks, 50):.1f}  p95 {pct(acks, 95):.1f}  p99 {pct(acks, 99):.1f}  "
        f"max {max(acks):.1f}  mean {statistics.mean(acks):.1f}"
    )
    print(f"all requests acked in {sent:.2f} s; all {args.requests} answers posted after {done:.2f} s")
    print("target: p99 ack < 300 ms: " + ("MET" if pct(acks, 99) < 300 else "MISSED"))
    if fake.violations:
        print("Block Kit violations:", fake.violations[:5])


if __name__ == "__main__":
    main()
