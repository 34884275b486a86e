"""hypothesis strategies that write Dockerfiles.

``dockerfiles()`` draws whole files: parser directives, every instruction kind
with its flags, shell and JSON forms, heredocs (``<<EOF``, ``<<-EOF``,
quoted), escapes and line continuations (with comments and blank lines inside),
comments, odd whitespace, LF or CRLF, a BOM, with or without a final newline.
Most drawn files are valid for BuildKit; some are not (an ``ENV`` without a
value, an unterminated heredoc), and the properties say what must hold either
way.
"""

from __future__ import annotations

from hypothesis import strategies as st

IMAGES = ["alpine:3.19", "debian:bookworm-slim", "python:3.12-slim", "node:20", "ubuntu:24.04",
          "busybox", "scratch", "gcr.io/distroless/static", "redhat/ubi9-minimal", "postgres:16",
          "nginx:1.27", "golang:1.22 AS build", "${BASE}", "$BASE:latest",
          "mcr.microsoft.com/windows/servercore:ltsc2022", "registry.example.com:5000/team/app@sha256:"
          + "0" * 64, "eclipse-temurin:21-jre", "opensuse/leap"]
WORDS = ["apt-get update", "apt-get install -y --no-install-recommends curl", "apk add --no-cache git",
         "pip install -r requirements.txt", "npm ci", "make", "rm -rf /var/lib/apt/lists/*",
         "useradd -r -u 1000 app", "adduser -D -u 1000 app", "groupadd -g 1000 app",
         "chown -R 1000:1000 /app", "chown -R app:app /srv", "chmod +x /entrypoint.sh",
         "echo \"hello $HOME\"", "echo 'single $quoted'", "sudo make install",
         "su-exec app true", "gosu nobody true", "mkdir -p /data", "ln -s /a /b",
         "if [ -f x ]; then echo y; fi", "cd /tmp && tar xzf a.tgz", "echo $(date)", "true"]
PATHS = ["/app", "/srv/app", "/data", "/var/lib/app", ".", "src/", "requirements.txt", "*.py",
         "/entrypoint.sh", "/tmp/x y", "$HOME/dir", "/opt/${NAME}"]
USERS = ["app", "1000", "1000:1000", "root", "0", "nobody", "app:app", "${USER}", "10001:10001",
         "node", "postgres"]
NAMES = ["FOO", "BAR", "PATH", "HOME", "BASE", "VERSION", "x", "_y1"]
VALUES = ["1", "bar", "\"with space\"", "'single'", "a\\ b", "${FOO}", "$BAR/x", "", "=", "\\\"q\\\""]
KEYWORD_CASES = st.sampled_from(["lower", "upper", "title"])


def _case(word: str, how: str) -> str:
    return {"lower": word.lower(), "upper": word.upper(), "title": word.title()}[how]


blank = st.sampled_from(["", " ", "\t", "  \t ", "\u3000"])  # Go's IsSpace knows U+3000
space = st.sampled_from([" ", "  ", "\t", " \t"])


@st.composite
def _flags(draw: st.DrawFn, names: list[str]) -> str:
    chosen = draw(st.lists(st.sampled_from(names), max_size=3, unique=True))
    out = []
    for name in chosen:
        value = draw(st.sampled_from({
            "chown": ["1000:1000", "app", "app:app", "${UID}:${GID}", "10001"],
            "chmod": ["755", "0644", "u+x"],
            "from": ["build", "0", "alpine:3.19"],
            "link": [""], "platform": ["linux/amd64", "$BUILDPLATFORM", "linux/arm64/v8"],
            "mount": ["type=cache,target=/root/.cache", "type=secret,id=npm",
                      "type=bind,source=.,target=/src"],
            "network": ["none", "host"], "security": ["insecure"],
            "interval": ["30s"], "timeout": ["3s"], "retries": ["3"], "start-period": ["5s"],
        }[name]))
        out.append(f"--{name}" if value == "" else f"--{name}={value}")
    return "".join(f"{f} " for f in out)


@st.composite
def _json_array(draw: st.DrawFn, items: list[str]) -> str:
    chosen = draw(st.lists(st.sampled_from(items), min_size=1, max_size=4))
    sep = draw(st.sampled_from([", ", ",", " , "]))
    import json

    return "[" + sep.join(json.dumps(c) for c in chosen) + "]"


