#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: http_probe
short_description: Ask an HTTP endpoint once and report its answer, for checks of a running service
version_added: 0.3.0
description:
  - Sends one C(GET) from the host and returns the status, the headers and the JSON body. The roles' checks of the
    running service (Mattermost's ping, the ping through nginx, the sign-in options, GitLab's internal URL) use it
    where C(ansible.builtin.uri) would do. It loads only Python's own HTTP client and costs about half a C(uri)
    call, which a run that changes nothing pays for each check.
  - Reads only. Fails when the status is not in O(status_code); no answer at all is status V(-1). A redirect is
    not followed, its status is the answer. Use it with C(until) to wait for a service.
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment: [chatops.mattermost.attributes.read_only, ansible.builtin.action_common_attributes]
options:
  url:
    description: The C(http) or C(https) URL.
    type: str
    required: true
  headers:
    description: Request headers (a C(Host) header replaces the URL's host name in the request).
    type: dict
    default: {}
  validate_certs:
    description: Check the server's certificate and name over C(https).
    type: bool
    default: true
  ca_path:
    description: A PEM file of the CAs to trust instead of the system's.
    type: path
  timeout:
    description: Seconds to wait for the connection and the answer.
    type: int
    default: 10
  status_code:
    description: The statuses that count as success.
    type: list
    elements: int
    default: [200]
"""

EXAMPLES = r"""
- name: Wait for Mattermost's ping to say OK
  chatops.mattermost.http_probe:
    url: http://127.0.0.1:8065/api/v4/system/ping
  register: ping
  until: ping.json.status | default('') == 'OK'
  retries: 30
  delay: 2
"""

RETURN = r"""
status:
  description: The HTTP status, V(-1) when the server did not answer.
  returned: always
  type: int
  sample: 200
headers:
  description: The answer's headers, names in lower case.
  returned: when the server answered
  type: dict
  sample: {"content-type": "application/json", "x-version-id": "11.4.0.0.1.abc.true"}
json:
  description: The body, when it is JSON.
  returned: when the body is JSON
  type: raw
  sample: {"status": "OK"}
msg:
  description: What happened, in the form C(ansible.builtin.uri) uses when the status is not wanted.
  returned: always
  type: str
"""

import http.client
import json
import socket
import ssl
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule


def tls_context(validate_certs, ca_path):
    context = ssl.create_default_context(cafile=ca_path or None)
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def answer_of(status, headers, body):
    """The module's result for an answer: lower-case header names, the body parsed when it is JSON."""
    result = dict(status=status, headers=dict((name.lower(), value) for name, value in headers.items()))
    try:
        result['json'] = json.loads(body.decode('utf-8'))
    except ValueError:
        pass
    return result


def outcome(result, wanted, reason):
    """(failed, msg) for a result: a status outside ``wanted`` fails, named as uri names it."""
    if result['status'] in wanted:
        return False, 'OK (%s)' % result['status']
    return True, 'Status code was %s and not %s: %s' % (result['status'], wanted, reason)


def probe(params):
    """(result, reason) of one GET; status -1 when nothing answered."""
    url = urlsplit(params['url'])
    path = (url.path or '/') + ('?' + url.query if url.query else '')
    if url.scheme == 'https':
        connection = http.client.HTTPSConnection(url.hostname, url.port, timeout=params['timeout'],
                                                 context=tls_context(params['validate_certs'], params['ca_path']))
    else:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=params['timeout'])
    headers = dict(params['headers'] or {})
    try:
        # A Host header of the caller's replaces the URL's host name.
        connection.putrequest('GET', path, skip_host=any(name.lower() == 'host' for name in headers),
                              skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return answer_of(response.status, response.headers, response.read()), response.reason
    except (http.client.HTTPException, socket.timeout, ssl.SSLError, OSError) as err:
        return dict(status=-1), 'Request failed: %s' % (err or type(err).__name__)
    finally:
        connection.close()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', required=True),
            headers=dict(type='dict', default={}),
            validate_certs=dict(type='bool', default=True),
            ca_path=dict(type='path'),
            timeout=dict(type='int', default=10),
            status_code=dict(type='list', elements='int', default=[200]),
        ),
        supports_check_mode=True,
    )
    if not module.params['url'].startswith(('http://', 'https://')):
        module.fail_json(msg='http_probe: url must be an http or https URL (got %s)' % module.params['url'], status=-1)
    result, reason = probe(module.params)
    failed, result['msg'] = outcome(result, module.params['status_code'], reason)
    if failed:
        module.fail_json(changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
