"""A small asyncio HTTP/1.1 load generator: keep-alive connections, bodies built and signed at send time.

Closed loop (as fast as the server answers, `concurrency` requests in flight) or open loop (a fixed
rate; a request's clock starts at its scheduled time, so a slow server cannot hide its queueing).
Send times are wall-clock (time.time()) so they compare with the simulators' timestamps.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

MakeRequest = Callable[[int], tuple[str, bytes, dict[str, str]]]  # index -> (key, body, headers)
PathOf = Callable[[int], str]  # index -> the request's path, where requests do not all go to the URL's


@dataclass(frozen=True)
class Sent:
    key: str
    at: float  # wall clock when sent (open loop: when it was due)
    status: int  # 0 when no HTTP answer came back
    answered: float


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        for attempt in (1, 2):  # a keep-alive connection the server closed while idle: reconnect once
            try:
                if self.writer is None:
                    await self._open()
                assert self.reader is not None and self.writer is not None
                self.writer.write(head.encode() + body)
                await self.writer.drain()
                raw = await self.reader.readuntil(b"\r\n\r\n")
                lines = raw.decode("latin-1").split("\r\n")
                fields = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
                await self.reader.readexactly(int(fields.get("content-length", "0")))
                if fields.get("connection", "").lower() == "close":
                    self.close()
                return int(lines[0].split()[1])
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
                self.close()
                if attempt == 2:
                    return 0
        return 0


async def _closed_loop(
    url: str, make: MakeRequest, concurrency: int, deadline: float, count: int, path_of: PathOf | None
) -> list[Sent]:
    parts = urlsplit(url)
    counter = itertools.count()
    sent: list[Sent] = []

    async def client() -> None:
        connection = _Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        try:
            while time.monotonic() < deadline:
                index = next(counter)
                if index >= count:
                    return
                key, body, headers = make(index)
                at = time.time()
                status = await connection.post(path_of(index) if path_of else parts.path, body, headers)
                sent.append(Sent(key, at, status, time.time()))
        finally:
            connection.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return sent


async def _open_loop(url: str, make: MakeRequest, concurrency: int, rate: float, seconds: float) -> list[Sent]:
    parts = urlsplit(url)
    pool: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(concurrency):
        pool.put_nowait(_Connection(parts.hostname or "127.0.0.1", parts.port or 80))
    sent: list[Sent] = []

    async def one(index: int, due: float) -> None:
        key, body, headers = make(index)
        connection = await pool.get()
        try:
            status = await connection.post(parts.path, body, headers)
        finally:
            pool.put_nowait(connection)
        sent.append(Sent(key, due, status, time.time()))

    start_wall, start = time.time(), time.monotonic()
    tasks = []
    for index in range(int(rate * seconds)):
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, start_wall + index / rate)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().close()
    return sent


def post(
    url: str,
    make: MakeRequest,
    *,
    concurrency: int,
    seconds: float = 3600.0,
    count: int = 2**62,
    rate: float | None = None,
    path_of: PathOf | None = None,
) -> list[Sent]:
    """POST make(0), make(1), ... to `url` (or to path_of(index) on its host) until `seconds` pass or `count`
    requests are sent; closed loop unless `rate` is given."""
    if rate is not None:
        if path_of is not None:
            raise ValueError("path_of is for the closed loop")
        return asyncio.run(_open_loop(url, make, concurrency, rate, seconds))
    return asyncio.run(_closed_loop(url, make, concurrency, time.monotonic() + seconds, count, path_of))
