"""Length-prefixed msgpack framing (``_wire``) between the host and a pool worker.

A frame is a 4-byte big-endian length followed by one msgpack object. Both sides write whole
frames; the host reads with a deadline (``select``) so a silent guest cannot hang it.

Messages (all plain dicts):

    guest → host   {"op": "ready", "pid": int}
                   {"op": "tool", "name": str, "args": {...}}
                   {"op": "result", "result": Result.to_dict()}
    host → guest   {"op": "run", "request": {...}}          (see sandbox._guest)
                   {"op": "tool_answer", "answer": {...}}   (see sandbox._bridge)
"""

from __future__ import annotations

import os
import select
import struct
import time
from typing import Any

from ._wire import pack_result, packb, unpackb

__all__ = ["MAX_FRAME", "FrameReader", "pack_frame", "write_frame", "write_packed"]

_HEADER = struct.Struct(">I")
MAX_FRAME = 1 << 30


def pack_frame(message: Any) -> bytes:
    is_result = isinstance(message, dict) and message.get("op") == "result"
    body = pack_result(message, "result") if is_result else packb(message)
    if len(body) > MAX_FRAME:
        raise ValueError(f"message of {len(body)} bytes exceeds the frame limit")
    return _HEADER.pack(len(body)) + body


def write_frame(fd: int, message: Any) -> None:
    write_packed(fd, pack_frame(message))


def write_packed(fd: int, frame: bytes) -> None:
    """Write a frame ``pack_frame`` made."""
    view = memoryview(frame)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FrameReader:
    """Reads frames from a pipe fd.

    ``EOFError`` when the peer closed, ``TimeoutError`` at the deadline.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = bytearray()

    def read(self, deadline: float | None = None) -> Any:
        header = self._take(_HEADER.size, deadline)
        (length,) = _HEADER.unpack(header)
        if length > MAX_FRAME:
            raise EOFError(f"corrupt frame header (length {length})")
        return unpackb(self._take(length, deadline))

    def _take(self, n: int, deadline: float | None) -> bytes:
        while len(self._buffer) < n:
            self._wait(deadline)
            chunk = os.read(self._fd, max(65536, n - len(self._buffer)))
            if not chunk:
                raise EOFError("the peer closed the channel")
            self._buffer += chunk
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    def _wait(self, deadline: float | None) -> None:
        if deadline is None:
            return
        # Past the deadline still polls once: an answer already waiting is taken, not discarded.
        remaining = max(0.0, deadline - time.monotonic())
        if not select.select([self._fd], [], [], remaining)[0]:
            raise TimeoutError("no answer from the guest before the deadline")
