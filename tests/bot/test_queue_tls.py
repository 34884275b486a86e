"""The broker over TLS: Debian's redis-server (built with TLS) on a TLS port
only, asking clients for a certificate, with a CA, a server and a client
certificate made here; the real ``dockfix bot enqueue`` and worker on a
``rediss://`` URL with the bot's TLS options."""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot_helpers import TOKEN, github, make_remote  # noqa: F401 (fixtures)
from test_queue import (
    APP,
    CI,
    PASSWORD,
    REDIS,
    Worker,
    dockfix_bot,
    env_for,
    free_port,
    repos_file,
    wait_for,
)

x509 = pytest.importorskip("cryptography.x509")

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class Pki:
    """A CA and certificates it signs, written as PEM files under ``root``."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                                  False, False), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                         self.key.public_key()), critical=False)
                     .sign(self.key, hashes.SHA256()))
        self.ca = self._write(f"{name}-ca.pem", self.cert.public_bytes(serialization.Encoding.PEM))

    def _write(self, name: str, data: bytes) -> str:
        path = self.root / name
        path.write_bytes(data)
        path.chmod(0o644)
        return str(path)

    def issue(self, cn: str, *, server: bool) -> tuple[str, str]:
        """(certificate, key) files for ``cn``: a server's for 127.0.0.1, or a client's."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.cert.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       self.key.public_key()), critical=False)
                   .add_extension(x509.ExtendedKeyUsage(
                       [ExtendedKeyUsageOID.SERVER_AUTH if server
                        else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
        if server:  # the address only: "localhost" is not in it
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        key_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return (self._write(f"{self.name}-{cn}.pem", cert.public_bytes(serialization.Encoding.PEM)),
                self._write(f"{self.name}-{cn}.key", key_pem))


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[dict]:
    if REDIS is None:
        if CI:
            pytest.fail("redis-server is not installed (the Makefile installs it as root)")
        pytest.skip("redis-server is not installed")
    import redis

    pki_dir = tmp_path / "pki"
    pki_dir.mkdir()
    pki = Pki(pki_dir, "bot")
    server_cert, server_key = pki.issue("redis", server=True)
    client_cert, client_key = pki.issue("worker", server=False)
    port = free_port()
    data = tmp_path / "redis"
    data.mkdir()
    log = tmp_path / "redis.log"
    proc = subprocess.Popen([REDIS, "--bind", "127.0.0.1", "--port", "0", "--tls-port", str(port),
                             "--tls-cert-file", server_cert, "--tls-key-file", server_key,
                             "--tls-ca-cert-file", pki.ca, "--tls-auth-clients", "yes",
                             "--requirepass", PASSWORD, "--save", "", "--appendonly", "no",
                             "--dir", str(data), "--logfile", str(log)],
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "redis.err", "wb"))
    client = redis.Redis(host="127.0.0.1", port=port, password=PASSWORD, ssl=True,
                         ssl_ca_certs=pki.ca, ssl_certfile=client_cert, ssl_keyfile=client_key,
                         socket_timeout=5)

    def up() -> bool:
        if proc.poll() is not None:
            text = (tmp_path / "redis.err").read_text() + (log.read_text() if log.exists() else "")
            if "tls-port" in text:  # "Bad directive": a redis-server built without TLS
                pytest.fail(f"this redis-server has no TLS: {text[-500:]}")
            raise AssertionError(f"redis-server exited: {text[-2000:]}")
        try:
            return bool(client.ping())
        except (redis.exceptions.ConnectionError, OSError):
            return False

    try:
        wait_for(up, 20, "redis-server with TLS")
        yield {"url": f"rediss://127.0.0.1:{port}/0", "port": port, "client": client,
               "env": {"DOCKFIX_REDIS_CA": pki.ca, "DOCKFIX_REDIS_CLIENT_CERT": client_cert,
                       "DOCKFIX_REDIS_CLIENT_KEY": client_key},
               "pki_dir": pki_dir}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_task_runs_over_tls(tmp_path, tls_broker, github):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "x\n"})
    github.add_repo("acme/app", str(remote.bare))
    env = env_for(tmp_path, tls_broker["url"], DOCKFIX_API_URL=github.url, **tls_broker["env"])
    listing = repos_file(tmp_path, {"acme/app": remote.bare})
    proc = dockfix_bot("enqueue", "--repos", str(listing), env=env)
    assert proc.returncode == 0, proc.stderr
    c = tls_broker["client"]
    assert c.llen("dockfix") == 1
    worker = Worker(env, tmp_path / "w.log")
    try:
        wait_for(lambda: len(github.pulls["acme/app"]) == 1, 90, "the pull request")
        wait_for(lambda: c.llen("dockfix") == 0 and c.hlen("unacked") == 0, 30, "an empty queue")
        wait_for(lambda: "succeeded in" in worker.text(), 30, "the task's end")
    finally:
        worker.stop()
    log = worker.text()
    assert "rediss://" in log and "acme/app: proposed" in log
    assert TOKEN not in log and PASSWORD not in log
    # the lock lived on the same TLS connection: no lock is left behind
    assert c.keys("dockfix:lock:*") == []


