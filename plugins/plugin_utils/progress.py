# Copyright: (c) 2026, siterecovery.failback contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action plugins of the modules that wait: run the module and, while it runs, print its progress.

A reprotect, failover or commit waits for its ASR jobs for minutes to an hour, and a module says nothing until it
ends: AWX's idle timeout (and an operator at 3 a.m.) sees a silent job. :class:`ProgressAction` runs the module
as Ansible's ``normal`` action does, giving it a private ``progress_file`` on the controller, and meanwhile prints
one line per VM through Ansible's Display every ``failback_progress_interval`` seconds (default 20, at most 30):
the step, the ASR job's name and id, the job's current task and state, and the time elapsed
(``module_utils/progress.py`` writes and reads the file). In a worker process ansible-core (2.14 and later) sends
Display's output over its queue to the main process, which prints it: the lines reach ansible-playbook's stdout, and
under ansible-runner (AWX) each is a ``verbose`` event in the job's events.

The module does not need this plugin (run elsewhere it writes no progress), check mode runs the module as always,
and an ``async`` task runs the module unchanged. A module on another host than the controller (a non-local
connection) gets no file, but the lines still come, naming the step and the time since it started.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.siterecovery.failback.plugins.module_utils import progress

display = Display()

DEFAULT_INTERVAL = 20.0
MAX_INTERVAL = 30.0
MIN_INTERVAL = 1.0
INTERVAL_VARIABLE = "failback_progress_interval"
PREFIX = "[failback progress] "


def interval(value):
    """The seconds between two progress lines from the ``failback_progress_interval`` variable's ``value`` (None:
    the default, 20). Raises AnsibleError naming the variable when it is not a number from 1 to 30: beyond 30 s
    an idle timeout of 30 s (the shortest a job template should have) could end the job."""
    if value is None or value == "":
        return DEFAULT_INTERVAL
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = None
    if isinstance(value, bool) or seconds is None or not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise AnsibleError("%s: must be a number of seconds from %d to %d (got %r); give e.g. 20, or leave it unset "
                           "for %d." % (INTERVAL_VARIABLE, MIN_INTERVAL, MAX_INTERVAL, value, DEFAULT_INTERVAL))
    return seconds


class Reporter:
    """Prints the progress of one module run every ``every`` seconds from a thread, until :meth:`stop`.

    ``path``: the progress file (None: only the step and its elapsed time are shown); ``stage``: the step's name
    until the module records its own; ``show``: where lines go (Display's display); ``clock``: epoch seconds."""

    def __init__(self, path, stage, every, show, clock=time.time):
        self.path = path
        self.stage = stage
        self.every = every
        self.show = show
        self.clock = clock
        self.started = clock()
        self.shown = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="failback-progress", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def tick(self):
        """Print the current lines once (the thread calls it every ``every`` seconds)."""
        document = progress.read(self.path) if self.path else None
        for line in progress.lines(document, self.stage, self.clock(), self.started):
            self.show(PREFIX + line)
            self.shown += 1

    def _loop(self):
        while not self._stop.wait(self.every):
            try:
                self.tick()
            except Exception as error:  # pylint: disable=broad-except  # progress never ends the task
                self.show(PREFIX + "%s: cannot show progress (%s)" % (self.stage, error))

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.every + 5)


class ProgressAction(ActionBase):
    """The action plugin of a module that waits (see the module docstring). ``STAGE`` names the step in the lines
    until the module records its own."""

    STAGE = "step"
    _supports_check_mode = True
    _supports_async = True

    def _is_local(self):
        return getattr(self._connection, "transport", None) in ("local", "ansible.builtin.local") or \
            getattr(self._connection, "_load_name", "").endswith("local")

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars if task_vars is not None else {}
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        if self._task.async_val:
            wrap_async = not self._connection.has_native_async
            return merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        every = interval(self._templar.template(task_vars.get(INTERVAL_VARIABLE)))
        args = dict(self._task.args)
        directory = None
        path = args.get("progress_file")
        if not path and self._is_local():
            directory = tempfile.mkdtemp(prefix="failback-progress-")
            path = args["progress_file"] = os.path.join(directory, "progress.json")
        reporter = Reporter(path if self._is_local() else None, self.STAGE, every, display.display).start()
        try:
            result = merge_hash(result, self._execute_module(module_args=args, task_vars=task_vars))
        finally:
            reporter.stop()
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if directory is not None:
            result.get("invocation", {}).get("module_args", {}).pop("progress_file", None)
        return result
