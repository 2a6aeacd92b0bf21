# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the GitLab and Mattermost clients and modules share (module_utils/api.py)."""

import pytest


MODULE_UTILS = 'api_run'


@pytest.mark.parametrize('url, expected', [
    ('https://gitlab.example.com', 'https://gitlab.example.com'),
    ('https://chat.example.com/', 'https://chat.example.com'),
    ('https://gitlab.example.com/api/v4', 'https://gitlab.example.com'),
    ('https://chat.example.com/api/v4/', 'https://chat.example.com'),
    ('https://example.com/api/v4/api/v4', 'https://example.com'),
    (' http://example.com/gitlab/ ', 'http://example.com/gitlab'),
    ('http://example.com:8080/gitlab/api/v4', 'http://example.com:8080/gitlab'),
    ('http://10.0.0.5:8065', 'http://10.0.0.5:8065'),
    ('https://example.com/chat', 'https://example.com/chat'),
])
def test_normalize_base_url(api, url, expected):
    assert api.normalize_base_url(url, 'api_url', 'a base URL') == expected


@pytest.mark.parametrize('url, message', [
    ('gitlab.example.com', "api_url must be a base URL, got 'gitlab.example.com'"),
    ('ftp://gitlab', "api_url must be a base URL, got 'ftp://gitlab'"),
    ('https://', "api_url must be a base URL, got 'https://'"),
    ('', "api_url must be a base URL, got ''"),
    ('https://x/?a=b', "api_url must not have a query string or fragment, got 'https://x/?a=b'"),
    ('https://x/#top', "api_url must not have a query string or fragment, got 'https://x/#top'"),
])
def test_normalize_base_url_refuses(api, url, message):
    with pytest.raises(ValueError) as err:
        api.normalize_base_url(url, 'api_url', 'a base URL')
    assert str(err.value) == message


def test_api_error(api):
    err = api.APIError('GitLab said no', status=403)
    assert (str(err), err.message, err.status) == ('GitLab said no', 'GitLab said no', 403)


@pytest.mark.parametrize('values', [{}, dict(integration={}), dict(url='', hook={}), dict(changed=True)])
def test_unchanged(api, values):
    result = api.unchanged(**values)
    assert (result['changed'], result['action'], result['drift']) == (False, 'none', [])
    assert all(result[k] == v for k, v in values.items() if k != 'changed')


class Exited(Exception):
    pass


class FakeModule(object):
    def exit_json(self, **result):
        raise Exited('exit', result)

    def fail_json(self, **result):
        raise Exited('fail', result)


class FakeClient(object):
    requests = 3


class Refused(Exception):
    pass


def refused(module, client):
    raise Refused('refused')


@pytest.mark.parametrize('run, expected', [
    (lambda module, client: dict(changed=True, action='create'), ('exit', dict(changed=True, action='create', requests=3))),
    (refused, ('fail', dict(msg='refused', requests=3))),
])
def test_execute(api, run, expected):
    with pytest.raises(Exited) as exited:
        api.execute(FakeModule(), FakeClient(), run, Refused)
    assert exited.value.args == expected
