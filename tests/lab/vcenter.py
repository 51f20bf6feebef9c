# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the govmomi-based vCenter (or standalone ESXi) simulator of the lab."""

import hashlib
import json
import os
import select
import signal
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = os.path.join(HERE, "vcsim")
BINARY = os.path.join(HERE, ".build", "vcsim")


class NotBuilt(RuntimeError):
    """The launcher is missing or older than its sources: the bootstrap step builds it."""


def sources_digest():
    """sha256 of the launcher's sources (every .go file, then build.sh, in byte order of their
    names): the same digest build.sh writes next to the binary it builds."""
    digest = hashlib.sha256()
    names = sorted(n for n in os.listdir(SOURCES) if n.endswith(".go") or n == "build.sh")
    for name in names:
        with open(os.path.join(SOURCES, name), "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def binary():
    """The launcher's path; raises NotBuilt when it is missing or was not built from these sources.

    The lab never builds: a build takes minutes on a fresh machine (apt-get of Go and govmomi,
    then ``go build``) and would run inside the start timeout of whoever started the lab.
    ``make bootstrap`` (which ``make test`` and ``make demo`` run first) builds it. The check is
    on content (the digest build.sh stamps), so a binary copied from another checkout, or built
    before a source changed, is refused.
    """
    if not os.access(BINARY, os.X_OK):
        raise NotBuilt("the vCenter simulator is not built (%s is missing): run `make bootstrap` "
                       "(or tests/lab/vcsim/build.sh) first" % BINARY)
    try:
        with open(BINARY + ".sources") as handle:
            stamped = handle.read().strip()
    except OSError:
        stamped = None
    if stamped != sources_digest():
        raise NotBuilt("the vCenter simulator at %s was not built from the sources in %s: run `make bootstrap` "
                       "(or tests/lab/vcsim/build.sh) to rebuild it" % (BINARY, SOURCES))
    return BINARY


class Simulator:
    """One launcher process serving one inventory (a JSON file in the launcher's format).

    ``info`` holds the ready line: url, host, port, thumbprint, ca_file, username, password, mode.
    """

    def __init__(self, inventory_path, workdir=None, ready_timeout=120):
        self.inventory_path = inventory_path
        self.workdir = workdir or tempfile.mkdtemp(prefix="lab-vcsim-")
        self.ready_timeout = ready_timeout
        self.proc = None
        self.info = None
        self.log_path = os.path.join(self.workdir, "vcsim.log")

    def start(self):
        launcher = binary()
        cert_dir = os.path.join(self.workdir, "cert")
        os.makedirs(cert_dir, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.proc = subprocess.Popen([launcher, "-listen", "127.0.0.1:0", "-cert-dir", cert_dir, self.inventory_path],
                                     stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
        log.close()
        ends = time.monotonic() + self.ready_timeout
        while time.monotonic() < ends:
            ready = select.select([self.proc.stdout], [], [], 0.2)[0]
            if ready:
                line = self.proc.stdout.readline()
                if line:
                    self.info = json.loads(line)
                    return self.info
            if self.proc.poll() is not None:
                break
        self.stop()
        with open(self.log_path) as handle:
            raise RuntimeError("vCenter simulator did not start: %s" % handle.read()[-2000:])

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def env(self):
        """The VMWARE_* variables a user or a test exports to reach this simulator."""
        return {"VMWARE_HOST": self.info["host"], "VMWARE_PORT": str(self.info["port"]),
                "VMWARE_USER": self.info["username"], "VMWARE_PASSWORD": self.info["password"],
                "VMWARE_CA_FILE": self.info["ca_file"], "VMWARE_VALIDATE_CERTS": "true"}

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