def test_a_wrong_ca_no_client_certificate_or_wrong_host_is_refused(tmp_path, tls_broker, github):
    other = Pki(tls_broker["pki_dir"], "other")
    listing = tmp_path / "r.txt"
    listing.write_text("acme/app\n")
    good = env_for(tmp_path, tls_broker["url"], **tls_broker["env"])
    cases = {
        "wrong CA": {**good, "DOCKFIX_REDIS_CA": other.ca},
        "system CAs": {k: v for k, v in good.items() if k != "DOCKFIX_REDIS_CA"},
        "no client certificate": {k: v for k, v in good.items()
                                  if not k.startswith("DOCKFIX_REDIS_CLIENT_")},
        "a name the certificate lacks": {
            **good, "DOCKFIX_BROKER_URL": f"rediss://localhost:{tls_broker['port']}/0"},
        "plain text to the TLS port": {
            k: v for k, v in good.items() if not k.startswith("DOCKFIX_REDIS_")} | {
            "DOCKFIX_BROKER_URL": f"redis://127.0.0.1:{tls_broker['port']}/0",
            "DOCKFIX_REDIS_PASSWORD": PASSWORD},
    }
    for what, env in cases.items():
        proc = dockfix_bot("enqueue", "--repos", str(listing), env=env)
        assert proc.returncode == 2, (what, proc.stdout, proc.stderr)
        assert proc.stderr.startswith("dockfix bot: error: cannot use the broker: "), (what, proc.stderr)
        assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr, what
        assert PASSWORD not in proc.stderr, what
        if what in ("wrong CA", "system CAs"):
            assert "certificate verify failed" in proc.stderr, (what, proc.stderr)
        if what == "a name the certificate lacks":
            assert "match" in proc.stderr or "mismatch" in proc.stderr, proc.stderr
    assert tls_broker["client"].llen("dockfix") == 0  # none of them enqueued anything

    # a worker with the wrong CA never takes a task
    assert dockfix_bot("enqueue", "--repos", str(listing), env=good).returncode == 0
    worker = Worker(cases["wrong CA"], tmp_path / "w.log")
    try:
        wait_for(lambda: "certificate verify failed" in worker.text(), 60, "the refusal")
    finally:
        worker.stop()
    assert tls_broker["client"].llen("dockfix") == 1
    assert " ready." not in worker.text() and PASSWORD not in worker.text()


def test_tls_options_need_a_tls_url(tmp_path, tls_broker):
    listing = tmp_path / "r.txt"
    listing.write_text("acme/app\n")
    plain = env_for(tmp_path, "redis://127.0.0.1:1/0", DOCKFIX_REDIS_CA=tls_broker["env"][
        "DOCKFIX_REDIS_CA"])
    proc = dockfix_bot("enqueue", "--repos", str(listing), env=plain)
    assert proc.returncode == 2
    assert proc.stderr == ("dockfix bot: error: DOCKFIX_REDIS_CA is set but DOCKFIX_BROKER_URL "
                           "is not a rediss:// (TLS) URL\n")
    half = env_for(tmp_path, tls_broker["url"], DOCKFIX_REDIS_CLIENT_CERT=tls_broker["env"][
        "DOCKFIX_REDIS_CLIENT_CERT"])
    proc = dockfix_bot("enqueue", "--repos", str(listing), env=half)
    assert proc.returncode == 2 and "DOCKFIX_REDIS_CLIENT_KEY together" in proc.stderr
    missing = env_for(tmp_path, tls_broker["url"], DOCKFIX_REDIS_CA=str(tmp_path / "nope.pem"))
    proc = dockfix_bot("enqueue", "--repos", str(listing), env=missing)
    assert proc.returncode == 2 and "DOCKFIX_REDIS_CA: no such file" in proc.stderr
    assert tls_broker["client"].llen("dockfix") == 0
