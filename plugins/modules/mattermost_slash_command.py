#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mattermost_slash_command
short_description: Manage a Mattermost custom slash command
version_added: 0.2.0
description:
  - Creates, updates or deletes a team's custom slash command, found by team and trigger word, and returns the
    token Mattermost sends with every call (what GitLab's Mattermost slash-commands integration needs).
  - The token is a secret; run the task with C(no_log) when it is registered.
  - Needs C(ServiceSettings.EnableCommands) on (Mattermost answers 501 otherwise).
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment: [chatops.mattermost.mattermost_api, chatops.mattermost.attributes]
attributes:
  diff_mode:
    details: The token never appears in the diff.
options:
  team:
    description: Name of the team.
    type: str
    required: true
  trigger:
    description: The trigger word, without the slash (V(gitlab) for C(/gitlab)).
    type: str
    required: true
  url:
    description:
      - The URL Mattermost calls. For GitLab,
        V(<gitlab>/api/v4/projects/<id or URL-encoded path>/integrations/mattermost_slash_commands/trigger).
      - Required with O(state=present).
    type: str
  method:
    description: HTTP method of the call.
    type: str
    default: post
    choices: [post, get]
  owner:
    description: User name of the account that owns the command (needed to create it).
    type: str
  display_name:
    description: Title shown in the list of commands. Compared only when given.
    type: str
  description:
    description: Description. Compared only when given.
    type: str
  username:
    description: User name the answers show (with C(EnablePostUsernameOverride)). Compared only when given.
    type: str
  icon_url:
    description: Icon of the answers (with C(EnablePostIconOverride)). Compared only when given.
    type: str
  auto_complete:
    description: Whether the command shows in the autocomplete list.
    type: bool
    default: true
  auto_complete_desc:
    description: Autocomplete description. Compared only when given.
    type: str
  auto_complete_hint:
    description: Autocomplete hint. Compared only when given.
    type: str
  state:
    description: Whether the command exists.
    type: str
    default: present
    choices: [present, absent]
"""

EXAMPLES = r"""
- name: /gitlab calls GitLab's trigger for group/app
  chatops.mattermost.mattermost_slash_command:
    team: dev
    trigger: gitlab
    url: https://gitlab.example.com/api/v4/projects/group%2Fapp/integrations/mattermost_slash_commands/trigger
    owner: gitlab-integrations
    username: GitLab
    auto_complete_hint: "[help]"
  become: true
  no_log: true
  register: command
"""

RETURN = r"""
action:
  description: V(none), V(create), V(update) or V(delete).
  returned: always
  type: str
drift:
  description: Attributes that differed.
  returned: always
  type: list
  elements: str
token:
  description: The command's token; empty when absent or in check mode for a new command.
  returned: always
  type: str
command:
  description: The command as Mattermost answers, without its token.
  returned: always
  type: dict
requests:
  description: HTTP requests sent to Mattermost.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.chatops.mattermost.plugins.module_utils.mattermost_api import (
    TRIGGER, delete_present, diff_of, execute, given, mattermost_api_argument_spec, owner_id, record_update)

METHODS = {'post': 'P', 'get': 'G'}


def without_token(command):
    return dict((k, v) for k, v in (command or {}).items() if k != 'token')


def run(module, client):
    p = module.params
    team = client.require('team', p['team'], client.team(p['team']))
    found = [c for c in client.request('GET', '/commands', query={'team_id': team['id'], 'custom_only': 'true'}) or []
             if c.get('trigger') == p['trigger'] and not c.get('delete_at')]
    command = found[0] if found else None
    result = dict(changed=False, action='none', drift=[], token='', command=without_token(command))
    if p['state'] == 'absent':
        return delete_present(module, client, result, command, '/commands/%s',
                              dict(trigger=p['trigger']))
    wanted = dict(url=p['url'], method=METHODS[p['method']], display_name=p['display_name'],
                  description=p['description'], username=p['username'], icon_url=p['icon_url'],
                  auto_complete=p['auto_complete'], auto_complete_desc=p['auto_complete_desc'],
                  auto_complete_hint=p['auto_complete_hint'])
    if command is None:
        body = dict(given(wanted), team_id=team['id'], trigger=p['trigger'],
                    creator_id=owner_id(client, p['owner'], 'the command /%s' % p['trigger']))
        result.update(changed=True, action='create', drift=['absent'], diff=diff_of({}, given(wanted)))
        if not module.check_mode:
            command = client.request('POST', '/commands', data=body, expected=(201,))
            result.update(token=command.get('token', ''), command=without_token(command))
        return result
    result['token'] = command.get('token', '')
    drift = record_update(result, command, wanted)
    if not drift:
        return result
    if not module.check_mode:
        body = dict(command)
        body.update((k, wanted[k]) for k in drift)
        command = client.request('PUT', '/commands/%s' % command['id'], data=body)
        result.update(token=command.get('token', result['token']), command=without_token(command))
    return result


def main():
    module = AnsibleModule(
        argument_spec=mattermost_api_argument_spec(dict(
            team=dict(type='str', required=True),
            trigger=dict(type='str', required=True, no_log=False),
            url=dict(type='str'),
            method=dict(type='str', default='post', choices=list(METHODS)),
            owner=dict(type='str'),
            display_name=dict(type='str'),
            description=dict(type='str'),
            username=dict(type='str'),
            icon_url=dict(type='str'),
            auto_complete=dict(type='bool', default=True),
            auto_complete_desc=dict(type='str'),
            auto_complete_hint=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        )),
        required_if=[('state', 'present', ['url'])],
        supports_check_mode=True,
    )
    if not TRIGGER.match(module.params['trigger']):
        module.fail_json(msg='trigger %r must be 1-128 characters without spaces and without the leading slash'
                             % module.params['trigger'])
    execute(module, run)


if __name__ == '__main__':
    main()
