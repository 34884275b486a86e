"""The adduser templates: byte-exact renders, readable by our parser, safe inputs.

Each ``templates/adduser/<name>.Dockerfile.j2`` is rendered with the settings'
defaults and compared with ``tests/fixtures/templates/<name>.Dockerfile``
(see tests/fixtures/README.md); every render must parse back as exactly one RUN, with either
escape character and either newline.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from rewriter.dockerfile import templates
from rewriter.dockerfile.syntax import parse
from rewriter.dockerfile.templates import render

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "templates"
NAMES = templates.available()
DEFAULTS = dict(user="appuser", group="appgroup", uid=10001, gid=10001)
DIRS = ["/data", "/var/log/app"]


def _one_run(text: str):
    df = parse(text)
    (ins,) = df.instructions
    assert ins.keyword.upper() == "RUN"
    assert not ins.json and not ins.heredocs and not ins.flags
    return ins


def test_the_family_templates_exist() -> None:
    assert set(NAMES) == {"alpine", "busybox", "debian", "rhel", "rhel-minimal", "suse"}
    assert templates.templates_dir() == REPO / "templates"


def test_every_template_has_a_fixture_and_back() -> None:
    assert sorted(p.name.removesuffix(".Dockerfile") for p in FIXTURES.glob("*.Dockerfile")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_render_matches_fixture(name: str) -> None:
    expected = (FIXTURES / f"{name}.Dockerfile").read_bytes().decode("utf-8")
    assert render(name, **DEFAULTS, dirs=DIRS) == expected


@pytest.mark.parametrize("name", NAMES)
def test_render_is_one_run(name: str) -> None:
    text = render(name, **DEFAULTS, dirs=DIRS)
    assert text.endswith("\n") and not text.endswith("\n\n")
    ins = _one_run(text)
    assert ins.end_line == text.count("\n")
    assert "mkdir -p /data /var/log/app" in ins.args
    assert ins.args.endswith("chown 10001:10001 /data /var/log/app")
    for line in text.splitlines()[:-1]:  # every line but the last continues with " \"
        assert line.endswith(" \\")
    for line in text.splitlines()[1:]:
        assert line.startswith("    ")


@pytest.mark.parametrize("name", NAMES)
def test_render_without_dirs(name: str) -> None:
    text = render(name, **DEFAULTS)
    ins = _one_run(text)
    assert "mkdir" not in text and "chown" not in text
    assert ins.args.rstrip().endswith("appuser")
    assert text == render(name, **DEFAULTS, dirs=())


@pytest.mark.parametrize("name", NAMES)
def test_backtick_escape_and_crlf(name: str) -> None:
    text = render(name, **DEFAULTS, dirs=DIRS, escape="`", newline="\r\n")
    assert "\\" not in text.replace("\\\\", "")  # no backslash continuation left
    assert text.count("\n") == text.count("\r\n") and text.endswith("\r\n")
    df = parse("# escape=`\r\n" + text)
    assert df.escape == "`"
    (ins,) = df.instructions
    plain = _one_run(render(name, **DEFAULTS, dirs=DIRS))
    assert ins.logical == plain.logical  # the same command, whatever the file's style


def test_crlf_with_backslash_escape() -> None:
    text = render("debian", **DEFAULTS, newline="\r\n")
    assert text == render("debian", **DEFAULTS).replace("\n", "\r\n")
    _one_run(text)


@pytest.mark.parametrize("name", NAMES)
def test_rendered_command_is_valid_shell(name: str) -> None:
    ins = _one_run(render(name, **DEFAULTS, dirs=DIRS))
    proc = subprocess.run(["sh", "-n", "-c", ins.args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_busybox_gecos_is_never_the_group() -> None:
    # docs/pitfalls.md #11: BusyBox adduser's -g is GECOS; the group goes with -G.
    for name in ("alpine", "busybox"):
        words = shlex.split(_one_run(render(name, **DEFAULTS)).args)
        adduser = words[words.index("adduser"):]
        assert "-g" not in adduser
        assert adduser[adduser.index("-G") + 1] == "appgroup"
        assert {"-S", "-D"} <= set(adduser) and "-H" not in adduser
        assert adduser[adduser.index("-h") + 1] == "/home/appuser"  # a home: apps write caches


def test_useradd_never_writes_lastlog() -> None:
    # docs/pitfalls.md #12: a high uid without -l/--no-log-init makes a huge sparse lastlog.
    for name in ("debian", "rhel", "rhel-minimal", "suse"):
        args = _one_run(render(name, **DEFAULTS)).args
        useradd = args[args.index("useradd"):]
        assert " -l " in useradd or " --no-log-init " in useradd


def test_minimal_images_get_shadow_utils() -> None:
    # docs/pitfalls.md #11: ubi-minimal lacks shadow-utils.
    args = _one_run(render("rhel-minimal", **DEFAULTS)).args
    assert "microdnf install -y shadow-utils" in args
    assert args.index("shadow-utils") < args.index("groupadd")


def test_directories_are_quoted_and_deduplicated() -> None:
    odd = ["/srv/my data", "/var/lib/it's", "/opt/$HOME", "/srv/my data", "/x/`id`"]
    ins = _one_run(render("debian", **DEFAULTS, dirs=odd))
    words = shlex.split(ins.args)
    mkdir = words.index("mkdir")
    assert words[mkdir + 2 : mkdir + 6] == ["/srv/my data", "/var/lib/it's", "/opt/$HOME", "/x/`id`"]
    assert words[-4:] == ["/srv/my data", "/var/lib/it's", "/opt/$HOME", "/x/`id`"]
    # quoted in single quotes: nothing in them is expanded by the shell
    assert "'/opt/$HOME'" in ins.args and "'/x/`id`'" in ins.args


def test_directories_survive_a_backtick_escape() -> None:
    text = render("alpine", **DEFAULTS, dirs=["/a`b"], escape="`")
    (ins,) = parse("# escape=`\n" + text).instructions
    assert shlex.split(ins.args)[-1] == "/a`b"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"user": "Root"},
        {"user": "app user"},
        {"user": "app;rm -rf /"},
        {"user": "$(id)"},
        {"user": "-rf"},
        {"user": "1app"},
        {"user": ""},
        {"user": "a" * 33},
        {"user": "app\n"},
        {"user": 10001},
        {"group": "Group"},
        {"group": "g`id`"},
        {"group": None},
        {"uid": 0},
        {"uid": -1},
        {"uid": 2**31 - 1},
        {"uid": 2**32},
        {"uid": True},
        {"uid": "10001"},
        {"uid": 10001.0},
        {"gid": 0},
        {"gid": "1; reboot"},
        {"dirs": ["data"]},
        {"dirs": ["/"]},
        {"dirs": ["//"]},
        {"dirs": ["/."]},
        {"dirs": ["/data/../etc"]},
        {"dirs": ["/data\nRUN x"]},
        {"dirs": ["/data\r"]},
        {"dirs": ["/a\x00b"]},
        {"dirs": "/data"},
        {"dirs": [None]},
        {"escape": "x"},
        {"escape": ""},
        {"newline": "\r"},
        {"newline": ""},
    ],
)
def test_invalid_inputs_raise(kwargs: dict) -> None:
    args = {**DEFAULTS, **kwargs}
    with pytest.raises(ValueError):
        render("debian", **args)


@pytest.mark.parametrize("name", ["nope", "../debian", "debian.Dockerfile.j2", "_own_dirs", "Debian", "",
                                  "adduser/debian"])
def test_unknown_template_raises(name: str) -> None:
    with pytest.raises(ValueError):
        render(name, **DEFAULTS)


def test_largest_valid_ids() -> None:
    _one_run(render("debian", user="a", group="b", uid=2**31 - 2, gid=1))
    _one_run(render("rhel", user="a_b-c", group="_x", uid=1, gid=2**31 - 2))


@pytest.mark.parametrize(("name", "limit"), [("busybox", 60000), ("alpine", 256000)])
def test_busybox_id_limits(name: str, limit: int) -> None:
    # BusyBox adduser/addgroup range-check ids against CONFIG_LAST_ID.
    _one_run(render(name, user="a", group="b", uid=limit, gid=limit))
    for uid, gid in ((limit + 1, 1), (1, limit + 1)):
        with pytest.raises(ValueError, match=str(limit)):
            render(name, user="a", group="b", uid=uid, gid=gid)


def test_every_family_template_renders() -> None:
    from rewriter.dockerfile.families import family, family_names

    for name in family_names():
        fam = family(name)
        if fam.template is not None:
            _one_run(render(fam.template, **DEFAULTS, dirs=DIRS))


@pytest.mark.parametrize("name", NAMES)
def test_login_shell_is_asked_for(name: str) -> None:
    # A terminal emulator starts the passwd entry's shell: nologin closes every tab.
    def shell(text: str) -> str:
        words = shlex.split(_one_run(text).args)
        tool = next(i for i, w in enumerate(words) if w in ("useradd", "adduser") and
                    ("-s" in words[i:] or "--shell" in words[i:]))
        rest = words[tool:]
        flag = "--shell" if "--shell" in rest else "-s"
        return rest[rest.index(flag) + 1]

    assert shell(render(name, **DEFAULTS)) in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false")
    assert shell(render(name, **DEFAULTS, login_shell=True)) == "/bin/sh"


@pytest.mark.parametrize("name", NAMES)
def test_group_zero_joins_roots_group(name: str) -> None:
    # OpenShift's arbitrary-uid convention: the user's primary group is root's
    # (gid 0, in every image), so no group is created and the ids are uid:0.
    text = render(name, user="appuser", group="root", uid=10001, gid=0, dirs=DIRS)
    ins = _one_run(text)
    words = shlex.split(ins.args.replace("\\\n", " "))
    assert not {"groupadd", "addgroup"} & set(words)
    if "useradd" in words:
        useradd = words[words.index("useradd"):]
        flag = "--gid" if "--gid" in useradd else "-g"
        assert useradd[useradd.index(flag) + 1] == "0"
    else:
        adduser = words[words.index("adduser"):]
        assert adduser[adduser.index("-G") + 1] == "root"
    assert ins.args.endswith("chown 10001:0 /data /var/log/app")
    proc = subprocess.run(["sh", "-n", "-c", ins.args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_group_zero_needs_roots_group_name() -> None:
    with pytest.raises(ValueError):
        render("alpine", user="appuser", group="appgroup", uid=10001, gid=0)


@pytest.mark.parametrize("name", NAMES)
def test_supplementary_groups(name: str) -> None:
    # A desktop app's user joins audio and video: one RUN, valid shell, and the
    # user's own primary group is still the one created for it.
    ins = _one_run(render(name, **DEFAULTS, groups=["audio", "video"]))
    words = shlex.split(ins.args)
    if name in ("alpine", "busybox"):  # BusyBox: `addgroup USER GROUP` after adduser
        joined = [words[i + 2] for i, w in enumerate(words)
                  if w == "addgroup" and words[i + 1] == "appuser"]
        assert joined == ["audio", "video"]
        assert words[words.index("adduser"):].count("-G") == 1
    else:
        flag = "--groups" if "--groups" in words else "-G"
        assert words[words.index(flag) + 1] == "audio,video"
    assert subprocess.run(["sh", "-n", "-c", ins.args]).returncode == 0
    assert "audio" not in render(name, **DEFAULTS)


def test_bad_group_names_are_refused() -> None:
    for bad in (["audio;rm -rf /"], "audio", ["$(id)"]):
        with pytest.raises(ValueError):
            render("debian", **DEFAULTS, groups=bad)
