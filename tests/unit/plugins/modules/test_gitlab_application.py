# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""chatops.mattermost.gitlab_application against the GitLab emulator.

The module's logic runs in-process (``call_module``: arguments, check and
diff as the controller sends them). What the controller adds runs through
ansible-playbook (``run_module``): a creation end to end, every --check run,
--diff output, warnings on the console, and the no_log masking of the token
and the secrets in failures and -vvv output.
"""

import json
import os
import socket
import ssl

import pytest


ADMIN_TOKEN = 'glpat-admin-token'
ADMIN_API_ONLY_TOKEN = 'glpat-admin-api-only'
USER_TOKEN = 'glpat-user-token'
GITLAB_PROFILES = ('16.10.0', '17.11.7', '18.6.2')
# A version whose application list includes the scopes (see the emulator's APPLICATION_SCOPES_FROM).
SCOPES_LISTED = '19.0.0'
MODULE = 'chatops.mattermost.gitlab_application'
NAME = 'GitLab Mattermost'
URIS = ['https://mm.example.test/signup/gitlab/complete', 'https://mm.example.test/login/gitlab/complete']
OTHER_URIS = ['http://mm.example.test/signup/gitlab/complete', 'http://mm.example.test/login/gitlab/complete']


def args(gitlab, **extra):
    base = dict(api_url=gitlab.url, api_token=ADMIN_TOKEN, name=NAME, redirect_uris=URIS)
    base.update(extra)
    return base


def gitlab_list(gitlab):
    """GET /api/v4/applications as the module sees it."""
    import urllib.request
    req = urllib.request.Request(gitlab.url + '/api/v4/applications', headers={'PRIVATE-TOKEN': ADMIN_TOKEN})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10) as resp:
        return json.loads(resp.read())


def writes(requests):
    return [r for r in requests if r['method'] != 'GET']


def ok(run):
    assert not run.get('failed'), run.result.get('msg')
    return run


# ---------------------------------------------------------------- present

def test_create(gitlab, run_module):
    run = ok(run_module(MODULE, args(gitlab)))
    apps = gitlab.applications()
    assert len(apps) == 1
    app = apps[0]
    assert run['changed'] is True and run['action'] == 'create'
    assert run['id'] == app['id']
    assert run['application_id'] == app['application_id']
    assert run['secret'] == app['secret']
    assert run['secret_issued'] is True
    assert app['application_name'] == NAME
    assert app['callback_url'] == '\n'.join(URIS)
    assert app['scopes'] == ['read_user']
    assert app['confidential'] is True
    assert run['application']['redirect_uris'] == URIS
    assert 'secret' not in run['application']
    assert run['requests'] == 2  # one GET, one POST


def test_no_op_checks_the_secret_and_returns_it(gitlab, call_module):
    first = ok(call_module(MODULE, args(gitlab)))
    before = len(gitlab.requests())
    run = ok(call_module(MODULE, args(gitlab, secret=first['secret'])))
    assert run['changed'] is False and run['action'] == 'none' and run['drift'] == []
    assert run['requests'] == 2  # the list, and the secret checked at the token endpoint
    assert [(r['method'], r['path'], r['status']) for r in gitlab.requests()[before:]] == [
        ('GET', '/api/v4/applications', 200), ('POST', '/oauth/token', 400)]
    assert gitlab.state()['access_tokens'] == 0
    assert run['id'] == first['id']
    assert run['application_id'] == first['application_id']
    # Returned unmasked (not "********"), and flagged as not new.
    assert run['secret'] == first['secret']
    assert run['secret_issued'] is False


def test_no_op_without_secret_returns_none(gitlab, call_module):
    ok(call_module(MODULE, args(gitlab)))
    run = ok(call_module(MODULE, args(gitlab)))
    assert run['changed'] is False
    assert 'secret' not in run.result
    assert run['secret_issued'] is False
    assert run['requests'] == 1


def test_no_op_with_verify_secret_off_makes_one_request(gitlab, call_module):
    first = ok(call_module(MODULE, args(gitlab)))
    run = ok(call_module(MODULE, args(gitlab, secret=first['secret'], verify_secret=False)))
    assert run['changed'] is False and run['requests'] == 1
    assert run['secret'] == first['secret']


def test_api_url_variants(gitlab, call_module):
    ok(call_module(MODULE, args(gitlab)))
    for url in (gitlab.url + '/', gitlab.url + '/api/v4', gitlab.url + '/api/v4/'):
        run = ok(call_module(MODULE, args(gitlab, api_url=url)))
        assert run['changed'] is False


def test_whitespace_in_uris_is_not_drift(gitlab, call_module):
    ok(call_module(MODULE, args(gitlab)))
    run = ok(call_module(MODULE, args(gitlab, redirect_uris=[' ' + URIS[0] + ' ', URIS[1] + '\n'])))
    assert run['changed'] is False


@pytest.mark.parametrize('gitlab, change, field', [
    (None, dict(redirect_uris=OTHER_URIS), 'redirect_uris'),
    (None, dict(redirect_uris=list(reversed(URIS))), 'redirect_uris'),
    (None, dict(confidential=False), 'confidential'),
    (SCOPES_LISTED, dict(scopes=['read_user', 'openid']), 'scopes'),
], indirect=['gitlab'])
def test_drift_recreates(gitlab, call_module, change, field):
    first = ok(call_module(MODULE, args(gitlab)))
    before = len(gitlab.requests())
    run = ok(call_module(MODULE, args(gitlab, **change), diff=True))
    log = gitlab.requests()[before:]
    assert run['changed'] is True
    assert run['drift'] == [field]
    apps = gitlab.applications()
    assert len(apps) == 1
    new = apps[0]
    assert new['id'] != first['id']
    assert new['application_id'] != first['application_id']
    assert run['id'] == new['id'] and run['secret'] == new['secret'] and run['secret_issued'] is True
    assert run['deleted_ids'] == [first['id']]
    # Create first, then delete the old one.
    assert [(r['method'], r['path']) for r in writes(log)] == [
        ('POST', '/api/v4/applications'), ('DELETE', '/api/v4/applications/%s' % first['id'])]
    diff = run['diff']
    assert diff['before']['id'] == first['id'] and diff['after']['id'] == new['id']
    assert diff['before'][field] != diff['after'][field]
    assert set(diff['after']) >= {'name', 'redirect_uris', 'scopes', 'confidential', 'id'}
    assert first['secret'] not in json.dumps(diff) and new['secret'] not in json.dumps(diff)


@pytest.mark.parametrize('gitlab', [SCOPES_LISTED], indirect=True)
def test_scopes_compared_as_set(gitlab, call_module):
    ok(call_module(MODULE, args(gitlab, scopes=['read_user', 'openid'])))
    run = ok(call_module(MODULE, args(gitlab, scopes=['openid', 'read_user', 'openid'])))
    assert run['changed'] is False
    assert run['application']['scopes'] == ['openid', 'read_user']


@pytest.mark.parametrize('gitlab', GITLAB_PROFILES, indirect=True)
def test_scopes_not_listed_cannot_drift(gitlab, call_module):
    """GitLab versions whose list has no scopes: no scope drift can be detected."""
    ok(call_module(MODULE, args(gitlab)))
    listed = 'scopes' in gitlab_list(gitlab)[0]
    run = ok(call_module(MODULE, args(gitlab, scopes=['api'])))
    if listed:
        assert run['changed'] is True and run['drift'] == ['scopes']
    else:
        assert run['changed'] is False
        assert run['application']['scopes'] is None


def test_check_mode_makes_no_writes(gitlab, call_module, run_module):
    # missing -> would create
    run = ok(run_module(MODULE, args(gitlab), check=True, diff=True))
    assert run['changed'] is True and run['action'] == 'create'
    assert gitlab.applications() == []
    assert run['diff']['before'] == {}
    assert run['diff']['after']['redirect_uris'] == URIS
    assert 'id' not in run.result
    # drift -> would recreate; renew and recreate -> would change
    first = ok(call_module(MODULE, args(gitlab)))
    # renew_secret also reads the version (a GitLab before 16.11 would replace instead)
    for extra, action, requests in ((dict(redirect_uris=OTHER_URIS), 'replace', 1),
                                    (dict(reauthorize='renew_secret'), 'renew_secret', 2),
                                    (dict(reauthorize='recreate'), 'replace', 1), (dict(state='absent'), 'delete', 1)):
        before = len(gitlab.requests())
        run = ok(run_module(MODULE, args(gitlab, **extra), check=True, diff=True))
        assert run['changed'] is True and run['action'] == action, extra
        assert writes(gitlab.requests()[before:]) == [], extra
        assert run['requests'] == requests, extra
    apps = gitlab.applications()
    assert len(apps) == 1 and apps[0]['id'] == first['id'] and apps[0]['secret'] == first['secret']
    # in sync -> not changed in check mode either
    run = ok(run_module(MODULE, args(gitlab), check=True))
    assert run['changed'] is False and run['action'] == 'none'


def test_diff_of_no_op(gitlab, call_module, run_module):
    ok(call_module(MODULE, args(gitlab)))
    run = ok(run_module(MODULE, args(gitlab), diff=True))
    assert run['changed'] is False
    assert run['diff']['before'] == run['diff']['after']


# ---------------------------------------------------------------- reauthorize

def test_renew_secret(gitlab, call_module, run_module):
    first = ok(call_module(MODULE, args(gitlab)))
    run = ok(run_module(MODULE, args(gitlab, reauthorize='renew_secret', secret=first['secret']), diff=True))
    app = gitlab.applications()[0]
    assert run['changed'] is True
    assert app['id'] == first['id'] and app['application_id'] == first['application_id']
    assert app['secret'] != first['secret']
    assert run['secret'] == app['secret'] and run['secret_issued'] is True
    assert run['diff']['before']['secret'] != run['diff']['after']['secret']
    assert app['secret'] not in json.dumps(run['diff'])
    # every run with the switch on is a change
    again = ok(call_module(MODULE, args(gitlab, reauthorize='renew_secret')))
    assert again['changed'] is True and again['secret'] != run['secret']


def test_reauthorize_recreate(gitlab, call_module):
    first = ok(call_module(MODULE, args(gitlab)))
    run = ok(call_module(MODULE, args(gitlab, reauthorize='recreate')))
    apps = gitlab.applications()
    assert run['changed'] is True and run['drift'] == []
    assert len(apps) == 1 and apps[0]['id'] != first['id']
    assert run['application_id'] == apps[0]['application_id'] != first['application_id']
    assert run['secret'] == apps[0]['secret']


def test_renew_on_missing_application_creates_it(gitlab, call_module):
    run = ok(call_module(MODULE, args(gitlab, reauthorize='renew_secret')))
    assert run['changed'] is True and len(gitlab.applications()) == 1
    assert run['secret'] == gitlab.applications()[0]['secret']


@pytest.mark.parametrize('gitlab', ['17.11.7', '18.6.2'], indirect=True)
def test_renew_secret_keeps_the_client_id(gitlab, call_module):
    first = ok(call_module(MODULE, args(gitlab)))
    before = len(gitlab.requests())
    run = ok(call_module(MODULE, args(gitlab, reauthorize='renew_secret')))
    app = gitlab.applications()[0]
    assert run['action'] == 'renew_secret' and run['application_id'] == first['application_id']
    assert run['secret'] == app['secret'] != first['secret']
    assert run['requests'] == 2
    assert writes(gitlab.requests()[before:]) == [
        dict(method='POST', path='/api/v4/applications/%s/renew-secret' % first['id'], status=201)]


@pytest.mark.parametrize('gitlab', ['16.10.0'], indirect=True)
def test_renew_secret_before_16_11_replaces(gitlab, call_module, run_module):
    """GitLab 16.10 has no renew-secret route: the application is replaced, with a warning."""
    first = ok(call_module(MODULE, args(gitlab)))
    before = len(gitlab.requests())
    run = ok(run_module(MODULE, args(gitlab, reauthorize='renew_secret', secret=first['secret']), diff=True))
    assert 'probably wrong' not in run.output
    assert run['changed'] is True and run['action'] == 'replace'
    apps = gitlab.applications()
    assert len(apps) == 1
    new = apps[0]
    assert new['id'] != first['id'] and new['application_id'] != first['application_id']
    assert run['id'] == new['id'] and run['application_id'] == new['application_id']
    assert run['secret'] == new['secret'] and run['secret_issued'] is True
    assert run['deleted_ids'] == [first['id']]
    assert run['requests'] == 4
    assert [(r['method'], r['path'], r['status']) for r in gitlab.requests()[before:]] == [
        ('GET', '/api/v4/applications', 200),
        ('POST', '/api/v4/applications/%s/renew-secret' % first['id'], 404),
        ('POST', '/api/v4/applications', 201),
        ('DELETE', '/api/v4/applications/%s' % first['id'], 204)]
    warning = ' '.join(run.output.split())
    assert 'older than 16.11' in warning and 'client id changed from %s to %s' % (
        first['application_id'], new['application_id']) in warning
    assert new['secret'] not in json.dumps(run['diff'])


@pytest.mark.parametrize('gitlab', ['16.10.0'], indirect=True)
def test_renew_secret_before_16_11_in_check_mode(gitlab, call_module):
    first = ok(call_module(MODULE, args(gitlab)))
    before = len(gitlab.requests())
    run = ok(call_module(MODULE, args(gitlab, reauthorize='renew_secret'), check=True, diff=True))
    assert run['changed'] is True and run['action'] == 'replace' and run['deleted_ids'] == [first['id']]
    assert run['requests'] == 2
    assert [(r['method'], r['path']) for r in gitlab.requests()[before:]] == [
        ('GET', '/api/v4/applications'), ('GET', '/api/v4/version')]
    assert 'older than 16.11' in ' '.join(run.output.split())
    assert gitlab.applications()[0]['secret'] == first['secret']


@pytest.mark.parametrize('gitlab', GITLAB_PROFILES, indirect=True)
def test_secret_changed_behind_the_back_is_renewed(gitlab, call_module):
    """A secret renewed in GitLab's Admin Area: the stored one is refused, detected and renewed."""
    first = ok(call_module(MODULE, args(gitlab)))
    behind = gitlab.change_secret(first['id'])
    assert behind != first['secret']
    run = ok(call_module(MODULE, args(gitlab, secret=first['secret']), diff=True))
    assert run['changed'] is True and run['drift'] == ['secret']
    apps = gitlab.applications()
    assert len(apps) == 1
    app = apps[0]
    assert run['secret'] == app['secret'] and run['secret_issued'] is True
    assert app['secret'] not in (first['secret'], behind)
    if gitlab.settings()['version'].startswith('16.10.'):
        assert run['action'] == 'replace' and run['requests'] == 5
        assert run['application_id'] == app['application_id'] != first['application_id']
        assert run['deleted_ids'] == [first['id']]
    else:
        assert run['action'] == 'renew_secret' and run['requests'] == 3
        assert run['id'] == first['id'] and run['application_id'] == first['application_id']
    assert app['secret'] not in json.dumps(run['diff'])
    # the next run with the new secret changes nothing, in two requests
    before = len(gitlab.requests())
    again = ok(call_module(MODULE, args(gitlab, secret=run['secret'])))
    assert again['changed'] is False and again['action'] == 'none' and again['drift'] == []
    assert again['requests'] == 2 and len(gitlab.requests()) - before == 2
    assert again['secret'] == run['secret'] and again['secret_issued'] is False
    assert gitlab.state()['access_tokens'] == 0


