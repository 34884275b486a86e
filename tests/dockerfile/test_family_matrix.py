"""Every rule against every base family.

The whole-file fixtures show each rule's output in detail; this matrix checks
that each rule does the right *kind* of thing on each family's base image:
fixes where the family allows it (with that family's own tools), suggestions
only where it has no shell, and nothing at all on Windows.  Every output must
also be stable, and accepted by BuildKit's parser.
"""

from __future__ import annotations

import pytest

from rewriter.dockerfile import crosscheck
from rewriter.core.engine import fix_text
from rewriter.core.settings import Settings

#: family -> (base image, has a POSIX shell, text the user block must contain)
FAMILIES = {
    "alpine": ("alpine:3.20", True, "adduser -S -D -h /home/appuser -u 10001 -G appgroup"),
    "busybox": ("busybox:1.36", True, "adduser -S -D -h /home/appuser -u 10001 -G appgroup"),
    # a distribution's busybox-static: no adduser applet, so numeric ids only
    "busybox-distro": ("busybox:ubuntu-14.04", True, None),
    "debian": ("debian:bookworm-slim", True, "useradd --system --no-log-init --uid 10001"),
    "ubuntu": ("ubuntu:22.04", True, "useradd --system --no-log-init --uid 10001"),
    "rhel": ("registry.access.redhat.com/ubi9/ubi:9.4", True, "useradd -r -l -u 10001"),
    "ubi-minimal": ("registry.access.redhat.com/ubi9/ubi-minimal:9.4", True,
                    "microdnf install -y shadow-utils"),
    "suse": ("opensuse/leap:15.6", True, "useradd -r -l -u 10001"),
    "distroless": ("gcr.io/distroless/static-debian12", False, None),
    "chainguard": ("cgr.dev/chainguard/static:latest", False, None),
    "scratch": ("scratch", False, None),
    "windows": ("mcr.microsoft.com/windows/servercore:ltsc2022", False, None),
    "unknown": ("internal.example.com/base/image:1", False, None),
}


def _fix(text: str, **kw: object) -> tuple[str, object]:
    result = fix_text(text, Settings(**kw))  # type: ignore[arg-type]
    assert result.error is None
    again = fix_text(result.fixed, Settings(**kw))  # type: ignore[arg-type]
    assert again.fixed == result.fixed, "not stable"
    if crosscheck.available() and result.changed:
        assert crosscheck.buildkit_accepts(result.fixed)
    return result.fixed, result


@pytest.mark.parametrize("family", FAMILIES)
def test_df001_user_by_family(family: str) -> None:
    image, shell, block = FAMILIES[family]
    text = f"FROM {image}\nCOPY app /app\nCMD [\"/app/run\"]\n"
    out, result = _fix(text)
    if family == "windows":
        assert out == text
        assert {d.reason for d in result.declines} == {"windows-stage"}
    elif family == "unknown":
        assert out == text
        assert "unknown-family" in {d.reason for d in result.declines}
        out, _ = _fix(text, unsafe_fixes=True)
        assert "USER 10001:10001\nCMD" in out and "RUN" not in out
    elif family == "chainguard":
        assert out == text  # runs as nonroot 65532 already
        assert {d.reason for d in result.declines} == {"already-nonroot"}
    elif family == "busybox-distro":
        assert out == text.replace("CMD", "USER 10001:10001\nCMD")
    elif shell:
        assert block in out
        assert "USER 10001:10001\nCMD" in out
        assert "-g appgroup" not in out  # BusyBox -g is the GECOS field
    else:
        uid = "65532:65532" if family == "distroless" else "10001:10001"
        assert out == text.replace("CMD", f"USER {uid}\nCMD")


@pytest.mark.parametrize("family", FAMILIES)
def test_df002_chown_by_family(family: str) -> None:
    image, shell, _ = FAMILIES[family]
    text = (f"FROM {image}\nCOPY app/ /app/\nRUN chown -R 10001:10001 /app\n"
            "CMD [\"/app/run\"]\n")
    out, _ = _fix(text, select=("DF002",))
    if family == "windows":
        assert out == text
    else:
        assert "COPY --chown=10001:10001 app/ /app/\n" in out
        assert "RUN chown" not in out


@pytest.mark.parametrize("family", FAMILIES)
def test_df003_reverted_user_by_family(family: str) -> None:
    image, _, _ = FAMILIES[family]
    text = (f"FROM {image}\nUSER 10001\nCOPY app /app\nUSER root\nRUN /app/setup\n"
            "CMD [\"/app/run\"]\n")
    out, result = _fix(text, select=("DF003",))
    if family == "windows":
        assert out == text
        assert "windows-stage" in {d.reason for d in result.declines}
    else:
        assert out.endswith("RUN /app/setup\nUSER 10001\nCMD [\"/app/run\"]\n")
        assert out.count("USER root") == 0


@pytest.mark.parametrize("family", FAMILIES)
def test_df004_volume_by_family(family: str) -> None:
    image, shell, _ = FAMILIES[family]
    text = f"FROM {image}\nCOPY app /app\nVOLUME /data\nUSER 10001\nCMD [\"/app/run\"]\n"
    out, result = _fix(text, select=("DF004",))
    if shell:
        # before the VOLUME: the classic builder discards what later steps do to it
        assert "RUN mkdir -p /data && chown 10001 /data\nVOLUME /data\nUSER 10001\n" in out
    else:
        assert out == text
        suggested = [v for v in result.remaining if v.code == "DF004"]
        if family != "windows":
            assert suggested and suggested[0].fix is not None
            assert suggested[0].fix.edits == ()


@pytest.mark.parametrize("family", FAMILIES)
def test_df005_celery_by_family(family: str) -> None:
    image, _, _ = FAMILIES[family]
    text = f"FROM {image}\nENV C_FORCE_ROOT=1\nUSER 10001\nCMD [\"celery\", \"worker\"]\n"
    out, _ = _fix(text, select=("DF005",))
    assert out == text.replace("ENV C_FORCE_ROOT=1\n", "")


@pytest.mark.parametrize("family", FAMILIES)
def test_df006_df008_warnings_by_family(family: str) -> None:
    image, _, _ = FAMILIES[family]
    text = f"FROM {image}\nRUN sudo true\nEXPOSE 80 8080\nUSER 10001\nCMD [\"x\"]\n"
    out, result = _fix(text, select=("DF006", "DF008"))
    assert out == text
    codes = sorted(v.code for v in result.remaining)
    assert codes == ["DF006", "DF008"]
