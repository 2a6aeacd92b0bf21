# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small GitLab REST API v4 client for the collection's modules.

Standard library and ``ansible.module_utils`` only (no python-gitlab). Every
error is raised as :class:`GitLabAPIError` whose message already says what to
check, so a module can call ``module.fail_json(msg=str(err))`` or add context
(for instance which half of a two-step change failed).

Usage::

    module = AnsibleModule(argument_spec=gitlab_api_argument_spec(dict(...)))
    client = GitLabClient(module)
    apps = client.paginate('applications')
    body, headers = client.request('POST', 'applications', data={...}, expected=(201,))
    client.requests  # HTTP requests made so far
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import urllib.error
from urllib.parse import urlencode, urlsplit

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError, SSLValidationError, open_url

API_PREFIX = '/api/v4'
MAX_PAGES = 10000
USER_AGENT = 'ansible-chatops.mattermost'


def gitlab_api_argument_spec(spec=None):
    """Connection options shared by the GitLab modules (see the gitlab_api doc fragment)."""
    arg_spec = dict(
        api_url=dict(type='str', required=True),
        api_token=dict(type='str', required=True, no_log=True, fallback=(env_fallback, ['GITLAB_API_TOKEN'])),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        ca_cert=dict(type='str'),
        timeout=dict(type='int', default=30),
    )
    if spec:
        arg_spec.update(spec)
    return arg_spec


# Pass to AnsibleModule(mutually_exclusive=...) with gitlab_api_argument_spec().
GITLAB_API_MUTUALLY_EXCLUSIVE = [('ca_path', 'ca_cert')]

PEM_CERTIFICATE = re.compile(r'-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----')


