#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: gitlab_mattermost_integration
short_description: Manage GitLab's Mattermost notifications and slash-commands integrations
version_added: 0.2.0
description:
  - Sets, repairs or switches off the C(mattermost) (notifications) or C(mattermost-slash-commands)
    integration of a GitLab project or group through C(/api/v4/projects/:id/integrations/...) and
    C(/api/v4/groups/:id/integrations/...) (groups from GitLab 17.9).
  - GitLab never returns the notifications webhook URL or the slash-command token, so they cannot be compared
    with what GitLab has. The module compares everything GitLab does return (switches, channels, user name,
    branches, labels, active) and sends the webhook or token with every change. The token of a project's slash
    commands is checked by calling the trigger Mattermost calls (see O(verify_token)); with O(fingerprint_file),
    a webhook or token other than the one last sent (for example after Mattermost moved to a new URL) is sent
    again. A webhook changed by hand in GitLab's UI cannot be seen.
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment: [chatops.mattermost.gitlab_api, chatops.mattermost.attributes]
attributes:
  check_mode:
    details: Reads the integration (and checks the token, and reads the allowlist when asked); sends no change.
  diff_mode:
    details: The diff shows the compared settings; the webhook and the token never appear in it.
options:
  project:
    description: Numeric id or full path (V(group/app)) of the project. Mutually exclusive with O(group).
    type: str
  group:
    description: Numeric id or full path of the group (GitLab 17.9 and later). Its projects inherit the settings.
    type: str
  integration:
    description: V(notifications) is GitLab's C(mattermost) integration, V(slash_commands) its C(mattermost-slash-commands).
    type: str
    required: true
    choices: [notifications, slash_commands]
  state:
    description: V(absent) switches the integration off (GitLab keeps an inactive, emptied record).
    type: str
    default: present
    choices: [present, absent]
  webhook:
    description: The Mattermost incoming webhook URL (notifications). Required with O(state=present).
    type: str
  username:
    description: User name the posts show (Mattermost needs C(EnablePostUsernameOverride) on).
    type: str
  channel:
    description: Default channel (name) the posts go to; empty for the webhook's own channel.
    type: str
  events:
    description:
      - GitLab events that post to Mattermost; the others are switched off. Unset leaves GitLab's switches alone.
    type: list
    elements: str
    choices: [push, issue, confidential_issue, merge_request, note, confidential_note, tag_push, pipeline,
              wiki_page, deployment, incident]
  event_channels:
    description: Channel per event (event name to channel name); events not named post to O(channel).
    type: dict
  notify_only_broken_pipelines:
    description: Post only failed pipelines.
    type: bool
  branches_to_be_notified:
    description: Branches whose push and pipeline events post.
    type: str
    choices: [default, protected, default_and_protected, all]
  labels_to_be_notified:
    description: Comma-separated labels; only issues and merge requests with them post. Empty for all.
    type: str
  labels_to_be_notified_behavior:
    description: Whether any or all of O(labels_to_be_notified) must match.
    type: str
    choices: [match_any, match_all]
  token:
    description: The Mattermost slash command's token (slash_commands). Required with O(state=present).
    type: str
  verify_token:
    description:
      - For a project's slash commands, check O(token) by calling GitLab's trigger endpoint (the one Mattermost
        calls) with it; GitLab answers 404 for a wrong token, and the module then sends the right one
        (RV(drift) holds V(token)). GitLab runs nothing for the probe's unknown chat user.
    type: bool
    default: true
  fingerprint_file:
    description:
      - A JSON file on the host running the module holding a SHA-256 fingerprint of the webhook or token last
        sent for each integration (never the secret). A different one is sent again (RV(drift) holds
        V(webhook) or V(token)). Written with mode 0600 after a successful change; not in check mode.
    type: path
  allowlist_webhook_host:
    description:
      - Add the webhook's host to GitLab's outbound local requests allowlist (application settings,
        C(outbound_local_requests_whitelist)) when it is not there. GitLab refuses webhooks on private addresses
        otherwise. Needs an administrator's token.
    type: bool
    default: false