@st.composite
def _shell(draw: st.DrawFn, escape: str, nl: str) -> str:
    """A shell command, maybe continued over lines (with comments and blank
    lines in between, as BuildKit allows)."""
    parts = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4))
    out = parts[0]
    for part in parts[1:]:
        joiner = draw(st.sampled_from([" && ", " ; ", " || "]))
        if draw(st.booleans()):
            trailing = draw(st.sampled_from(["", " ", "\t", "  "]))
            inner = draw(st.lists(st.sampled_from(["# a comment", "  # indented comment", "",
                                                   "   "]), max_size=2))
            out += f" {escape}{trailing}{nl}" + "".join(f"{c}{nl}" for c in inner)
            out += draw(st.sampled_from(["    ", "\t", "  ", ""])) + joiner.lstrip() + part
        else:
            out += joiner + part
    return out


@st.composite
def _heredoc(draw: st.DrawFn, keyword: str, nl: str) -> str:
    name = draw(st.sampled_from(["EOF", "END", "SCRIPT", "eot"]))
    chomp = draw(st.booleans())
    quoted = draw(st.sampled_from(["", "'", '"']))
    word = f"<<{'-' if chomp else ''}{quoted}{name}{quoted}"
    body = draw(st.lists(st.sampled_from(WORDS + ["", "\tindented with a tab", "$VAR ${X}",
                                                  "EOFX", " EOF"]), max_size=4))
    if chomp:
        body = [draw(st.sampled_from(["", "\t", "\t\t"])) + b for b in body]
    end = ("\t" if chomp and draw(st.booleans()) else "") + name
    if keyword == "RUN":
        head = draw(st.sampled_from([word, f"{word} sh", f"bash {word}", f"python3 {word}"]))
    else:
        head = f"{word} {draw(st.sampled_from(PATHS[:4]))}"
    return head + nl + "".join(b + nl for b in body) + end