@pytest.mark.parametrize('gitlab', GITLAB_PROFILES, indirect=True)
def test_secret_refused_in_check_mode(gitlab, call_module):
    first = ok(call_module(MODULE, args(gitlab)))
    gitlab.change_secret(first['id'])
    stored = gitlab.applications()[0]
    before = len(gitlab.requests())
    run = ok(call_module(MODULE, args(gitlab, secret=first['secret']), check=True, diff=True))
    assert run['changed'] is True and run['drift'] == ['secret']
    expected = 'replace' if gitlab.settings()['version'].startswith('16.10.') else 'renew_secret'
    assert run['action'] == expected
    assert run['requests'] == 3  # list, secret check, version
    assert writes(gitlab.requests()[before:]) == [
        dict(method='POST', path='/oauth/token', status=401)]
    # the refused secret is not handed back as the one to use
    assert 'secret' not in run.result and run['secret_issued'] is False
    assert gitlab.applications() == [stored]


def test_secret_of_another_application_is_refused(gitlab, call_module):
    """The secret Mattermost holds belongs to an application that is gone (restored GitLab)."""
    ok(call_module(MODULE, args(gitlab)))
    other = gitlab.add_application('Other', ['https://other.test/cb'])
    run = ok(call_module(MODULE, args(gitlab, secret=other['secret'])))
    assert run['action'] == 'renew_secret' and run['drift'] == ['secret']
    assert run['secret'] == gitlab.applications()[0]['secret']


