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
    apps = client.get_list('applications')
    body, headers = client.request('POST', 'applications', data={...}, expected=(201,))
    client.probe_secret(client_id, secret, redirect_uri)  # True, False or GitLabAPIError
    client.requests  # HTTP requests made so far
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import ssl
import urllib.error
from urllib.parse import quote, urlencode

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError, SSLValidationError, open_url
from ansible_collections.chatops.mattermost.plugins.module_utils.api_run import APIError, normalize_base_url

API_PREFIX = '/api/v4'
# GitLab answers list endpoints such as /applications in one response. Should one
# ever announce more pages (X-Next-Page), at most this many more are read.
MAX_EXTRA_PAGES = 100
PER_PAGE = 100
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


class GitLabAPIError(APIError):
    """A failed GitLab API call; ``str(err)`` is a message meant for the user.

    ``route_missing`` is true for a 404 of GitLab's catch-all API route
    (``{"error": "404 Not Found"}``): this GitLab has no such endpoint, as
    opposed to a missing resource (``{"message": "404 Application Not Found"}``).
    """

    def __init__(self, message, status=None, method=None, url=None, body=None, route_missing=False):
        super(GitLabAPIError, self).__init__(message, status)
        self.method = method
        self.url = url
        self.body = body
        self.route_missing = route_missing


def _json_or_none(raw):
    """A response body parsed as JSON, or None when it is not JSON."""
    if not raw:
        return None
    try:
        return json.loads(to_text(raw, errors='surrogate_or_replace'))
    except ValueError:
        return None


def is_route_missing(status, raw):
    """Whether a 404 is GitLab's answer for an API path it has no route for.

    lib/api/api.rb ends with ``route :any, '*path'`` answering
    ``{"error": "404 Not Found"}``; missing resources answer with ``message``
    (lib/api/helpers.rb ``not_found!``).
    """
    if status != 404:
        return False
    data = _json_or_none(raw)
    return isinstance(data, dict) and data.get('error') == '404 Not Found' and 'message' not in data


