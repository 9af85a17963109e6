"""The process tier's framing: whole messages through a pipe, deadlines, a closed peer."""

from __future__ import annotations

import contextlib
import os
import struct
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptclisp.sandbox._protocol import FrameReader, pack_frame, write_frame

json_like = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)  # fmt: skip


@pytest.fixture
def pipe():
    read_fd, write_fd = os.pipe()
    yield read_fd, write_fd
    for fd in (read_fd, write_fd):
        with contextlib.suppress(OSError):
            os.close(fd)


@settings(max_examples=25, deadline=None)
@given(messages=st.lists(json_like, min_size=1, max_size=4))
def test_frames_round_trip_in_order(messages):
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, b"".join(pack_frame(m) for m in messages))
        reader = FrameReader(read_fd)
        assert [reader.read(time.monotonic() + 5) for _ in messages] == messages
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_frame_split_across_writes_is_reassembled(pipe):
    read_fd, write_fd = pipe
    frame = pack_frame({"op": "tool", "args": {"x": "y" * 1000}})
    os.write(write_fd, frame[:3])
    os.write(write_fd, frame[3:500])
    os.write(write_fd, frame[500:])
    assert FrameReader(read_fd).read(time.monotonic() + 5)["args"]["x"] == "y" * 1000


def test_large_frames_cross_a_pipe_written_concurrently(pipe):
    import threading

    read_fd, write_fd = pipe
    message = {"blob": b"\x00" * (4 << 20), "n": list(range(1000))}
    writer = threading.Thread(target=write_frame, args=(write_fd, message))
    writer.start()
    assert FrameReader(read_fd).read(time.monotonic() + 10) == message
    writer.join()


def test_silent_peer_hits_the_deadline(pipe):
    read_fd, _ = pipe
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        FrameReader(read_fd).read(time.monotonic() + 0.2)
    assert time.monotonic() - started >= 0.2


def test_an_answer_already_waiting_is_taken_past_the_deadline(pipe):
    read_fd, write_fd = pipe
    write_frame(write_fd, {"op": "result"})
    assert FrameReader(read_fd).read(time.monotonic() - 1) == {"op": "result"}


def test_closed_peer_is_eof(pipe):
    read_fd, write_fd = pipe
    os.write(write_fd, pack_frame({"a": 1})[:2])
    os.close(write_fd)
    with pytest.raises(EOFError):
        FrameReader(read_fd).read(time.monotonic() + 5)


def test_absurd_length_header_is_rejected(pipe):
    read_fd, write_fd = pipe
    os.write(write_fd, struct.pack(">I", 0xFFFFFFFF))
    with pytest.raises(EOFError, match="corrupt"):
        FrameReader(read_fd).read(time.monotonic() + 5)