def test_verify_secret_off_does_not_check(gitlab, call_module):
    first = ok(call_module(MODULE, args(gitlab)))
    gitlab.change_secret(first['id'])
    run = ok(call_module(MODULE, args(gitlab, secret=first['secret'], verify_secret=False)))
    assert run['changed'] is False and run['requests'] == 1
    assert run['secret'] == first['secret']
    assert not any(r['path'] == '/oauth/token' for r in gitlab.requests())


def test_secret_not_checked_when_the_application_changes_anyway(gitlab, call_module):
    first = ok(call_module(MODULE, args(gitlab)))
    for extra in (dict(redirect_uris=OTHER_URIS), dict(reauthorize='renew_secret'), dict(reauthorize='recreate')):
        ok(call_module(MODULE, args(gitlab, secret=first['secret'], **extra)))
    assert not any(r['path'] == '/oauth/token' for r in gitlab.requests())


@pytest.mark.parametrize('status', [500, 503])
def test_secret_check_failure_fails_without_change(gitlab, call_module, run_module, status):
    first = ok(call_module(MODULE, args(gitlab)))
    gitlab.fault(path_regex='^/oauth/token', method='POST', status=status, count=1)
    run = run_module(MODULE, args(gitlab, secret=first['secret']))
    assert run['failed'] is True and run['changed'] is False
    assert "GitLab's token endpoint" in run['msg'] and 'HTTP %s' % status in run['msg']
    assert 'verify_secret=false' in run['msg']
    assert first['secret'] not in run.output
    assert gitlab.applications()[0]['secret'] == first['secret']


