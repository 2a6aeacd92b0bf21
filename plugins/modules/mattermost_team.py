#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mattermost_team
short_description: Manage a Mattermost team
version_added: 0.2.0
description:
  - Creates, restores, renames (display name), changes the type of, or archives a Mattermost team, found by name.
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment:
  - chatops.mattermost.mattermost_api
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  name:
    description: The team's name (its URL part, lower case). Mattermost's rules apply (2-64 characters).
    type: str
    required: true
  display_name:
    description: Name shown to users. Defaults to O(name) when the team is created; compared only when given.
    type: str
  type:
    description: V(open) lets anyone join, V(invite) only by invitation. Compared only when given.
    type: str
    choices: [open, invite]
  state:
    description: V(absent) archives the team (Mattermost keeps it; V(present) restores it).
    type: str
    default: present
    choices: [present, absent]
"""

EXAMPLES = r"""
- name: A team for the developers (local-mode socket, on the Mattermost host)
  chatops.mattermost.mattermost_team:
    name: dev
    display_name: Development
  become: true
"""

RETURN = r"""
action:
  description: V(none), V(create), V(restore), V(update) or V(archive).
  returned: always
  type: str
drift:
  description: Attributes that differed (V(display_name), V(type), V(archived)).
  returned: always
  type: list
  elements: str
team:
  description: The team as Mattermost answers (id, name, display_name, type, delete_at...); empty in check mode for a new team.
  returned: always
  type: dict
requests:
  description: HTTP requests sent to Mattermost.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.chatops.mattermost.plugins.module_utils.mattermost_api import (
    diff_of, differences, execute, mattermost_api_argument_spec, name_problem)

TYPES = {'open': 'O', 'invite': 'I'}


def run(module, client):
    p = module.params
    team = client.team(p['name'])
    result = dict(changed=False, action='none', drift=[], team=team or {})
    if p['state'] == 'absent':
        if team and not team.get('delete_at'):
            result.update(changed=True, action='archive', drift=['archived'],
                          diff=diff_of(dict(name=p['name'], archived=False), dict(name=p['name'], archived=True)))
            if not module.check_mode:
                client.request('DELETE', '/teams/%s' % team['id'])
        return result
    wanted = dict(display_name=p['display_name'], type=TYPES.get(p['type']))
    if team is None:
        body = dict(name=p['name'], display_name=p['display_name'] or p['name'], type=TYPES[p['type'] or 'invite'])
        result.update(changed=True, action='create', drift=['absent'], diff=diff_of({}, body))
        if not module.check_mode:
            result['team'] = client.request('POST', '/teams', data=body, expected=(201,))
        return result
    drift = differences(team, wanted)
    if team.get('delete_at'):
        drift.insert(0, 'archived')
    if not drift:
        return result
    result.update(changed=True, action='restore' if 'archived' in drift else 'update', drift=drift,
                  diff=diff_of(dict((k, team.get(k)) for k in drift if k != 'archived'),
                               dict((k, wanted[k]) for k in drift if k != 'archived')))
    if module.check_mode:
        return result
    if 'archived' in drift:
        team = client.request('POST', '/teams/%s/restore' % team['id'])
    if 'display_name' in drift:
        team = client.request('PUT', '/teams/%s/patch' % team['id'], data=dict(display_name=p['display_name']))
    if 'type' in drift:
        team = client.request('PUT', '/teams/%s/privacy' % team['id'], data=dict(privacy=wanted['type']))
    result['team'] = team
    return result


def main():
    module = AnsibleModule(
        argument_spec=mattermost_api_argument_spec(dict(
            name=dict(type='str', required=True),
            display_name=dict(type='str'),
            type=dict(type='str', choices=list(TYPES)),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        )),
        supports_check_mode=True,
    )
    problem = name_problem('team', module.params['name'])
    if problem:
        module.fail_json(msg=problem)
    execute(module, run)


if __name__ == '__main__':
    main()
