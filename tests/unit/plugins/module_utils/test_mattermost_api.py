# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Mattermost API client's pure functions, and its errors over a local-mode socket."""

import os
import socket
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fake_mattermost import FakeMattermost  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def api(collections_path):
    from ansible_collections.chatops.mattermost.plugins.module_utils import mattermost_api
    return mattermost_api


@pytest.mark.parametrize('url, expected', [
    ('https://chat.example.com', 'https://chat.example.com'),
    ('https://chat.example.com/', 'https://chat.example.com'),
    ('https://chat.example.com/api/v4/', 'https://chat.example.com'),
    ('http://10.0.0.5:8065', 'http://10.0.0.5:8065'),
    ('https://example.com/chat', 'https://example.com/chat'),
])
def test_normalize_url(api, url, expected):
    assert api.normalize_url(url) == expected


@pytest.mark.parametrize('url', ['chat.example.com', 'ftp://chat.example.com', 'https://chat.example.com/?a=1', ''])
def test_normalize_url_refuses(api, url):
    with pytest.raises(ValueError, match="site URL"):
        api.normalize_url(url)


@pytest.mark.parametrize('site, expected', [
    ('https://chat.example.com', 'https://chat.example.com/hooks/abc'),
    ('https://chat.example.com/', 'https://chat.example.com/hooks/abc'),
    ('https://example.com/chat', 'https://example.com/chat/hooks/abc'),
])
def test_hook_url(api, site, expected):
    assert api.hook_url(site, 'abc') == expected


@pytest.mark.parametrize('current, wanted, expected', [
    ({'a': 1, 'b': 'x'}, {'a': 1, 'b': 'x'}, []),
    ({'a': 1, 'b': 'x'}, {'a': 2, 'b': None}, ['a']),
    ({'a': True}, {'a': False, 'c': ''}, ['a', 'c']),
    (None, {'a': 1}, ['a']),
])
def test_differences(api, current, wanted, expected):
    assert api.differences(current, wanted) == expected


@pytest.mark.parametrize('kind, name, problem', [
    ('team', 'dev', None), ('team', 'd', 'must be 2-64'), ('team', 'Dev', 'must be 2-64'),
    ('team', 'admin', 'reserved'), ('team', 'dev-', 'must be 2-64'),
    ('channel', 'app-events', None), ('channel', 'app_events_', None), ('channel', '-x', 'must be 1-64'),
    ('channel', 'App', 'must be 1-64'),
])
def test_name_problem(api, kind, name, problem):
    found = api.name_problem(kind, name)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize('raw, expected', [
    (b'{"id": "app.team.get_by_name.missing.app_error", "message": "Unable", "status_code": 404}',
     ('app.team.get_by_name.missing.app_error', 'Unable')),
    (b'<html>bad gateway</html>', ('', '<html>bad gateway</html>')),
    (b'', ('', '')),
])
def test_mattermost_error(api, raw, expected):
    assert api.mattermost_error(raw) == expected


class FakeModule(object):
    def __init__(self, **params):
        self.params = dict(mattermost_url=None, mattermost_token=None, local_socket=None, validate_certs=True, timeout=5)
        self.params.update(params)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs['msg'])


@pytest.fixture
def short_tmp(tmp_path_factory):
    """Unix socket paths must stay short (108 bytes)."""
    import tempfile
    path = tempfile.mkdtemp(prefix='mm', dir='/tmp')
    yield path
    for name in os.listdir(path):
        os.unlink(os.path.join(path, name))
    os.rmdir(path)


def test_socket_missing_says_local_mode_is_off(api, short_tmp):
    client = api.MattermostClient(FakeModule(local_socket=os.path.join(short_tmp, 'none.socket')))
    with pytest.raises(api.MattermostAPIError, match='local mode is off .*EnableLocalMode'):
        client.team('dev')


def test_socket_nobody_listens_says_mattermost_is_down(api, short_tmp):
    path = os.path.join(short_tmp, 'dead.socket')
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    try:
        client = api.MattermostClient(FakeModule(local_socket=path))
        with pytest.raises(api.MattermostAPIError, match='Mattermost is not running'):
            client.team('dev')
    finally:
        sock.close()


def test_errors_over_the_socket(api, short_tmp):
    fake = FakeMattermost(os.path.join(short_tmp, 'mm.socket'))
    try:
        client = api.MattermostClient(FakeModule(local_socket=fake.path))
        assert client.team('dev') is None                      # model 404: does not exist
        with pytest.raises(api.MattermostAPIError, match='no route .* local mode serves only some'):
            client.request('GET', '/bots')                      # route 404: not in local mode
        fake.state.config['EnableCommands'] = False
        with pytest.raises(api.MattermostAPIError, match='501.*Commands have been disabled'):
            client.request('GET', '/commands', query={'team_id': 'x'})
        assert client.site_url() == 'https://chat.example.test'
        assert client.requests == 4
    finally:
        fake.stop()


def test_https_needs_a_token(api):
    with pytest.raises(AssertionError, match='mattermost_token is empty'):
        api.MattermostClient(FakeModule(mattermost_url='https://chat.example.test'))


def test_https_unreachable(api):
    client = api.MattermostClient(FakeModule(mattermost_url='http://127.0.0.1:9', mattermost_token='t'))
    with pytest.raises(api.MattermostAPIError, match='Could not reach Mattermost at http://127.0.0.1:9'):
        client.team('dev')
