# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the API clients and modules of this collection (GitLab's, Mattermost's)
share: the base URL rule, the error a failed call raises, and the modules'
contract (``action``, ``drift``, ``requests`` in every result, see the
``chatops.mattermost.attributes`` doc fragment): where a result starts, and
how a module ends, with its result and the number of HTTP requests it sent, on
success and on failure alike."""

from __future__ import annotations

import re
from urllib.parse import urlsplit


class APIError(Exception):
    """A failed API call; ``str(err)`` is a message meant for the user, ``status``
    the HTTP status (-1 when no answer came)."""

    def __init__(self, message, status=None):
        super(APIError, self).__init__(message)
        self.message = message
        self.status = status

    def __str__(self):
        return self.message


def normalize_base_url(url, option, what):
    """``url`` without surrounding blanks, trailing slashes or ``/api/v4``, or ValueError
    naming ``option`` and saying ``what`` it must be (``"GitLab's base URL such as https://gitlab.example.com"``)."""
    url = (url or '').strip()
    parts = urlsplit(url)
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        raise ValueError('%s must be %s, got %r' % (option, what, url))
    if parts.query or parts.fragment:
        raise ValueError('%s must not have a query string or fragment, got %r' % (option, url))
    return re.sub(r'(/api/v4)+$', '', url.rstrip('/')).rstrip('/')


def unchanged(**values):
    """A module's result before it finds anything to do, with its own ``values``."""
    return dict(values, changed=False, action='none', drift=[])


def execute(module, client, run, error_class):
    """Run ``run(module, client)``; exit with its result and ``client.requests``,
    or fail with the message of an ``error_class`` error and the requests so far."""
    try:
        result = run(module, client)
    except error_class as err:
        module.fail_json(msg=str(err), requests=client.requests)
    result['requests'] = client.requests
    module.exit_json(**result)
