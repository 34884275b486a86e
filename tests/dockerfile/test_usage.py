"""Documented ``docker run`` lines read into flags (rewriter/dockerfile/usage.py)."""

from __future__ import annotations

from rewriter.dockerfile.usage import Mount, documented_runs, parse_invocation
from rewriter.io.context import MemoryContext


def test_flags_of_a_run_line() -> None:
    image, f = parse_invocation(
        "docker run -itd --rm -p80:80 --publish=127.0.0.1:8443:443/tcp --pid host "
        "--net=host -u 1000 --cap-add SYS_PTRACE --device=/dev/snd "
        "-v /srv/x:/data:ro --mount type=bind,source=$(pwd),target=/work "
        "-w /work --name tool example/tool:1.2 --privileged -v /a:/b")
    assert image == "example/tool:1.2"
    assert f["ports"] == [(80, 80), (8443, 443)]
    assert f["pid_host"] and f["net_host"] and f["user"] == "1000" and f["workdir"] == "/work"
    assert f["cap_add"] == ["SYS_PTRACE"] and f["devices"] == ["/dev/snd"]
    assert f["mounts"] == [Mount("/srv/x", "/data", True, True), Mount("$(pwd)", "/work", False, True)]
    assert "privileged" not in f  # after the image: the container's own arguments


def test_working_tree_sources() -> None:
    for src in ("$PWD", "${PWD}", "$(pwd)", ".", "%cd%", "`pwd`"):
        _, f = parse_invocation(f'docker run -v "{src}":/code img')
        (m,) = f["mounts"]  # type: ignore[misc]
        assert m.working_tree and m.bind, src
    _, f = parse_invocation("docker run -v data:/code -v 'C:\\src:/src' img")
    named, win = f["mounts"]  # type: ignore[misc]
    assert not named.bind and win.source == "C:\\src" and win.bind


def test_usage_comment_continues_over_lines_with_trailing_comments() -> None:
    text = ("# Run it\n#\n# docker run -it --rm \\\n"
            "#\t-v $HOME/.cfg:/root/.cfg \\ # the config\n"
            "#\t--name x \\\n#\tme/tool\n#\nFROM alpine\n# docker run -p 80:80 unrelated\n")
    runs = documented_runs(None, text, "Dockerfile")
    assert [r.line for r in runs] == [3, 9]
    assert runs[0].image == "me/tool" and runs[0].mounts[0].target == "/root/.cfg"
    assert runs[0].cite() == "Dockerfile:3: # docker run -it --rm \\"
    assert runs[1].ports == ((80, 80),)


def test_readme_counts_only_for_this_image() -> None:
    ctx = MemoryContext({
        "svc/Dockerfile": "FROM alpine\nCMD [\"svc\"]\n",
        "svc/README.md": "```\n$ docker run --privileged other/agent\n$ docker run -p 80:80 svc\n```\n",
        "lib/Dockerfile": "FROM alpine\n",
        "README.md": "docker run --pid host svc\n",
    }, dockerfile="svc/Dockerfile")
    runs = documented_runs(ctx, "FROM alpine\n", "svc/Dockerfile")
    # the root README is not read: another Dockerfile sits in the repository
    assert [(r.path, r.line, r.image) for r in runs] == [("svc/README.md", 3, "svc")]


def test_unbalanced_quotes_do_not_raise() -> None:
    image, f = parse_invocation("docker run -v \"$PWD:/x it's")
    assert isinstance(image, str)
