"""The real ``dockfix`` command over ``../shared/corpus-celery``: 168 Python
files from 64 public projects that configure Celery.

With ``--unsafe-fixes --write`` on a copy: no file crashes dockfix; the three
files that are not Python 3 get a one-line error and stay as they were; every
file libcst reads comes back byte for byte; every output parses with ``ast``
and compiles; a second run changes nothing.  Skipped when the corpus is
absent, failed under CI (``CI=true``).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import sys
import warnings
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import REPO, run_dockfix  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus-celery"
#: deliberately not Python 3 (README of the corpus): two Jinja-templated
#: settings files of a project template, one Python 2 test
NOT_PYTHON3 = {
    "cookiecutter__cookiecutter-django__{{cookiecutter.project_slug}}__config__settings__base.py",
    "cookiecutter__cookiecutter-django__{{cookiecutter.project_slug}}__config__settings__local.py",
    "pulp__pulp__server__test__unit__server__async__test_celery_instance.py",
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    if not (CORPUS / "files").is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CORPUS} is missing (CI needs ../shared beside the repository)")
        pytest.skip("../shared/corpus-celery is not here")
    work = tmp_path_factory.mktemp("corpus-celery") / "files"
    shutil.copytree(CORPUS / "files", work)
    for p in work.iterdir():  # ../shared is read-only, and dockfix keeps a read-only file
        p.chmod(0o644)
    return work


@pytest.fixture(scope="module")
def first_run(corpus: Path) -> tuple[dict, dict[str, bytes]]:
    originals = {p.name: p.read_bytes() for p in corpus.iterdir()}
    names = sorted(originals)
    proc = run_dockfix("--unsafe-fixes", "--write", "--output-format", "json", "--jobs", "2",
                       *names, cwd=corpus)
    assert proc.returncode in (0, 1, 2), proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    return json.loads(proc.stdout), originals


def test_every_file_is_handled_and_only_non_python3_fail(first_run) -> None:
    doc, originals = first_run
    by_path = {f["path"]: f for f in doc["files"]}
    assert set(by_path) == set(originals)
    errors = {p: f["error"] for p, f in by_path.items() if f["status"] == "error"}
    assert set(errors) == NOT_PYTHON3, errors
    for path, error in errors.items():
        assert "\n" not in error and "internal error" not in error
        assert error.startswith(f"{path}: line ") and "not Python 3" in error, error


def test_failed_and_unchanged_files_are_byte_identical(corpus: Path, first_run) -> None:
    doc, originals = first_run
    for f in doc["files"]:
        if f["status"] not in ("fixed",):
            assert (corpus / f["path"]).read_bytes() == originals[f["path"]], f["path"]


def test_libcst_round_trips_every_python3_file(corpus: Path) -> None:
    import libcst

    for p in sorted((CORPUS / "files").iterdir()):
        if p.name in NOT_PYTHON3:
            continue
        text = p.read_bytes().decode("utf-8")
        assert libcst.parse_module(text).code == text, p.name


def test_every_output_parses_and_compiles(corpus: Path, first_run) -> None:
    doc, _ = first_run
    fixed = [f["path"] for f in doc["files"] if f["status"] == "fixed"]
    assert fixed, "the corpus has pickle settings: something must be fixed"
    for name in sorted(os.listdir(corpus)):
        if name in NOT_PYTHON3:
            continue
        text = (corpus / name).read_bytes().decode("utf-8")
        ast.parse(text, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # the projects' own code
            compile(text, name, "exec", dont_inherit=True)


def test_second_run_changes_nothing(corpus: Path, first_run) -> None:
    names = sorted(n for n in os.listdir(corpus) if n not in NOT_PYTHON3)
    proc = run_dockfix("--unsafe-fixes", "--check", "--output-format", "json", "--jobs", "2",
                       *names, cwd=corpus)
    doc = json.loads(proc.stdout)
    changed = [f["path"] for f in doc["files"] if f["status"] not in ("unchanged", "declined")]
    assert changed == [] and proc.returncode == 0, changed


def test_findings_by_rule(first_run) -> None:
    """Every rule finds something in real projects (the table of the corpus)."""
    doc, _ = first_run
    found = Counter(x["code"] for f in doc["files"] for x in f.get("findings", ()))
    applied = Counter(x["code"] for f in doc["files"] for x in f.get("findings", ())
                      if x["applied"])
    print("\nrule    found  applied")
    for code in sorted(found):
        print(f"{code}  {found[code]:6d}  {applied[code]:7d}")
    for code in ("DFC001", "DFC002", "DFC004", "DFC005"):  # DFC003: the corpus signs right
        assert found[code] > 0, (code, found)


#: Jinja-templated Dockerfiles of a project template: BuildKit refuses them too
TEMPLATED = {
    "cookiecutter__cookiecutter-django__{{cookiecutter.project_slug}}__compose__local__django__Dockerfile",
    "cookiecutter__cookiecutter-django__{{cookiecutter.project_slug}}__compose__production__django__Dockerfile",
}


def test_worker_start_files(tmp_path: Path) -> None:
    """The 67 files that start workers (compose files, Dockerfiles, Procfiles,
    units): no crash, DFC006 removes C_FORCE_ROOT and --uid, a second run
    changes nothing."""
    if not (CORPUS / "runtime").is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CORPUS} is missing")
        pytest.skip("../shared/corpus-celery is not here")
    work = tmp_path / "runtime"
    shutil.copytree(CORPUS / "runtime", work)
    for p in work.iterdir():
        p.chmod(0o644)
    names = sorted(os.listdir(work))
    proc = run_dockfix("--unsafe-fixes", "--write", "--output-format", "json", *names, cwd=work)
    assert b"Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    errors = {f["path"] for f in doc["files"] if f["status"] == "error"}
    assert errors == TEMPLATED, errors
    dfc006 = [x for f in doc["files"] for x in f["findings"] if x["code"] == "DFC006"]
    assert sum(x["applied"] for x in dfc006) >= 4, dfc006
    again = run_dockfix("--unsafe-fixes", "--check", *[n for n in names if n not in TEMPLATED],
                        cwd=work)
    assert again.returncode == 0, again.stderr.decode()
