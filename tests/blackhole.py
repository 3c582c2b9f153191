"""A TCP proxy on 127.0.0.1 that can silently stop forwarding: a network partition, no RST.

While ``forwarding`` is on, bytes flow both ways between a client and the upstream server.
After ``partition()``, every open connection stays open but nothing more is forwarded in
either direction, and new connections are accepted and then ignored: what a dropped route
looks like to the client (its reads never return, its writes succeed into the void).
"""

from __future__ import annotations

import asyncio
import contextlib


class BlackHoleProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.forwarding = True
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> BlackHoleProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def partition(self) -> None:
        self.forwarding = False

    def heal(self) -> None:
        self.forwarding = True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        if not self.forwarding:
            await self._swallow(reader)
            return
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self._writers.add(up_writer)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _swallow(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(Exception):
            while await reader.read(65536):
                pass

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await src.read(65536):
                if not self.forwarding:
                    continue  # dropped on the floor, connection left open
                dst.write(data)
                await dst.drain()
            if self.forwarding:  # a close before the partition reaches the other side
                dst.close()
