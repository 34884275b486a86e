"""Documented ``docker run`` lines read into flags (rewriter/dockerfile/usage.py)."""

from __future__ import annotations

from rewriter.dockerfile.usage import (
    Mount,
    _invocations,
    documented_runs,
    parse_invocation,
    skaffold_artifacts,
    skaffold_own,
)
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


def _ctx(files: dict[str, str], dockerfile: str) -> MemoryContext:
    return MemoryContext(files, dockerfile=dockerfile)


def test_makefile_variables_name_the_image_it_builds() -> None:
    df = "FROM alpine\nCMD [\"serve\"]\n"
    ctx = _ctx({
        "svc/Dockerfile": df,
        "svc/Makefile": (
            "REGISTRY ?= example\nIMAGE ?= $(REGISTRY)/web-api\nTAG := 1.0\n"
            "OPTS = --rm -v $(CURDIR):/srv\n\n"
            "build:\n\tdocker build -t $(IMAGE):$(TAG) .\n"
            "run:\n\t@docker run $(OPTS) \\\n\t\t--pid host \\\n\t\t${IMAGE}:$(TAG)\n"
            "emu:\n\tdocker run --privileged other/qemu --reset\n"
            "# docker run --privileged $(IMAGE)\n"),
    }, "svc/Dockerfile")
    runs = documented_runs(ctx, df, "svc/Dockerfile", "serve")
    # the run of another image, and the commented-out line, do not count
    assert [(r.path, r.line, r.image) for r in runs] == [("svc/Makefile", 9, "example/web-api:1.0")]
    (run,) = runs
    assert run.pid_host and run.mounts[0].working_tree and run.mounts[0].target == "/srv"
    assert run.cite("host") == "svc/Makefile:10: --pid host \\"


def test_makefile_building_another_dockerfile_does_not_name_this_image() -> None:
    df = "FROM alpine\nCMD [\"serve\"]\n"
    ctx = _ctx({
        "svc/Dockerfile": df,
        "svc/Makefile": ("IMAGE = example/tools\nbuild:\n\tdocker build -t $(IMAGE) -f ../tools/Dockerfile ..\n"
                         "run:\n\tdocker run --privileged $(IMAGE)\n"),
    }, "svc/Dockerfile")
    assert documented_runs(ctx, df, "svc/Dockerfile", "serve") == []


def test_script_variables_and_an_unresolved_image() -> None:
    df = "FROM alpine\nCMD [\"serve\"]\n"
    files = {
        "svc/Dockerfile": df,
        # a default in the script itself names the image it builds
        "svc/run.sh": ('#!/bin/sh\nNAME="${NAME:-acme/thing}"\ndocker build -t "$NAME" .\n'
                       'docker run --device /dev/snd "$NAME"\n'),
        # the image comes from outside: counts only as the one run of a script that builds this file
        "svc/start.sh": '#!/bin/sh\ndocker build -t "$1" .\ndocker run --cap-add NET_ADMIN "$1"\n',
        "svc/other.sh": '#!/bin/sh\ndocker run -v /var/run/docker.sock:/var/run/docker.sock "$1"\n',
        # assigned twice: which holds is unknown
        "svc/two.sh": '#!/bin/sh\nIMG=a\n[ -n "$X" ] && IMG=acme/thing\ndocker run --pid host "$IMG"\n',
    }
    runs = documented_runs(_ctx(files, "svc/Dockerfile"), df, "svc/Dockerfile", "serve")
    assert sorted((r.path, r.line) for r in runs) == [("svc/run.sh", 4), ("svc/start.sh", 3)]
    assert {r.path: r for r in runs}["svc/run.sh"].devices == ("/dev/snd",)


def test_compose_run_counts_for_a_service_that_builds_it() -> None:
    image, f = parse_invocation("docker-compose -f dev.yml run --rm -v ~/.ssh:/root/.ssh app sh")
    assert image == "app" and f["mounts"][0].target == "/root/.ssh"  # type: ignore[index]
    df = "FROM alpine\nCMD [\"serve\"]\n"
    ctx = _ctx({
        "Dockerfile": df,
        "docs/usage.md": ("docker compose run -v ~/.ssh:/root/.ssh app\n"
                          "docker compose run --rm db psql\n"
                          "docker run -p 80:80 serve\n"
                          "docker run --privileged unrelated/thing\n"),
    }, "Dockerfile")
    runs = documented_runs(ctx, df, "Dockerfile", "serve", frozenset({"app"}))
    assert [(r.line, r.compose, r.image) for r in runs] == [(1, True, "app"), (3, False, "serve")]


