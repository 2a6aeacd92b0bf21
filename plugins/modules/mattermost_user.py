#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mattermost_user
short_description: Make sure a Mattermost account exists, for example to own integrations
version_added: 0.2.0
description:
  - Creates a Mattermost user by user name when it does not exist, with a random password nobody is told (it is
    meant to own incoming webhooks and slash commands, not to sign in), and reactivates a deactivated one.
  - An existing user's email and names are not changed.
  - Local mode has no bots API (C(/api/v4/bots) answers 404 there), hence an ordinary account. It counts as an
    active user (unlicensed Mattermost 11 stops creating users at 250).
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment: [chatops.mattermost.mattermost_api, chatops.mattermost.attributes]
options:
  username:
    description: The user name.
    type: str
    required: true
  email:
    description: Email address, used when the user is created.
    type: str
    required: true
  first_name:
    description: First name, used when the user is created.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: The account owning GitLab's webhook and slash command
  chatops.mattermost.mattermost_user:
    username: gitlab-integrations
    email: gitlab-integrations@localhost
  become: true
"""

RETURN = r"""
action:
  description: V(none), V(create) or V(activate).
  returned: always
  type: str
drift:
  description: V(absent) or V(deactivated).
  returned: always
  type: list
  elements: str
user:
  description: Id, username and email of the user; empty in check mode for a new user.
  returned: always
  type: dict
requests:
  description: HTTP requests sent to Mattermost.
  returned: always
  type: int
"""

import secrets

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.chatops.mattermost.plugins.module_utils.mattermost_api import (
    diff_of, execute, mattermost_api_argument_spec)


def public(user):
    return dict((k, user.get(k)) for k in ('id', 'username', 'email', 'delete_at')) if user else {}


def run(module, client):
    p = module.params
    user = client.user(p['username'])
    result = dict(changed=False, action='none', drift=[], user=public(user))
    if user is None:
        body = dict(username=p['username'], email=p['email'], first_name=p['first_name'],
                    password=secrets.token_urlsafe(32) + 'aA1!')
        result.update(changed=True, action='create', drift=['absent'],
                      diff=diff_of({}, dict(username=p['username'], email=p['email'])))
        if not module.check_mode:
            result['user'] = public(client.request('POST', '/users', data=body, expected=(201,)))
    elif user.get('delete_at'):
        result.update(changed=True, action='activate', drift=['deactivated'],
                      diff=diff_of(dict(active=False), dict(active=True)))
        if not module.check_mode:
            client.request('PUT', '/users/%s/active' % user['id'], data=dict(active=True))
            result['user'] = public(client.user(p['username']))
    return result


def main():
    module = AnsibleModule(
        argument_spec=mattermost_api_argument_spec(dict(
            username=dict(type='str', required=True),
            email=dict(type='str', required=True),
            first_name=dict(type='str', default=''),
        )),
        supports_check_mode=True,
    )
    execute(module, run)


if __name__ == '__main__':
    main()
