"""Image families: the table in rewriter/data/families.toml, read by rewriter.dockerfile.families.

Table-driven: each case is a real-world image reference (the kind found in FROM
lines) and what dockfix must conclude about it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_dockfix

from rewriter.core.settings import Settings
from rewriter.dockerfile import families, templates
from rewriter.dockerfile.families import Family, ImageInfo, family, family_from_evidence, family_names, lookup
from rewriter.dockerfile.familytable import builtin, builtin_document
from rewriter.dockerfile.syntax import parse

REPO = Path(__file__).resolve().parents[2]
DIGEST = "@sha256:" + "0123456789abcdef" * 4

# (ref, family name, template)
FAMILY_CASES = [
    # operating systems
    ("alpine", "alpine", "alpine"),
    ("alpine:latest", "alpine", "alpine"),
    ("alpine:3.23", "alpine", "alpine"),
    ("busybox", "busybox", "busybox"),
    ("busybox:1.36-musl", "busybox", "busybox"),
    ("busybox:glibc", "busybox", "busybox"),
    ("busybox:1.36-uclibc", "busybox", "busybox"),
    ("busybox:buildroot-2014.02", "busybox", "busybox"),
    # the distribution's busybox-static, without adduser/addgroup
    ("busybox:ubuntu-14.04", "busybox-distro", None),
    ("busybox:ubuntu", "busybox-distro", None),
    ("busybox:debian", "busybox-distro", None),
    ("debian:bookworm-slim", "debian", "debian"),
    ("debian:sid-slim", "debian", "debian"),
    ("debian:jessie", "debian", "debian"),
    ("ubuntu:24.04", "ubuntu", "debian"),
    ("ubuntu:14.04", "ubuntu", "debian"),
    ("ubuntu:trusty", "ubuntu", "debian"),
    ("dockerfile/java:oracle-java8", "ubuntu", "debian"),
    ("dockerfile/nodejs", "ubuntu", "debian"),
    ("centos:centos6", "rhel", "rhel"),
    ("centos:7", "rhel", "rhel"),
    ("centos", "rhel", "rhel"),
    ("quay.io/centos/centos:stream9", "rhel", "rhel"),
    ("fedora:40", "rhel", "rhel"),
    ("rockylinux:9", "rhel", "rhel"),
    ("rockylinux:9-minimal", "rhel-minimal", "rhel-minimal"),
    ("almalinux:9-minimal", "rhel-minimal", "rhel-minimal"),
    ("almalinux/9-base", "rhel", "rhel"),
    ("oraclelinux:8", "rhel", "rhel"),
    ("oraclelinux:9-slim", "rhel-minimal", "rhel-minimal"),
    ("oraclelinux:7-slim", "rhel", "rhel"),
    ("amazonlinux:2023", "rhel", "rhel"),
    ("amazonlinux:2", "rhel", "rhel"),
    ("amazonlinux", "rhel", "rhel"),
    ("opensuse/leap:15", "suse", "suse"),
    ("opensuse/tumbleweed", "suse", "suse"),
    ("registry.suse.com/bci/bci-base:15.6", "suse", "suse"),
    ("registry.suse.com/bci/python:3.12", "suse", "suse"),
    ("registry.suse.com/bci/bci-busybox", "busybox", "busybox"),
    # Red Hat UBI, by repository name
    ("registry.access.redhat.com/ubi9/ubi-minimal", "rhel-minimal", "rhel-minimal"),
    ("registry.access.redhat.com/ubi8/ubi-minimal:8.10", "rhel-minimal", "rhel-minimal"),
    ("registry.access.redhat.com/ubi9", "rhel", "rhel"),
    ("registry.access.redhat.com/ubi9/ubi:9.4", "rhel", "rhel"),
    ("registry.access.redhat.com/ubi9/ubi-init", "rhel", "rhel"),
    ("registry.redhat.io/ubi9/ubi-minimal", "rhel-minimal", "rhel-minimal"),
    ("redhat/ubi9-minimal", "rhel-minimal", "rhel-minimal"),
    ("redhat/ubi10-minimal", "rhel-minimal", "rhel-minimal"),
    ("redhat/ubi9", "rhel", "rhel"),
    ("ubi8/ubi-minimal", "rhel-minimal", "rhel-minimal"),
    ("registry.access.redhat.com/rhel7-atomic:latest", "rhel-minimal", None),
    ("rhel7-atomic", "rhel-minimal", None),
    ("ubi10-minimal", "rhel-minimal", "rhel-minimal"),
    ("registry.access.redhat.com/ubi9/openjdk-17", "rhel-minimal", "rhel-minimal"),
    ("registry.access.redhat.com/ubi9/python-311", "rhel", "rhel"),
    ("registry.access.redhat.com/rhel7.3", "rhel", "rhel"),
    ("quay.io/sclorg/s2i-base-c9s", "rhel", "rhel"),
    # no shell, no template
    ("scratch", "scratch", None),
    ("gcr.io/distroless/static-debian12:nonroot", "distroless", None),
    ("gcr.io/distroless/base", "distroless", None),
    ("gcr.io/distroless/java17-debian12:debug-nonroot", "distroless", None),
    ("cgr.dev/chainguard/python:latest", "chainguard", None),
    ("cgr.dev/chainguard/static", "chainguard", None),
    ("mcr.microsoft.com/windows/servercore:ltsc2022", "windows", None),
    ("mcr.microsoft.com/windows/servercore:ltsc2016", "windows", None),
    ("mcr.microsoft.com/windows/nanoserver:1809", "windows", None),
    ("mcr.microsoft.com/windows:20h2", "windows", None),
    ("mcr.microsoft.com/windowsservercore-insider:10.0.17744.1001", "windows", None),
    ("mcr.microsoft.com/nanoserver-insider:10.0.17744.1001", "windows", None),
    ("mcr.microsoft.com/dotnet/framework/sdk:4.8", "windows", None),
    ("microsoft/iis", "windows", None),
    ("stefanscherer/node-windows", "windows", None),
    ("registry.access.redhat.com/ubi9/ubi-micro", "rhel-minimal", None),
    # languages: the tag says the variant
    ("python:3.12-slim", "debian", "debian"),
    ("python:3.14-slim", "debian", "debian"),
    ("python:2.7", "debian", "debian"),
    ("python:2-alpine", "alpine", "alpine"),
    ("python:3.10-alpine", "alpine", "alpine"),
    ("python:3.12-windowsservercore-ltsc2022", "windows", None),
    ("node:lts", "debian", "debian"),
    ("node:20-alpine", "alpine", "alpine"),
    ("node:20-bookworm-slim", "debian", "debian"),
    ("golang", "debian", "debian"),
    ("golang:alpine", "alpine", "alpine"),
    ("golang:1.25-bookworm", "debian", "debian"),
    ("golang:1.22-alpine3.19", "alpine", "alpine"),
    ("golang:1.22-windowsservercore-ltsc2022", "windows", None),
    ("golang:1.22-nanoserver-ltsc2022", "windows", None),
    ("ruby:2.5.3", "debian", "debian"),
    ("php:5.6-apache", "debian", "debian"),
    ("php:8.3-fpm-alpine", "alpine", "alpine"),
    ("rust", "debian", "debian"),
    ("rust:1-alpine", "alpine", "alpine"),
    ("buildpack-deps:trixie-scm", "debian", "debian"),
    ("buildpack-deps:noble", "ubuntu", "debian"),
    ("elixir", "debian", "debian"),
    ("swift:5.9-jammy", "ubuntu", "debian"),
    ("swift:5.9-amazonlinux2", "rhel", "rhel"),
    ("openjdk:8-alpine", "alpine", "alpine"),
    ("openjdk:8", "debian", "debian"),
    ("openjdk:11-jre-slim", "debian", "debian"),
    ("openjdk:17", "rhel-minimal", "rhel-minimal"),
    ("openjdk:17-jdk-slim", "debian", "debian"),
    ("openjdk:22-oraclelinux8", "rhel-minimal", "rhel-minimal"),
    ("eclipse-temurin:21", "ubuntu", "debian"),
    ("eclipse-temurin:21-jre-alpine", "alpine", "alpine"),
    ("eclipse-temurin:17-jre-focal", "ubuntu", "debian"),
    ("eclipse-temurin:21-jdk-ubi9-minimal", "rhel-minimal", "rhel-minimal"),
    ("amazoncorretto:21", "rhel", "rhel"),
    ("amazoncorretto:21-alpine", "alpine", "alpine"),
    ("maven:3.8.5-eclipse-temurin-17", "ubuntu", "debian"),
    ("maven:3-amazoncorretto-17", "rhel", "rhel"),
    ("maven:3-amazoncorretto-21-al2023", "rhel", "rhel"),
    ("maven:3-amazoncorretto-17-debian", "debian", "debian"),
    ("maven:3-eclipse-temurin-17-alpine", "alpine", "alpine"),
    ("gradle:8-jdk21", "ubuntu", "debian"),
    ("tomcat:10", "ubuntu", "debian"),
    ("tomcat:9-jdk17-corretto", "rhel", "rhel"),
    ("mcr.microsoft.com/dotnet/sdk:8.0", "debian", "debian"),
    ("mcr.microsoft.com/dotnet/aspnet:8.0-jammy", "ubuntu", "debian"),
    ("mcr.microsoft.com/dotnet/aspnet:8.0-alpine", "alpine", "alpine"),
    ("mcr.microsoft.com/dotnet/aspnet:10.0", "ubuntu", "debian"),
    ("mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled", "distroless", None),
    ("mcr.microsoft.com/dotnet/runtime:8.0-azurelinux3.0", "unknown", None),
    ("mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022", "windows", None),
    # servers
    ("nginx", "debian", "debian"),
    ("nginx:1.13-alpine", "alpine", "alpine"),
    ("nginx:stable-alpine-slim", "alpine", "alpine"),
    ("nginxinc/nginx-unprivileged:alpine", "alpine", "alpine"),
    ("httpd:2.4", "debian", "debian"),
    ("postgres", "debian", "debian"),
    ("postgres:16-alpine", "alpine", "alpine"),
    ("mysql:8.0", "rhel-minimal", "rhel-minimal"),
    ("mysql:8.4-oracle", "rhel-minimal", "rhel-minimal"),
    ("mysql:8.0-debian", "debian", "debian"),
    ("mysql:5.7", "rhel", "rhel"),
    ("mysql:5.7-debian", "debian", "debian"),
    ("mariadb:11", "ubuntu", "debian"),
    ("mongo:7", "ubuntu", "debian"),
    ("mongo:7-windowsservercore", "windows", None),
    ("jenkins/jenkins:lts", "debian", "debian"),
    ("jenkins/jenkins:lts-alpine", "alpine", "alpine"),
    ("jenkins/jenkins:lts-rhel-ubi9-jdk17", "rhel", "rhel"),
    ("bitnami/postgresql:16.2.0-debian-12-r0", "debian", "debian"),
    ("hashicorp/terraform:1.7", "alpine", "alpine"),
    ("prom/prometheus", "busybox", "busybox"),
    ("quay.io/prometheus/busybox-linux-amd64", "busybox", "busybox"),
    ("grafana/grafana:10.4.0-ubuntu", "ubuntu", "debian"),
    ("nvidia/cuda:12.2.0-runtime-ubuntu22.04", "ubuntu", "debian"),
    ("nvidia/cuda:12.2.0-base-ubi8", "rhel", "rhel"),
    ("quay.io/keycloak/keycloak:24.0", "rhel-minimal", None),
    ("mcr.microsoft.com/devcontainers/base:bullseye", "debian", "debian"),
    ("mcr.microsoft.com/vscode/devcontainers/base:0-bullseye", "debian", "debian"),
    ("mcr.microsoft.com/devcontainers/base:ubuntu-22.04", "ubuntu", "debian"),
    ("mcr.microsoft.com/devcontainers/base:alpine-3.19", "alpine", "alpine"),
    ("mcr.microsoft.com/devcontainers/base:latest", "unknown", None),
    # normalisation: registries, digests, case
    ("docker.io/library/node:20-alpine" + DIGEST, "alpine", "alpine"),
    ("node" + DIGEST, "debian", "debian"),
    ("index.docker.io/library/busybox:1.36", "busybox", "busybox"),
    ("registry-1.docker.io/library/debian:12", "debian", "debian"),
    ("docker.io/alpine:3.19", "alpine", "alpine"),
    ("docker.io/nginxinc/nginx-unprivileged", "debian", "debian"),
    ("public.ecr.aws/docker/library/python:3.12", "debian", "debian"),
    ("mirror.gcr.io/library/redis:7-alpine", "alpine", "alpine"),
    ("Python:3.12", "debian", "debian"),
    ("  alpine:3.19  ", "alpine", "alpine"),
]


#: The family names of the table dockfix ships (``--mappings`` may add others).
FAMILY_NAMES = ("alpine", "busybox", "busybox-distro", "chainguard", "debian", "distroless", "rhel", "rhel-minimal",
                "scratch", "suse", "ubuntu", "unknown", "windows")


def test_family_names() -> None:
    assert family_names() == FAMILY_NAMES


@pytest.mark.parametrize(("ref", "name", "template"), FAMILY_CASES)
def test_family_of(ref: str, name: str, template: str | None) -> None:
    info = lookup(ref)
    assert info is not None, ref
    assert info.ref == ref
    assert info.family.name == name
    assert info.family.template == template
    assert info.family.name in FAMILY_NAMES


# (ref, default_user, users that must be present, privilege_drop)
USER_CASES = [
    ("node:20", None, {"node": 1000}, False),
    ("node:20-alpine", None, {"node": 1000, "nobody": 65534}, False),
    ("python:3.12", None, {"nobody": 65534}, False),
    ("ubuntu:24.04", None, {"ubuntu": 1000}, False),
    ("ubuntu:noble", None, {"ubuntu": 1000}, False),
    ("ubuntu:latest", None, {"ubuntu": 1000}, False),
    ("ubuntu", None, {"ubuntu": 1000}, False),
    ("ubuntu:rolling", None, {"ubuntu": 1000}, False),
    ("ubuntu:devel", None, {"ubuntu": 1000}, False),
    ("ubuntu:25.04", None, {"ubuntu": 1000}, False),
    ("eclipse-temurin:21", None, {"ubuntu": 1000}, False),
    ("eclipse-temurin:21-jre-noble", None, {"ubuntu": 1000}, False),
    ("maven:3-eclipse-temurin-21-noble", None, {"ubuntu": 1000}, False),
    ("gradle:jdk21-noble", None, {"gradle": 1000}, False),
    ("postgres:16", None, {"postgres": 999}, True),
    ("postgres:16-alpine", None, {"postgres": 70}, True),
    ("redis:7", None, {"redis": 999}, True),
    ("redis:7-alpine", None, {"redis": 999}, True),
    ("mysql:8.0", None, {"mysql": 999}, True),
    ("mariadb:11", None, {"mysql": 999}, True),
    ("mongo:7", None, {"mongodb": 999}, True),
    ("rabbitmq:3-management", None, {"rabbitmq": 999}, True),
    ("cassandra:4", None, {"cassandra": 999}, True),
    ("couchdb:3", None, {"couchdb": 5984}, True),
    ("zookeeper:3.9", None, {"zookeeper": 1000}, True),
    ("nginx:1.27", None, {"nginx": 101}, True),
    ("httpd:2.4", None, {}, True),
    ("php:8.3-fpm", None, {"www-data": 33}, True),
    ("php:8.3-cli", None, {"www-data": 33}, False),
    ("memcached:1.6", "memcache", {"memcache": 11211}, False),
    ("memcached:1.6-alpine", "memcache", {"memcache": 11211}, False),
    ("nginxinc/nginx-unprivileged", "101", {"nginx": 101}, False),
    ("bitnami/redis:7.2", "1001", {}, False),
    ("bitnami/minideb:bookworm", None, {}, False),
    ("jenkins/jenkins:lts", "jenkins", {"jenkins": 1000}, False),
    ("jenkins/inbound-agent", "jenkins", {"jenkins": 1000}, False),
    ("gcr.io/distroless/static:nonroot", "65532", {"nonroot": 65532, "nobody": 65534}, False),
    ("gcr.io/distroless/static-debian12", None, {"nonroot": 65532, "nobody": 65534}, False),
    ("cgr.dev/chainguard/python:latest", "65532", {"nonroot": 65532}, False),
    ("cgr.dev/chainguard/python:latest-dev", "65532", {"nonroot": 65532}, False),
    ("cgr.dev/chainguard/wolfi-base", None, {"nonroot": 65532}, False),
    ("mcr.microsoft.com/windows/nanoserver:ltsc2022", "ContainerUser", {}, False),
    ("mcr.microsoft.com/windows/nanoserver:sac2016", None, {}, False),
    ("mcr.microsoft.com/windows/servercore:ltsc2022", None, {}, False),
    ("mcr.microsoft.com/dotnet/aspnet:8.0", None, {"app": 1654}, False),
    ("mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled", "1654", {"app": 1654}, False),
    ("mcr.microsoft.com/mssql/server:2022-latest", "mssql", {"mssql": 10001}, False),
    ("registry.access.redhat.com/ubi9/openjdk-17", "185", {"jboss": 185}, False),
    ("registry.access.redhat.com/ubi9/python-311", "1001", {"default": 1001}, False),
    ("registry.access.redhat.com/ubi9/nodejs-20-minimal", "1001", {"default": 1001}, False),
    ("centos:7", None, {"nobody": 99}, False),
    ("amazonlinux:2", None, {"nobody": 99}, False),
    ("amazonlinux:2023", None, {"nobody": 65534}, False),
    ("prom/prometheus", "nobody", {"nobody": 65534}, False),
    ("grafana/grafana", "472", {"grafana": 472}, False),
    ("lscr.io/linuxserver/plex", None, {"abc": 911}, True),
    ("hashicorp/vault:1.15", None, {}, True),
    ("elasticsearch:8.13.0", "1000:0", {"elasticsearch": 1000}, False),
    ("mcr.microsoft.com/devcontainers/base:bullseye", None, {"vscode": 1000}, False),
]


@pytest.mark.parametrize(("ref", "default_user", "users", "drop"), USER_CASES)
def test_users_of(ref: str, default_user: str | None, users: dict[str, int], drop: bool) -> None:
    info = lookup(ref)
    assert info is not None, ref
    assert info.default_user == default_user
    assert users.items() <= dict(info.users).items()
    assert info.privilege_drop is drop
    assert info.runs_as_root is (default_user is None)
    assert info.used_uids >= {0, *info.users.values()}
    if default_user and default_user.split(":")[0].isdigit():
        assert int(default_user.split(":")[0]) in info.used_uids
    assert 0 not in info.users.values()  # users are non-root


@pytest.mark.parametrize(
    ("ref", "absent"),
    [
        ("ubuntu:22.04", "ubuntu"),
        ("ubuntu:jammy", "ubuntu"),
        ("eclipse-temurin:17-jre-jammy", "ubuntu"),
        ("gradle:jdk21-noble", "ubuntu"),  # gradle took noble's 1000
        ("python:3.12", "node"),
        ("mcr.microsoft.com/dotnet/sdk:6.0", "app"),
        ("centos:stream9", "nobody_99"),
        ("scratch", "nobody"),
        ("gcr.io/distroless/static", "ubuntu"),
    ],
)
def test_users_not_claimed(ref: str, absent: str) -> None:
    info = lookup(ref)
    assert info is not None
    if absent == "nobody_99":
        assert info.users.get("nobody") == 65534
    else:
        assert absent not in info.users


def test_used_uids_cover_system_accounts() -> None:
    deb = lookup("debian:12")
    assert deb is not None and {0, 1, 33, 65534} <= deb.used_uids and 10001 not in deb.used_uids
    alp = lookup("alpine:3.20")
    assert alp is not None and {0, 65534} <= alp.used_uids and 10001 not in alp.used_uids
    assert lookup("scratch").used_uids == frozenset({0})  # type: ignore[union-attr]
    # dockfix's own default uid is taken in mssql: knowing it is the point
    assert 10001 in lookup("mcr.microsoft.com/mssql/server:2019-latest").used_uids  # type: ignore[union-attr]
    # a numeric USER with no passwd entry still takes its uid
    assert 1001 in lookup("bitnami/nginx").used_uids  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "ref",
    [
        "${BASE}",
        "$BASE",
        "${base_prefix}alpine:3",
        "golang:${GO_VERSION}-alpine",
        "python:$PY",
        "",
        "   ",
        "builder",  # a stage name, unknown as an image
        "base",
        "tonistiigi/xx:1.5.0",
        "localhost:5000/foo:1",
        "localhost:5000/foo",
        "registry.example.com:5000/team/app:2.1",
        "my-registry/library/custom",
        "alpine:",
        ":3.19",
        "alpine:3:19",
        "foo:1:2-alpine",
        "host:5000/a:1/b:2-alpine",
        "alpine 3.19",
        "alpine@",
        "alpine@sha256",
        "alpine@sha256:",
        "docker.io/",
        "quay.io/fedora/fedora-minimal",
        "registry.access.redhat.com/${RHEL_RELEASE_LINE}/ubi",
    ],
)
def test_unknown_or_unresolved_refs(ref: str) -> None:
    assert lookup(ref) is None


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("localhost:5000/foo:1-alpine", "alpine"),
        ("localhost:5000/python:3.12-slim-bookworm", "debian"),
        ("registry.example.com:5000/team/app:2.1-jammy", "ubuntu"),
        ("ghcr.io/acme/api:1.4-ubi9-minimal", "rhel-minimal"),
        ("acme/app:1.0-windowsservercore-ltsc2022", "windows"),
        ("acme/app:1.0-distroless", "distroless"),
    ],
)
def test_tag_hints_guess_for_unknown_repos(ref: str, name: str) -> None:
    info = lookup(ref)
    assert info is not None
    assert info.family.name == name
    assert info.guessed
    assert info.default_user is None and not info.privilege_drop


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("frolvlad/alpine-glibc", "alpine"),
        ("linuxkit/alpine:abc123", "alpine"),
        ("alpine/git", "alpine"),
        ("brimstone/ubuntu:14.04", "ubuntu"),
        ("centos/kubernetes-master", "rhel"),
        ("resin/rpi-raspbian", "debian"),
    ],
)
def test_repository_name_guesses(ref: str, name: str) -> None:
    info = lookup(ref)
    assert info is not None and info.family.name == name and info.guessed


def test_known_images_are_not_guesses() -> None:
    for ref in ("python:3.12-alpine", "alpine", "mhart/alpine-node", "ubi8/ubi-minimal",
                "dockerfile/ubuntu"):
        assert not lookup(ref).guessed, ref  # type: ignore[union-attr]


def test_tag_hints_never_give_a_shell_to_a_shell_less_image() -> None:
    assert lookup("gcr.io/distroless/static-debian12:debug").family.name == "distroless"  # type: ignore[union-attr]
    assert lookup("cgr.dev/chainguard/node:20-slim").family.name == "chainguard"  # type: ignore[union-attr]
    assert lookup("mcr.microsoft.com/dotnet/aspnet:8.0-noble-chiseled").family.name == "distroless"  # type: ignore[union-attr]


def test_variants() -> None:
    micro = lookup("registry.access.redhat.com/ubi9/ubi-micro:9.4")
    assert micro is not None
    assert micro.family == Family("rhel-minimal", True, None, (), None, fhs=True)
    assert micro.family == family("rhel-micro") != family("rhel-minimal")
    dev = lookup("cgr.dev/chainguard/python:latest-dev")
    assert dev is not None and dev.family.name == "chainguard" and dev.family.shell
    assert dev.family.template is None and dev.family.package_managers == ("apk",)
    plain = lookup("cgr.dev/chainguard/python:latest")
    assert plain is not None and not plain.family.shell
    bci_micro = lookup("registry.suse.com/bci/bci-micro:15.6")
    assert bci_micro is not None and bci_micro.family.name == "suse" and not bci_micro.family.shell


def test_families() -> None:
    assert family("debian") == Family("debian", True, "debian", ("apt-get", "apt"), None, fhs=True)
    assert family("ubuntu").template == "debian"
    assert family("alpine").package_managers == ("apk",)
    assert family("rhel").package_managers == ("dnf", "yum")
    assert family("rhel-minimal").package_managers == ("microdnf",)
    assert family("suse").package_managers == ("zypper",)
    assert family("distroless").default_nonroot_uid == 65532
    assert family("chainguard").default_nonroot_uid == 65532
    assert family("scratch").default_nonroot_uid is None
    for name in ("distroless", "chainguard", "scratch", "windows", "unknown"):
        fam = family(name)
        assert fam.template is None and not fam.shell, name
    for name in FAMILY_NAMES:
        assert family(name).name == name
    with pytest.raises(KeyError):
        family("gentoo")


def test_every_template_exists_and_renders() -> None:
    table = builtin()
    for key, fam in table.families.items():
        assert fam.name in FAMILY_NAMES, key
        if fam.template is None:
            continue
        assert fam.shell, key
        path = REPO / "templates" / "adduser" / f"{fam.template}.Dockerfile.j2"
        assert path.is_file(), path
        text = templates.render(fam.template, user="appuser", group="appgroup", uid=10001, gid=10001, dirs=["/data"])
        (ins,) = parse(text).instructions
        assert ins.keyword == "RUN"


def test_no_template_means_no_package_manager_or_no_shell() -> None:
    # where a package manager and a shell exist a user can be created; say why not otherwise
    table = builtin()
    for key, fam in table.families.items():
        if fam.template is None and fam.shell and fam.package_managers:
            assert key == "chainguard-dev", key  # reuses nonroot 65532 instead


def test_table_is_sound() -> None:
    table = builtin()
    entries = [e for es in table.exact.values() for e in es] + [e for _, e in table.globs]
    assert len(entries) > 100
    for e in entries:
        assert e.family is None or e.family in table.families
        if e.privilege_drop:
            assert e.note, "say how the image drops privileges"
    for h in table.hints:
        assert h.family in table.families
    # patterns are written in normalised form, or they could never match
    for item in builtin_document()["images"]:
        for pat in [item["match"]] if isinstance(item["match"], str) else item["match"]:
            assert pat == pat.lower() and pat.strip() == pat, pat
            assert not pat.startswith(("docker.io/", "index.docker.io/", "library/", "mirror.gcr.io/")), pat


def test_info_is_immutable_and_hashable() -> None:
    info = lookup("node:20")
    assert isinstance(info, ImageInfo)
    with pytest.raises(TypeError):
        info.users["evil"] = 0  # type: ignore[index]
    hash(info)
    assert lookup("node:20") == info


# --------------------------------------------------------------------------------
# mappings overlay
# --------------------------------------------------------------------------------

OVERLAY = """
# a user's own table
[families.debian]
template = "rhel"

