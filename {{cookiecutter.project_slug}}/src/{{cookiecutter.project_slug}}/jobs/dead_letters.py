"""Dead letters: the jobs that failed on every try, kept JOBS_DEAD_LETTER_TTL in Redis.

    python -m <package>.jobs.dead_letters list [--limit N]
    python -m <package>.jobs.dead_letters requeue (MESSAGE_ID ... | --all)
    python -m <package>.jobs.dead_letters delete (MESSAGE_ID ... | --all)

`list` prints one JSON object per message, oldest first: its id (the `message_id` of its log
lines), actor, arguments, the request_id that sent it, its tries and its last error. `requeue`
sends a message again with its tries reset (once its cause is fixed); `delete` drops it.
"""

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any, cast

import orjson
from dramatiq import Broker, Message
from dramatiq.common import q_name
from redis import Redis

from {{ cookiecutter.project_slug }}.config import (
    Settings,
    get_settings,
)
from {{ cookiecutter.project_slug }}.jobs.broker import (
    create_broker,
    create_client,
    namespace,
)
from {{ cookiecutter.project_slug }}.jobs.middleware import SENT

# Options the broker and the middleware add to a message; a requeued one starts without them.
SPENT_OPTIONS = frozenset(
    {"redis_message_id", "eta", "retries", "traceback", "requeue_timestamp", SENT}
)


class DeadLetterQueue:
    """One queue's dead letters, as the Redis broker keeps them: a sorted set of ids by the
    time they died, and a hash of the messages."""

    def __init__(self, settings: Settings, name: str, client: Redis | None = None) -> None:
        self.name = name
        self.client = client or create_client(settings)
        self.ids_key = f"{namespace(settings)}:{name}.XQ"
        self.messages_key = f"{self.ids_key}.msgs"

    def count(self) -> int:
        return int(self.client.zcard(self.ids_key))

    def entries(self, limit: int | None = None) -> list[tuple[str, Message[Any], float]]:
        """(broker key, message, dead since as a UNIX time), oldest first."""
        last = -1 if limit is None else limit - 1
        found = cast(
            list[tuple[bytes, float]], self.client.zrange(self.ids_key, 0, last, withscores=True)
        )
        if not found:
            return []
        keys = [key.decode() for key, _ in found]
        data = cast(list[bytes | None], self.client.hmget(self.messages_key, keys))
        return [
            (key, Message.decode(raw), score / 1000)
            for key, raw, (_, score) in zip(keys, data, found, strict=True)
            if raw is not None
        ]

    def select(self, message_ids: Sequence[str] | None) -> list[tuple[str, Message[Any], float]]:
        """The entries with these message ids, or all of them for None."""
        entries = self.entries()
        if message_ids is None:
            return entries
        wanted = set(message_ids)
        return [entry for entry in entries if entry[1].message_id in wanted]

    def remove(self, key: str) -> None:
        pipe = self.client.pipeline()
        pipe.zrem(self.ids_key, key)
        pipe.hdel(self.messages_key, key)
        pipe.execute()

    def requeue(self, broker: Broker, message_ids: Sequence[str] | None) -> list[str]:
        """Send the messages again with fresh tries, then drop them here."""
        done = []
        for key, message, _ in self.select(message_ids):
            options = {k: v for k, v in message.options.items() if k not in SPENT_OPTIONS}
            fresh: Message[Any] = Message(
                queue_name=q_name(message.queue_name),
                actor_name=message.actor_name,
                args=message.args,
                kwargs=message.kwargs,
                options=options,
                message_id=message.message_id,
            )
            broker.enqueue(fresh)
            self.remove(key)
            done.append(message.message_id)
        return done

    def delete(self, message_ids: Sequence[str] | None) -> list[str]:
        done = []
        for key, message, _ in self.select(message_ids):
            self.remove(key)
            done.append(message.message_id)
        return done


def describe(queue: str, message: Message[Any], dead_since: float) -> dict[str, Any]:
    traceback = message.options.get("traceback") or ""
    return {
        "queue": queue,
        "message_id": message.message_id,
        "actor": message.actor_name,
        "args": message.args,
        "kwargs": message.kwargs,
        "request_id": message.options.get("request_id"),
        "tries": message.options.get("retries", 0),
        "dead_since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(dead_since)),
        "error": traceback.strip().splitlines()[-1] if traceback.strip() else None,
    }


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name if __spec__ else __name__}",
        description="List, requeue or delete the jobs that failed on every try.",
    )
    found.add_argument("--queue", action="append", help="a queue (default: JOBS_QUEUES)")
    commands = found.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="print the dead letters, one JSON line each")
    listing.add_argument("--limit", type=int, default=None)
    for name, text in (("requeue", "send them again, tries reset"), ("delete", "drop them")):
        command = commands.add_parser(name, help=text)
        command.add_argument("message_ids", nargs="*", metavar="MESSAGE_ID")
        command.add_argument("--all", action="store_true", help="every dead letter")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = get_settings()
    queues = [DeadLetterQueue(settings, name) for name in args.queue or settings.jobs_queues]
    out = sys.stdout
    if args.command == "list":
        for queue in queues:
            for _, message, dead_since in queue.entries(args.limit):
                out.write(orjson.dumps(describe(queue.name, message, dead_since)).decode() + "\n")
        return 0
    if not args.message_ids and not args.all:
        sys.stderr.write(f"{args.command}: name the MESSAGE_IDs, or pass --all\n")
        return 2
    chosen = None if args.all else args.message_ids
    if args.command == "requeue":
        broker = create_broker(settings)
        done = [mid for queue in queues for mid in queue.requeue(broker, chosen)]
    else:
        done = [mid for queue in queues for mid in queue.delete(chosen)]
    for message_id in done:
        out.write(f"{args.command}d {message_id}\n")
    missing = set(chosen or ()) - set(done)
    for message_id in sorted(missing):
        sys.stderr.write(f"not found: {message_id}\n")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
