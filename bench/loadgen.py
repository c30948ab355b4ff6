"""A small HTTP/1.1 load generator for loopback benchmarks (asyncio, keep-alive, no dependencies).

Each connection sends one request at a time and waits for the whole answer; latency is from
the first byte written to the last byte read. Every run is bounded by a request count and by
a time limit, whichever comes first. Non-2xx answers are counted as errors (and the first few
are kept so the report can say why).
"""

import asyncio
import json
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    name: str
    connections: int
    latencies: list = field(default_factory=list)  # seconds, one per completed request
    errors: int = 0
    samples: list = field(default_factory=list)  # (status, first bytes of the body) of some errors
    elapsed: float = 0.0

    @property
    def count(self):
        return len(self.latencies)

    def percentile(self, p):
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[index]

    @property
    def throughput(self):
        return self.count / self.elapsed if self.elapsed else 0.0

    def summary(self):
        return {
            "name": self.name,
            "connections": self.connections,
            "requests": self.count,
            "errors": self.errors,
            "seconds": round(self.elapsed, 2),
            "per_second": round(self.throughput, 1),
            "p50_ms": round(self.percentile(50) * 1000, 1),
            "p90_ms": round(self.percentile(90) * 1000, 1),
            "p99_ms": round(self.percentile(99) * 1000, 1),
            "max_ms": round(max(self.latencies) * 1000, 1) if self.latencies else None,
            "error_samples": self.samples[:3],
        }


class Connection:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
            self.writer = None

    async def request(self, method, path, headers=None, body=b""):
        """(status, headers dict with lower-case names, body bytes); reconnects when the server closed."""
        if self.writer is None:
            await self.open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: keep-alive"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        answer = {}
        cookies = []
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookies.append(value)
            answer[name] = value
        answer["set-cookie"] = cookies
        if "content-length" in answer:
            data = await self.reader.readexactly(int(answer["content-length"]))
        elif answer.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            data = b"".join(parts)
        else:
            data = await self.reader.read()
            await self.close()
        if answer.get("connection", "").lower() == "close":
            await self.close()
        return status, answer, data


async def _worker(conn, make_request, result, budget, deadline):
    while budget["left"] > 0 and time.perf_counter() < deadline:
        budget["left"] -= 1
        method, path, headers, body = make_request(budget["sent"])
        budget["sent"] += 1
        started = time.perf_counter()
        try:
            status, _headers, data = await conn.request(method, path, headers, body)
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as error:
            await conn.close()
            result.errors += 1
            result.samples.append((0, str(error)[:200]))
            continue
        took = time.perf_counter() - started
        if 200 <= status < 300:
            result.latencies.append(took)
        else:
            result.errors += 1
            if len(result.samples) < 5:
                result.samples.append((status, data[:300].decode("utf-8", "replace")))


async def _run(host, port, name, make_request, connections, count, seconds, warmup):
    conns = [Connection(host, port) for _ in range(connections)]
    for conn in conns:
        await conn.open()
    if warmup:
        scratch = Result(name, connections)
        budget = {"left": warmup, "sent": 0}
        await asyncio.gather(*(_worker(c, make_request, scratch, budget, time.perf_counter() + seconds) for c in conns))
    result = Result(name, connections)
    budget = {"left": count, "sent": 0}
    started = time.perf_counter()
    await asyncio.gather(*(_worker(c, make_request, result, budget, started + seconds) for c in conns))
    result.elapsed = time.perf_counter() - started
    for conn in conns:
        await conn.close()
    return result


def run(host, port, name, make_request, *, connections=1, count=200, seconds=60.0, warmup=10):
    """Send ``count`` requests (at most ``seconds``) over ``connections`` keep-alive connections.
    ``make_request(i)`` returns (method, path, headers, body) for the i-th request."""
    return asyncio.run(_run(host, port, name, make_request, connections, count, seconds, warmup))


def get(path, headers=None):
    return lambda i: ("GET", path, headers or {}, b"")


def post_json(path, payload_for, headers=None):
    def make(i):
        body = json.dumps(payload_for(i), ensure_ascii=False).encode()
        return "POST", path, {"Content-Type": "application/json", **(headers or {})}, body

    return make


def fetch(host, port, method, path, headers=None, body=b""):
    """One request on a fresh connection: (status, headers, body)."""

    async def once():
        conn = Connection(host, port)
        try:
            return await conn.request(method, path, headers, body)
        finally:
            await conn.close()

    return asyncio.run(once())
