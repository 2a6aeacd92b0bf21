# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark helper (not part of the collection): records when each task and
handler starts, when each host's result and each loop item arrives, and the
closing per-host stats, as JSON in the file named by BENCH_TIMER_OUT.

Enabled with ANSIBLE_CALLBACK_PLUGINS=<this directory> and
ANSIBLE_CALLBACKS_ENABLED=bench_timer; the stdout callback stays whatever it
is. Times are time.time() seconds.
"""

from __future__ import annotations

# TaskResult exposes the result and host only as _result and _host.
# pylint: disable=protected-access

DOCUMENTATION = r"""
name: bench_timer
type: aggregate
short_description: Per-task and per-item timings as JSON, for benchmarks/bench.py
description:
  - Writes every task's start time, action, role, per-host status and loop item times, and the
    final per-host stats, to the file named by the environment variable E(BENCH_TIMER_OUT).
requirements:
  - enable in configuration
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

# Result keys worth keeping (small, and never secrets).
KEPT_KEYS = ('requests', 'msg', 'attempts')


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.out = os.environ.get('BENCH_TIMER_OUT')
        self.started = time.time()
        self.tasks = []
        self.current = None

    # ---------------------------------------------------------------- tasks
    def _start(self, task, handler):
        role = getattr(task, '_role', None)
        self.current = dict(
            name=task.get_name(),
            plain_name=task.name or '',
            action=task.action,
            role=role.get_name() if role is not None else '',
            handler=handler,
            start=time.time(),
            hosts={},
            items=[],
        )
        self.tasks.append(self.current)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task, False)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task, True)

    # -------------------------------------------------------------- results
    def _result(self, result, status):
        if self.current is None:
            return
        res = result._result if isinstance(result._result, dict) else {}
        entry = dict(status=status, changed=bool(res.get('changed', False)), end=time.time())
        for key in KEPT_KEYS:
            if key in res and isinstance(res[key], (int, float, str)) and not res.get('_ansible_no_log'):
                entry[key] = res[key]
        self.current['hosts'][result._host.get_name()] = entry

    def v2_runner_on_ok(self, result):
        self._result(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, 'ignored' if ignore_errors else 'failed')

    def v2_runner_on_skipped(self, result):
        self._result(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._result(result, 'unreachable')

    def _item(self, result, status):
        if self.current is None:
            return
        res = result._result if isinstance(result._result, dict) else {}
        entry = dict(host=result._host.get_name(), status=status, changed=bool(res.get('changed', False)),
                     end=time.time())
        for key in KEPT_KEYS:
            if key in res and isinstance(res[key], (int, float, str)) and not res.get('_ansible_no_log'):
                entry[key] = res[key]
        self.current['items'].append(entry)

    def v2_runner_item_on_ok(self, result):
        self._item(result, 'ok')

    def v2_runner_item_on_failed(self, result):
        self._item(result, 'failed')

    def v2_runner_item_on_skipped(self, result):
        self._item(result, 'skipped')

    # ---------------------------------------------------------------- stats
    def v2_playbook_on_stats(self, stats):
        ended = time.time()
        hosts = {}
        for host in sorted(stats.processed.keys()):
            hosts[host] = stats.summarize(host)
        if not self.out:
            return
        data = dict(started=self.started, ended=ended, tasks=self.tasks, stats=hosts)
        with open(self.out, 'w', encoding='utf-8') as handle:
            json.dump(data, handle, indent=1)
