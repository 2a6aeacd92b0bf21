# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A small Mattermost REST API v4 client for the collection's modules.

Two ways in (Mattermost 11.4's source, ``channels/api4/*_local.go`` and
``channels/app/server.go``):

* **local mode**: HTTP over the Unix socket ``ServiceSettings.LocalModeSocketLocation``
  when ``ServiceSettings.EnableLocalMode`` is on. No token: whoever can open
  the socket (root or the ``mattermost`` account) is a system administrator.
  Only the routes registered in the ``*_local.go`` files exist there (teams,
  channels, users, incoming webhooks, commands, config; no ``/bots``, no
  ``/users/me``); others answer 404.
* **HTTPS** (or HTTP) to the site URL with a personal access token or a bot
  token (``Authorization: Bearer``), from any host.

Every error is raised as :class:`MattermostAPIError` whose message says what to
check. Standard library and ``ansible.module_utils`` only.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import urllib.error
from http.client import HTTPConnection, HTTPException
from urllib.parse import quote, urlencode

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError, SSLValidationError, open_url
from ansible_collections.chatops.mattermost.plugins.module_utils import api_run
from ansible_collections.chatops.mattermost.plugins.module_utils.api_run import unchanged

API_PREFIX = '/api/v4'
DEFAULT_SOCKET = '/run/mattermost/mattermost_local.socket'
USER_AGENT = 'ansible-chatops.mattermost'
PER_PAGE = 200
MAX_PAGES = 100
# model/team.go IsValidTeamName + reserved names (model/team.go reservedName); model/channel.go IsValidChannelIdentifier.
TEAM_NAME = re.compile(r'^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$')
RESERVED_TEAM_NAMES = frozenset(['admin', 'api', 'channel', 'claim', 'error', 'files', 'help', 'landing', 'login',
                                 'mfa', 'oauth', 'plug', 'plugins', 'post', 'signup', 'boards', 'playbooks'])
CHANNEL_NAME = re.compile(r'^[a-z0-9]([a-z0-9_-]{0,62}[a-z0-9_])?$')
# model/command.go: 1-128 characters, no leading slash, no space.
TRIGGER = re.compile(r'^[^/\s]\S{0,127}$')


def mattermost_api_argument_spec(spec=None):
    """Connection options shared by the Mattermost modules (see the mattermost_api doc fragment)."""
    arg_spec = dict(
        mattermost_url=dict(type='str'),
        mattermost_token=dict(type='str', no_log=True, fallback=(env_fallback, ['MATTERMOST_TOKEN'])),
        local_socket=dict(type='path', default=DEFAULT_SOCKET),
        validate_certs=dict(type='bool', default=True),
        timeout=dict(type='int', default=30),
    )
    if spec:
        arg_spec.update(spec)
    return arg_spec


class MattermostAPIError(api_run.APIError):
    """A failed Mattermost API call; ``str(err)`` is a message meant for the user.
    ``error_id`` is Mattermost's message id (``app.team.get_by_name.missing.app_error``)."""

    def __init__(self, message, status=None, error_id=None):
        super(MattermostAPIError, self).__init__(message, status)
        self.error_id = error_id


def mattermost_error(raw):
    """``(message id, message)`` from Mattermost's AppError JSON (``id``, ``message``), else ('', text)."""
    if not raw:
        return '', ''
    text = to_text(raw, errors='surrogate_or_replace')
    try:
        data = json.loads(text)
    except ValueError:
        return '', text.strip()[:300]
    if isinstance(data, dict):
        return to_text(data.get('id') or ''), to_text(data.get('message') or data.get('detailed_error') or '')
    return '', text[:300]


def hook_url(site_url, hook_id):
    """The URL an incoming webhook is posted to (``<SiteURL>/hooks/<id>``, web/handlers.go)."""
    return '%s/hooks/%s' % (site_url.rstrip('/'), hook_id)


def differences(current, wanted):
    """Keys of ``wanted`` (None values ignored) whose value differs in ``current``, sorted."""
    return sorted(k for k, v in wanted.items() if v is not None and (current or {}).get(k) != v)


