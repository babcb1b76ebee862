"""The click consumer's transaction against the local DynamoDB as the table fills up.

A server process holds the links table; a client puts links and, at each milestone, times the
consumer's largest transaction (a checkpoint plus an ADD on 49 links and 49 stats items: 99
actions) and a GetItem, and reads the server's RSS. The store's cost should not grow with the
table. `--moto` measures moto's server the same way, as the local server used it before
(docs/design.md, "Local store"); it takes minutes and gigabytes past 1,000 links.

    .venv/bin/python -m bench.store_transactions [--moto]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import boto3
from botocore.config import Config

from bench.common import ROOT

TABLE = "squrl-urls-bench"
MILESTONES = (49, 1000, 5000, 20000)
MOTO_MILESTONES = (49, 1000, 2000)
CODES_PER_TRANSACTION = 49

_SERVE_STORE = """
import pathlib, sys, threading
from devserver.emulator import Emulator
emulator = Emulator(data_dir=pathlib.Path(sys.argv[1])).start()
emulator.create_table(sys.argv[2], "us-east-1")
print(emulator.endpoint, flush=True)
threading.Event().wait()
"""
_SERVE_MOTO = """
import sys, threading, boto3
from moto.server import ThreadedMotoServer
from shared.contracts import table
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
endpoint = f"http://{host}:{port}"
client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
client.create_table(**table.create_table_request(sys.argv[2]))
client.update_time_to_live(**table.ttl_request(sys.argv[2]))
print(endpoint, flush=True)
threading.Event().wait()
"""


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _link(index: int) -> dict[str, Any]:
    return {
        "short_code": {"S": f"c{index:07d}"},
        "original_url": {"S": f"https://example.com/{index}"},
        "created_at": {"S": "2024-01-01T00:00:00Z"},
        "owner_id": {"S": "bench"},
        "status": {"S": "active"},
        "redirect_type": {"N": "301"},
        "click_count": {"N": "0"},
    }


def _transaction(codes: list[str], sequence: int) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": TABLE,
                "Key": {"short_code": {"S": "checkpoint#bench#0"}},
                "UpdateExpression": "SET #seq = :seq",
                "ExpressionAttributeNames": {"#seq": "seq"},
                "ExpressionAttributeValues": {":seq": {"S": f"{sequence:020d}"}},
            }
        }
    ]
    for code in codes:
        actions.append(
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"short_code": {"S": code}},
                    "UpdateExpression": "ADD #human :one",
                    "ConditionExpression": "attribute_exists(#pk)",
                    "ExpressionAttributeNames": {"#human": "click_count", "#pk": "short_code"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
        )
        actions.append(
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"short_code": {"S": f"stats#{code}"}},
                    "UpdateExpression": "ADD #d :one, #r :one, #c :one, #v :one",
                    "ExpressionAttributeNames": {
                        "#d": "d:2024-01-01",
                        "#r": "r:(direct)",
                        "#c": "c:DE",
                        "#v": "v:desktop",
                    },
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
        )
    return actions


def measure(server_code: str, milestones: tuple[int, ...]) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
    with tempfile.TemporaryDirectory(prefix="squrl-bench-") as data_dir:
        server = subprocess.Popen(
            [sys.executable, "-c", server_code, data_dir, TABLE],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert server.stdout is not None
            endpoint = server.stdout.readline().decode().strip()
            client = boto3.client(
                "dynamodb",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
                config=Config(read_timeout=900, retries={"max_attempts": 0}),
            )
            return _measure(client, server.pid, milestones)
        finally:
            server.kill()
            server.wait()


def _measure(client: Any, pid: int, milestones: tuple[int, ...]) -> list[dict[str, Any]]:
    results = []
    links = 0
    sequence = 0
    for milestone in milestones:
        while links < milestone:
            client.put_item(TableName=TABLE, Item=_link(links))
            links += 1
        codes = [f"c{index:07d}" for index in range(links - CODES_PER_TRANSACTION, links)]
        samples = []
        for _ in range(3):
            sequence += 1
            started = time.perf_counter()
            client.transact_write_items(TransactItems=_transaction(codes, sequence))
            samples.append(time.perf_counter() - started)
        reads = []
        for code in codes:
            started = time.perf_counter()
            client.get_item(TableName=TABLE, Key={"short_code": {"S": code}})
            reads.append(time.perf_counter() - started)
        results.append(
            {
                "links": links,
                "transaction_99_actions_ms": round(statistics.median(samples) * 1000, 1),
                "get_item_p50_ms": round(statistics.median(reads) * 1000, 2),
                "server_rss_mb": _rss_mb(pid),
            }
        )
    return results


def run() -> dict[str, Any]:
    return {"store": measure(_SERVE_STORE, MILESTONES)}


if __name__ == "__main__":
    results = run()
    if "--moto" in sys.argv[1:]:
        results["moto_stream_on"] = measure(_SERVE_MOTO, MOTO_MILESTONES)
    print(json.dumps(results, indent=2))
