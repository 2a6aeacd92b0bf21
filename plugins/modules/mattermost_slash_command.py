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
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment: [chatops.mattermost.mattermost_api, chatops.mattermost.mattermost_api.integration, chatops.mattermost.attributes]
attributes:
  diff_mode:
    details: The token never appears in the diff.
options:
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
  display_name:
    description: Title shown in the list of commands. Compared only when given.
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
action: {description: What the module did (see the notes)., returned: always, type: str, choices: [none, create, update, delete]}
command:
  description: The command as Mattermost answers, without its token.
  returned: always
  type: dict
drift: {description: What differed (see the notes)., returned: always, type: list, elements: str,
        choices: [absent, present, url, method, display_name, description, username, icon_url, auto_complete,
                 auto_complete_desc, auto_complete_hint]}
requests: {description: HTTP requests sent to Mattermost (see the notes)., returned: always, type: int}
token:
  description: The command's token; empty when absent or in check mode for a new command.
  returned: always
  type: str
"""

from ansible_collections.chatops.mattermost.plugins.module_utils.mattermost_api import (
    delete_present, integration_argument_spec, owner_id, reconcile_integration, run_module, unchanged)

METHODS = {'post': 'P', 'get': 'G'}


def without_token(command):
    return dict((k, v) for k, v in (command or {}).items() if k != 'token')


def run(module, client):
    p = module.params
    team = client.existing_team(p['team'])
    found = [c for c in client.request('GET', '/commands', query={'team_id': team['id'], 'custom_only': 'true'}) or []
             if c.get('trigger') == p['trigger'] and not c.get('delete_at')]
    command = found[0] if found else None
    result = unchanged(token='', command=without_token(command))
    if p['state'] == 'absent':
        return delete_present(module, client, result, command, '/commands/%s',
                              dict(trigger=p['trigger']))
    wanted = dict(url=p['url'], method=METHODS[p['method']], display_name=p['display_name'],
                  description=p['description'], username=p['username'], icon_url=p['icon_url'],
                  auto_complete=p['auto_complete'], auto_complete_desc=p['auto_complete_desc'],
                  auto_complete_hint=p['auto_complete_hint'])
    return reconcile_integration(
        module, client, result, '/commands', command, wanted,
        create=lambda: dict(team_id=team['id'], trigger=p['trigger'],
                            creator_id=owner_id(client, p['owner'], 'the command /%s' % p['trigger'])),
        # The token stays what it was when an answer leaves it out.
        publish=lambda res, found: res.update(token=found.get('token') or res['token'], command=without_token(found)))


def main():
    run_module(run, integration_argument_spec(
        trigger=dict(type='str', required=True, no_log=False),
        url=dict(type='str'),
        method=dict(type='str', default='post', choices=list(METHODS)),
        display_name=dict(type='str'),
        auto_complete=dict(type='bool', default=True),
        auto_complete_desc=dict(type='str'),
        auto_complete_hint=dict(type='str'),
    ), names=dict(trigger='trigger'), required_if=[('state', 'present', ['url'])])


if __name__ == '__main__':
    main()