def test_the_root_makefile_of_a_one_image_repository() -> None:
    df = "FROM alpine\nCMD [\"serve\"]\n"
    files = {
        "app/Dockerfile": df,
        "Makefile": ("IMG := acme/portal\nimage:\n\tdocker build -t $(IMG) -f app/Dockerfile app\n"
                     "run:\n\tdocker run -v $(HOME)/.portal:/root/.portal $(IMG)\n"),
    }
    runs = documented_runs(_ctx(files, "app/Dockerfile"), df, "app/Dockerfile", "serve")
    assert [(r.path, r.line, r.image) for r in runs] == [("Makefile", 5, "acme/portal")]
    # a second image in the repository: the root's Makefile is not this image's usage
    files["tools/Dockerfile"] = "FROM alpine\n"
    assert documented_runs(_ctx(files, "app/Dockerfile"), df, "app/Dockerfile", "serve") == []
    # the root Makefile builds another Dockerfile of the directory
    files.pop("tools/Dockerfile")
    files["Makefile"] = files["Makefile"].replace("-f app/Dockerfile app", "-f app/Dockerfile.dev app")
    assert documented_runs(_ctx(files, "app/Dockerfile"), df, "app/Dockerfile", "serve") == []


def test_a_placeholder_source_is_a_host_directory() -> None:
    # `-v <path>:/data` in a README: the reader fills in a host directory.
    image, f = parse_invocation("docker run -d -v <path>:/data -v {site}:/srv -v cache:/c img")
    assert image == "img"
    assert f["mounts"] == [Mount("<path>", "/data", False, True),
                           Mount("{site}", "/srv", False, True), Mount("cache", "/c", False, False)]


def test_the_command_after_the_image() -> None:
    text = ("Run it:\n\n"
            "    docker run --rm -it \\\n"
            "        --link=postgres -p 127.0.0.1:8080:8080 \\\n"
            "        example/app:latest \\\n"
            "        serve -c '{\"db\": \"postgres://db/app\"}'\n\n"
            "    docker run -v /data/x/:/data/ example/app python /usr/src/app/fetch.py | tee log\n"
            "    docker run --entrypoint /bin/sh -ti example/app -c 'ls /data' # list\n"
            "Or `docker run -d example/app worker --queue jobs` in the background, or\n"
            "`docker run -d example/app`.\n"
            "    docker run -d example/app 2>&1 >/dev/null\n")
    serve, fetch, shell, worker, bare, quiet = _invocations("README.md", text, comments_only=False)
    assert serve.image == "example/app:latest" and serve.interactive
    assert serve.command == ("serve", "-c", '{"db": "postgres://db/app"}')
    assert serve.ports == ((8080, 8080),) and serve.entrypoint is None
    assert fetch.command == ("python", "/usr/src/app/fetch.py") and not fetch.interactive
    assert shell.entrypoint == "/bin/sh" and shell.command == ("-c", "ls /data")
    assert shell.interactive
    assert worker.command == ("worker", "--queue", "jobs")  # inline code ends at its backtick
    assert bare.command == () and quiet.command == ()
    _, f = parse_invocation("docker run --tty=false img")
    assert "interactive" not in f and f["command"] == []
    _, f = parse_invocation("docker run --interactive img run-job 1")
    assert f["interactive"] is True and f["command"] == ["run-job", "1"]


def test_skaffold_artifacts_documents_and_profiles() -> None:
    """Artifacts are read from every document and from profiles; context and
    ``docker.dockerfile`` resolve from the skaffold.yaml's directory."""
    files = {
        "svc/api/Dockerfile.dev": "FROM alpine:3\n",
        "svc/skaffold.yaml": (
            "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n"
            "  - image: api\n    context: api\n    docker:\n      dockerfile: Dockerfile.dev\n"
            "    sync:\n      manual:\n      - src: 'static/**'\n        dest: /srv/static\n"
            "---\nkind: Config\nprofiles:\n- name: gen\n  build:\n    artifacts:\n"
            "    - image: worker\n      requires:\n      - image: api\n        alias: API\n"
            "      sync:\n        infer:\n        - '**/*.py'\n"),
    }
    ctx = MemoryContext(files, dockerfile="svc/api/Dockerfile.dev")
    arts = skaffold_artifacts(ctx)
    assert [(a.image, a.dockerfile) for a in arts] == [
        ("api", "svc/api/Dockerfile.dev"), ("worker", "svc/Dockerfile")]
    assert arts[0].sync_dests == ((12, "dest: /srv/static", "/srv/static"),)
    assert arts[1].requires == ((21, "- image: api", "api", "API"),)
    assert arts[1].sync_infer == ((25, "- '**/*.py'", "**/*.py"),)
    assert [a.image for a in skaffold_own(ctx, arts)] == ["api"]