def _missing_resource(raw):
    """Whether a 404 names a missing resource: ``not_found!('Application')`` answers
    ``{"message": "404 Application Not Found"}``."""
    data = _json_or_none(raw)
    message = data.get('message') if isinstance(data, dict) else None
    return isinstance(message, str) and re.match(r'^404 \S.* Not Found$', message) is not None


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
            self.base_url = normalize_base_url(params['api_url'], 'api_url',
                                               "GitLab's base URL such as https://gitlab.example.com")
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
        route_missing = is_route_missing(status, body)
        where = '%s %s' % (method, url)
        if status == 401:
            msg = 'GitLab rejected the token (401 Unauthorized): check api_token (%s)' % where
        elif status == 403:
            msg = ("GitLab refused the request (403 Forbidden) for %s: the token is not an administrator's, or "
                   "lacks the 'api' scope, or lacks the 'admin_mode' scope while Admin Mode is on (Admin Area > "
                   "Settings > General > Sign-in restrictions). This API needs the personal access token of an "
                   "administrator with the 'api' scope, and the 'admin_mode' scope too when Admin Mode is on" % where)
        elif status == 404 and not route_missing and _missing_resource(body):
            msg = 'GitLab answered 404 Not Found for %s: it does not exist (GitLab said: %s)' % (where, detail)
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
        return GitLabAPIError(msg, status=status, method=method, url=url, body=detail, route_missing=route_missing)

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

    # ------------------------------------------------------------------ HTTP
    def _send(self, method, url, payload, headers):
        """One HTTP exchange, counted in ``requests``: ``(status, headers with lower-case keys, raw body)``.

        Raises GitLabAPIError when GitLab cannot be reached or its certificate not verified.
        """
        self.requests += 1
        try:
            resp = open_url(url, data=payload, headers=headers, method=method, timeout=self.timeout,
                            validate_certs=self.validate_certs, ca_path=self.ca_path,
                            http_agent=USER_AGENT, follow_redirects='none', use_netrc=False)
            return resp.getcode(), dict((k.lower(), v) for k, v in resp.headers.items()), resp.read()
        except urllib.error.HTTPError as err:
            try:
                resp_headers = dict((k.lower(), v) for k, v in err.headers.items())
            except Exception:
                resp_headers = {}
            try:
                raw = err.read() if err.fp is not None else b''
            except Exception:
                raw = b''
            return err.code, resp_headers, raw
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
        status, resp_headers, raw = self._send(method, url, payload, headers)
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

    def get_list(self, path, query=None):
        """GET a list endpoint and return its items, in one request where GitLab allows.

        GitLab answers ``/applications`` unpaginated (lib/api/applications.rb
        presents ``ApplicationsFinder.new.execute`` without ``paginate``), so one
        GET returns them all. Should GitLab announce a next page (``X-Next-Page``),
        it is followed, at most MAX_EXTRA_PAGES times; items are de-duplicated by
        ``id`` in case pages overlap.
        """
        items = []
        seen = set()
        params = dict(query or {})
        params['per_page'] = PER_PAGE
        page = 1
        for dummy in range(MAX_EXTRA_PAGES + 1):
            body, headers = self.request('GET', path, query=params)
            if not isinstance(body, list):
                raise GitLabAPIError(
                    'GitLab answered GET %s with something else than a list: api_url (%s) probably points '
                    'to something else than GitLab' % (self.url(path, params), self.module.params.get('api_url')),
                    status=200, method='GET', url=self.url(path, params))
            for item in body:
                key = item.get('id') if isinstance(item, dict) else None
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                items.append(item)
            try:
                next_page = int((headers.get('x-next-page') or '').strip())
            except ValueError:
                return items
            if next_page <= page:
                return items
            page = next_page
            params['page'] = page
        raise GitLabAPIError(
            'GitLab kept announcing more pages of GET %s after %d pages (X-Next-Page %s); stopped rather than '
            'work on part of the list' % (self.url(path), MAX_EXTRA_PAGES + 1, page),
            status=200, method='GET', url=self.url(path))

    def version(self):
        """GitLab's version as a tuple of ints such as ``(16, 10, 0)``, or None when GitLab does not say."""
        try:
            body, dummy = self.request('GET', 'version')
        except GitLabAPIError:
            return None
        match = re.match(r'\s*(\d+)\.(\d+)(?:\.(\d+))?', to_text((body or {}).get('version') or '')
                         if isinstance(body, dict) else '')
        if not match:
            return None
        return tuple(int(part or 0) for part in match.groups())

    def probe_secret(self, client_id, client_secret, redirect_uri):
        """Whether GitLab accepts ``client_secret`` for the OAuth application ``client_id``.

        Sends an authorization-code request to ``<base>/oauth/token`` with a code
        that cannot exist and without the access token. Doorkeeper authenticates
        the client before it looks at the grant, so it answers 400
        ``invalid_grant`` for the right secret (True) and 401 ``invalid_client``
        for a wrong one or an unknown client (False). Nothing is issued either
        way. Any other answer raises GitLabAPIError.
        """
        url = self.base_url + '/oauth/token'
        what = ("Checking the application secret of client id %s with GitLab's token endpoint (POST %s, an "
                "authorization-code request with a made-up code, which issues nothing) failed" % (client_id, url))
        payload = urlencode(dict(
            grant_type='authorization_code',
            code='ansible-secret-probe-%s' % secrets.token_hex(24),
            redirect_uri=redirect_uri,
            client_id=client_id,
            client_secret=client_secret,
        ))
        headers = {'Accept': 'application/json', 'Content-Type': 'application/x-www-form-urlencoded'}
        try:
            status, resp_headers, raw = self._send('POST', url, payload, headers)
        except GitLabAPIError as err:
            err.message = '%s: %s' % (what, err.message)
            raise
        data = _json_or_none(raw)
        error = data.get('error') if isinstance(data, dict) else None
        if status == 400 and error == 'invalid_grant':
            return True
        if status == 401 and error == 'invalid_client':
            return False
        if 300 <= status < 400:
            answer = 'a redirect to %s' % (resp_headers.get('location') or '(no location)')
        else:
            answer = 'HTTP %s: %s' % (status, _gitlab_message(raw) or 'no details given')
        raise GitLabAPIError(
            "%s: GitLab answered %s, neither invalid_grant (the secret is right) nor invalid_client (it is "
            "wrong). Check api_url, or set verify_secret=false to skip this check" % (what, answer),
            status=status, method='POST', url=url, body=_gitlab_message(raw))

    def probe_slash_command_token(self, project_path, token):
        """Whether GitLab's Mattermost slash-commands integration of ``project_path``
        (``projects/<id>``) is active with ``token``.

        GitLab never returns the token. The trigger Mattermost calls
        (``POST .../integrations/mattermost_slash_commands/trigger``, no access
        token) answers 404 ``Integration Not Found`` for a wrong token or an
        inactive integration and 200 for the right one; a chat user GitLab does
        not know is only asked to connect an account, so nothing runs.
        """
        url = self.url(project_path + '/integrations/mattermost_slash_commands/trigger')
        payload = urlencode(dict(token=token, team_id='ansible-probe', team_domain='ansible-probe',
                                 user_id='ansible-probe', user_name='ansible-probe', channel_name='ansible-probe',
                                 command='/ansible-probe', text=''))
        headers = {'Accept': 'application/json', 'Content-Type': 'application/x-www-form-urlencoded'}
        status, resp_headers, raw = self._send('POST', url, payload, headers)
        if status == 200:
            return True
        if status == 404 and _missing_resource(raw):
            return False
        raise self._error('POST', url, status, raw, resp_headers)


