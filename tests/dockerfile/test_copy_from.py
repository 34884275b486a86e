"""The build-context files a runtime stage has through ``COPY --from`` of
another stage of the same file (``rewriter.dockerfile.judge.context``)."""

from __future__ import annotations

from rewriter.core.settings import Settings
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.judge.context import _copied_sources, entrypoint_scripts
from rewriter.dockerfile.syntax import parse
from rewriter.io.context import MemoryContext


def _copied(dockerfile: str, files: dict[str, str]) -> list[tuple[str, str, str]]:
    ctx = Context(parse(dockerfile), Settings(), "Dockerfile",
                  MemoryContext({"Dockerfile": dockerfile, **files}, dockerfile="Dockerfile"))
    info = ctx.model.runtime
    assert info is not None
    return [(src, dest, ins.logical) for src, dest, ins in _copied_sources(ctx, info)]


def test_path_inside_a_copied_folder() -> None:
    df = ("FROM golang AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /bin/app .\n"
          "FROM alpine\nCOPY --from=build /src/config /etc/app\n"
          "COPY --from=build /src/entrypoint.sh /entrypoint.sh\nCOPY --from=build /bin/app /app\n")
    got = _copied(df, {"config/app.yml": "port: 80\n", "entrypoint.sh": "#!/bin/sh\n",
                       "main.go": "package main\n"})
    assert ("config", "/etc/app", "COPY --from=build /src/config /etc/app") in got
    assert ("entrypoint.sh", "/entrypoint.sh",
            "COPY --from=build /src/entrypoint.sh /entrypoint.sh") in got
    assert all(dest != "/app" for _, dest, _ in got)  # built, not in the context


def test_file_under_the_copied_folder() -> None:
    df = ("FROM alpine AS build\nADD boot.sh /out/usr/bin/boot.sh\n"
          "FROM scratch\nCOPY --from=build /out /\nENTRYPOINT [\"/usr/bin/boot.sh\"]\n")
    assert _copied(df, {"boot.sh": "#!/bin/sh\n"}) == [
        ("boot.sh", "/usr/bin/boot.sh", "COPY --from=build /out /")]


def test_file_copied_into_a_folder_then_by_index_and_into_workdir() -> None:
    df = ("FROM alpine\nCOPY run.sh conf/ /stage/\n"
          "FROM alpine\nWORKDIR /app\nCOPY --from=0 /stage/run.sh ./\n")
    assert _copied(df, {"run.sh": "#!/bin/sh\n", "conf/a.ini": "x=1\n"}) == [
        ("run.sh", "/app/run.sh", "COPY --from=0 /stage/run.sh ./")]


def test_glob_and_two_stages_deep() -> None:
    df = ("FROM alpine AS a\nCOPY scripts /opt/scripts\n"
          "FROM alpine AS b\nCOPY --from=a /opt /opt\n"
          "FROM alpine\nCOPY --from=b /opt/scripts/*.sh /usr/local/bin/\n")
    got = _copied(df, {"scripts/start.sh": "#!/bin/sh\n", "scripts/notes.txt": "x\n"})
    assert [(s, d) for s, d, _ in got] == [("scripts/start.sh", "/usr/local/bin/start.sh")]


def test_external_image_and_written_path_do_not_count() -> None:
    df = ("FROM alpine AS build\nCOPY . /src\nRUN cp /tmp/gen.sh /src/start.sh\n"
          "FROM alpine\nCOPY --from=build /src/start.sh /start.sh\n"
          "COPY --from=nginx:1.25 /etc/nginx /etc/nginx\n")
    assert _copied(df, {"start.sh": "#!/bin/sh\n"}) == []


def test_entrypoint_script_read_through_stage() -> None:
    df = ("FROM golang AS build\nWORKDIR /src\nCOPY . .\n"
          "FROM alpine\nCOPY --from=build /src/docker/entrypoint.sh /entrypoint.sh\n"
          "ENTRYPOINT [\"/entrypoint.sh\"]\n")
    files = {"docker/entrypoint.sh": "#!/bin/sh\nchown -R app /data\nexec \"$@\"\n"}
    ctx = Context(parse(df), Settings(), "Dockerfile",
                  MemoryContext({"Dockerfile": df, **files}, dockerfile="Dockerfile"))
    assert ctx.model.runtime is not None
    assert [p for p, _ in entrypoint_scripts(ctx, ctx.model.runtime)] == ["docker/entrypoint.sh"]
