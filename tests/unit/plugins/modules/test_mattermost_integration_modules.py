# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Mattermost modules (team, channel, user, incoming webhook, slash command)
against a local-mode stand-in (tests/unit/plugins/fake_mattermost.py)."""

import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fake_mattermost import FakeMattermost  # noqa: E402  pylint: disable=wrong-import-position

P = 'chatops.mattermost.'


@pytest.fixture
def mm():
    directory = tempfile.mkdtemp(prefix='mm', dir='/tmp')
    fake = FakeMattermost(os.path.join(directory, 'mm.socket'))
    yield fake
    fake.stop()
    os.unlink(fake.path)
    os.rmdir(directory)


def ok(run):
    assert not run.get('failed'), run.result.get('msg')
    return run


def world(call_module, mm):
    """Team dev, channel app-events and an owner, through the modules."""
    sock = dict(local_socket=mm.path)
    ok(call_module(P + 'mattermost_team', dict(sock, name='dev', display_name='Development')))
    ok(call_module(P + 'mattermost_channel', dict(sock, team='dev', name='app-events')))
    ok(call_module(P + 'mattermost_user', dict(sock, username='gitlab-integrations', email='gi@localhost')))
    return sock


@pytest.mark.parametrize('module, args, key', [
    ('mattermost_team', dict(name='dev', display_name='Development'), 'team'),
    ('mattermost_channel', dict(team='dev', name='app-events', purpose='GitLab'), 'channel'),
    ('mattermost_user', dict(username='gitlab-integrations', email='gi@localhost'), 'user'),
])
def test_create_check_mode_then_idempotent(call_module, mm, module, args, key):
    sock = dict(local_socket=mm.path)
    if module == 'mattermost_channel':
        ok(call_module(P + 'mattermost_team', dict(sock, name='dev')))
    before = len(mm.state.requests)
    checked = ok(call_module(P + module, dict(sock, **args), check=True, diff=True))
    assert (checked['changed'], checked['action'], checked[key]) == (True, 'create', {})
    assert all(method == 'GET' for method, _path in mm.state.requests[before:])
    created = ok(call_module(P + module, dict(sock, **args)))
    assert (created['changed'], created['action']) == (True, 'create') and created[key]['id']
    again = ok(call_module(P + module, dict(sock, **args)))
    assert (again['changed'], again['action'], again['drift']) == (False, 'none', [])


def test_channel_restore_and_update(call_module, mm):
    sock = world(call_module, mm)
    ok(call_module(P + 'mattermost_channel', dict(sock, team='dev', name='app-events', state='absent')))
    run = ok(call_module(P + 'mattermost_channel', dict(sock, team='dev', name='app-events', purpose='x')))
    assert (run['action'], run['drift']) == ('restore', ['archived', 'purpose'])
    assert run['channel']['purpose'] == 'x' and not run['channel']['delete_at']


def test_team_update_patches_only_what_differs(call_module, mm):
    sock = world(call_module, mm)
    before = len(mm.state.requests)
    run = ok(call_module(P + 'mattermost_team', dict(sock, name='dev', display_name='Developers')))
    assert (run['action'], run['drift'], run['team']['display_name']) == ('update', ['display_name'], 'Developers')
    assert run['diff'] == dict(before=dict(display_name='Development'), after=dict(display_name='Developers'))
    assert [method for method, _path in mm.state.requests[before:]] == ['GET', 'PUT']


@pytest.mark.parametrize('module, args, message', [
    ('mattermost_channel', dict(team='nope', name='x'), "team 'nope' does not exist"),
    ('mattermost_team', dict(name='Bad Name'), 'must be 2-64'),
    ('mattermost_channel', dict(team='dev', name='App Events'), 'must be 1-64'),
    ('mattermost_incoming_webhook', dict(team='dev', channel='nope', display_name='h', owner='gitlab-integrations'),
     "channel 'dev/nope' does not exist"),
    ('mattermost_incoming_webhook', dict(team='dev', channel='app-events', display_name='h'), 'owner is needed'),
    ('mattermost_incoming_webhook', dict(team='dev', channel='app-events', display_name='h', owner='nobody'),
     "user 'nobody' does not exist"),
    ('mattermost_slash_command', dict(team='dev', trigger='/gitlab', url='https://g/x'), 'without the leading slash'),
    ('mattermost_slash_command', dict(team='dev', trigger='gitlab'), 'url'),
])
def test_bad_input(call_module, mm, module, args, message):
    sock = world(call_module, mm)
    run = call_module(P + module, dict(sock, **args))
    assert run['failed'] and message in run['msg']
    assert mm.state.hooks == {} and mm.state.commands == {}


def test_incoming_webhook(call_module, mm):
    sock = world(call_module, mm)
    args = dict(sock, team='dev', channel='app-events', display_name='GitLab group/app', owner='gitlab-integrations',
                username='gitlab')
    created = ok(call_module(P + 'mattermost_incoming_webhook', args))
    hook_id = created['hook']['id']
    assert created['url'] == 'https://chat.example.test/hooks/' + hook_id
    assert mm.state.hooks[hook_id]['channel_locked'] is True
    same = ok(call_module(P + 'mattermost_incoming_webhook', args))
    assert (same['changed'], same['url']) == (False, created['url'])
    mm.state.hooks[hook_id]['username'] = 'someone'
    fixed = ok(call_module(P + 'mattermost_incoming_webhook', args, diff=True))
    assert (fixed['action'], fixed['drift'], fixed['url']) == ('update', ['username'], created['url'])
    assert hook_id not in str(fixed['diff'])
    moved = ok(call_module(P + 'mattermost_incoming_webhook', dict(args, site_url='https://new.example.test/')))
    assert (moved['changed'], moved['url']) == (False, 'https://new.example.test/hooks/' + hook_id)
    mm.state.config['EnableIncomingWebhooks'] = False
    off = call_module(P + 'mattermost_incoming_webhook', args)
    assert off['failed'] and 'Incoming webhooks have been disabled' in off['msg']


def test_slash_command(call_module, mm):
    sock = world(call_module, mm)
    url = 'https://gitlab.example.test/api/v4/projects/group%2Fapp/integrations/mattermost_slash_commands/trigger'
    args = dict(sock, team='dev', trigger='gitlab', url=url, owner='gitlab-integrations', username='GitLab')
    checked = ok(call_module(P + 'mattermost_slash_command', args, check=True))
    assert (checked['action'], checked['token']) == ('create', '')
    created = ok(call_module(P + 'mattermost_slash_command', args))
    token = created['token']
    assert token and 'token' not in created['command']
    same = ok(call_module(P + 'mattermost_slash_command', args))
    assert (same['changed'], same['token']) == (False, token)
    moved = ok(call_module(P + 'mattermost_slash_command', dict(args, url=url.replace('gitlab.', 'git.'))))
    assert (moved['action'], moved['drift'], moved['token']) == ('update', ['url'], token)
    gone = ok(call_module(P + 'mattermost_slash_command', dict(args, state='absent')))
    assert gone['action'] == 'delete' and mm.state.commands == {}