[families.photon]
name = "rhel"
shell = true
template = "rhel"
package_managers = ["tdnf"]

[[tag_hints]]
tags = ["*-photon*"]
family = "photon"

[[images]]
match = "python"
family = "alpine"
default_user = "1234"
users = { app = 1234 }

[[images]]
match = "acme.example.com/platform/*"
family = "photon"
privilege_drop = true
note = "our base"
"""


def test_mappings_overlay_wins(tmp_path: Path) -> None:
    overlay = tmp_path / "mine.toml"
    overlay.write_text(OVERLAY, encoding="utf-8")
    py = lookup("python:3.12", [overlay])
    assert py is not None
    assert py.family.name == "alpine" and py.default_user == "1234" and py.users["app"] == 1234
    assert 1234 in py.used_uids
    base = lookup("acme.example.com/platform/base:7", [str(overlay)])
    assert base is not None and base.family.package_managers == ("tdnf",) and base.privilege_drop
    assert base.note == "our base"
    hinted = lookup("acme/thing:1-photon5", [overlay])
    assert hinted is not None and hinted.family.name == "rhel" and hinted.family.package_managers == ("tdnf",)
    # family fields merge: the overlay changed only debian's template
    deb = lookup("debian:12", [overlay])
    assert deb is not None and deb.family == Family("debian", True, "rhel", ("apt-get", "apt"), None, fhs=True)
    assert family("debian", [overlay]).template == "rhel"
    # the built-in table is untouched
    assert lookup("python:3.12").family.name == "debian"  # type: ignore[union-attr]
    assert family("debian").template == "debian"
    assert lookup("acme.example.com/platform/base:7") is None
    # entries the overlay does not mention still come from the built-in table
    assert lookup("postgres:16", [overlay]).privilege_drop  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[images]]\nmatch = 'x'\nfamily = 'gentoo'\n", "unknown family"),
        ("[[images]]\nmatch = 'x'\nfamly = 'debian'\n", "unknown key"),
        ("[[images]]\nfamily = 'debian'\n", "match"),
        ("[[images]]\nmatch = 'x'\ntags = []\n", "tags"),
        ("[[images]]\nmatch = 'x'\nusers = { a = -1 }\n", "users"),
        ("[[images]]\nmatch = 'x'\nprivilege_drop = 'yes'\n", "privilege_drop"),
        ("[families.x]\nshell = true\nname = 'Gentoo Linux'\n", "name"),
        ("[families.mine]\nname = 'debian'\ntemplate = 'debian'\n", "mine.toml.*shell"),
        ("[families.mine]\nname = 'debian'\nshell = true\ndefault_nonroot_uid = 'x'\n", "default_nonroot_uid"),
        ("[[tag_hints]]\ntags = ['*x*']\nfamily = 'nope'\n", "unknown family"),
        ("[bogus]\n", "unknown key"),
        ("this is = not toml [", "mine.toml"),
    ],
)
def test_bad_mappings_raise(tmp_path: Path, text: str, message: str) -> None:
    overlay = tmp_path / "mine.toml"
    overlay.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        lookup("python", [overlay])


def test_missing_mappings_file(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        lookup("python", [tmp_path / "nope.toml"])


# --------------------------------------------------------------------------------
# evidence
# --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("runs", "name"),
    [
        (["apt-get update && apt-get install -y curl"], "debian"),
        (["set -eux; apt update; apt install -y --no-install-recommends ca-certificates"], "debian"),
        (["dpkg -i /tmp/x.deb"], "debian"),
        (["DEBIAN_FRONTEND=noninteractive apt-get install -y tzdata"], "debian"),
        (["sudo -E apt-get install -y git"], "debian"),
        (["apk add --no-cache curl"], "alpine"),
        (["/sbin/apk add --no-cache curl"], "alpine"),
        (["set -x && apk --update add git"], "alpine"),
        (["microdnf install -y tar && microdnf clean all"], "rhel-minimal"),
        (["microdnf install -y dnf", "dnf install -y gcc"], "rhel-minimal"),
        (["dnf -y install python3"], "rhel"),
        (["yum install -y epel-release && yum clean all"], "rhel"),
        (["rpm -ivh https://example.com/x.rpm"], "rhel"),
        (["rpm --import key && yum install -y x"], "rhel"),
        (["zypper --non-interactive install curl"], "suse"),
        (["rpm --import key", "zypper -n in git"], "suse"),
        (["addgroup -S app && adduser -S -G app app"], "alpine"),
        (["adduser -D -u 1000 user"], "alpine"),
        (["adduser -DH app"], "alpine"),
        (["addgroup -g 1000 app"], "alpine"),
        (["sh -c 'apk add curl'"], "alpine"),
        (['bash -euxc "apt-get update"'], "debian"),
        (["RUN --mount=type=cache,target=/var/cache/apt apt-get install -y x"], "debian"),
        (["if [ -f x ]; then apt-get install -y x; fi"], "debian"),
        (["apt-get update \\\n    && apt-get install -y x"], "debian"),
        (["cd /tmp\napk add x"], "alpine"),
        (['["apt-get", "install", "-y", "x"]'], "debian"),
        (["echo hi", "", "make", "apk add make"], "alpine"),
    ],
)
def test_family_from_evidence(runs: list[str], name: str) -> None:
    fam = family_from_evidence(runs)
    assert fam is not None, runs
    assert fam.name == name


@pytest.mark.parametrize(
    "runs",
    [
        [],
        [""],
        ["echo apk add curl"],  # an argument, not a command
        ["./myapk.sh install"],
        ["sh myapk.sh"],
        ["pip install apt-get"],
        ["cp apk /usr/bin/"],
        ["useradd -r app", "groupadd app"],  # shadow exists on debian, rhel and suse
        ["adduser --disabled-password --gecos '' app"],  # Debian's or BusyBox's (long options)
        ["command -v apk || true"],
        ["curl -fsSL https://example.com/yum.repo -o /etc/yum.repos.d/x.repo"],
        ["if command -v apk; then apk add x; else apt-get install -y x; fi"],  # contradicting
        ["npm install", "go build ./..."],
    ],
)
def test_no_evidence(runs: list[str]) -> None:
    assert family_from_evidence(runs) is None


def test_evidence_accepts_any_iterable() -> None:
    assert family_from_evidence(r for r in ["apk add x"]) == family("alpine")


# --------------------------------------------------------------------------------
# import cost
# --------------------------------------------------------------------------------


def test_lookup_is_cached() -> None:
    # the built-in table is read once; a reference is looked up once per table
    assert builtin() is builtin()
    first = lookup("debian:12")
    assert first is not None and all(lookup("debian:12") is first for _ in range(3))


NEW_FAMILY = """
[families.photon]
shell = true
template = "rhel"
package_managers = ["tdnf"]
note = "VMware Photon OS: shadow's useradd and groupadd, installed with tdnf"

