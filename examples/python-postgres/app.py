#!/usr/bin/env python3
"""kafka-chaos example service: Kafka input topic -> PostgreSQL table.

The service under test for kafka-chaos's `app` profiles. It consumes the run's input topic in the
consumer group KAFKA_CHAOS_GROUP_ID and writes one row per record, with one INSERT per record, to
the table KAFKA_CHAOS_SINK_TABLE. The row's `id` is the record's identity "<kc-producer>:<kc-seq>"
taken from its headers; `payload` is the record's value.

Two switches from the environment (the profile's app.env) decide what it guarantees:

APP_INSERT=plain   INSERT INTO t (id, payload) VALUES (%s, %s)
APP_INSERT=ignore  the same with ON CONFLICT (id) DO NOTHING: a record written twice stays one row
                   (the table needs a primary key or unique constraint on id)

APP_COMMIT=after   each INSERT is its own database transaction, durable at once; the consumed
                   offsets are committed to Kafka every 1000 records or every second, whichever
                   comes first, always after the rows they cover. Kafka's offsets trail the
                   database, so a crash writes the records since the last offset commit again:
                   at-least-once (duplicate rows unless APP_INSERT=ignore).
APP_COMMIT=before  the bug: the offsets of the records just polled are committed to Kafka before
                   their rows are written; the rows are written in one database transaction that
                   is committed every second. Kafka's offsets lead the database, so a crash
                   loses the rows polled since the last database commit (up to a second's worth).

SIGTERM (and SIGINT) stop it gracefully: it writes what it has polled, commits the database and
then the offsets, and leaves the group. Records without the identity headers are stored with the
id '' so the checker sees them as foreign rather than crashing the service.
"""

import os
import signal
import sys
import time

import psycopg
from confluent_kafka import Consumer, KafkaError, KafkaException
from psycopg import sql

COMMIT_EVERY_RECORDS = 1000
COMMIT_EVERY_SECONDS = 1.0
POLL_SECONDS = 0.05


def log(message):
    print(f"kafka-chaos-example: {message}", flush=True)


def env(name, default=None):
    value = os.environ.get(name, "")
    if value == "":
        if default is None:
            log(f"missing environment variable {name}")
            sys.exit(2)
        return default
    return value


