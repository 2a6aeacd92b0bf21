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


MODULE_UTILS = 'mattermost_api'


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
    ('trigger', 'gitlab', None), ('trigger', 'x' * 128, None), ('trigger', '/gitlab', 'without the leading slash'),
    ('trigger', 'git lab', 'without spaces'), ('trigger', '', '1-128'), ('trigger', 'x' * 129, '1-128'),
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


def test_mattermost_url_is_checked(api):
    with pytest.raises(AssertionError, match="mattermost_url must be Mattermost's site URL such as https://chat"):
        api.MattermostClient(FakeModule(mattermost_url='chat.example.test', mattermost_token='t'))


@pytest.mark.parametrize('current, wanted, keys, expected', [
    (dict(a=1, b=2), dict(a=3, b=2), ['a'], dict(before=dict(a=1), after=dict(a=3))),
    (dict(a=1), dict(a=1, b=2), ['b'], dict(before=dict(b=None), after=dict(b=2))),
    (dict(a=1), dict(a=1), [], dict(before={}, after={})),
])
def test_drift_diff(api, current, wanted, keys, expected):
    assert api.drift_diff(current, wanted, keys) == expected


class Recorder(object):
    """What the life-cycle functions use of MattermostClient: the requests, answered with a copy of the body."""

    def __init__(self):
        self.sent = []

    def request(self, method, path, data=None, expected=(200,), query=None):
        self.sent.append((method, path, data, expected))
        return dict(data or {}, id='new') if method == 'POST' else dict(data or {})


class LifeCycleModule(object):
    def __init__(self, check_mode=False, **params):
        self.check_mode = check_mode
        self.params = dict(params)


def publish(result, found):
    result['thing'] = found


@pytest.mark.parametrize('check_mode', [False, True])
def test_record_create(api, check_mode):
    client = Recorder()
    result = api.record_create(LifeCycleModule(check_mode), client, api.unchanged(thing={}), '/things',
                               dict(name='x', secret='s'), dict(name='x'), publish)
    assert (result['changed'], result['action'], result['drift']) == (True, 'create', ['absent'])
    assert result['diff'] == dict(before={}, after=dict(name='x'))
    if check_mode:
        assert (client.sent, result['thing']) == ([], {})
    else:
        assert client.sent == [('POST', '/things', dict(name='x', secret='s'), (201,))]
        assert result['thing'] == dict(name='x', secret='s', id='new')


FOUND = dict(id='h1', channel_id='c1', display_name='GitLab', username='gitlab', icon_url='', token='t')


@pytest.mark.parametrize('found, wanted, check_mode, action, drift, sent', [
    # absent: created with what was asked and create()
    (None, dict(display_name='GitLab', username=None), False, 'create', ['absent'],
     [('POST', '/things', dict(display_name='GitLab', channel_id='c1'), (201,))]),
    (None, dict(display_name='GitLab', username=None), True, 'create', ['absent'], []),
    # present and as asked (None: left alone)
    (FOUND, dict(display_name='GitLab', username=None), False, 'none', [], []),
    # present and different: the whole record, with what differs replaced
    (FOUND, dict(display_name='GitLab', username='GitLab', icon_url='x'), False, 'update', ['icon_url', 'username'],
     [('PUT', '/things/h1', dict(FOUND, username='GitLab', icon_url='x'), (201,))]),
    (FOUND, dict(username='GitLab'), True, 'update', ['username'], []),
])
def test_reconcile_integration(api, found, wanted, check_mode, action, drift, sent):
    client = Recorder()
    result = api.reconcile_integration(LifeCycleModule(check_mode), client, api.unchanged(thing={}), '/things', found,
                                       wanted, create=lambda: dict(channel_id='c1'), publish=publish,
                                       update_status=201)
    assert (result['action'], result['drift'], result['changed']) == (action, drift, action != 'none')
    assert client.sent == sent
    if sent:
        assert result['thing'] == client.request(*sent[-1][:3])
    else:
        assert result['thing'] == (found or {})


def test_reconcile_integration_asks_create_only_to_create(api):
    def create():
        raise AssertionError('create() called for a record that exists')
    result = api.reconcile_integration(LifeCycleModule(), Recorder(), api.unchanged(thing={}), '/things', FOUND,
                                       dict(display_name='GitLab'), create=create, publish=publish)
    assert result['action'] == 'none'


def test_integration_options_are_documented(api, collections_path):
    """integration_argument_spec() and the mattermost_api.integration doc fragment name the same options."""
    import yaml
    from ansible_collections.chatops.mattermost.plugins.doc_fragments.mattermost_api import ModuleDocFragment
    documented = yaml.safe_load(ModuleDocFragment.INTEGRATION)['options']
    spec = api.integration_argument_spec(extra=dict(type='str'))
    assert sorted(spec) == sorted(list(documented) + ['extra'])
    for name, doc in documented.items():
        assert dict((k, v) for k, v in spec[name].items() if k != 'choices') == \
            dict((k, v) for k, v in doc.items() if k in ('type', 'required', 'default'))
        assert spec[name].get('choices') == doc.get('choices')
