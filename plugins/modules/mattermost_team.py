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
extends_documentation_fragment: [chatops.mattermost.mattermost_api, chatops.mattermost.attributes]
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
action: {description: What the module did (see the notes)., returned: always, type: str, choices: [none, create, restore, update, archive]}
drift: {description: What differed (see the notes)., returned: always, type: list, elements: str,
        choices: [absent, archived, display_name, type]}
requests: {description: HTTP requests sent to Mattermost (see the notes)., returned: always, type: int}
team:
  description: The team as Mattermost answers (id, name, display_name, type, delete_at...); empty in check mode for a new team.
  returned: always
  type: dict
"""

from ansible_collections.chatops.mattermost.plugins.module_utils.mattermost_api import (
    STATE_OPTION, reconcile_archivable, run_module)

TYPES = {'open': 'O', 'invite': 'I'}


def run(module, client):
    p = module.params
    body = dict(name=p['name'], display_name=p['display_name'] or p['name'], type=TYPES[p['type'] or 'invite'])
    return reconcile_archivable(module, client, 'team', client.team(p['name']),
                                dict(display_name=p['display_name'], type=TYPES.get(p['type'])), body,
                                identity=dict(name=p['name']))


def main():
    run_module(run, dict(
        name=dict(type='str', required=True),
        display_name=dict(type='str'),
        type=dict(type='str', choices=list(TYPES)),
        state=STATE_OPTION,
    ), names=dict(name='team'))


if __name__ == '__main__':
    main()