# ---------------------------------------------------------------- absent, duplicates, match

def test_absent_deletes_all_of_that_name(gitlab, call_module):
    gitlab.add_application(NAME, URIS)
    gitlab.add_application(NAME, OTHER_URIS)
    keep = gitlab.add_application('Something else', URIS)
    run = ok(call_module(MODULE, dict(api_url=gitlab.url, api_token=ADMIN_TOKEN, name=NAME, state='absent'),
                         diff=True))
    assert run['changed'] is True
    assert sorted(run['deleted_ids']) == [1, 2]
    assert [a['id'] for a in gitlab.applications()] == [keep['id']]
    assert len(run['diff']['before']['applications']) == 2 and run['diff']['after'] == {}
    again = ok(call_module(MODULE, dict(api_url=gitlab.url, api_token=ADMIN_TOKEN, name=NAME, state='absent')))
    assert again['changed'] is False and again['requests'] == 1


def test_duplicates_without_a_clear_match_fail(gitlab, call_module):
    a = gitlab.add_application(NAME, OTHER_URIS)
    b = gitlab.add_application(NAME, ['https://elsewhere.test/cb'])
    before = len(gitlab.requests())
    run = call_module(MODULE, args(gitlab))
    assert run['failed'] is True
    assert '2 applications are named "GitLab Mattermost"' in run['msg']
    assert 'id %s' % a['id'] in run['msg'] and 'id %s' % b['id'] in run['msg']
    assert writes(gitlab.requests()[before:]) == []
    assert len(gitlab.applications()) == 2


