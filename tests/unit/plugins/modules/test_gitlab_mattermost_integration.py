# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""chatops.mattermost.gitlab_mattermost_integration against the GitLab emulator."""

import json
import os

import pytest

MODULE = 'chatops.mattermost.gitlab_mattermost_integration'
ADMIN_TOKEN = 'glpat-admin-token'
HOOK = 'http://127.0.0.1:9/hooks/s3cr3th00k1d'
OTHER_HOOK = 'http://127.0.0.1:9/hooks/m0v3dh00k1d'
TOKEN = 'sl4shc0mm4ndt0k3n'


def notifications(gitlab, **extra):
    base = dict(api_url=gitlab.url, api_token=ADMIN_TOKEN, project='group/app', integration='notifications',
                webhook=HOOK, username='gitlab', channel='app-events', events=['push', 'merge_request', 'pipeline'],
                notify_only_broken_pipelines=True, branches_to_be_notified='default', allowlist_webhook_host=True)
    base.update(extra)
    return dict((k, v) for k, v in base.items() if v is not None)


def slash(gitlab, **extra):
    base = dict(api_url=gitlab.url, api_token=ADMIN_TOKEN, project='1', integration='slash_commands', token=TOKEN)
    base.update(extra)
    return base


def stored(gitlab, slug='mattermost'):
    return [i for i in gitlab._call('GET', '/-/emulator/integrations') if i['slug'] == slug]


def ok(run):
    assert not run.get('failed'), run.result.get('msg')
    return run


def test_create_then_nothing_to_do(gitlab, call_module):
    first = ok(call_module(MODULE, notifications(gitlab)))
    assert (first['changed'], first['action']) == (True, 'create')
    assert first['drift'] == ['active', 'allowlist']
    record = stored(gitlab)[0]
    assert record['fields']['webhook'] == HOOK and record['fields']['username'] == 'gitlab'
    assert record['events']['push_events'] and not record['events']['issues_events']
    assert first['integration']['properties']['channel'] == 'app-events'
    second = ok(call_module(MODULE, notifications(gitlab)))
    assert (second['changed'], second['action'], second['drift'], second['requests']) == (False, 'none', [], 2)


def test_check_mode_changes_nothing(gitlab, call_module):
    run = ok(call_module(MODULE, notifications(gitlab), check=True, diff=True))
    assert (run['changed'], run['action']) == (True, 'create')
    assert stored(gitlab) == []
    assert HOOK not in json.dumps(run.result)
    assert [r['method'] for r in gitlab.requests()] == ['GET', 'GET']


def test_drift_in_a_compared_setting_is_repaired(gitlab, call_module):
    ok(call_module(MODULE, notifications(gitlab)))
    ok(call_module(MODULE, notifications(gitlab, username='someone-else', events=['push'])))
    run = ok(call_module(MODULE, notifications(gitlab)))
    assert run['action'] == 'update'
    assert run['drift'] == ['merge_requests_events', 'pipeline_events', 'username']


def test_blocked_webhook_without_the_allowlist(gitlab, call_module):
    run = call_module(MODULE, notifications(gitlab, allowlist_webhook_host=False))
    assert run['failed']
    assert 'is blocked: Requests to localhost are not allowed' in run['msg']


@pytest.mark.parametrize('extra, message', [
    (dict(project='group/nope'), '404 Project Not Found'),
    (dict(api_token='glpat-user-token'), '403 Forbidden'),
    (dict(events=['push', 'merge_requests']), 'merge_requests'),
    (dict(event_channels={'pushes': 'x'}), 'unknown GitLab event(s)'),
    (dict(webhook=None), 'webhook is required'),
    (dict(project=None), 'one of the following is required: project, group'),
])
def test_bad_input_fails_before_any_change(gitlab, call_module, extra, message):
    run = call_module(MODULE, notifications(gitlab, **extra))
    assert run['failed'] and message in run['msg']
    assert stored(gitlab) == []


def test_wrong_token_in_gitlab_is_detected_and_repaired(gitlab, call_module):
    created = ok(call_module(MODULE, slash(gitlab)))
    assert created['action'] == 'create'
    assert ok(call_module(MODULE, slash(gitlab)))['changed'] is False
    import urllib.request
    req = urllib.request.Request(gitlab.url + '/api/v4/projects/1/integrations/mattermost-slash-commands',
                                 data=json.dumps({'token': 'wrong'}).encode(), method='PUT',
                                 headers={'PRIVATE-TOKEN': ADMIN_TOKEN, 'Content-Type': 'application/json'})
    urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10).read()
    seen = ok(call_module(MODULE, slash(gitlab), check=True))
    assert (seen['changed'], seen['drift']) == (True, ['token'])
    repaired = ok(call_module(MODULE, slash(gitlab)))
    assert (repaired['action'], repaired['drift']) == ('update', ['token'])
    assert stored(gitlab, 'mattermost-slash-commands')[0]['fields']['token'] == TOKEN
    assert ok(call_module(MODULE, slash(gitlab)))['changed'] is False


def test_fingerprint_sends_a_new_webhook(gitlab, call_module, tmp_path):
    prints = str(tmp_path / 'sent.json')
    ok(call_module(MODULE, notifications(gitlab, fingerprint_file=prints)))
    assert HOOK not in open(prints).read()
    assert oct(os.stat(prints).st_mode & 0o777) == '0o600'
    assert ok(call_module(MODULE, notifications(gitlab, fingerprint_file=prints)))['changed'] is False
    moved = ok(call_module(MODULE, notifications(gitlab, webhook=OTHER_HOOK, fingerprint_file=prints)))
    assert (moved['action'], moved['drift']) == ('update', ['webhook'])
    assert stored(gitlab)[0]['fields']['webhook'] == OTHER_HOOK
    # Without the fingerprint file a moved webhook cannot be seen: GitLab never returns it.
    assert ok(call_module(MODULE, notifications(gitlab, webhook=HOOK, allowlist_webhook_host=False)))['changed'] is False


def test_group_integration_and_absent(gitlab, call_module):
    run = ok(call_module(MODULE, notifications(gitlab, project=None, group='group')))
    assert run['action'] == 'create'
    assert {(i['kind'], i['inherited']) for i in stored(gitlab)} == {('group', False), ('project', True)}
    gone = ok(call_module(MODULE, notifications(gitlab, project=None, group='10', state='absent')))
    assert (gone['action'], gone['integration']['active']) == ('delete', False)
    assert ok(call_module(MODULE, notifications(gitlab, project=None, group='10', state='absent')))['changed'] is False


def test_secrets_never_reach_the_output(gitlab, run_module):
    run = run_module(MODULE, notifications(gitlab), diff=True, verbosity=3)
    assert not run.get('failed'), run.output[-2000:]
    run2 = run_module(MODULE, slash(gitlab), diff=True, verbosity=3)
    assert not run2.get('failed'), run2.output[-2000:]
    for text in (run.output, run2.output):
        assert 's3cr3th00k1d' not in text and TOKEN not in text
