"""Files ``ADD <http(s) url>`` leaves at mode 600: DF001 makes them readable to
the user it switches to (``rewriter/dockerfile/remote.py``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_dockfix

from rewriter.core.engine import fix_text
from rewriter.dockerfile.remote import _others_read


def _fixed(text: str) -> str:
    result = fix_text(text)
    assert result.error is None, result.error
    assert fix_text(result.fixed).fixed == result.fixed, "not idempotent"
    return result.fixed


def _chmod(text: str) -> list[str]:
    """The files the ``chmod a+r`` of the block the fix inserts before the
    ``CMD`` names ([] for none)."""
    fixed = _fixed(text)
    head = text[: text.index("CMD")]
    assert fixed.startswith(head) and "USER " in fixed[len(head):]
    m = re.search(r"chmod a\+r ([^\n\\&]+)", fixed[len(head):])
    return m.group(1).split() if m else []


DEBIAN = "FROM debian:bookworm-slim\n"
TAIL = 'CMD ["/usr/local/bin/app"]\n'


@pytest.mark.parametrize(("body", "files"), [
    # a file, a directory (trailing /), a directory the file made, an FHS directory
    ("ADD https://h.example/a/ca.pem /etc/ca.pem\n", ["/etc/ca.pem"]),
    ("ADD https://h.example/a/tool.tgz /opt/\n", ["/opt/tool.tgz"]),
    ("RUN mkdir -p /data/keys\nADD https://h.example/k.asc /data/keys\n",
     ["/data/keys/k.asc"]),
    ("ADD https://h.example/a/ca.pem /etc/ssl/certs\n", ["/etc/ssl/certs/ca.pem"]),
    ("ADD https://h.example/x /usr/local/bin/x\n", ["/usr/local/bin/x"]),
    # relative to the WORKDIR in force; ENV expanded; the URL path decoded
    ("WORKDIR /etc/app\nADD https://h.example/c.yml conf/c.yml\n", ["/etc/app/conf/c.yml"]),
    ("ENV D=/etc/app\nADD https://h.example/a%2Bb.txt $D/\n", ["/etc/app/a+b.txt"]),
    ("ADD https://h.example/a.txt https://h.example/b.txt /etc/app/\n",
     ["/etc/app/a.txt", "/etc/app/b.txt"]),
    # a later chmod that grants others read: none needed
    ("ADD https://h.example/ca.pem /etc/ca.pem\nRUN chmod 644 /etc/ca.pem\n", []),
    ("ADD https://h.example/ca.pem /etc/ca.pem\nRUN chmod go+r /etc/*.pem\n", []),
    ("ADD https://h.example/t.tgz /opt/x/\nRUN chmod -R a+rX /opt\n", []),
    ("ADD https://h.example/ca.pem /etc/ca.pem\nRUN chmod a=rx /etc/ca.pem\n", []),
    # ... but not one that does not, or one taken back
    ("ADD https://h.example/t /tini\nRUN chmod +x /tini\n", ["/tini"]),
    ("ADD https://h.example/t.tgz /opt/x/\nRUN chmod a+r /opt\n", ["/opt/x/t.tgz"]),
    ("ADD https://h.example/ca.pem /etc/ca.pem\nRUN chmod 644 /etc/ca.pem && chmod o-r "
     "/etc/ca.pem\n", ["/etc/ca.pem"]),
    # removed later (by name, by a glob, with its directory): nothing to chmod
    ("ADD https://h.example/s.sh /tmp/s.sh\nRUN sh /tmp/s.sh && rm /tmp/s.sh\n", []),
    ("ADD https://h.example/s.tgz /tmp/\nRUN tar -xzf /tmp/s.tgz -C /opt && rm -rf /tmp/*\n",
     []),
    ("WORKDIR /build\nADD https://h.example/s.tgz .\nRUN rm s.tgz\n", []),
    ("ADD https://h.example/d.gz /opt/\nRUN gunzip -k /opt/d.gz && find /srv -delete\n",
     ["/opt/d.gz"]),
    # --chmod (the author chose), a Git repository (a directory, not a download)
    ("ADD --chmod=755 https://h.example/t /tini\n", []),
    ("ADD https://github.com/o/r.git#v1 /src/r\n", []),
    # a local ADD keeps its own mode
    ("ADD app.tar.gz /opt/\n", []),
])
def test_which_files(body: str, files: list[str]) -> None:
    assert _chmod(DEBIAN + body + TAIL) == files


def test_in_a_stage_built_from_another() -> None:
    text = (DEBIAN.rstrip() + " AS base\nADD https://h.example/ca.pem /etc/ca.pem\n"
            "FROM base\nCOPY app /usr/local/bin/app\n" + TAIL)
    assert _chmod(text) == ["/etc/ca.pem"]


def test_chown_to_the_user_it_reuses() -> None:
    text = (DEBIAN + "RUN useradd --uid 2000 app\n"
            "ADD --chown=app https://h.example/a.pem /etc/a.pem\n"
            "ADD --chown=2000:2000 https://h.example/b.pem /etc/b.pem\n"
            "ADD --chown=root https://h.example/c.pem /etc/c.pem\n"
            "ADD https://h.example/d.pem /etc/d.pem\nRUN chown app /etc/d.pem\n" + TAIL)
    fixed = _fixed(text)
    assert "USER 2000" in fixed
    assert "chmod a+r /etc/c.pem\n" in fixed


def test_a_shell_file_with_nothing_else_to_do_gets_its_own_run() -> None:
    text = ('FROM node:20-slim\nADD https://h.example/w.sh /w.sh\nCMD ["node", "i.js"]\n')
    assert _fixed(text) == ('FROM node:20-slim\nADD https://h.example/w.sh /w.sh\n'
                            "RUN chmod a+r /w.sh\nUSER 1000:1000\n"
                            'CMD ["node", "i.js"]\n')


def test_no_download_no_change_to_the_block() -> None:
    fixed = _fixed(DEBIAN + "COPY app /usr/local/bin/app\n" + TAIL)
    assert "chmod" not in fixed


def test_no_shell_ancestor_download_declines() -> None:
    text = ("FROM gcr.io/distroless/static-debian12 AS base\n"
            "ADD https://h.example/ca.pem /etc/ca.pem\n"
            "FROM base\nCOPY server /server\nENTRYPOINT [\"/server\"]\n")
    result = fix_text(text)
    assert not result.changed
    assert [d.reason for d in result.declines] == ["download-needs-shell"]
    assert "/etc/ca.pem" in result.declines[0].message


@pytest.mark.parametrize(("mode", "expected"), [
    ("644", True), ("0755", True), ("600", False), ("711", False), ("+r", True),
    ("a+r", True), ("go+r", True), ("u+r", None), ("+x", None), ("o-r", False),
    ("u=rw,go=r", True), ("a=rw,o-r", False), ("g+w,o=", False), ("u+s", None),
    ("bogus", None),
])
def test_others_read(mode: str, expected: bool | None) -> None:
    assert _others_read(mode) is expected


@pytest.mark.parametrize(("body", "says"), [
    ("ADD https://h.example/?id=7 /opt/\n", "the URL names no file"),
    ("ADD https://h.example/ca.pem $CERT_DIR/ca.pem\n", "`$CERT_DIR/ca.pem` uses a variable"),
    ("ADD https://h.example/${NAME}.tgz /opt/\n", "its file name comes from a variable"),
    ("ADD https://h.example/ca.pem /etc/ca.pem\nRUN mv /etc/ca.pem /etc/ssl/\n",
     "line 3 moves it"),
    ("ADD https://h.example/ca.pem /etc/ca.pem\nRUN rm -rf $OLD\n", "line 3 may remove it"),
    ("ADD https://h.example/d.gz /opt/\nRUN gunzip /opt/d.gz\n",
     "line 3 may remove or rename it (`gunzip`)"),
    ("ADD https://h.example/d.gz /opt/\nRUN find /opt -name '*.gz' -delete\n",
     "line 3 may remove or rename it (`find`)"),
])
def test_what_it_cannot_place_is_said(tmp_path: Path, body: str, says: str) -> None:
    """The fix goes in without a guess, and the finding says what to check,
    through the real command and its JSON output."""
    df = tmp_path / "Dockerfile"
    df.write_text(DEBIAN + body + TAIL)
    out = run_dockfix("--output-format", "json", "--context", str(tmp_path), str(df),
                      cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (finding,) = [f for f in json.loads(out.stdout)["files"][0]["findings"]
                  if f["code"] == "DF001"]
    assert finding["applied"]
    assert says in finding["message"]
    assert "check that `10001:10001` can read it" in finding["message"]
    assert "chmod a+r" not in json.dumps(finding["fix"]["edits"])