def name_problem(kind, name):
    """Why ``name`` is not a valid team name, channel name or command trigger for Mattermost, or None."""
    if kind == 'trigger':
        if not TRIGGER.match(name or ''):
            return 'trigger %r must be 1-128 characters without spaces and without the leading slash' % name
        return None
    if kind == 'team':
        if not TEAM_NAME.match(name or ''):
            return ('team name %r must be 2-64 characters of lower-case letters, digits and hyphens, starting '
                    'and ending with a letter or digit' % name)
        if name in RESERVED_TEAM_NAMES:
            return 'team name %r is reserved by Mattermost' % name
        return None
    if not CHANNEL_NAME.match(name or ''):
        return ('channel name %r must be 1-64 characters of lower-case letters, digits, hyphens and underscores, '
                'starting with a letter or digit' % name)
    return None


class _UnixConnection(HTTPConnection):
    """HTTPConnection over a Unix socket (Mattermost's local mode)."""

    def __init__(self, path, timeout):
        HTTPConnection.__init__(self, 'localhost', timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except Exception:
            sock.close()
            raise
        self.sock = sock


class MattermostClient(object):
    """Talks to Mattermost's REST API v4, over the local-mode socket when
    ``mattermost_url`` is not given, else over HTTP(S) with ``mattermost_token``. ``requests`` counts
    the HTTP requests sent."""

    def __init__(self, module):
        self.module = module
        params = module.params
        self.timeout = params.get('timeout') or 30
        self.validate_certs = params.get('validate_certs', True)
        self.requests = 0
        self.local = not params.get('mattermost_url')
        self.token = params.get('mattermost_token')
        if self.local:
            self.socket_path = params.get('local_socket') or DEFAULT_SOCKET
            self.where = "Mattermost's local-mode socket %s" % self.socket_path
        else:
            try:
                self.base_url = api_run.normalize_base_url(params['mattermost_url'], 'mattermost_url',
                                                           "Mattermost's site URL such as https://chat.example.com")
            except ValueError as err:
                module.fail_json(msg=to_native(err))
            if not self.token:
                module.fail_json(msg='mattermost_token is empty: with mattermost_url (%s) give the personal access token or bot token of a '
                                     'Mattermost system administrator (or set MATTERMOST_TOKEN), or leave mattermost_url unset '
                                     "to use the local-mode socket on the Mattermost host" % self.base_url)
            self.where = 'Mattermost at %s' % self.base_url

    # ------------------------------------------------------------------ HTTP
    def _send_local(self, method, path, payload, headers):
        if not os.path.exists(self.socket_path):
            raise MattermostAPIError(
                '%s does not exist: local mode is off (ServiceSettings.EnableLocalMode, the role variable '
                'mattermost_server_local_mode), Mattermost is not running, or it listens on another '
                'ServiceSettings.LocalModeSocketLocation (option local_socket). Or give mattermost_url and '
                'mattermost_token to use '
                'the REST API over HTTPS' % self.where, status=-1)
        conn = _UnixConnection(self.socket_path, self.timeout)
        try:
            conn.request(method, path, body=payload, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except PermissionError as err:
            raise MattermostAPIError('Cannot open %s (%s): run the task as root or as the account Mattermost runs '
                                     'as (become: true)' % (self.where, to_native(err)), status=-1)
        except ConnectionRefusedError:
            raise MattermostAPIError('%s exists but nobody answers on it: Mattermost is not running (or stopped '
                                     'without removing it); start it and retry' % self.where, status=-1)
        except (socket.timeout, TimeoutError):
            raise MattermostAPIError('%s did not answer within %s seconds (option timeout)'
                                     % (self.where, self.timeout), status=-1)
        except (OSError, HTTPException) as err:
            raise MattermostAPIError('Could not talk to %s: %s' % (self.where, to_native(err)), status=-1)
        finally:
            conn.close()

    def _send_remote(self, method, url, payload, headers):
        try:
            resp = open_url(url, data=payload, headers=headers, method=method, timeout=self.timeout,
                            validate_certs=self.validate_certs, http_agent=USER_AGENT,
                            follow_redirects='none', use_netrc=False)
            return resp.getcode(), resp.read()
        except urllib.error.HTTPError as err:
            try:
                raw = err.read() if err.fp is not None else b''
            except Exception:
                raw = b''
            return err.code, raw
        except SSLValidationError as err:
            raise MattermostAPIError('The TLS certificate of %s could not be verified: %s (set validate_certs=false '
                                     'only for a test instance)' % (self.where, to_native(err)), status=-1)
        except urllib.error.URLError as err:
            raise MattermostAPIError('Could not reach %s (%s %s): %s: is Mattermost up?'
                                     % (self.where, method, url, to_native(err.reason)), status=-1)
        except (socket.timeout, TimeoutError):
            raise MattermostAPIError('%s did not answer within %s seconds (option timeout)'
                                     % (self.where, self.timeout), status=-1)
        except (UrlsConnectionError, ssl.SSLError, OSError) as err:
            raise MattermostAPIError('Could not reach %s (%s %s): %s' % (self.where, method, url, to_native(err)),
                                     status=-1)

    def _error(self, method, path, status, raw):
        error_id, detail = mattermost_error(raw)
        where = '%s %s%s on %s' % (method, API_PREFIX, path, self.where)
        said = ' (Mattermost said: %s)' % detail if detail else ''
        if status == 401:
            msg = 'Mattermost rejected the token (401) for %s: check token%s' % (where, said)
        elif status == 403:
            msg = ('Mattermost refused %s (403): the token is not a system administrator\'s, or lacks the '
                   'permission%s' % (where, said))
        elif status == 404 and error_id in ('', 'api.context.404.app_error'):
            msg = ('Mattermost has no route for %s (404)%s: %s' % (
                where, said, 'local mode serves only some of the API; give mattermost_url and mattermost_token for this call'
                if self.local else 'check mattermost_url'))
        elif status == 404:
            msg = 'Not found: %s (404)%s' % (where, said)
        elif status == 501:
            msg = 'Mattermost does not implement %s (501, an Enterprise feature?)%s' % (where, said)
        elif status >= 500:
            msg = 'Mattermost failed with HTTP %s for %s%s' % (status, where, said)
        else:
            msg = 'Mattermost answered HTTP %s for %s%s' % (status, where, said)
        return MattermostAPIError(msg, status=status, error_id=error_id)

    def request(self, method, path, data=None, expected=(200,), query=None):
        """One request; the parsed JSON answer (None when empty). Raises MattermostAPIError."""
        path = (path if path.startswith('/') else '/' + path)
        if query:
            path += '?' + urlencode(query)
        headers = {'Accept': 'application/json', 'User-Agent': USER_AGENT,
                   'X-Requested-With': 'XMLHttpRequest'}
        payload = None
        if data is not None:
            payload = json.dumps(data)
            headers['Content-Type'] = 'application/json'
        self.requests += 1
        if self.local:
            status, raw = self._send_local(method, API_PREFIX + path, payload, headers)
        else:
            headers['Authorization'] = 'Bearer %s' % self.token
            status, raw = self._send_remote(method, self.base_url + API_PREFIX + path, payload, headers)
        if status not in expected:
            raise self._error(method, path, status, raw)
        if not raw or not raw.strip():
            return None
        try:
            return json.loads(to_text(raw, errors='surrogate_or_strict'))
        except ValueError:
            raise MattermostAPIError('%s answered %s %s with HTTP %s but not with JSON: is that Mattermost?'
                                     % (self.where, method, path, status), status=status)

    def get_or_none(self, path, query=None):
        """GET ``path``; None when Mattermost says the object does not exist (404 with a model error id)."""
        try:
            return self.request('GET', path, query=query)
        except MattermostAPIError as err:
            if err.status == 404 and err.error_id not in ('', 'api.context.404.app_error'):
                return None
            raise

    def get_pages(self, path, query=None):
        """Every item of a paged list (``page``/``per_page``)."""
        items = []
        params = dict(query or {}, per_page=PER_PAGE)
        for page in range(MAX_PAGES):
            params['page'] = page
            batch = self.request('GET', path, query=params) or []
            items.extend(batch)
            if len(batch) < PER_PAGE:
                return items
        raise MattermostAPIError('GET %s returned more than %d pages' % (path, MAX_PAGES))

    # ------------------------------------------------------------------ lookups
    def team(self, name):
        return self.get_or_none('/teams/name/%s' % quote(name, safe=''))

    def channel(self, team_id, name):
        return self.get_or_none('/teams/%s/channels/name/%s' % (team_id, quote(name, safe='')),
                                query={'include_deleted': 'true'})

    def user(self, username):
        return self.get_or_none('/users/username/%s' % quote(username, safe=''))

    def site_url(self):
        """ServiceSettings.SiteURL from the client configuration (no permission needed)."""
        config = self.request('GET', '/config/client', query={'format': 'old'}) or {}
        return (config.get('SiteURL') or '').rstrip('/')

    def require(self, kind, value, found):
        if found is None:
            raise MattermostAPIError('%s %r does not exist in %s' % (kind, value, self.where), status=404)
        return found

    def existing_team(self, name):
        """The team named ``name``; MattermostAPIError when there is none."""
        return self.require('team', name, self.team(name))

    def existing_channel(self, team, name):
        """The channel named ``name`` (archived or not) of ``team`` (an existing_team answer); MattermostAPIError
        when there is none."""
        return self.require('channel', '%s/%s' % (team['name'], name), self.channel(team['id'], name))


def execute(module, run):
    """Run ``run(module, client)`` with a client of this module's Mattermost and exit
    with its result and the request count, or fail with the client's message."""
    api_run.execute(module, MattermostClient(module), run, MattermostAPIError)


STATE_OPTION = dict(type='str', default='present', choices=['present', 'absent'])


def integration_argument_spec(**spec):
    """The options of an incoming webhook or slash command module: ``spec``, ``team`` and ``state``, and those
    the ``mattermost_api.integration`` doc fragment describes."""
    return dict(spec, team=dict(type='str', required=True), description=dict(type='str'), owner=dict(type='str'),
                username=dict(type='str'), icon_url=dict(type='str'), state=STATE_OPTION)


def run_module(run, argument_spec, names=None, **module_kwargs):
    """The ``main()`` of a Mattermost module: its ``argument_spec`` with the connection options (and check mode);
    ``names`` maps options to the kind of name they hold (``team``, ``channel`` or ``trigger``), checked by
    :func:`name_problem` before anything is sent; then ``run`` (see :func:`execute`)."""
    module = AnsibleModule(argument_spec=mattermost_api_argument_spec(argument_spec), supports_check_mode=True,
                           **module_kwargs)
    for option, kind in sorted((names or {}).items()):
        problem = name_problem(kind, module.params[option])
        if problem:
            module.fail_json(msg=problem)
    execute(module, run)


def diff_of(before, after):
    """An Ansible diff dict of two flat dicts (None for absent)."""
    return dict(before=before or {}, after=after or {})


def given(wanted):
    """The items of ``wanted`` that were asked for (not None)."""
    return dict((k, v) for k, v in wanted.items() if v is not None)


def drift_diff(current, wanted, keys):
    """The diff of ``keys`` from their values in ``current`` to those in ``wanted``."""
    return diff_of(dict((k, current.get(k)) for k in keys), dict((k, wanted[k]) for k in keys))


def record_create(module, client, result, path, body, shown, publish):
    """``result`` records the creation of what was absent (the diff shows ``shown``), by ``POST path`` of ``body``
    unless in check mode; ``publish(result, answer)`` puts Mattermost's answer in the result. Returns ``result``."""
    result.update(changed=True, action='create', drift=['absent'], diff=diff_of({}, shown))
    if not module.check_mode:
        publish(result, client.request('POST', path, data=body, expected=(201,)))
    return result


def record_update(result, current, wanted):
    """The keys of ``wanted`` that differ in ``current``; when some do, ``result`` records an update of them
    (changed, action, drift and the diff of just those keys)."""
    drift = differences(current, wanted)
    if drift:
        result.update(changed=True, action='update', drift=drift, diff=drift_diff(current, wanted, drift))
    return drift


def delete_present(module, client, result, found, path, identity):
    """State absent of a webhook or command: ``DELETE path % id`` of what was found (none: nothing to do)."""
    if found:
        result.update(changed=True, action='delete', drift=['present'], diff=diff_of(identity, {}))
        if not module.check_mode:
            client.request('DELETE', path % found['id'])
    return result


def owner_id(client, owner, what):
    """The id of the account that will own ``what`` (a new webhook or command); its user name is required."""
    if not owner:
        raise MattermostAPIError('owner is needed to create %s: the user name of the account owning it' % what)
    return client.require('user', owner, client.user(owner))['id']


def reconcile_integration(module, client, result, path, found, wanted, create, publish, whole=dict,
                          update_status=200):
    """The life cycle incoming webhooks and slash commands share in Mattermost, when present (absent:
    :func:`delete_present`): created by ``POST path`` of the attributes asked for (``wanted``, None: left alone)
    and ``create()`` (where it goes, its owner: asked only then, before anything changes); changed by
    ``PUT path/<id>`` of the whole record (``whole(found)``) with the attributes that differ replaced, Mattermost
    answering ``update_status``. ``publish(result, record)`` puts what was found, created or changed in
    ``result``, which is returned."""
    if found is None:
        return record_create(module, client, result, path, dict(given(wanted), **create()), given(wanted), publish)
    publish(result, found)
    drift = record_update(result, found, wanted)
    if drift and not module.check_mode:
        body = whole(found)
        body.update((k, wanted[k]) for k in drift)
        publish(result, client.request('PUT', '%s/%s' % (path, found['id']), data=body, expected=(update_status,)))
    return result


def reconcile_archivable(module, client, kind, found, wanted, create_body, identity=None):
    """The life cycle teams and channels share in Mattermost: archived (``delete_at`` set) by
    ``DELETE /<kind>s/<id>``, brought back by ``POST .../restore``, created by ``POST /<kind>s``, changed by
    ``PUT .../patch`` and, for ``type`` (public or private), ``PUT .../privacy``. ``wanted`` maps attributes to
    the values asked for (None: left alone). Returns the module's result, the object under ``kind``."""
    base = '/%ss' % kind
    identity = identity or {}
    result = unchanged(**{kind: found or {}})
    if module.params['state'] == 'absent':
        if found and not found.get('delete_at'):
            result.update(changed=True, action='archive', drift=['archived'],
                          diff=diff_of(dict(identity, archived=False), dict(identity, archived=True)))
            if not module.check_mode:
                client.request('DELETE', '%s/%s' % (base, found['id']))
        return result
    if found is None:
        return record_create(module, client, result, base, create_body, create_body,
                             lambda res, created: res.update({kind: created}))
    drift = differences(found, wanted)
    if found.get('delete_at'):
        drift.insert(0, 'archived')
    if not drift:
        return result
    attributes = [k for k in drift if k != 'archived']
    result.update(changed=True, action='restore' if 'archived' in drift else 'update', drift=drift,
                  diff=drift_diff(found, wanted, attributes))
    if module.check_mode:
        return result
    current = found
    if 'archived' in drift:
        current = client.request('POST', '%s/%s/restore' % (base, current['id']))
    patch = dict((k, wanted[k]) for k in attributes if k != 'type')
    if patch:
        current = client.request('PUT', '%s/%s/patch' % (base, current['id']), data=patch)
    if 'type' in drift:
        current = client.request('PUT', '%s/%s/privacy' % (base, current['id']), data=dict(privacy=wanted['type']))
    result[kind] = current
    return result
