"""The Makefile reader: which recipe lines ``make TARGET`` runs."""

from rewriter.dockerfile.makefile import make_call, makefile_paths, recipes

MAKEFILE = """\
PY = python3
.PHONY: all init serve

all: build

# the first real target is the default goal
build:
\t@echo building
\tcompile --fast \\
\t  --out dist

init: ; pipenv install
serve: init
\t-$(PY) -m app $$PORT
\t$(MAKE) worker

worker:
\tcelery worker

clean:
\trm -rf dist
"""


def kept(text: str) -> dict[int, str]:
    return {i: ln for i, ln in enumerate(text.split("\n"), 1) if ln.strip()}


def test_make_call_reads_directory_file_and_targets():
    assert make_call(["make", "-C", "/src", "install"]) == ("/src", "", ["install"])
    assert make_call(["gmake", "-fbuild.mk", "-j", "4", "PREFIX=/usr", "all"]) == \
        ("", "build.mk", ["all"])
    assert make_call(["make", "--directory=app"]) == ("app", "", [])
    assert make_call(["cmake", ".."]) is None
    assert makefile_paths("/app", ("sub", "", [])) == [
        "/app/sub/GNUmakefile", "/app/sub/makefile", "/app/sub/Makefile"]


def test_default_goal_follows_prerequisites_and_keeps_line_numbers():
    lines = kept(recipes(MAKEFILE, []) or "")
    assert {i: ln.strip() for i, ln in lines.items()} == {
        8: "echo building", 9: "compile --fast \\", 10: "--out dist"}


def test_named_target_follows_prerequisites_and_submake():
    lines = kept(recipes(MAKEFILE, ["serve"]) or "")
    assert lines[12].strip() == "pipenv install"
    assert lines[14].strip() == "python3 -m app $PORT"
    assert lines[15].strip() == "make worker"
    assert lines[18].strip() == "celery worker"
    assert 21 not in lines


def test_unknown_target_has_no_recipe():
    assert recipes(MAKEFILE, ["deploy"]) is None
