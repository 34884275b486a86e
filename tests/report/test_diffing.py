from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from rewriter.report.diffing import NO_NEWLINE, color_diff, header_path, split_lines, unified_diff

BEFORE = "FROM python:3.12-slim\nRUN pip install app\nCMD [\"app\"]\n"
AFTER = "FROM python:3.12-slim\nRUN pip install app\nUSER 10001:10001\nCMD [\"app\"]\n"


def test_equal_texts_give_no_diff():
    assert unified_diff(BEFORE, BEFORE, "Dockerfile") == ""


def test_headers_are_a_b_without_timestamps():
    lines = unified_diff(BEFORE, AFTER, "svc/Dockerfile").splitlines()
    assert lines[0] == "--- a/svc/Dockerfile"
    assert lines[1] == "+++ b/svc/Dockerfile"
    assert lines[2] == "@@ -1,3 +1,4 @@"
    assert "\t" not in lines[0] + lines[1]


def test_whole_diff():
    assert unified_diff(BEFORE, AFTER, "Dockerfile") == (
        "--- a/Dockerfile\n"
        "+++ b/Dockerfile\n"
        "@@ -1,3 +1,4 @@\n"
        " FROM python:3.12-slim\n"
        " RUN pip install app\n"
        "+USER 10001:10001\n"
        ' CMD ["app"]\n'
    )


def test_no_newline_at_end_of_file_both_sides():
    diff = unified_diff("FROM a\nCMD x", "FROM a\nUSER 1\nCMD x", "Dockerfile")
    assert diff.endswith(" CMD x\n" + NO_NEWLINE)
    assert diff.count(NO_NEWLINE) == 1


def test_no_newline_only_on_old_side():
    diff = unified_diff("FROM a\nCMD x", "FROM a\nCMD x\n", "Dockerfile")
    assert diff.splitlines(keepends=True)[-3:] == ["-CMD x\n", NO_NEWLINE, "+CMD x\n"]


def test_no_newline_only_on_new_side():
    diff = unified_diff("FROM a\nCMD x\n", "FROM a\nCMD x", "Dockerfile")
    assert diff.splitlines(keepends=True)[-3:] == ["-CMD x\n", "+CMD x\n", NO_NEWLINE]


def test_crlf_lines_are_kept():
    diff = unified_diff("FROM a\r\nCMD x\r\n", "FROM a\r\nUSER 1\r\nCMD x\r\n", "Dockerfile")
    assert "+USER 1\r\n" in diff
    assert " FROM a\r\n" in diff
    assert diff.startswith("--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,2 +1,3 @@\n")


def test_split_lines_only_on_newline():
    assert split_lines("a\r\nb\rc\x0bd\u2028e\nf") == ["a\r\n", "b\rc\x0bd\u2028e\n", "f"]
    assert split_lines("") == []
    assert split_lines("a\n") == ["a\n"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Dockerfile", "Dockerfile"),
        ("my app/Dockerfile", "my app/Dockerfile"),
        ("caf\u00e9/Dockerfile", "caf\u00e9/Dockerfile"),
        ('a"b/Dockerfile', '"a\\"b/Dockerfile"'),
        ("a\tb", '"a\\tb"'),
    ],
)
def test_header_path(path, expected):
    assert header_path(path) == expected


def test_quoted_header_gets_prefix_inside_quotes():
    assert unified_diff("a\n", "b\n", "x\ty").splitlines()[:2] == ['--- "a/x\\ty"', '+++ "b/x\\ty"']


def test_color_diff_only_adds_escapes():
    diff = unified_diff(BEFORE, AFTER, "Dockerfile")
    colored = color_diff(diff)
    assert "\033[32m+USER 10001:10001\033[0m" in colored
    assert "\033[1m--- a/Dockerfile\033[0m" in colored
    assert re.sub("\033\\[[0-9;]*m", "", colored) == diff


CASES = {
    "insert": (BEFORE, AFTER),
    "crlf": (BEFORE.replace("\n", "\r\n"), AFTER.replace("\n", "\r\n")),
    "no-final-newline": (BEFORE.rstrip("\n"), AFTER.rstrip("\n")),
    "add-final-newline": (BEFORE.rstrip("\n"), AFTER),
    "bom": ("\ufeff" + BEFORE, "\ufeff" + AFTER),
    "from-empty": ("", "FROM scratch\n"),
    "far-apart": (
        "FROM a\n" + "RUN x\n" * 20 + "CMD y\n",
        "FROM a\nUSER 1\n" + "RUN x\n" * 20 + "USER 2\nCMD y\n",
    ),
}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize(("before", "after"), CASES.values(), ids=CASES.keys())
def test_git_apply_takes_the_diff(tmp_path, before, after):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    target = tmp_path / "svc" / "Dockerfile"
    target.parent.mkdir()
    target.write_bytes(before.encode())
    patch = tmp_path / "fix.diff"
    patch.write_bytes(unified_diff(before, after, "svc/Dockerfile").encode())
    for extra in (["--check"], []):
        done = subprocess.run(["git", "apply", *extra, "fix.diff"], cwd=tmp_path,
                              capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
    assert target.read_bytes() == after.encode()