notes:
  - "Requests (RV(requests)): one GET; one POST to the trigger for a project's slash commands with O(verify_token);
    one GET of the application settings with O(allowlist_webhook_host); one PUT or DELETE when something changes."
"""

EXAMPLES = r"""
- name: Post pushes, merge requests and failed pipelines of group/app to Mattermost
  chatops.mattermost.gitlab_mattermost_integration:
    api_url: https://gitlab.example.com
    api_token: "{{ gitlab_admin_token }}"
    project: group/app
    integration: notifications
    webhook: "{{ hook.url }}"
    username: gitlab
    channel: app-events
    events: [push, merge_request, pipeline]
    notify_only_broken_pipelines: true
    allowlist_webhook_host: true
  no_log: true

- name: Let /gitlab in Mattermost reach group/app
  chatops.mattermost.gitlab_mattermost_integration:
    api_url: https://gitlab.example.com
    api_token: "{{ gitlab_admin_token }}"
    project: group/app
    integration: slash_commands
    token: "{{ command.token }}"
  no_log: true
"""

RETURN = r"""
action:
  description: V(none), V(create), V(update) or V(delete) (what was done, or would be in check mode).
  returned: always
  type: str
drift:
  description:
    - Settings that differed from what was asked (V(active) for a missing or switched-off integration; V(token)
      for a token GitLab refused; V(webhook) or V(token) for a secret other than the one last sent;
      V(allowlist) for a webhook host missing from the allowlist).
  returned: always
  type: list
  elements: str
integration:
  description: GitLab's answer for the integration (no webhook, no token), after the change.
  returned: always
  type: dict
requests:
  description: Number of HTTP requests sent to GitLab.
  returned: always
  type: int
