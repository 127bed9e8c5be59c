"""A real Mosquitto broker for tests: its own config in a temp dir, a free port, 127.0.0.1 only.

Import it as ``support.mosquitto`` (``tests/`` is on ``sys.path`` because ``tests/conftest.py``
sits in a directory without ``__init__.py``), e.g. in a ``conftest.py``::

    from harness.mosquitto import Mosquitto, mosquitto  # noqa: F401  (re-export the fixture)

API
---
``Mosquitto(workdir, *, port=None, allow_anonymous=True, passwords=None, acl=None, tls=None,
extra_config="", binary=None)``
    ``workdir``: a directory for the config, password/ACL files and log (created).
    ``port``: None picks a free one (bind port 0). ``passwords``: ``{user: password}`` written
    with ``mosquitto_passwd``. ``acl``: the text of an ACL file (``user alice`` /
    ``topic readwrite treadctl/tm1/#`` lines). ``tls``: :class:`TlsFiles`, the listener then
    speaks TLS only (``require_certificate`` asks for client certificates).
    The listener always has ``set_tcp_nodelay true`` (1 ms request/response round trips instead
    of 44-88 ms, docs/references.md#mqtt-aiomqtt); persistence is off, so a restart forgets retained
    messages.

``start(timeout=10.0)``: start and wait (with a deadline, reading the broker's own log) until it
    logs that it is running. Raises :class:`MosquittoError` with the log when it does not start.
``stop()``: SIGTERM, wait. ``kill()``: SIGKILL, wait. ``restart()``: stop then start on the same
    port. ``running``: whether the process is alive. ``host``/``port``/``url``: where to connect.
``log()``: everything the broker logged so far (for assertion messages).
``wait_for_log(text, timeout=10.0)``: block until a log line contains ``text`` (e.g. a
    client's subscription, ``"<client id> 1 <topic>"``); returns the line.
Context manager: ``with Mosquitto(tmp_path) as broker:`` starts and always stops it.

``mosquitto`` (pytest fixture): a started, anonymous, plain-TCP broker in ``tmp_path``.

``make_pki(directory, clients=("client",))`` -> :class:`Pki`: a throw-away CA, a server
certificate for ``127.0.0.1``/``localhost`` and client certificates, made with the ``openssl``
command line at test time (nothing is checked in).
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pytest

DEFAULT_BINARY = "/usr/sbin/mosquitto"
_READY_MARK = " running"  # "mosquitto version 2.0.11 running"


class MosquittoError(RuntimeError):
    pass


def free_port() -> int:
    """A TCP port that was free a moment ago (bind port 0 on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_binary(name: str, default: str | None = None) -> str:
    found = shutil.which(name) or (default if default and os.path.exists(default) else None)
    if found is None:
        pytest.skip(f"{name} is not installed (scripts/bootstrap --with-test-tools installs it)")
    return found


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path
    require_certificate: bool = False


@dataclass(frozen=True, slots=True)
class Pki:
    ca_file: Path
    server_cert: Path
    server_key: Path
    clients: Mapping[str, tuple[Path, Path]]
    """``{name: (cert, key)}``, signed by the same CA."""

    def server_tls(self, *, require_certificate: bool = False) -> TlsFiles:
        return TlsFiles(self.ca_file, self.server_cert, self.server_key, require_certificate)


class Mosquitto:
    host = "127.0.0.1"

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        allow_anonymous: bool = True,
        passwords: Mapping[str, str] | None = None,
        acl: str | None = None,
        tls: TlsFiles | None = None,
        extra_config: str = "",
        binary: str | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.binary = binary or find_binary("mosquitto", DEFAULT_BINARY)
        self.port = port if port is not None else free_port()
        self.config_path = self.workdir / "mosquitto.conf"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: deque[str] = deque(maxlen=2000)
        self._reader: threading.Thread | None = None
        self._ready = threading.Event()
        self._logged = threading.Condition()

        lines = [
            # Without this, a broker started as root drops to the "mosquitto" user, which cannot
            # read files in a private temp dir. Ignored when not started as root.
            f"user {getpass.getuser()}",
            "per_listener_settings false",
            "persistence false",
            "log_dest stderr",  # unbuffered (stdout to a pipe is block-buffered)
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "log_type subscribe",
            "connection_messages true",
            f"listener {self.port} {self.host}",
            "set_tcp_nodelay true",
            f"allow_anonymous {'true' if allow_anonymous else 'false'}",
        ]
        if passwords:
            password_file = self.workdir / "passwords"
            password_file.write_text("")
            tool = find_binary("mosquitto_passwd")
            for user, password in passwords.items():
                subprocess.run(
                    [tool, "-b", str(password_file), user, password],
                    check=True,
                    capture_output=True,
                )
            password_file.chmod(0o600)
            lines.append(f"password_file {password_file}")
        if acl is not None:
            acl_file = self.workdir / "acl"
            acl_file.write_text(acl)
            acl_file.chmod(0o600)
            lines.append(f"acl_file {acl_file}")
        if tls is not None:
            lines += [
                f"cafile {tls.ca_file}",
                f"certfile {tls.cert_file}",
                f"keyfile {tls.key_file}",
                f"require_certificate {'true' if tls.require_certificate else 'false'}",
            ]
        if extra_config:
            lines.append(extra_config)
        self.config_path.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log(self) -> str:
        return "\n".join(self._log)

    def wait_for_log(self, text: str, timeout: float = 10.0) -> str:
        """Block until a log line containing ``text`` appears (also one logged before the call);
        returns it. The broker logs connections and, with ``log_type subscribe``, each
        subscription as ``<client id> <qos> <topic>``. Raises :class:`MosquittoError` on timeout.
        From async code: ``await asyncio.to_thread(broker.wait_for_log, "...")``."""
        with self._logged:
            found = self._logged.wait_for(
                lambda: next((ln for ln in self._log if text in ln), None), timeout=timeout
            )
        if found is None:
            raise MosquittoError(f"{text!r} not logged within {timeout} s:\n{self.log()}")
        return found

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            raise MosquittoError("already running")
        self._ready.clear()
        proc = subprocess.Popen(
            [self.binary, "-c", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._proc = proc
        self._reader = threading.Thread(
            target=self._read_log, args=(proc,), name=f"mosquitto-{self.port}", daemon=True
        )
        self._reader.start()
        # Wait for the broker to say it is running (or to die), with a deadline.
        deadline = time.monotonic() + timeout
        while not self._ready.wait(timeout=min(0.05, max(0.0, deadline - time.monotonic()))):
            if proc.poll() is not None or time.monotonic() >= deadline:
                self._terminate(signal.SIGKILL)
                raise MosquittoError(f"mosquitto did not start on port {self.port}:\n{self.log()}")

    def _read_log(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        with proc.stdout:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip()
                with self._logged:
                    self._log.append(line)
                    self._logged.notify_all()
                if _READY_MARK in line and "mosquitto version" in line:
                    self._ready.set()

    def _terminate(self, sig: signal.Signals) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=10)
            self._reader = None
        self._proc = None

    def stop(self) -> None:
        self._terminate(signal.SIGTERM)

    def kill(self) -> None:
        self._terminate(signal.SIGKILL)

    def restart(self, timeout: float = 10.0) -> None:
        self.stop()
        self.start(timeout)

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A started anonymous broker on a free port (stopped after the test)."""
    with Mosquitto(tmp_path / "mosquitto") as broker:
        yield broker


def _openssl(*args: str, cwd: Path) -> None:
    tool = find_binary("openssl")
    result = subprocess.run([tool, *args], cwd=cwd, capture_output=True, check=False)
    if result.returncode != 0:
        raise MosquittoError(f"openssl {' '.join(args)} failed: {result.stderr.decode()}")


def make_pki(directory: Path, clients: Sequence[str] = ("client",)) -> Pki:
    """A CA, a server certificate (SAN IP 127.0.0.1 and DNS localhost) and client certificates.

    EC P-256 keys, valid for one day, written as PEM files in ``directory``.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
             "-subj", "/CN=treadctl test CA", cwd=d)  # fmt: skip

    def issue(name: str, subject: str, extensions: str) -> tuple[Path, Path]:
        (d / f"{name}.ext").write_text(extensions)
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject,
                 cwd=d)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.crt", "-days", "1", "-extfile",
                 f"{name}.ext", cwd=d)  # fmt: skip
        for f in (d / f"{name}.key",):
            f.chmod(0o600)
        return d / f"{name}.crt", d / f"{name}.key"

    server_cert, server_key = issue(
        "server",
        "/CN=localhost",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    client_files = {
        name: issue(f"client-{name}", f"/CN={name}", "extendedKeyUsage=clientAuth\n")
        for name in clients
    }
    return Pki(d / "ca.crt", server_cert, server_key, client_files)