def test_duplicates_picked_by_redirect_uris(gitlab, call_module):
    gitlab.add_application(NAME, OTHER_URIS)
    mine = gitlab.add_application(NAME, URIS)
    run = ok(call_module(MODULE, args(gitlab)))
    assert run['changed'] is False
    assert run['id'] == mine['id']
    assert 'left alone' in run.output
    assert len(gitlab.applications()) == 2


def test_match_name_and_redirect_uris(gitlab, call_module):
    other = gitlab.add_application(NAME, OTHER_URIS)
    run = ok(call_module(MODULE, args(gitlab, match='name_and_redirect_uris')))
    assert run['changed'] is True and run['deleted_ids'] == []
    ids = sorted(a['id'] for a in gitlab.applications())
    assert ids == [other['id'], run['id']]
    run = ok(call_module(MODULE, args(gitlab, match='name_and_redirect_uris', state='absent')))
    assert run['deleted_ids'] == [ids[1]]
    assert [a['id'] for a in gitlab.applications()] == [other['id']]


@pytest.mark.parametrize('gitlab', GITLAB_PROFILES, indirect=True)
def test_150_applications_one_request(gitlab, call_module):
    """GitLab lists every application in one answer: one request finds ours, wherever it is."""
    for index in range(150):
        if index == 137:
            mine = gitlab.add_application(NAME, URIS)
        gitlab.add_application('filler %d' % index, ['https://filler.test/%d' % index])
    run = ok(call_module(MODULE, args(gitlab)))
    assert run['changed'] is False and run['action'] == 'none'
    assert run['id'] == mine['id'] and run['application_id'] == mine['application_id']
    assert run['requests'] == 1
    assert [(r['method'], r['path']) for r in gitlab.requests()] == [('GET', '/api/v4/applications')]
    assert len(gitlab.applications()) == 151


# ---------------------------------------------------------------- errors

def test_401(gitlab, run_module):
    run = run_module(MODULE, args(gitlab, api_token='glpat-wrong'))
    assert run['failed'] is True
    assert 'GitLab rejected the token (401 Unauthorized): check api_token' in run['msg']
    assert 'glpat-wrong' not in run.output


def test_403_non_admin(gitlab, call_module):
    run = call_module(MODULE, args(gitlab, api_token=USER_TOKEN))
    assert run['failed'] is True
    assert '403 Forbidden' in run['msg'] and "not an administrator's" in run['msg']


@pytest.mark.parametrize('gitlab', [dict(admin_mode=True)], indirect=True)
def test_admin_mode_needs_the_admin_mode_scope(gitlab, call_module, run_module):
    run = run_module(MODULE, args(gitlab, api_token=ADMIN_API_ONLY_TOKEN))
    assert run['failed'] is True
    assert '403 Forbidden' in run['msg'] and 'admin_mode' in run['msg'] and 'Admin Mode' in run['msg']
    assert ADMIN_API_ONLY_TOKEN not in run.output
    assert gitlab.applications() == []
    # the same with a token that has the admin_mode scope
    run = ok(call_module(MODULE, args(gitlab)))
    assert run['action'] == 'create'