"""

import hashlib
import json
import os
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.chatops.mattermost.plugins.module_utils.api_run import execute, unchanged
from ansible_collections.chatops.mattermost.plugins.module_utils.gitlab_api import (
    GITLAB_API_MUTUALLY_EXCLUSIVE, INTEGRATION_SLUGS, MATTERMOST_EVENTS, GitLabAPIError, GitLabClient,
    allowlist_with, gitlab_api_argument_spec, integration_drift, notification_settings, resource_path)


def fingerprint(api_url, key, secret):
    """A salted SHA-256 of a secret: tells a different secret apart, cannot give it back."""
    return hashlib.sha256(('%s\n%s\n%s' % (api_url, key, secret)).encode('utf-8')).hexdigest()


def read_fingerprints(path):
    if not path or not os.path.exists(path):
        return {}
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_fingerprints(path, data):
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as handle:
        json.dump(data, handle, sort_keys=True, indent=1)
    os.replace(tmp, path)


def run(module, client):
    p = module.params
    kind = 'project' if p['project'] else 'group'
    slug = INTEGRATION_SLUGS[p['integration']]
    try:
        base = resource_path(kind, p[kind])
    except ValueError as err:
        module.fail_json(msg=str(err))
    path = '%s/integrations/%s' % (base, slug)
    result = unchanged(integration={})
    try:
        current, dummy = client.request('GET', path)
    except GitLabAPIError as err:
        if err.status == 404 and 'Integration Not Found' in (err.body or ''):
            current = None
        else:
            raise
    result['integration'] = current or {}
    active = bool(current and current.get('active'))

    if p['state'] == 'absent':
        if active:
            result.update(changed=True, action='delete', drift=['active'])
            if module._diff:
                result['diff'] = dict(before=dict(active=True), after=dict(active=False))
            if not module.check_mode:
                client.request('DELETE', path, expected=(204,))
                result['integration'], dummy = client.request('GET', path)
        return result

    if p['integration'] == 'notifications':
        secret_name, secret = 'webhook', p['webhook']
        try:
            wanted = notification_settings(
                events=p['events'], event_channels=p['event_channels'], username=p['username'],
                channel=p['channel'], notify_only_broken_pipelines=p['notify_only_broken_pipelines'],
                branches_to_be_notified=p['branches_to_be_notified'],
                labels_to_be_notified=p['labels_to_be_notified'],
                labels_to_be_notified_behavior=p['labels_to_be_notified_behavior'])
        except ValueError as err:
            module.fail_json(msg=str(err))
    else:
        secret_name, secret = 'token', p['token']
        wanted = {}
    drift = integration_drift(current, wanted)

    if (p['integration'] == 'slash_commands' and kind == 'project' and p['verify_token'] and active
            and not client.probe_slash_command_token(base, secret)):
        drift.append('token')
    key = '%s %s' % (path, client.base_url)
    prints = read_fingerprints(p['fingerprint_file'])
    print_now = fingerprint(client.base_url, path, secret)
    if p['fingerprint_file'] and active and prints.get(key) != print_now and secret_name not in drift:
        drift.append(secret_name)

    allowlist = None
    if p['allowlist_webhook_host'] and p['integration'] == 'notifications':
        host = (urlsplit(secret).hostname or '').lower()
        settings, dummy = client.request('GET', 'application/settings')
        allowlist = allowlist_with((settings or {}).get('outbound_local_requests_whitelist'), host)
        if allowlist is not None:
            drift.append('allowlist')

    result['drift'] = drift
    if not drift:
        return result
    result.update(changed=True, action='create' if current is None else 'update')
    if module._diff:
        before = dict((k, (current or {}).get(k, ((current or {}).get('properties') or {}).get(k))) for k in wanted)
        before['active'] = active
        after = dict(wanted, active=True)
        if secret_name in drift:
            before[secret_name], after[secret_name] = '(another)', '(the one given)'
        result['diff'] = dict(before=before, after=after)
    if module.check_mode:
        return result
    if allowlist is not None:
        client.request('PUT', 'application/settings', data=dict(outbound_local_requests_whitelist=allowlist))
    body = dict(wanted)
    body[secret_name] = secret
    result['integration'], dummy = client.request('PUT', path, data=body)
    if p['fingerprint_file']:
        prints[key] = print_now
        write_fingerprints(p['fingerprint_file'], prints)
    return result


def main():
    module = AnsibleModule(
        argument_spec=gitlab_api_argument_spec(dict(
            project=dict(type='str'),
            group=dict(type='str'),
            integration=dict(type='str', required=True, choices=list(INTEGRATION_SLUGS)),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            webhook=dict(type='str', no_log=True),
            username=dict(type='str'),
            channel=dict(type='str'),
            events=dict(type='list', elements='str', choices=sorted(MATTERMOST_EVENTS)),
            event_channels=dict(type='dict'),
            notify_only_broken_pipelines=dict(type='bool'),
            branches_to_be_notified=dict(type='str', choices=['default', 'protected', 'default_and_protected', 'all']),
            labels_to_be_notified=dict(type='str'),
            labels_to_be_notified_behavior=dict(type='str', choices=['match_any', 'match_all']),
            token=dict(type='str', no_log=True),
            verify_token=dict(type='bool', default=True),
            fingerprint_file=dict(type='path'),
            allowlist_webhook_host=dict(type='bool', default=False),
        )),
        mutually_exclusive=GITLAB_API_MUTUALLY_EXCLUSIVE + [('project', 'group')],
        required_one_of=[('project', 'group')],
        supports_check_mode=True,
    )
    p = module.params
    if p['state'] == 'present':
        needed = 'webhook' if p['integration'] == 'notifications' else 'token'
        if not p[needed]:
            module.fail_json(msg='%s is required to set the %s integration (GitLab needs it with every change)'
                                 % (needed, p['integration']))
    execute(module, GitLabClient(module), run, GitLabAPIError)


if __name__ == '__main__':
    main()
