# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The GitLab API client (module_utils/gitlab_api.py), in-process against the emulator."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

ADMIN_TOKEN = 'glpat-admin-token'
ADMIN_API_ONLY_TOKEN = 'glpat-admin-api-only'
GITLAB_PROFILES = ('16.10.0', '17.11.7', '18.6.2')
MODULE_UTILS = 'gitlab_api'


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


class Answers(object):
    """A loopback HTTP server answering every request with ``respond(handler, body)``
    -> ``(status, headers, payload)``; ``seen`` holds ``(method, path, headers, body)``."""

    def __init__(self, respond):
        self.seen = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length).decode() if length else ''
                outer.seen.append((self.command, self.path, dict(self.headers.items()), body))
                status, headers, payload = respond(self, body)
                payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header('Content-Length', str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def answers():
    started = []

    def start(respond):
        server = Answers(respond)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.mark.parametrize('gitlab', GITLAB_PROFILES, indirect=True)
def test_get_list_is_one_request(api, gitlab):
    """GitLab does not paginate /applications: 205 applications come in one answer."""
    for index in range(205):
        gitlab.add_application('app %d' % index, ['https://a.test/%d' % index])
    gl = client(api, gitlab.url)
    apps = gl.get_list('applications')
    assert len(apps) == 205 and len(set(a['id'] for a in apps)) == 205
    assert gl.requests == 1
    assert [r['path'] for r in gitlab.requests()] == ['/api/v4/applications']
    assert not hasattr(api, 'MAX_PAGES')


def test_get_list_follows_an_announced_next_page(api, answers):
    """Should GitLab ever paginate: X-Next-Page is followed, overlapping items counted once."""
    pages = {1: ([1, 2, 3], '2'), 2: ([3, 4], '3'), 3: ([5], '')}

    def respond(handler, body):
        from urllib.parse import parse_qs, urlsplit
        page = int(parse_qs(urlsplit(handler.path).query).get('page', ['1'])[0])
        ids, next_page = pages[page]
        return 200, {'X-Next-Page': next_page}, [dict(id=i) for i in ids]

    server = answers(respond)
    gl = client(api, server.url)
    assert [a['id'] for a in gl.get_list('applications')] == [1, 2, 3, 4, 5]
    assert gl.requests == 3


@pytest.mark.parametrize('next_page', ['', '1', 'x'])
def test_get_list_stops_without_a_forward_next_page(api, answers, next_page):
    server = answers(lambda handler, body: (200, {'X-Next-Page': next_page}, [dict(id=1), dict(id=2)]))
    gl = client(api, server.url)
    assert len(gl.get_list('applications')) == 2
    assert gl.requests == 1


def test_get_list_is_bounded(api, answers):
    """A server that always announces one more page is not followed for ever."""
    def respond(handler, body):
        from urllib.parse import parse_qs, urlsplit
        page = int(parse_qs(urlsplit(handler.path).query).get('page', ['1'])[0])
        return 200, {'X-Next-Page': str(page + 1)}, [dict(id=page)]

    server = answers(respond)
    gl = client(api, server.url)
    with pytest.raises(api.GitLabAPIError) as err:
        gl.get_list('applications')
    assert 'kept announcing more pages' in str(err.value)
    assert gl.requests == api.MAX_EXTRA_PAGES + 1


def test_get_list_of_something_else(api, answers):
    server = answers(lambda handler, body: (200, {}, {'not': 'a list'}))
    with pytest.raises(api.GitLabAPIError) as err:
        client(api, server.url).get_list('applications')
    assert 'something else than a list' in str(err.value)


@pytest.mark.parametrize('token, status, text', [
    ('glpat-wrong', 401, 'GitLab rejected the token (401 Unauthorized): check api_token'),
    ('glpat-user-token', 403, "the token is not an administrator's"),
])
def test_auth_errors(api, gitlab, token, status, text):
    gl = client(api, gitlab.url, api_token=token)
    with pytest.raises(api.GitLabAPIError) as err:
        gl.get_list('applications')
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


def test_not_json(api, answers):
    server = answers(lambda handler, body: (200, {}, b'<html>Mattermost</html>'))
    with pytest.raises(api.GitLabAPIError) as err:
        client(api, server.url).request('GET', 'applications')
    assert 'not with JSON' in str(err.value)


def test_redirect_is_not_followed(api, answers):
    location = 'https://gitlab.example.test/api/v4/applications'
    server = answers(lambda handler, body: (301, {'Location': location}, b''))
    with pytest.raises(api.GitLabAPIError) as err:
        client(api, server.url).request('GET', 'applications')
    assert err.value.status == 301
    assert location in str(err.value)
    assert len(server.seen) == 1


def test_empty_token_fails(api):
    with pytest.raises(Failed) as err:
        client(api, 'https://gitlab.example.test', api_token='')
    assert 'api_token is empty' in str(err.value)


# ---------------------------------------------------------------- Admin Mode, missing routes

def test_403_with_admin_mode_names_the_admin_mode_scope(api, gitlab_at):
    gitlab = gitlab_at(admin_mode=True)
    gl = client(api, gitlab.url, api_token=ADMIN_API_ONLY_TOKEN)
    with pytest.raises(api.GitLabAPIError) as err:
        gl.get_list('applications')
    message = str(err.value)
    assert err.value.status == 403
    assert "'admin_mode' scope" in message and "'api' scope" in message and 'administrator' in message
    assert ADMIN_API_ONLY_TOKEN not in message
    # the token with both scopes passes
    assert client(api, gitlab.url).get_list('applications') == []


def test_renew_secret_route_missing_before_16_11(api, gitlab_at):
    gitlab = gitlab_at('16.10.0')
    app = gitlab.add_application('x', ['https://a.test/cb'])
    gl = client(api, gitlab.url)
    with pytest.raises(api.GitLabAPIError) as err:
        gl.request('POST', 'applications/%s/renew-secret' % app['id'], expected=(200, 201))
    assert err.value.status == 404 and err.value.route_missing is True


@pytest.mark.parametrize('version', ['17.11.7', '18.6.2'])
def test_missing_application_is_not_a_missing_route(api, gitlab_at, version):
    gitlab = gitlab_at(version)
    gl = client(api, gitlab.url)
    with pytest.raises(api.GitLabAPIError) as err:
        gl.request('POST', 'applications/999/renew-secret', expected=(200, 201))
    assert err.value.status == 404 and err.value.route_missing is False
    assert 'does not exist' in str(err.value) and '404 Application Not Found' in str(err.value)
    assert 'probably wrong' not in str(err.value)


@pytest.mark.parametrize('status, body, expected', [
    (404, b'{"error": "404 Not Found"}', True),
    (404, b'{"message": "404 Application Not Found"}', False),
    (404, b'{"error": "404 Not Found", "message": "x"}', False),
    (404, b'<html>Not Found</html>', False),
    (404, b'', False),
    (400, b'{"error": "404 Not Found"}', False),
])
def test_is_route_missing(api, status, body, expected):
    assert api.is_route_missing(status, body) is expected


@pytest.mark.parametrize('gitlab', GITLAB_PROFILES, indirect=True)
def test_version(api, gitlab):
    expected = tuple(int(part) for part in gitlab.settings()['version'].split('.')[:3])
    gl = client(api, gitlab.url)
    assert gl.version() == expected and gl.requests == 1


def test_version_unknown(api, answers):
    server = answers(lambda handler, body: (200, {}, {'version': 'unknown'}))
    assert client(api, server.url).version() is None


# ---------------------------------------------------------------- secret probe

@pytest.mark.parametrize('gitlab', GITLAB_PROFILES, indirect=True)
def test_probe_secret(api, gitlab):
    app = gitlab.add_application('x', ['https://a.test/cb'])
    gl = client(api, gitlab.url)
    assert gl.probe_secret(app['application_id'], app['secret'], 'https://a.test/cb') is True
    assert gl.probe_secret(app['application_id'], app['secret'] + 'x', 'https://a.test/cb') is False
    assert gl.probe_secret('no-such-client', app['secret'], 'https://a.test/cb') is False
    assert gl.requests == 3
    assert [(r['method'], r['path']) for r in gitlab.requests()] == [('POST', '/oauth/token')] * 3
    # nothing issued
    assert gitlab.state()['access_tokens'] == 0


def test_probe_secret_request(api, answers):
    """Form data with a made-up code, no access token; 400 invalid_grant means the secret is right."""
    server = answers(lambda handler, body: (400, {}, {'error': 'invalid_grant', 'error_description': 'x'}))
    gl = client(api, server.url + '/api/v4')
    assert gl.probe_secret('client-1', 's3cret&=x', 'https://a.test/cb') is True
    method, path, headers, body = server.seen[0]
    from urllib.parse import parse_qs
    form = {k: v[0] for k, v in parse_qs(body).items()}
    assert (method, path) == ('POST', '/oauth/token')
    assert headers['Content-Type'] == 'application/x-www-form-urlencoded'
    assert not any(k.lower() in ('private-token', 'authorization') for k in headers)
    assert form['grant_type'] == 'authorization_code' and form['client_id'] == 'client-1'
    assert form['client_secret'] == 's3cret&=x' and form['redirect_uri'] == 'https://a.test/cb'
    assert form['code'].startswith('ansible-secret-probe-') and len(form['code']) > 40
    assert gl.probe_secret('client-1', 'x', 'https://a.test/cb') is True
    assert server.seen[1][3] != body  # a new code each time


@pytest.mark.parametrize('status, payload, headers, text', [
    (500, {'message': '500 Internal Server Error'}, {}, 'HTTP 500: 500 Internal Server Error'),
    (429, {'message': 'Retry later'}, {}, 'HTTP 429: Retry later'),
    (400, {'error': 'unsupported_grant_type'}, {}, 'HTTP 400: unsupported_grant_type'),
    (401, {'error': 'invalid_grant'}, {}, 'HTTP 401: invalid_grant'),
    (200, {'access_token': 'x'}, {}, 'HTTP 200'),
    (404, b'<html><title>Not Found</title></html>', {}, 'HTTP 404: Not Found'),
    (302, b'', {'Location': 'https://elsewhere.test/oauth/token'}, 'a redirect to https://elsewhere.test/oauth/token'),
])
def test_probe_secret_other_answers(api, answers, status, payload, headers, text):
    server = answers(lambda handler, body: (status, headers, payload))
    gl = client(api, server.url)
    with pytest.raises(api.GitLabAPIError) as err:
        gl.probe_secret('client-1', 'the-secret', 'https://a.test/cb')
    message = str(err.value)
    assert text in message
    assert "GitLab's token endpoint" in message and 'issues nothing' in message and 'verify_secret=false' in message
    assert 'the-secret' not in message
    assert gl.requests == 1


def test_probe_secret_unreachable(api):
    import socket
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    gl = client(api, 'http://127.0.0.1:%d' % port)
    with pytest.raises(api.GitLabAPIError) as err:
        gl.probe_secret('client-1', 'the-secret', 'https://a.test/cb')
    assert err.value.status == -1
    assert str(err.value).startswith('Checking the application secret of client id client-1')
    assert 'Could not reach GitLab' in str(err.value)


def test_probe_secret_timeout(api, gitlab):
    gitlab.fault(path_regex='^/oauth/token', delay=3, count=1)
    gl = client(api, gitlab.url, timeout=1)
    with pytest.raises(api.GitLabAPIError) as err:
        gl.probe_secret('client-1', 'the-secret', 'https://a.test/cb')
    assert 'did not answer within 1 seconds' in str(err.value)


def test_probe_secret_over_tls_with_a_private_ca(api, gitlab_tls):
    app = gitlab_tls.add_application('x', ['https://a.test/cb'])
    gl = client(api, gitlab_tls.https_url)
    with pytest.raises(api.GitLabAPIError) as err:
        gl.probe_secret(app['application_id'], app['secret'], 'https://a.test/cb')
    assert 'could not be verified' in str(err.value)
    gl = client(api, gitlab_tls.https_url, ca_path=gitlab_tls.ca)
    assert gl.probe_secret(app['application_id'], app['secret'], 'https://a.test/cb') is True
    gl = client(api, gitlab_tls.https_url, validate_certs=False)
    assert gl.probe_secret(app['application_id'], 'wrong', 'https://a.test/cb') is False
