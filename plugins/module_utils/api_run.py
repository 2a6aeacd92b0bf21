# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How a module of this collection ends: with its result and the number of
HTTP requests it sent, on success and on failure alike (the modules' contract:
``action``, ``drift``, ``requests``)."""

from __future__ import annotations


def execute(module, client, run, error_class):
    """Run ``run(module, client)``; exit with its result and ``client.requests``,
    or fail with the message of an ``error_class`` error and the requests so far."""
    try:
        result = run(module, client)
    except error_class as err:
        module.fail_json(msg=str(err), requests=client.requests)
    result['requests'] = client.requests
    module.exit_json(**result)
