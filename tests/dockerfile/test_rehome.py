"""Moving root's home: which uses of ``/root`` move, which stop the move, and
how offsets of the moved text map back to the original."""

from __future__ import annotations

import pytest

from rewriter.core.edits import Edit
from rewriter.core.settings import Settings
from rewriter.dockerfile.model import analyse
from rewriter.dockerfile.rehome import rehome
from rewriter.dockerfile.syntax import parse

HOME = "/home/appuser"


def _move(text: str):
    info = analyse(parse(text), Settings()).runtime
    return rehome(text, info, HOME)


def test_env_workdir_copy_run_and_command_move() -> None:
    text = ("FROM debian:bookworm-slim\n"
            "ENV HOME /root\n"
            "COPY app.ini /root/app.ini\n"
            "RUN mkdir -p /root/.cache && echo x > /root/.cache/seed\n"
            "WORKDIR /root\n"
            'CMD ["tool", "--config", "/root/app.ini"]\n')
    move = _move(text)
    assert move is not None
    assert "/root" not in move.text
    assert move.text == text.replace("/root", HOME)
    assert len(move.edits) == 6


def test_sources_and_longer_names_stay() -> None:
    text = ("FROM debian:bookworm-slim AS build\n"
            "RUN touch /root/out\n"
            "FROM debian:bookworm-slim\n"
            "COPY --from=build /root/out /root/out\n"
            "RUN ls /rootfs /opt/root\n"
            "WORKDIR /root\n")
    move = _move(text)
    assert move is not None
    # the other stage, the --from source and /rootfs, /opt/root are untouched
    assert move.text == text.replace("/root/out\nRUN ls", f"{HOME}/out\nRUN ls") \
        .replace("WORKDIR /root", f"WORKDIR {HOME}")


@pytest.mark.parametrize("line", [
    "VOLUME /root/data",                      # its users mount it by path
    "ENV PATH=/root/.cargo/bin:$PATH",        # a tool installed in the home
    "ARG CONF=/root/app.ini",                 # its users pass it
    "RUN . /root/.profile && make",           # the base image's file
    "VOLUME $HOME/data",                      # moves with HOME
])
def test_what_stops_the_move(line: str) -> None:
    text = f"FROM debian:bookworm-slim\nENV HOME /root\nWORKDIR /root\n{line}\nCMD [\"app\"]\n"
    assert _move(text) is None


def test_no_use_of_root_is_no_move() -> None:
    assert _move("FROM debian:bookworm-slim\nWORKDIR /srv\nCMD [\"app\"]\n") is None


def test_offsets_map_back() -> None:
    text = "FROM debian:bookworm-slim\nWORKDIR /root\nCMD [\"app\"]\n"
    move = _move(text)
    assert move is not None
    cmd_at = move.text.index("CMD")
    assert move.original(cmd_at) == text.index("CMD")
    assert move.original(move.text.index(HOME) + 3) is None  # inside the moved path
    assert move.back(Edit.insert(cmd_at, "USER 1\n")) == Edit.insert(text.index("CMD"), "USER 1\n")
    assert move.back(Edit(move.text.index(HOME) + 1, cmd_at, "")) is None
