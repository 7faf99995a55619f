"""The framer against hostile streams: garbage of every kind never hides the next good telegram, and the collector
survives megabytes of it over real TCP with a log that stays short."""

import random
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.framer import Framer
from ingest.simulators.household import Household
from ingest.simulators.p1 import telegram
from tests.database import count
from tests.peers import OneShotServer, collector
from tests.procs import stop, wait_for


def good_telegrams(n: int) -> list[bytes]:
    """n consecutive telegrams of the simulated meter, one second apart (each ends with CRLF)."""
    house = Household(now=datetime(2026, 6, 15, 11, 0, 0, tzinfo=UTC))
    frames = []
    for _ in range(n):
        house.advance(1.0)
        frames.append(telegram(house))
    return frames


GOOD = good_telegrams(2)


def frames_of(*chunks: bytes) -> tuple[list[bytes], Framer]:
    """Everything a fresh framer returns for these chunks."""
    framer = Framer()
    return [frame for chunk in chunks for frame in framer.feed(chunk)], framer


def test_a_telegram_is_returned_without_its_line_end():
    frames, framer = frames_of(GOOD[0])
    assert frames == [GOOD[0].removesuffix(b"\r\n")]
    assert (framer.noise_bytes, framer.unfinished, framer.buffer) == (0, 0, b"")


def test_the_good_telegram_after_a_megabyte_of_random_bytes_is_returned():
    noise = random.Random(3).randbytes(1 << 20)
    frames, _ = frames_of(*(noise[i:i + 4096] for i in range(0, len(noise), 4096)), GOOD[0])
    assert frames[-1] == GOOD[0].removesuffix(b"\r\n")


def test_a_stray_slash_in_the_middle_of_a_line_takes_nothing_with_it():
    frames, framer = frames_of(b"line noise / more noise/", GOOD[0], b"x/x", GOOD[1])
    assert frames == [g.removesuffix(b"\r\n") for g in GOOD]
    assert framer.noise_bytes == len(b"line noise / more noise/x/x")


def test_telegrams_cut_short_are_counted_and_the_next_one_is_whole():
    cut = GOOD[0][: len(GOOD[0]) // 2]
    frames, framer = frames_of(cut, cut, b"/FLU5\\253769484_A\r\n\r\n" + b"1-0:1.8.1(" * 2000, GOOD[1])
    assert frames == [GOOD[1].removesuffix(b"\r\n")]
    assert framer.unfinished == 3  # two halves, and one far too long to be a telegram


def test_a_telegram_split_at_any_byte_is_returned_once():
    data = GOOD[0] + GOOD[1]
    for cut in range(len(data) + 1):
        frames, framer = frames_of(data[:cut], data[cut:])
        assert frames == [g.removesuffix(b"\r\n") for g in GOOD], cut
        assert framer.noise_bytes == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.binary(max_size=300), st.lists(st.integers(1, 500), min_size=1))
def test_no_prefix_suffix_or_chunking_hides_a_good_telegram(prefix, suffix, sizes):
    data = prefix + GOOD[0] + suffix
    framer, frames, position = Framer(), [], 0
    for size in sizes * (len(data) // sum(sizes) + 1):
        frames += framer.feed(data[position:position + size])
        position += size
    assert GOOD[0].removesuffix(b"\r\n") in frames


def test_megabytes_of_garbage_over_tcp_cost_no_telegram_and_no_flood_of_log_lines(db_url, tmp_path):
    good = good_telegrams(4)
    garbage = (random.Random(5).randbytes(2 << 20) + b"/" * (1 << 20)
               + b"/FLU5\\253769484_A\r\n\r\n" * 50_000 + b"/FLU5\\253769484_A\r\n\r\n" + b"0" * 100_000)
    payload = good[0] + garbage + good[1] + b"noise/" + good[2] + garbage + good[3]
    server = OneShotServer(payload)
    process = collector(server.port, db_url, tmp_path)
    try:
        wait_for(lambda: count(db_url, "dsmr", "power_import") == 4, timeout=60, what="the four good telegrams")
        assert process.poll() is None
    finally:
        stop(process)
    log = (tmp_path / "collector.log").read_text()
    assert "(bytes of noise)" in log and "(unfinished telegrams)" in log
    assert len(log.splitlines()) < 20, log[-3000:]