def test_404_bad_api_url(gitlab, call_module):
    run = call_module(MODULE, args(gitlab, api_url=gitlab.url + '/gitlab'))
    assert run['failed'] is True
    assert '404' in run['msg'] and 'api_url' in run['msg'] and 'probably wrong' in run['msg']


def test_invalid_api_url(call_module):
    run = call_module(MODULE, dict(api_url='gitlab.example.com', api_token=ADMIN_TOKEN, name=NAME,
                                   redirect_uris=URIS))
    assert run['failed'] is True and "api_url must be GitLab's base URL" in run['msg']


def test_400_field_errors(gitlab, call_module):
    run = call_module(MODULE, args(gitlab, scopes=['no_such_scope']))
    assert run['failed'] is True
    assert '400 Bad Request' in run['msg'] and 'scopes' in run['msg']
    assert gitlab.applications() == []


def test_500_on_create_creates_nothing(gitlab, call_module):
    gitlab.fault(path_regex='^/api/v4/applications$', method='POST', status=500, count=1)
    run = call_module(MODULE, args(gitlab))
    assert run['failed'] is True
    assert 'HTTP 500' in run['msg'] and '500 Internal Server Error' in run['msg']
    assert gitlab.applications() == []


def test_recreate_keeps_old_when_create_fails(gitlab, call_module):
    first = ok(call_module(MODULE, args(gitlab)))
    gitlab.fault(path_regex='^/api/v4/applications$', method='POST', status=502, count=1)
    run = call_module(MODULE, args(gitlab, redirect_uris=OTHER_URIS))
    assert run['failed'] is True and '502' in run['msg']
    apps = gitlab.applications()
    assert len(apps) == 1 and apps[0]['id'] == first['id'] and apps[0]['secret'] == first['secret']
    assert not any(r['method'] == 'DELETE' for r in gitlab.requests())


def test_recreate_undoes_the_new_application_when_delete_fails(gitlab, call_module):
    first = ok(call_module(MODULE, args(gitlab)))
    gitlab.fault(path_regex='^/api/v4/applications/\\d+$', method='DELETE', status=500, count=1)
    run = call_module(MODULE, args(gitlab, redirect_uris=OTHER_URIS))
    assert run['failed'] is True and run['changed'] is False and run['action'] == 'none'
    assert 'could not delete the old one id %s' % first['id'] in run['msg']
    assert 'Deleted the new one again' in run['msg']
    assert 'secret' not in run.result and run['secret_issued'] is False
    apps = gitlab.applications()
    assert len(apps) == 1 and apps[0]['id'] == first['id'] and apps[0]['secret'] == first['secret']
    deletes = [r for r in gitlab.requests() if r['method'] == 'DELETE']
    assert len(deletes) == 2 and deletes[1]['path'] != deletes[0]['path']


def test_recreate_reports_both_ids_when_both_deletes_fail(gitlab, call_module):
    first = ok(call_module(MODULE, args(gitlab)))
    gitlab.fault(path_regex='^/api/v4/applications/\\d+$', method='DELETE', status=500, count=2)
    run = call_module(MODULE, args(gitlab, redirect_uris=OTHER_URIS))
    assert run['failed'] is True and run['changed'] is True
    apps = {a['id']: a for a in gitlab.applications()}
    assert len(apps) == 2
    new_id = max(apps)
    assert 'new application id %s' % new_id in run['msg']
    assert 'old one id %s' % first['id'] in run['msg'] and 'Both exist now' in run['msg']
    # the new application and its secret are in the failed result
    assert run['id'] == new_id and run['secret'] == apps[new_id]['secret']
    # the next run settles on the new application (its redirect URIs match)
    again = ok(call_module(MODULE, args(gitlab, redirect_uris=OTHER_URIS)))
    assert again['changed'] is False and again['id'] == new_id


def test_timeout(gitlab, call_module):
    gitlab.fault(path_regex='^/api/v4/applications', method='GET', delay=4, count=1)
    run = call_module(MODULE, args(gitlab, timeout=1))
    assert run['failed'] is True
    assert 'did not answer within 1 seconds' in run['msg'] and gitlab.url in run['msg']


def test_connection_refused(call_module):
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    url = 'http://127.0.0.1:%d' % port
    run = call_module(MODULE, dict(api_url=url, api_token=ADMIN_TOKEN, name=NAME, redirect_uris=URIS))
    assert run['failed'] is True
    assert 'Could not reach GitLab at %s' % url in run['msg']


def test_token_from_environment(gitlab, call_module):
    task = args(gitlab)
    del task['api_token']
    run = ok(call_module(MODULE, task, env={'GITLAB_API_TOKEN': ADMIN_TOKEN}))
    assert run['changed'] is True


def test_redirect_uris_required_when_present(gitlab, call_module):
    run = call_module(MODULE, dict(api_url=gitlab.url, api_token=ADMIN_TOKEN, name=NAME))
    assert run['failed'] is True and 'redirect_uris' in run['msg']


