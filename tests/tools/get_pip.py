# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test downloads get-pip.py from a host this network cannot reach, but first looks
for ~/.ansible/test/cache/get_pip_<version>.py; `make test` copies this file there.
It bootstraps pip from the interpreter's own ensurepip wheel, then pip-installs the
requested packages (pip==<version> and friends) from the machine's configured indexes.
"""

import ensurepip
import os
import subprocess
import sys


def main():
    ensurepip.bootstrap(upgrade=True)
    # ensurepip points PIP_CONFIG_FILE at /dev/null, which would hide the machine's pip
    # configuration (index mirrors, CA bundle) from the install below.
    os.environ.pop("PIP_CONFIG_FILE", None)
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    if args and args[0] == "install":
        args = args[1:]
    return subprocess.call([sys.executable, "-m", "pip", "install", *args])


if __name__ == "__main__":
    sys.exit(main())
