# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the govmomi-based vCenter (or standalone ESXi) simulator of the lab."""

import json
import os
import select
import signal
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_SCRIPT = os.path.join(HERE, "vcsim", "build.sh")


def build():
    """Build the launcher if needed (installs Go and govmomi from Debian when missing); returns its path."""
    out = subprocess.run(["bash", BUILD_SCRIPT], check=True, stdout=subprocess.PIPE, text=True)
    return out.stdout.strip().splitlines()[-1]


class Simulator:
    """One launcher process serving one inventory (a JSON file in the launcher's format).

    ``info`` holds the ready line: url, host, port, thumbprint, ca_file, username, password, mode.
    """

    def __init__(self, inventory_path, workdir=None, ready_timeout=60):
        self.inventory_path = inventory_path
        self.workdir = workdir or tempfile.mkdtemp(prefix="lab-vcsim-")
        self.ready_timeout = ready_timeout
        self.proc = None
        self.info = None
        self.log_path = os.path.join(self.workdir, "vcsim.log")

    def start(self):
        binary = build()
        cert_dir = os.path.join(self.workdir, "cert")
        os.makedirs(cert_dir, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.proc = subprocess.Popen([binary, "-listen", "127.0.0.1:0", "-cert-dir", cert_dir, self.inventory_path],
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