# ---------------------------------------------------------------- GitLab signed by a private CA

def tls_args(gitlab_tls, **extra):
    base = dict(api_url=gitlab_tls.https_url, api_token=ADMIN_TOKEN, name=NAME, redirect_uris=URIS)
    base.update(extra)
    return base


def test_private_ca_is_not_trusted_by_default(gitlab_tls, call_module):
    run = call_module(MODULE, tls_args(gitlab_tls))
    assert run.get('failed')
    assert 'could not be verified' in run['msg'] and 'ca_cert' in run['msg']
    assert gitlab_tls.applications() == []


def test_private_ca_from_a_file(gitlab_tls, call_module):
    run = ok(call_module(MODULE, tls_args(gitlab_tls, ca_path=gitlab_tls.ca)))
    assert run['action'] == 'create'
    assert len(gitlab_tls.applications()) == 1


def test_private_ca_as_text(gitlab_tls, call_module):
    with open(gitlab_tls.ca) as handle:
        pem = handle.read()
    run = ok(call_module(MODULE, tls_args(gitlab_tls, ca_cert=pem)))
    assert run['action'] == 'create'
    again = ok(call_module(MODULE, tls_args(gitlab_tls, ca_cert=pem, secret=run['secret'])))
    assert again['changed'] is False
    assert len(gitlab_tls.applications()) == 1


def test_ca_cert_keeps_the_system_cas(gitlab_tls, collections_path, tmp_path):
    """ca_cert is added to the system bundle, not put in its place."""
    from ansible_collections.chatops.mattermost.plugins.module_utils import gitlab_api

    defaults = ssl.get_default_verify_paths()
    system = next((path for path in (defaults.cafile, defaults.openssl_cafile) if path and os.path.isfile(path)), None)
    if not system:
        pytest.skip('no system CA bundle on this machine')
    with open(gitlab_tls.ca) as handle:
        pem = handle.read()

    class Module(object):
        tmpdir = str(tmp_path)

        def fail_json(self, msg, **kwargs):
            raise AssertionError(msg)

    with open(gitlab_api.ca_bundle_with(Module(), pem)) as handle:
        bundle = handle.read()
    with open(system) as handle:
        system_count = handle.read().count('BEGIN CERTIFICATE')
    assert system_count > 0
    assert bundle.count('BEGIN CERTIFICATE') == system_count + 1
    assert bundle.rstrip().endswith(pem.strip())


def test_ca_cert_that_is_no_certificate(gitlab_tls, call_module):
    run = call_module(MODULE, tls_args(gitlab_tls, ca_cert='not a certificate'))
    assert run.get('failed')
    assert 'ca_cert holds no PEM certificate' in run['msg']
    assert gitlab_tls.requests() == []


def test_ca_cert_and_ca_path_exclude_each_other(gitlab_tls, call_module):
    run = call_module(MODULE, tls_args(gitlab_tls, ca_path=gitlab_tls.ca, ca_cert='x'))
    assert run.get('failed')
    assert 'mutually exclusive' in run['msg']


# ---------------------------------------------------------------- secrets in output

def test_secrets_not_in_verbose_output_with_no_log(gitlab, run_module):
    """The role's way: no_log on the task. Nothing secret in a -vvv run."""
    created = run_module(MODULE, args(gitlab), verbosity=3, no_log=True, diff=True)
    assert created['changed'] is True
    secret = gitlab.applications()[0]['secret']
    assert created['secret'] == secret  # registered for the playbook...
    assert secret not in created.output  # ...but never printed
    assert ADMIN_TOKEN not in created.output
    renewed = run_module(MODULE, args(gitlab, reauthorize='renew_secret', secret=secret), verbosity=3,
                         no_log=True, diff=True)
    new_secret = gitlab.applications()[0]['secret']
    assert renewed['secret'] == new_secret
    for value in (secret, new_secret, ADMIN_TOKEN):
        assert value not in renewed.output


def test_option_values_masked_without_no_log(gitlab, call_module, run_module):
    """Without no_log on the task the token and the given secret stay out of the logged arguments."""
    created = ok(call_module(MODULE, args(gitlab)))
    run = run_module(MODULE, args(gitlab, secret=created['secret'], redirect_uris=OTHER_URIS), verbosity=3,
                     diff=True)
    assert run['changed'] is True
    assert ADMIN_TOKEN not in run.output
    # the old secret (option value) is masked everywhere; the diff never holds a secret
    assert created['secret'] not in run.output
    assert run['secret'] not in json.dumps(run['diff'])
    assert '"secret": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in run.output  # the logged arguments