# ---------------------------------------------------------------------- integrations
# lib/api/helpers/integrations_helpers.rb, app/models/integrations/mattermost.rb and
# base_chat_notification.rb: the Mattermost integrations' API slugs (hyphens), and
# GitLab's event names for Mattermost notifications with their switch and channel fields,
# named by GitLab's own rules: IntegrationsHelper#integration_event_field_name
# ("<event>_events", three events in the plural) and BaseChatNotification::EVENT_CHANNEL
# ("<event>_channel").
INTEGRATION_SLUGS = {'notifications': 'mattermost', 'slash_commands': 'mattermost-slash-commands'}
PLURAL_EVENT_FIELDS = ('merge_request', 'issue', 'confidential_issue')
MATTERMOST_EVENTS = dict(
    (event, ('%s%s_events' % (event, 's' if event in PLURAL_EVENT_FIELDS else ''), '%s_channel' % event))
    for event in ('push', 'issue', 'confidential_issue', 'merge_request', 'note', 'confidential_note', 'tag_push',
                  'pipeline', 'wiki_page', 'deployment', 'incident'))
BRANCHES_TO_BE_NOTIFIED = ('default', 'protected', 'default_and_protected', 'all')
LABELS_BEHAVIOURS = ('match_any', 'match_all')


def resource_path(kind, ident):
    """``projects/<id>`` or ``groups/<id>`` with a full path URL-encoded (``group%2Fapp``)."""
    ident = str(ident).strip().strip('/')
    if not ident:
        raise ValueError('%s must be a numeric id or a full path such as group/app' % kind)
    return '%ss/%s' % (kind, ident if ident.isdigit() else quote(ident, safe=''))


def notification_settings(events=None, event_channels=None, **fields):
    """What a PUT of the Mattermost notifications integration sends, the webhook
    aside: the given ``fields`` (None left out), the ``*_events`` switches when
    ``events`` is a list (listed on, the others off) and ``*_channel`` per event."""
    unknown = sorted(set(events or []) | set(event_channels or {}))
    unknown = [e for e in unknown if e not in MATTERMOST_EVENTS]
    if unknown:
        raise ValueError('unknown GitLab event(s) for Mattermost notifications: %s; GitLab knows %s'
                         % (', '.join(unknown), ', '.join(sorted(MATTERMOST_EVENTS))))
    wanted = dict((k, v) for k, v in fields.items() if v is not None)
    if events is not None:
        for name, (switch, _channel) in MATTERMOST_EVENTS.items():
            wanted[switch] = name in events
    if event_channels is not None:
        for name, (_switch, channel) in MATTERMOST_EVENTS.items():
            wanted[channel] = event_channels.get(name) or ''
    return wanted


def integration_drift(current, wanted):
    """Names of the settings whose value in GitLab's answer (``current``, the GET
    entity: switches at the top, the rest under ``properties``) differs from
    ``wanted``; ``active`` when the integration is off. Blank and null are equal,
    as GitLab stores an emptied field either way."""
    if not current:
        return ['active']
    drift = [] if current.get('active') else ['active']
    properties = current.get('properties') or {}
    for key, value in sorted(wanted.items()):
        have = current[key] if key in current else properties.get(key)
        if isinstance(value, bool) or isinstance(have, bool):
            # notify_only_broken_pipelines comes back as a boolean or as "true"/"false"
            have_bool = have if isinstance(have, bool) else str(have).lower() in ('true', '1')
            if bool(value) != have_bool:
                drift.append(key)
        elif (value or '') != (have or ''):
            drift.append(key)
    return drift


def allowlist_with(entries, host):
    """``entries`` with ``host`` added (case-insensitive, once), or None when it is already there."""
    entries = [e for e in (entries or []) if str(e).strip()]
    if host.lower() in [str(e).strip().lower() for e in entries]:
        return None
    return entries + [host]
