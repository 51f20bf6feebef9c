# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""python -m tests.lab up|down|env|state|serve — see tests/lab/README.md."""

import argparse
import json
import os
import shlex
import signal
import ssl
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUN = os.path.join(HERE, ".build", "run")


def run_dir(name):
    return os.path.join(RUN, name)


def read_env(name):
    path = os.path.join(run_dir(name), "env.json")
    if not os.path.exists(path):
        sys.exit("lab %s is not running (no %s); start it with: python -m tests.lab up" % (name, path))
    with open(path) as handle:
        return json.load(handle)


def print_env(env):
    for key in sorted(env):
        print("export %s=%s" % (key, shlex.quote(str(env[key]))))


def cmd_serve(args):
    """Run a lab in the foreground until SIGTERM; write env.json when ready."""
    sys.path.insert(0, ROOT)
    from tests.lab.lab import Lab
    directory = run_dir(args.name)
    os.makedirs(directory, exist_ok=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *a: stopping.append(1))
    with Lab(args.spec, workdir=directory) as lab:
        with open(os.path.join(directory, "env.json.tmp"), "w") as handle:
            json.dump(lab.env(), handle)
        os.replace(os.path.join(directory, "env.json.tmp"), os.path.join(directory, "env.json"))
        while not stopping:
            time.sleep(0.2)
    os.unlink(os.path.join(directory, "env.json"))


def cmd_up(args):
    sys.path.insert(0, ROOT)
    from tests.lab.vcenter import NotBuilt, binary
    try:
        binary()  # refuse at once, before the start timer, when the bootstrap step has not run
    except NotBuilt as error:
        sys.exit("lab %s not started: %s" % (args.name, error))
    directory = run_dir(args.name)
    if os.path.exists(os.path.join(directory, "env.json")):
        sys.exit("lab %s is already running; `python -m tests.lab down --name %s` first" % (args.name, args.name))
    os.makedirs(directory, exist_ok=True)
    log = open(os.path.join(directory, "lab.log"), "ab")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen([sys.executable, "-m", "tests.lab", "serve", "--name", args.name, "--spec", args.spec],
                            cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
    log.close()
    with open(os.path.join(directory, "pid"), "w") as handle:
        handle.write(str(proc.pid))
    ends = time.monotonic() + args.timeout
    while time.monotonic() < ends:
        if os.path.exists(os.path.join(directory, "env.json")):
            print_env(read_env(args.name))
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.terminate()
    with open(os.path.join(directory, "lab.log")) as handle:
        sys.exit("lab did not start:\n" + handle.read()[-3000:])


def cmd_down(args):
    pid_file = os.path.join(run_dir(args.name), "pid")
    if not os.path.exists(pid_file):
        print("lab %s is not running" % args.name)
        return
    with open(pid_file) as handle:
        pid = int(handle.read())
    try:
        os.kill(pid, signal.SIGTERM)
        for _attempt in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.unlink(pid_file)
    env_file = os.path.join(run_dir(args.name), "env.json")
    if os.path.exists(env_file):
        os.unlink(env_file)
    print("lab %s stopped" % args.name)


def cmd_env(args):
    print_env(read_env(args.name))


def cmd_state(args):
    env = read_env(args.name)
    context = ssl.create_default_context(cafile=env["AZURE_CA_BUNDLE"])
    with urllib.request.urlopen(env["LAB_CONTROL_URL"] + "/state", context=context, timeout=30) as response:
        print(json.dumps(json.load(response), indent=2, sort_keys=True))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in (("up", cmd_up), ("serve", cmd_serve), ("down", cmd_down), ("env", cmd_env),
                       ("state", cmd_state)):
        command = sub.add_parser(name)
        command.add_argument("--name", default="default", help="the lab's name (two labs run side by side)")
        if name in ("up", "serve"):
            command.add_argument("--spec", default="default.yml", help="a spec file (tests/lab/specs/ by default)")
        if name == "up":
            command.add_argument("--timeout", type=float, default=120.0,
                                 help="seconds to wait for the lab to be ready (it starts in seconds)")
        command.set_defaults(func=func)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
