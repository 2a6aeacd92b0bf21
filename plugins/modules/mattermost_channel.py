#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mattermost_channel
short_description: Manage a channel of a Mattermost team
version_added: 0.2.0
description:
  - Creates, restores, updates (display name, purpose, header, public or private) or archives a channel of an
    existing team, found by name.
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment: [chatops.mattermost.mattermost_api, chatops.mattermost.attributes]
options:
  team:
    description: Name of the team (it must exist; see M(chatops.mattermost.mattermost_team)).
    type: str
    required: true
  name:
    description: The channel's name (its URL part, lower case).
    type: str
    required: true
  display_name:
    description: Name shown to users. Defaults to O(name) when created; compared only when given.
    type: str
  type:
    description: V(public) or V(private). Compared only when given.
    type: str
    choices: [public, private]
  purpose:
    description: The channel's purpose. Compared only when given.
    type: str
  header:
    description: The channel's header. Compared only when given.
    type: str
  state:
    description: V(absent) archives the channel; V(present) restores an archived one.
    type: str
    default: present
    choices: [present, absent]
"""

EXAMPLES = r"""
- name: A channel for GitLab's notifications
  chatops.mattermost.mattermost_channel:
    team: dev
    name: app-events
    display_name: App events
    purpose: GitLab events of group/app
  become: true
"""

RETURN = r"""
action: {description: What the module did (see the notes)., returned: always, type: str, choices: [none, create, restore, update, archive]}
channel:
  description: The channel as Mattermost answers; empty in check mode for a new channel.
  returned: always
  type: dict
drift: {description: What differed (see the notes)., returned: always, type: list, elements: str,
        choices: [absent, archived, display_name, type, purpose, header]}
requests: {description: HTTP requests sent to Mattermost (see the notes)., returned: always, type: int}
"""

from ansible_collections.chatops.mattermost.plugins.module_utils.mattermost_api import (
    STATE_OPTION, reconcile_archivable, run_module)

TYPES = {'public': 'O', 'private': 'P'}


def run(module, client):
    p = module.params
    team = client.existing_team(p['team'])
    body = dict(team_id=team['id'], name=p['name'], display_name=p['display_name'] or p['name'],
                type=TYPES[p['type'] or 'public'], purpose=p['purpose'] or '', header=p['header'] or '')
    wanted = dict(display_name=p['display_name'], type=TYPES.get(p['type']), purpose=p['purpose'],
                  header=p['header'])
    return reconcile_archivable(module, client, 'channel', client.channel(team['id'], p['name']), wanted, body)


def main():
    run_module(run, dict(
        team=dict(type='str', required=True),
        name=dict(type='str', required=True),
        display_name=dict(type='str'),
        type=dict(type='str', choices=list(TYPES)),
        purpose=dict(type='str'),
        header=dict(type='str'),
        state=STATE_OPTION,
    ), names=dict(name='channel'))


if __name__ == '__main__':
    main()