[[images]]
match = "photon"
family = "photon"
"""


def test_mappings_add_a_family(tmp_path: Path) -> None:
    """A family the built-in table does not have, added by ``--mappings``, and
    used by the real command to write its user block."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "photon.toml").write_text(NEW_FAMILY, encoding="utf-8")
    info = lookup("photon:5.0", [tmp_path / "photon.toml"])
    assert info is not None and info.family.name == "photon" and info.family.template == "rhel"
    assert lookup("photon:5.0") is None  # not in the built-in table
    dockerfile = (b'FROM photon:5.0\nRUN tdnf install -y python3\nCOPY app.py /app/\n'
                  b'CMD ["python3", "/app/app.py"]\n')
    proc = run_dockfix("--mappings", "photon.toml", "-", cwd=tmp_path, input=dockerfile)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert "groupadd" in out and "useradd" in out and "USER 10001:10001" in out


def test_a_family_name_must_be_a_name(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[families.x]\nname = "Not A Name"\nshell = true\n', encoding="utf-8")
    with pytest.raises(ValueError, match="not a family name"):
        lookup("alpine", [bad])


def test_mappings_family_is_found_by_evidence(tmp_path: Path) -> None:
    """A family a mapping file adds is recognised from the package manager a
    stage runs, for an image neither table knows; the real command writes that
    family's user block."""
    (tmp_path / ".git").mkdir()
    overlay = tmp_path / "photon.toml"
    overlay.write_text(NEW_FAMILY, encoding="utf-8")
    found = family_from_evidence(["tdnf install -y python3"], [overlay])
    assert found is not None and found.name == "photon"
    assert family_from_evidence(["tdnf install -y python3"]) is None  # the built-in table: no tdnf
    dockerfile = (b'FROM registry.example.com/base/os:5\nRUN tdnf install -y python3\n'
                  b'COPY app.py /app/\nCMD ["python3", "/app/app.py"]\n')
    plain = run_dockfix("-", cwd=tmp_path, input=dockerfile)
    assert b"useradd" not in plain.stdout  # unknown family: a numeric USER only, if anything
    proc = run_dockfix("--mappings", "photon.toml", "-", cwd=tmp_path, input=dockerfile)
    assert proc.returncode == 0, proc.stderr
    assert b"groupadd" in proc.stdout and b"useradd" in proc.stdout


def test_family_traits_come_from_the_table() -> None:
    assert family("windows").windows and not family("debian").windows
    assert not family("scratch").passwd and family("distroless").passwd
    assert all(family(k).fhs for k in ("alpine", "debian", "ubuntu", "rhel", "rhel-minimal", "rhel-micro",
                                       "suse", "suse-micro"))
    assert not any(family(k).fhs for k in ("busybox", "distroless", "chainguard", "scratch", "unknown"))


def test_settings_carry_a_loaded_table(tmp_path: Path) -> None:
    overlay = tmp_path / "photon.toml"
    overlay.write_text(NEW_FAMILY, encoding="utf-8")
    loaded = families.table_for(Settings(mappings=(str(overlay),)))
    assert loaded.family("photon").package_managers == ("tdnf",)
    carried = Settings(mappings=(str(overlay),), family_table=loaded)
    assert families.table_for(carried) is loaded
    overlay.unlink()  # the settings' table is used as it is: nothing is read again
    assert families.table_for(carried) is loaded
    assert families.table_for(Settings()) is builtin()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[families.x]\nshell = true\nevidence = 'tdnf'\n", r"\[families.x\]: `evidence` = 'tdnf' is not a list"),
        ("[families.x]\nshell = true\nweak_evidence = ['adduser -[(']\n", "weak_evidence"),
        ("[families.x]\nshell = true\noutranks = ['nope']\n", "outranks.*unknown family 'nope'"),
        ("[families.x]\nshell = 'yes'\n", r"`shell` = 'yes' is not true or false"),
        ("[families.x]\nshell = true\nfhs = 1\n", "fhs"),
        ("[[images]]\nmatch = 'x'\nnote = 3\n", r"\[\[images\]\] #1: `note`"),
        ("tag_hints = 3\n", "tag_hints must be an array"),
    ],
)
def test_schema_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    overlay = tmp_path / "mine.toml"
    overlay.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        lookup("python", [overlay])


@pytest.mark.parametrize("ref, env", [
    ("golang:1.21", {"GOPATH": "/go"}),
    ("golang:1.21-alpine", {"GOPATH": "/go"}),
    ("python:3.12", {}),
])
def test_image_env(ref: str, env: dict[str, str]) -> None:
    """What the image's own ENV sets, for the paths a file builds on it."""
    info = lookup(ref)
    assert info is not None and dict(info.env) == env


def test_image_env_is_checked(tmp_path: Path) -> None:
    overlay = tmp_path / "env.toml"
    overlay.write_text('[[images]]\nmatch = "x"\nenv = { GOPATH = 1 }\n')
    with pytest.raises(Exception, match="env"):
        families.load([str(overlay)])
