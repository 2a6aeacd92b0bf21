# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The GitLab API client (module_utils/gitlab_api.py), in-process against the emulator."""

import importlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

ADMIN_TOKEN = 'glpat-admin-token'


@pytest.fixture
def api(collections_path):
    return importlib.import_module('ansible_collections.chatops.mattermost.plugins.module_utils.gitlab_api')


class Failed(Exception):
    pass


class FakeModule(object):
    """What GitLabClient uses of AnsibleModule."""

    def __init__(self, **params):
        self.params = dict(api_token=ADMIN_TOKEN, validate_certs=True, ca_path=None, timeout=5)
        self.params.update(params)

    def fail_json(self, msg, **kwargs):
        raise Failed(msg)


def client(api, url, **params):
    return api.GitLabClient(FakeModule(api_url=url, **params))


@pytest.mark.parametrize('given, expected', [
    ('https://gitlab.example.com', 'https://gitlab.example.com'),
    ('https://gitlab.example.com/', 'https://gitlab.example.com'),
    ('https://gitlab.example.com/api/v4', 'https://gitlab.example.com'),
    ('https://gitlab.example.com/api/v4/', 'https://gitlab.example.com'),
    (' http://example.com/gitlab/ ', 'http://example.com/gitlab'),
    ('http://example.com:8080/gitlab/api/v4', 'http://example.com:8080/gitlab'),
])
def test_normalize_api_url(api, given, expected):
    assert api.normalize_api_url(given) == expected


@pytest.mark.parametrize('bad', ['gitlab.example.com', 'ftp://gitlab', 'https://', 'https://x/?a=b', ''])
def test_normalize_api_url_rejects(api, bad):
    with pytest.raises(ValueError):
        api.normalize_api_url(bad)


@pytest.mark.parametrize('body, expected', [
    (b'{"message": "401 Unauthorized"}', '401 Unauthorized'),
    (b'{"error": "name is missing"}', 'name is missing'),
    (b'{"message": {"scopes": ["can\'t be blank"], "name": ["is too long"]}}',
     "name is too long; scopes can't be blank"),
    (b'<html><head><title>502 Bad Gateway</title></head></html>', '502 Bad Gateway'),
    (b'', ''),
])
def test_gitlab_message(api, body, expected):
    assert api._gitlab_message(body) == expected


def test_argument_spec(api):
    spec = api.gitlab_api_argument_spec(dict(name=dict(type='str')))
    assert spec['api_token']['no_log'] is True
    assert spec['api_url']['required'] is True
    assert 'name' in spec


def test_request_and_counter(api, gitlab):
    gl = client(api, gitlab.url + '/api/v4/')
    app, headers = gl.request('POST', 'applications', data=dict(
        name='x', redirect_uri='https://a.test/cb', scopes='read_user', confidential=True), expected=(201,))
    assert app['secret'] and app['application_name'] == 'x'
    body, headers = gl.request('DELETE', '/applications/%s' % app['id'], expected=(204,))
    assert body is None
    assert gl.requests == 2
    assert [r['path'] for r in gitlab.requests()] == ['/api/v4/applications', '/api/v4/applications/1']


def test_paginate(api, gitlab):
    for index in range(205):
        gitlab.add_application('app %d' % index, ['https://a.test/%d' % index])
    gl = client(api, gitlab.url)
    apps = gl.paginate('applications')
    assert len(apps) == 205 and len(set(a['id'] for a in apps)) == 205
    assert gl.requests == 3


def test_paginate_without_headers(api):
    """A proxy that drops X-Next-Page: keep going while pages are full."""
    items = list(range(250))
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            from urllib.parse import parse_qs, urlsplit
            query = parse_qs(urlsplit(self.path).query)
            page, per_page = int(query['page'][0]), int(query['per_page'][0])
            seen.append(page)
            payload = json.dumps(items[(page - 1) * per_page: page * per_page]).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        gl = client(api, 'http://127.0.0.1:%d' % server.server_address[1])
        assert gl.paginate('applications') == items
        assert seen == [1, 2, 3]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize('token, status, text', [
    ('glpat-wrong', 401, 'GitLab rejected the token (401 Unauthorized): check api_token'),
    ('glpat-user-token', 403, "the token is not an administrator's"),
])
def test_auth_errors(api, gitlab, token, status, text):
    gl = client(api, gitlab.url, api_token=token)
    with pytest.raises(api.GitLabAPIError) as err:
        gl.paginate('applications')
    assert err.value.status == status and text in str(err.value)
    assert token not in str(err.value)


def test_404(api, gitlab):
    gl = client(api, gitlab.url + '/nothing-here')
    with pytest.raises(api.GitLabAPIError) as err:
        gl.request('GET', 'applications')
    assert err.value.status == 404 and 'probably wrong' in str(err.value)


def test_5xx_includes_gitlab_message(api, gitlab):
    gitlab.fault(path_regex='applications', status=503, count=1)
    gl = client(api, gitlab.url)
    with pytest.raises(api.GitLabAPIError) as err:
        gl.request('GET', 'applications')
    assert err.value.status == 503 and '503 Service Unavailable' in str(err.value)


def test_timeout(api, gitlab):
    gitlab.fault(path_regex='applications', delay=3, count=1)
    gl = client(api, gitlab.url, timeout=1)
    with pytest.raises(api.GitLabAPIError) as err:
        gl.request('GET', 'applications')
    assert err.value.status == -1 and 'did not answer within 1 seconds' in str(err.value)


def test_not_json(api):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            payload = b'<html>Mattermost</html>'
            self.send_response(200)
            self.send_header('Content-Length', str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gl = client(api, 'http://127.0.0.1:%d' % server.server_address[1])
        with pytest.raises(api.GitLabAPIError) as err:
            gl.request('GET', 'applications')
        assert 'not with JSON' in str(err.value)
    finally:
        server.shutdown()
        server.server_close()


def test_redirect_is_not_followed(api):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(301)
            self.send_header('Location', 'https://gitlab.example.test/api/v4/applications')
            self.send_header('Content-Length', '0')
            self.end_headers()

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gl = client(api, 'http://127.0.0.1:%d' % server.server_address[1])
        with pytest.raises(api.GitLabAPIError) as err:
            gl.request('GET', 'applications')
        assert err.value.status == 301
        assert 'https://gitlab.example.test/api/v4/applications' in str(err.value)
    finally:
        server.shutdown()
        server.server_close()


def test_empty_token_fails(api):
    with pytest.raises(Failed) as err:
        client(api, 'https://gitlab.example.test', api_token='')
    assert 'api_token is empty' in str(err.value)
