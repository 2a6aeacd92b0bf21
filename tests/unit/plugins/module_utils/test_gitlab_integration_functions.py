# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure functions gitlab_api.py has for GitLab's Mattermost integrations."""

import pytest

from tests.emulators import gitlab_emulator


MODULE_UTILS = 'gitlab_api'


@pytest.mark.parametrize('event, fields', [
    ('push', ('push_events', 'push_channel')),
    ('issue', ('issues_events', 'issue_channel')),
    ('confidential_issue', ('confidential_issues_events', 'confidential_issue_channel')),
    ('merge_request', ('merge_requests_events', 'merge_request_channel')),
    ('confidential_note', ('confidential_note_events', 'confidential_note_channel')),
    ('tag_push', ('tag_push_events', 'tag_push_channel')),
    ('wiki_page', ('wiki_page_events', 'wiki_page_channel')),
])
def test_mattermost_event_fields(api, event, fields):
    assert api.MATTERMOST_EVENTS[event] == fields


def test_mattermost_events_are_the_emulators(api):
    """The module's names, built by GitLab's rules, are the switch and channel fields the emulator spells out."""
    assert dict(api.MATTERMOST_EVENTS.values()) == gitlab_emulator.MATTERMOST_EVENTS


@pytest.mark.parametrize('kind, ident, expected', [
    ('project', '1', 'projects/1'),
    ('project', 'group/app', 'projects/group%2Fapp'),
    ('project', '/group/sub/app/', 'projects/group%2Fsub%2Fapp'),
    ('group', 'group', 'groups/group'),
    ('group', 42, 'groups/42'),
])
def test_resource_path(api, kind, ident, expected):
    assert api.resource_path(kind, ident) == expected


def test_resource_path_refuses_blank(api):
    with pytest.raises(ValueError, match='numeric id or a full path'):
        api.resource_path('project', ' / ')


@pytest.mark.parametrize('kwargs, expected', [
    (dict(username='gitlab', channel=None), {'username': 'gitlab'}),
    (dict(events=['push']), dict(dict((s, False) for s, _c in [
        ('push_events', 0), ('issues_events', 0), ('confidential_issues_events', 0), ('merge_requests_events', 0),
        ('note_events', 0), ('confidential_note_events', 0), ('tag_push_events', 0), ('pipeline_events', 0),
        ('wiki_page_events', 0), ('deployment_events', 0), ('incident_events', 0)]), push_events=True)),
    (dict(event_channels={'pipeline': 'ci'}), None),
])
def test_notification_settings(api, kwargs, expected):
    wanted = api.notification_settings(**kwargs)
    if expected is not None:
        assert wanted == expected
    else:
        assert wanted['pipeline_channel'] == 'ci' and wanted['push_channel'] == ''
        assert len([k for k in wanted if k.endswith('_channel')]) == 11


@pytest.mark.parametrize('events, channels', [(['pushes'], None), (None, {'merge_requests': 'x'})])
def test_notification_settings_refuses_unknown_events(api, events, channels):
    with pytest.raises(ValueError, match='unknown GitLab event'):
        api.notification_settings(events=events, event_channels=channels)


ACTIVE = {'active': True, 'push_events': True, 'properties': {
    'username': 'gitlab', 'channel': None, 'notify_only_broken_pipelines': 'true', 'branches_to_be_notified': 'default'}}


@pytest.mark.parametrize('current, wanted, drift', [
    (None, {'username': 'gitlab'}, ['active']),
    (dict(ACTIVE, active=False), {}, ['active']),
    (ACTIVE, {'username': 'gitlab', 'push_events': True}, []),
    (ACTIVE, {'channel': ''}, []),                                  # null and blank are equal
    (ACTIVE, {'notify_only_broken_pipelines': True}, []),          # "true" from older GitLab
    (ACTIVE, {'notify_only_broken_pipelines': False, 'push_events': False}, ['notify_only_broken_pipelines',
                                                                             'push_events']),
    (ACTIVE, {'username': 'other', 'branches_to_be_notified': 'all'}, ['branches_to_be_notified', 'username']),
])
def test_integration_drift(api, current, wanted, drift):
    assert api.integration_drift(current, wanted) == drift


@pytest.mark.parametrize('entries, host, expected', [
    ([], 'chat.example.com', ['chat.example.com']),
    (['Chat.Example.com'], 'chat.example.com', None),
    (['10.0.0.0/8', ''], 'chat.example.com', ['10.0.0.0/8', 'chat.example.com']),
    (None, 'chat', ['chat']),
])
def test_allowlist_with(api, entries, host, expected):
    assert api.allowlist_with(entries, host) == expected
