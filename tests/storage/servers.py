"""Real storage servers on 127.0.0.1 for tests and benchmarks: moto's S3 server and
OpenSSH's sshd, each a separate process with throw-away keys in a temporary folder."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")
SFTP_SERVER_CANDIDATES = ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port}:\n{log.read_text()[-3000:]}")


class _Process:
    def __init__(self, workdir: Path, name: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.log = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _spawn(self, argv: list[str]) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=log)
        _wait_for_port(self.port, self.process, self.log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class MotoServer(_Process):
    """`python -m moto.server`: an S3 endpoint at `url` (any credentials are accepted)."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir, "moto")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._spawn([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)])


def sshd_path() -> str | None:
    return next((p for p in SSHD_CANDIDATES if os.access(p, os.X_OK)), shutil.which("sshd"))


class SSHServer(_Process):
    """OpenSSH's sshd with the real sftp-server; the current user logs in with `user_key`.

    Host and user keys are made with ssh-keygen for this server only; `known_hosts`
    lists the host key, so clients can check it.
    """

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir, "sshd")
        self.host_key = workdir / "host_ed25519"
        self.user_key = workdir / "user_ed25519"
        self.known_hosts = workdir / "known_hosts"
        self.config = workdir / "sshd_config"

    def start(self) -> None:
        sshd = sshd_path()
        sftp_server = next((p for p in SFTP_SERVER_CANDIDATES if os.path.exists(p)), None)
        if sshd is None or sftp_server is None:
            raise RuntimeError("OpenSSH's sshd is not installed (apt-get install openssh-server)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        for key in (self.host_key, self.user_key):
            if not key.exists():
                subprocess.run(
                    ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
                )
        authorized = self.workdir / "authorized_keys"
        authorized.write_text(Path(f"{self.user_key}.pub").read_text())
        host_public = " ".join(Path(f"{self.host_key}.pub").read_text().split()[:2])
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_public}\n")
        self.config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"PidFile {self.workdir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    "PermitRootLogin prohibit-password",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    f"Subsystem sftp {sftp_server}",
                    "",
                ]
            )
        )
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation
        self._spawn([sshd, "-D", "-e", "-f", str(self.config)])

    @property
    def username(self) -> str:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name

    def url(self, root: Path) -> str:
        return f"sftp://{self.username}@127.0.0.1:{self.port}{root}"