def choice(name, default, allowed):
    value = env(name, default)
    if value not in allowed:
        log(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        sys.exit(2)
    return value


def kafka_config():
    conf = {
        "bootstrap.servers": env("KAFKA_CHAOS_BOOTSTRAP"),
        "group.id": env("KAFKA_CHAOS_GROUP_ID"),
        "client.id": f"kafka-chaos-example-{env('KAFKA_CHAOS_INSTANCE', '0')}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        # The brokers' minimum session timeout is 6 s: a crashed instance's partitions move soon.
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 1000,
        # Only read committed transactional data (the default, spelled out).
        "isolation.level": "read_committed",
    }
    protocol = env("KAFKA_CHAOS_SECURITY_PROTOCOL", "PLAINTEXT")
    conf["security.protocol"] = protocol
    if protocol.startswith("SASL"):
        conf["sasl.mechanism"] = env("KAFKA_CHAOS_SASL_MECHANISM", "PLAIN")
        conf["sasl.username"] = env("KAFKA_CHAOS_SASL_USERNAME")
        conf["sasl.password"] = env("KAFKA_CHAOS_SASL_PASSWORD")
    if protocol.endswith("SSL") and os.environ.get("KAFKA_CHAOS_SSL_CA_FILE"):
        conf["ssl.ca.location"] = os.environ["KAFKA_CHAOS_SSL_CA_FILE"]
    return conf


def identity(msg):
    """The record's identity "<kc-producer>:<kc-seq>", or '' when a header is missing."""
    headers = dict(msg.headers() or [])
    producer, seq = headers.get("kc-producer"), headers.get("kc-seq")
    if producer is None or seq is None:
        return ""
    try:
        return f"{producer.decode('utf-8')}:{seq.decode('utf-8')}"
    except (AttributeError, UnicodeDecodeError):
        return ""


class Service:
    def __init__(self):
        self.topic = env("KAFKA_CHAOS_INPUT_TOPIC")
        self.table = env("KAFKA_CHAOS_SINK_TABLE")
        self.insert_mode = choice("APP_INSERT", "plain", ["plain", "ignore"])
        self.commit_mode = choice("APP_COMMIT", "after", ["after", "before"])
        insert = "INSERT INTO {} (id, payload) VALUES (%s, %s)"
        if self.insert_mode == "ignore":
            insert += " ON CONFLICT (id) DO NOTHING"
        self.insert = sql.SQL(insert).format(sql.Identifier(self.table))

        # "after": every INSERT is durable at once. "before": rows wait for the periodic commit.
        self.db = psycopg.connect(env("KAFKA_CHAOS_SINK_URL"), autocommit=self.commit_mode == "after")
        self.consumer = Consumer(kafka_config())

        self.stopping = False
        self.ready = False
        # Per partition: the offset last committed to Kafka by this instance.
        self.committed = {}
        self.since_commit = 0
        self.last_commit = time.monotonic()
        self.written = 0
        self.commits = 0

    # -- Kafka -----------------------------------------------------------------------------------
    def on_assign(self, consumer, partitions):
        for p in partitions:
            self.committed.pop(p.partition, None)
        if not self.ready:
            self.ready = True
            log(f"ready (APP_INSERT={self.insert_mode}, APP_COMMIT={self.commit_mode})")
        log("assigned partitions " + ",".join(str(p.partition) for p in partitions))

    def on_revoke(self, consumer, partitions):
        # Hand over cleanly: what was written for these partitions gets committed first.
        revoked = {p.partition for p in partitions}
        log("revoked partitions " + ",".join(str(p) for p in sorted(revoked)))
        self.flush(only=revoked)
        for p in revoked:
            self.committed.pop(p, None)

    def commit_positions(self, only=None):
        """Commits the consumer's position (the offset after the last record it handed out, past
        any transaction marker) of every assigned partition that moved since its last commit."""
        assigned = [tp for tp in self.consumer.assignment() if only is None or tp.partition in only]
        if not assigned:
            return
        moved = [
            tp
            for tp in self.consumer.position(assigned)
            if tp.offset >= 0 and self.committed.get(tp.partition) != tp.offset
        ]
        if not moved:
            return
        try:
            self.consumer.commit(offsets=moved, asynchronous=False)
        except KafkaException as e:
            # Cut connection, rebalance under way: the next commit covers these offsets too.
            log(f"offset commit failed: {e}")
            return
        for tp in moved:
            self.committed[tp.partition] = tp.offset
        self.commits += 1

    # -- the loop --------------------------------------------------------------------------------
    def write(self, msgs):
        with self.db.cursor() as cur:
            for msg in msgs:
                cur.execute(self.insert, (identity(msg), msg.value()))
                self.written += 1

    def flush(self, only=None):
        """"after": commit the offsets of the rows written so far. "before": commit the database."""
        if self.commit_mode == "after":
            self.commit_positions(only)
        else:
            self.db.commit()
        if only is None:
            self.since_commit = 0
            self.last_commit = time.monotonic()

    def handle(self, msgs):
        records = []
        for msg in msgs:
            err = msg.error()
            if err is None:
                records.append(msg)
            elif err.code() != KafkaError._PARTITION_EOF:
                log(f"consume error: {err}")
                if err.fatal():
                    raise KafkaException(err)
        if not records:
            return
        if self.commit_mode == "before":
            # The bug: the records count as consumed before their rows exist anywhere.
            self.commit_positions()
        self.write(records)
        self.since_commit += len(records)

    def run(self):
        def stop(signum, _frame):
            log(f"signal {signum}: stopping")
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

        self.consumer.subscribe([self.topic], on_assign=self.on_assign, on_revoke=self.on_revoke)
        log(f"subscribed to {self.topic} as group {env('KAFKA_CHAOS_GROUP_ID')}")
        while not self.stopping:
            due = self.last_commit + COMMIT_EVERY_SECONDS - time.monotonic()
            # Short polls: records are handled as they arrive, not gathered into a batch first.
            msgs = self.consumer.consume(
                num_messages=max(1, COMMIT_EVERY_RECORDS - self.since_commit)
                if self.commit_mode == "after"
                else COMMIT_EVERY_RECORDS,
                timeout=max(0.0, min(due, POLL_SECONDS)),
            )
            self.handle(msgs)
            # "after" commits offsets every 1000 records or every second; "before" commits the
            # database every second (its offsets went to Kafka at each poll).
            by_count = self.commit_mode == "after" and self.since_commit >= COMMIT_EVERY_RECORDS
            if by_count or time.monotonic() - self.last_commit >= COMMIT_EVERY_SECONDS:
                self.flush()
        self.flush()
        self.consumer.close()
        self.db.close()
        log(f"stopped: {self.written} rows written, {self.commits} offset commits")


def main():
    Service().run()


if __name__ == "__main__":
    main()