def ca_bundle_with(module, pem):
    """Write the system's CA bundle followed by ``pem`` to a file in the module's
    temporary directory (removed when the module exits) and return its path.

    ``open_url(ca_path=...)`` trusts only the file it is given, so the system's
    CAs are copied in: ``ca_cert`` adds to them, it does not replace them.
    """
    if not PEM_CERTIFICATE.search(pem or ''):
        module.fail_json(msg='ca_cert holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)')
    system = b''
    defaults = ssl.get_default_verify_paths()
    for candidate in (defaults.cafile, defaults.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            with open(candidate, 'rb') as handle:
                system = handle.read()
            break
    path = os.path.join(module.tmpdir, 'gitlab-ca-bundle.pem')
    with open(path, 'wb') as handle:
        handle.write(system.rstrip() + b'\n' + pem.strip().encode('ascii', 'replace') + b'\n')
    return path


def normalize_api_url(url):
    """Return GitLab's base URL (no trailing slash, no ``/api/v4``) or raise ValueError."""
    url = (url or '').strip()
    parts = urlsplit(url)
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        raise ValueError(
            "api_url must be GitLab's base URL such as https://gitlab.example.com, got %r" % url)
    if parts.query or parts.fragment:
        raise ValueError("api_url must not have a query string or fragment, got %r" % url)
    base = url.rstrip('/')
    base = re.sub(r'(/api/v4)+$', '', base).rstrip('/')
    return base


class GitLabAPIError(Exception):
    """A failed GitLab API call; ``str(err)`` is a message meant for the user."""

    def __init__(self, message, status=None, method=None, url=None, body=None):
        super(GitLabAPIError, self).__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.url = url
        self.body = body

    def __str__(self):
        return self.message


def _gitlab_message(body):
    """Extract GitLab's error text from a response body (``message`` or ``error``)."""
    if body is None:
        return ''
    if isinstance(body, bytes):
        body = to_text(body, errors='surrogate_or_replace')
    data = body
    if isinstance(body, str):
        try:
            data = json.loads(body)
        except ValueError:
            text = body.strip()
            # An HTML error page says little; keep its title or a short excerpt.
            title = re.search(r'<title>(.*?)</title>', text, re.IGNORECASE | re.DOTALL)
            if title:
                return title.group(1).strip()
            return text[:300]
    if isinstance(data, dict):
        parts = []
        for key in ('message', 'error', 'error_description'):
            value = data.get(key)
            if value is None:
                continue
            if isinstance(value, dict):
                # field errors: {"scopes": ["can't be blank"], ...}
                for field, errors in sorted(value.items()):
                    if isinstance(errors, (list, tuple)):
                        errors = ', '.join(to_text(e) for e in errors)
                    parts.append('%s %s' % (field, errors))
            elif isinstance(value, (list, tuple)):
                parts.append(', '.join(to_text(v) for v in value))
            else:
                parts.append(to_text(value))
        if parts:
            return '; '.join(parts)
    return to_text(json.dumps(data) if not isinstance(data, str) else data)[:300]


class GitLabClient(object):
    """Talks to GitLab's REST API v4 with an access token sent as ``PRIVATE-TOKEN``.

    ``module.params`` must hold the options of :func:`gitlab_api_argument_spec`.
    ``requests`` counts the HTTP requests made (benchmarks, tests).
    """

    def __init__(self, module):
        self.module = module
        params = module.params
        try:
            self.base_url = normalize_api_url(params['api_url'])
        except ValueError as err:
            module.fail_json(msg=to_native(err))
        self.api_url = self.base_url + API_PREFIX
        self.token = params['api_token']
        if not self.token:
            module.fail_json(msg='api_token is empty: give an access token of a GitLab administrator '
                                 '(or set GITLAB_API_TOKEN)')
        self.validate_certs = params.get('validate_certs', True)
        self.ca_path = params.get('ca_path')
        if params.get('ca_cert'):
            self.ca_path = ca_bundle_with(module, params['ca_cert'])
        self.timeout = params.get('timeout') or 30
        self.requests = 0

    # ------------------------------------------------------------------ helpers
    def url(self, path, query=None):
        path = path if path.startswith('/') else '/' + path
        url = self.api_url + path
        if query:
            url += '?' + urlencode(query)
        return url

    def _error(self, method, url, status, body, headers=None):
        """Map an HTTP error status to a GitLabAPIError with an actionable message."""
        detail = _gitlab_message(body)
        where = '%s %s' % (method, url)
        if status == 401:
            msg = 'GitLab rejected the token (401 Unauthorized): check api_token (%s)' % where
        elif status == 403:
            msg = ("GitLab refused the request (403 Forbidden): the token is not an administrator's, "
                   "or lacks the 'api' scope; this API needs a personal access token of an "
                   "administrator with the 'api' scope (%s)" % where)
        elif status == 404:
            msg = ('GitLab answered 404 Not Found for %s: api_url (%s) is probably wrong; give the '
                   'base URL of GitLab such as https://gitlab.example.com' % (where, self.module.params.get('api_url')))
            if detail:
                msg += ' (GitLab said: %s)' % detail
        elif 300 <= status < 400:
            location = (headers or {}).get('location') or (headers or {}).get('Location') or ''
            msg = ('GitLab answered %s with a redirect to %s for %s: set api_url to the address GitLab '
                   'is served at (for instance https instead of http)' % (status, location or '(no location)', where))
        elif status == 400:
            msg = 'GitLab rejected the request (400 Bad Request) for %s: %s' % (where, detail or 'no details given')
        elif status == 422:
            msg = 'GitLab could not process the request (422) for %s: %s' % (where, detail or 'no details given')
        elif status >= 500:
            msg = 'GitLab failed with HTTP %s for %s: %s' % (status, where, detail or 'no details given')
        else:
            msg = 'GitLab answered HTTP %s for %s: %s' % (status, where, detail or 'no details given')
        return GitLabAPIError(msg, status=status, method=method, url=url, body=detail)

    def _unreachable(self, method, url, reason):
        reason = to_native(reason)
        if 'timed out' in reason.lower() or 'timeout' in reason.lower():
            msg = ('GitLab at %s did not answer within %s seconds (%s %s): check api_url, that GitLab is '
                   'up, or raise timeout' % (self.base_url, self.timeout, method, url))
        else:
            msg = 'Could not reach GitLab at %s (%s %s): %s' % (self.base_url, method, url, reason)
        return GitLabAPIError(msg, status=-1, method=method, url=url)

    def _certificate(self, method, url, reason):
        return GitLabAPIError(
            'The TLS certificate of GitLab at %s could not be verified (%s %s): give the CA bundle that '
            'signed it in ca_path or ca_cert, or set validate_certs=false for a test instance. %s'
            % (self.base_url, method, url, to_native(reason)), status=-1, method=method, url=url)

    # ------------------------------------------------------------------ API
    def request(self, method, path, data=None, expected=(200,), query=None):
        """Send one request; return ``(parsed JSON body or None, headers dict with lower-case keys)``.

        Raises GitLabAPIError when the status is not in ``expected`` or GitLab
        cannot be reached.
        """
        url = self.url(path, query)
        headers = {'PRIVATE-TOKEN': self.token, 'Accept': 'application/json'}
        payload = None
        if data is not None:
            payload = json.dumps(data)
            headers['Content-Type'] = 'application/json'
        self.requests += 1
        status = None
        raw = b''
        resp_headers = {}
        try:
            resp = open_url(url, data=payload, headers=headers, method=method, timeout=self.timeout,
                            validate_certs=self.validate_certs, ca_path=self.ca_path,
                            http_agent=USER_AGENT, follow_redirects='none', use_netrc=False)
            status = resp.getcode()
            resp_headers = dict((k.lower(), v) for k, v in resp.headers.items())
            raw = resp.read()
        except urllib.error.HTTPError as err:
            status = err.code
            try:
                resp_headers = dict((k.lower(), v) for k, v in err.headers.items())
            except Exception:
                resp_headers = {}
            try:
                raw = err.read() if err.fp is not None else b''
            except Exception:
                raw = b''
        except SSLValidationError as err:
            raise self._certificate(method, url, err)
        except urllib.error.URLError as err:
            if isinstance(err.reason, ssl.SSLCertVerificationError):
                raise self._certificate(method, url, err.reason)
            raise self._unreachable(method, url, err.reason)
        except (socket.timeout, TimeoutError) as err:
            raise self._unreachable(method, url, 'timed out: %s' % to_native(err))
        except (UrlsConnectionError, ssl.SSLError, OSError) as err:
            raise self._unreachable(method, url, err)

        if status not in expected:
            raise self._error(method, url, status, raw, resp_headers)
        if not raw or not raw.strip():
            return None, resp_headers
        try:
            return json.loads(to_text(raw, errors='surrogate_or_strict')), resp_headers
        except ValueError:
            raise GitLabAPIError(
                'GitLab answered %s %s with HTTP %s but not with JSON: api_url (%s) probably points to '
                'something else than GitLab' % (method, url, status, self.module.params.get('api_url')),
                status=status, method=method, url=url, body=to_text(raw[:300], errors='surrogate_or_replace'))

    def paginate(self, path, per_page=100, query=None):
        """GET every page of a list endpoint and return all items.

        Follows ``X-Next-Page``; when GitLab (or a proxy) drops that header, keeps
        going while pages come back full.
        """
        items = []
        page = 1
        for dummy in range(MAX_PAGES):
            params = dict(query or {})
            params.update(page=page, per_page=per_page)
            body, headers = self.request('GET', path, query=params)
            if not isinstance(body, list):
                raise GitLabAPIError(
                    'GitLab answered GET %s with something else than a list: api_url (%s) probably points '
                    'to something else than GitLab' % (self.url(path, params), self.module.params.get('api_url')),
                    status=200, method='GET', url=self.url(path, params))
            items.extend(body)
            if 'x-next-page' in headers:
                next_page = (headers.get('x-next-page') or '').strip()
                if not next_page:
                    break
                try:
                    page = int(next_page)
                except ValueError:
                    break
            elif len(body) < per_page:
                break
            else:
                page += 1
        return items