def test_given_secret_returned_but_masked_in_arguments(gitlab, call_module, run_module):
    """A no-op run hands the caller's secret back unmasked; the logged arguments keep it masked."""
    created = ok(call_module(MODULE, args(gitlab)))
    run = ok(run_module(MODULE, args(gitlab, secret=created['secret']), verbosity=3))
    assert run['changed'] is False and run['secret'] == created['secret']
    # -vvv prints the result: the secret as returned value, once, and the masked arguments.
    assert run.output.count(created['secret']) == 1
    assert '"secret": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in run.output
    assert '"api_token": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in run.output
    assert ADMIN_TOKEN not in run.output


# ---------------------------------------------------------------- pure functions

@pytest.fixture
def module_code(collections_path):
    import importlib
    return importlib.import_module('ansible_collections.chatops.mattermost.plugins.modules.gitlab_application')


@pytest.mark.parametrize('value, expected', [
    (None, []),
    ('', []),
    ('https://a/cb', ['https://a/cb']),
    ('https://a/cb\nhttps://b/cb', ['https://a/cb', 'https://b/cb']),
    ('https://a/cb\r\n  https://b/cb \n', ['https://a/cb', 'https://b/cb']),
    ('https://a/cb https://b/cb', ['https://a/cb', 'https://b/cb']),
    (['https://b/cb', ' https://a/cb '], ['https://b/cb', 'https://a/cb']),
    (['https://a/cb\nhttps://b/cb'], ['https://a/cb', 'https://b/cb']),
    ([], []),
])
def test_split_uris(module_code, value, expected):
    assert module_code.split_uris(value) == expected


@pytest.mark.parametrize('value, expected', [
    (None, None),
    ('', []),
    ('read_user', ['read_user']),
    ('read_user openid', ['openid', 'read_user']),
    ('openid,read_user  openid', ['openid', 'read_user']),
    (['read_user', 'openid', 'read_user'], ['openid', 'read_user']),
    (['api read_user'], ['api', 'read_user']),
    ([], []),
])
def test_normalize_scopes(module_code, value, expected):
    assert module_code.normalize_scopes(value) == expected


def _app(callback_url='https://a/cb\nhttps://b/cb', **extra):
    app = dict(id=1, application_id='c1', application_name='n', callback_url=callback_url)
    app.update(extra)
    return app


@pytest.mark.parametrize('app, expected', [
    (_app(scopes=['read_user'], confidential=True), []),
    (_app(scopes=['read_user'], confidential=True, callback_url='https://a/cb https://b/cb'), []),
    (_app(scopes=['read_user'], confidential=True, callback_url='https://b/cb\nhttps://a/cb'), ['redirect_uris']),
    (_app(scopes=['read_user'], confidential=True, callback_url='https://a/cb'), ['redirect_uris']),
    (_app(scopes=['api'], confidential=True), ['scopes']),
    (_app(scopes='read_user', confidential=True), []),
    (_app(scopes=['read_user'], confidential=False), ['confidential']),
    (_app(scopes=['api'], confidential=False, callback_url='x'), ['redirect_uris', 'scopes', 'confidential']),
    # attributes the GitLab version does not list cannot drift
    (_app(), []),
    (_app(confidential=True), []),
    (_app(scopes=None, confidential=None), []),
])
def test_drift_of(module_code, app, expected):
    assert module_code.drift_of(app, ['https://a/cb', 'https://b/cb'], ['read_user'], True) == expected


@pytest.mark.parametrize('found, chosen', [
    ([], None),
    ([_app(id=1, callback_url='x')], 1),
    ([_app(id=1, callback_url='x'), _app(id=2)], 2),
    # same URIs twice: the one in sync
    ([_app(id=1, scopes=['api']), _app(id=2, scopes=['read_user'])], 2),
    ([_app(id=1, confidential=False), _app(id=2, confidential=True), _app(id=3, callback_url='x')], 2),
])
def test_pick_application(module_code, found, chosen):
    app, others = module_code.pick_application(found, ['https://a/cb', 'https://b/cb'], ['read_user'], True)
    assert (app or {}).get('id') == chosen
    assert sorted(a['id'] for a in others) == sorted(a['id'] for a in found if a['id'] != chosen)


@pytest.mark.parametrize('found', [
    [_app(id=1, callback_url='x'), _app(id=2, callback_url='y')],
    [_app(id=1, scopes=['read_user']), _app(id=2, scopes=['read_user'])],
    [_app(id=1, callback_url='x', scopes=['read_user']), _app(id=2, callback_url='y', scopes=['read_user'])],
])
def test_pick_application_ambiguous(module_code, found):
    with pytest.raises(module_code.AmbiguousApplications):
        module_code.pick_application(found, ['https://a/cb', 'https://b/cb'], ['read_user'], True)
