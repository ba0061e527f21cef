"""Fan-out benchmark: enqueue and send one survey round to N users against the local fake Slack, with a
rate limit (429 + Retry-After, waited out by slack_sdk's RateLimitErrorRetryHandler), and report the time,
throughput, 429s and peak memory. Verifies that everyone got exactly one DM.

    .venv/bin/python benchmarks/fanout.py                       # 5,000 users, 100 msg/s limit, SQLite
    .venv/bin/python benchmarks/fanout.py --rate 0              # no rate limit: our own overhead
    .venv/bin/python benchmarks/fanout.py --workers 3 --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import Settings  # noqa: E402
from bot.delivery import SurveySender  # noqa: E402
from bot.services import Services  # noqa: E402
from feedback.db import utcnow  # noqa: E402
from feedback.people import User  # noqa: E402
from feedback.surveys import fan_out, open_round, parse_survey, round_progress  # noqa: E402

SURVEY = {
    "id": "bench",
    "title": {"zh-CN": "ERP 满意度调查", "en": "ERP pulse"},
    "schedule": "0 10 * * fri",
    "questions": [
        {"id": "overall", "type": "satisfaction", "text": "总体满意度？"},
        {"id": "nps", "type": "nps", "text": "推荐意愿？"},
        {"id": "comments", "type": "text", "text": "意见"},
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument(
        "--rate", type=int, default=100, help="chat.postMessage calls per second before 429 (0 = none)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="concurrent fan-out workers (threads) on one round"
    )
    parser.add_argument(
        "--pace", type=float, default=0, help="our own messages/s ceiling (FANOUT_PER_SECOND)"
    )
    parser.add_argument("--chunk", type=int, default=1, help="deliveries claimed per transaction")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file in a temp dir")
    parser.add_argument(
        "--trace-memory", action="store_true", help="also report Python heap peak (tracemalloc; slower)"
    )
    args = parser.parse_args()
    from tests.slack.fake_slack import FakeSlack  # the test suite's fake Web API server

    tmp = Path(tempfile.mkdtemp(prefix="erp-coach-fanout-"))
    with FakeSlack() as fake:
        if args.rate:
            fake.rate_limit(per_second=args.rate, methods=["chat.postMessage"], retry_after=1)
        settings = Settings(
            _env_file=None,
            ERP_COACH_DATA_DIR=tmp,
            DATABASE_URL=args.database_url,
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_API_URL=fake.api_url,
            QUIET_HOURS="",
            WORKING_DAYS="mon-sun",
            FANOUT_PER_SECOND=args.pace,
        )
        services = Services(settings)
        services.db.upgrade()
        with services.db.begin() as session:
            session.execute(
                User.__table__.insert(),
                [
                    {
                        "slack_user_id": f"U{i:06d}",
                        "role": "finance",
                        "slack_locale": "zh-CN",
                        "created_at": utcnow(),
                        "updated_at": utcnow(),
                    }
                    for i in range(args.users)
                ],
            )
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if args.trace_memory:
            tracemalloc.start()

        t0 = time.perf_counter()
        round_ = open_round(
            services.db, parse_survey(SURVEY), utcnow().replace(microsecond=0), services.send_window
        )
        enqueue_s = time.perf_counter() - t0

        sender = SurveySender(services)
        t1 = time.perf_counter()
        if args.workers == 0:
            fan_out(services.db, round_.id, sender, services.send_window, claim_chunk=args.chunk)
        threads = [
            threading.Thread(
                target=fan_out,
                args=(services.db, round_.id, sender, services.send_window),
                kwargs={"claim_chunk": args.chunk},
            )
            for _ in range(args.workers)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        send_s = time.perf_counter() - t1

        heap_peak = tracemalloc.get_traced_memory()[1] / 2**20 if args.trace_memory else None
        rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with services.db.begin() as session:
            progress = round_progress(session, round_.id)
        counts = Counter(c.args["channel"] for c in fake.calls("chat.postMessage"))

    once = len(counts) == args.users and set(counts.values()) == {1}
    print(f"backend            {services.db.dialect}")
    print(f"users              {args.users}")
    print(f"rate limit         {args.rate or 'none'} msg/s (429 + Retry-After: 1)")
    print(f"workers            {args.workers}, claiming {args.chunk} per transaction")
    print(f"enqueue (round + {args.users} delivery rows)  {enqueue_s:.2f} s")
    print(f"send               {send_s:.1f} s  ({progress.sent / send_s:.0f} msg/s)")
    print(f"paced at           {args.pace or 'off'} msg/s")
    print(f"429s answered      {fake.rate_limited}")
    print(f"sent / failed / pending   {progress.sent} / {progress.failed} / {progress.pending}")
    print(f"everyone exactly once     {once}")
    print(
        f"peak RSS           {rss_peak:.0f} MB (before the round: {rss_before:.0f} MB; includes the fake server)"
    )
    if heap_peak is not None:
        print(f"Python heap peak   {heap_peak:.1f} MB during enqueue + send")
    print(f"finished           {dt.datetime.now():%Y-%m-%d %H:%M:%S}")
    if not once:
        sys.exit(1)


if __name__ == "__main__":
    main()