@st.composite
def instruction(draw: st.DrawFn, escape: str, nl: str) -> str:
    kind = draw(st.sampled_from([
        "FROM", "RUN", "RUN", "RUN", "CMD", "ENTRYPOINT", "COPY", "COPY", "ADD", "ENV", "ARG",
        "LABEL", "EXPOSE", "VOLUME", "USER", "USER", "WORKDIR", "HEALTHCHECK", "SHELL",
        "STOPSIGNAL", "ONBUILD", "MAINTAINER", "RUN-HEREDOC", "COPY-HEREDOC",
    ]))
    how = draw(KEYWORD_CASES)
    sp = draw(space)

    def kw(word: str) -> str:
        return _case(word, how)

    if kind == "FROM":
        flags = draw(_flags(["platform"]))
        image = draw(st.sampled_from(IMAGES))
        alias = draw(st.sampled_from(["", " AS build", " as runtime", " AS base"]))
        return f"{kw('FROM')}{sp}{flags}{image}{alias}"
    if kind == "RUN":
        flags = draw(_flags(["mount", "network", "security"]))
        if draw(st.integers(0, 4)) == 0:
            return f"{kw('RUN')}{sp}{flags}" + draw(_json_array(["sh", "-c", "echo hi", "true"]))
        return f"{kw('RUN')}{sp}{flags}" + draw(_shell(escape, nl))
    if kind == "RUN-HEREDOC":
        return f"{kw('RUN')}{sp}" + draw(_heredoc("RUN", nl))
    if kind == "COPY-HEREDOC":
        return f"{kw('COPY')}{sp}{draw(_flags(['chown', 'chmod']))}" + draw(_heredoc("COPY", nl))
    if kind in ("CMD", "ENTRYPOINT"):
        if draw(st.booleans()):
            return f"{kw(kind)}{sp}" + draw(_json_array(["gunicorn", "app:app", "-b",
                                                          "0.0.0.0:80", "/entrypoint.sh",
                                                          "gosu", "postgres", "node"]))
        return f"{kw(kind)}{sp}" + draw(_shell(escape, nl))
    if kind in ("COPY", "ADD"):
        flags = draw(_flags(["chown", "chmod", "from", "link"]))
        srcs = draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=3))
        if draw(st.integers(0, 5)) == 0:
            return f"{kw(kind)}{sp}{flags}" + draw(_json_array(PATHS))
        return f"{kw(kind)}{sp}{flags}" + " ".join(srcs) + " " + draw(st.sampled_from(PATHS))
    if kind in ("ENV", "LABEL", "ARG"):
        pairs = draw(st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(VALUES)),
                              min_size=1, max_size=3))
        if kind == "ARG" and draw(st.booleans()):
            return f"{kw('ARG')}{sp}" + draw(st.sampled_from(NAMES))
        if kind == "ENV" and draw(st.integers(0, 3)) == 0:  # legacy "ENV key value"
            k, v = pairs[0]
            return f"{kw('ENV')}{sp}{k} {v or 'x'}"
        return f"{kw(kind)}{sp}" + " ".join(f"{k}={v}" for k, v in pairs)
    if kind == "EXPOSE":
        ports = draw(st.lists(st.sampled_from(["80", "443/tcp", "8080", "53/udp", "${PORT}",
                                               "1000-2000"]), min_size=1, max_size=3))
        return f"{kw('EXPOSE')}{sp}" + " ".join(ports)
    if kind == "VOLUME":
        if draw(st.booleans()):
            return f"{kw('VOLUME')}{sp}" + draw(_json_array(["/data", "/var/log", "/cache"]))
        return f"{kw('VOLUME')}{sp}" + " ".join(draw(st.lists(st.sampled_from(
            ["/data", "/var/lib/app", "/srv/uploads"]), min_size=1, max_size=2)))
    if kind == "USER":
        return f"{kw('USER')}{sp}" + draw(st.sampled_from(USERS))
    if kind == "WORKDIR":
        return f"{kw('WORKDIR')}{sp}" + draw(st.sampled_from(PATHS))
    if kind == "HEALTHCHECK":
        if draw(st.booleans()):
            return f"{kw('HEALTHCHECK')}{sp}NONE"
        flags = draw(_flags(["interval", "timeout", "retries", "start-period"]))
        return f"{kw('HEALTHCHECK')}{sp}{flags}CMD " + draw(st.sampled_from(
            ['["curl", "-f", "http://localhost/"]', "curl -f http://localhost/ || exit 1"]))
    if kind == "SHELL":
        return f"{kw('SHELL')}{sp}" + draw(_json_array(["/bin/bash", "-o", "pipefail", "-c"]))
    if kind == "STOPSIGNAL":
        return f"{kw('STOPSIGNAL')}{sp}" + draw(st.sampled_from(["SIGTERM", "9", "SIGQUIT"]))
    if kind == "MAINTAINER":
        return f"{kw('MAINTAINER')}{sp}someone <a@b.c>"
    # ONBUILD, with any other instruction under it (but FROM and ONBUILD)
    inner = draw(instruction(escape, nl))
    if inner.split(None, 1)[0].upper() in ("FROM", "ONBUILD", "MAINTAINER"):
        inner = "RUN true"
    return f"{kw('ONBUILD')}{sp}{inner}"


@st.composite
def dockerfiles(draw: st.DrawFn) -> str:
    """The text of a Dockerfile (see the module docstring)."""
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    escape = draw(st.sampled_from(["\\", "\\", "\\", "`"]))
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["# syntax=docker/dockerfile:1",
                                           "# syntax=docker/dockerfile:1.7",
                                           "# check=skip=JSONArgsRecommended"])))
    if escape == "`":
        lines.append("# escape=`")
    for _ in range(draw(st.integers(0, 2))):
        lines.append(f"ARG BASE={draw(st.sampled_from(IMAGES[:6]))}")
    stages = draw(st.integers(1, 3))
    for _ in range(stages):
        image = draw(st.sampled_from(IMAGES))
        lines.append(f"FROM {image}")
        for _ in range(draw(st.integers(0, 7))):
            extra = draw(st.integers(0, 6))
            if extra == 0:
                lines.append(draw(st.sampled_from(["# a comment", "#comment", "   # indented",
                                                   "# dockfix: ignore=DF001", ""])))
            elif extra == 1:
                lines.append(draw(blank))
            lead = draw(st.sampled_from(["", "", "", " ", "\t"]))
            trail = draw(st.sampled_from(["", "", "", " ", "\t "]))
            lines.append(lead + draw(instruction(escape, nl)) + trail)
    text = nl.join(lines)
    if draw(st.integers(0, 5)) != 0:
        text += nl  # most files end with a newline; some do not
    if draw(st.integers(0, 9)) == 0:
        text = "\ufeff" + text
    return text
