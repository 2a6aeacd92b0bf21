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
action: {description: What the module did (see the notes)., returned: always, type: str, choices: [none, create, activate]}
drift: {description: What differed (see the notes)., returned: always, type: list, elements: str,
        choices: [absent, deactivated]}
requests: {description: HTTP requests sent to Mattermost (see the notes)., returned: always, type: int}
user:
  description: Id, username and email of the user; empty in check mode for a new user.
  returned: always
  type: dict
"""

import secrets

from ansible_collections.chatops.mattermost.plugins.module_utils.mattermost_api import (
    diff_of, record_create, run_module, unchanged)


def public(user):
    return dict((k, user.get(k)) for k in ('id', 'username', 'email', 'delete_at')) if user else {}


def run(module, client):
    p = module.params
    user = client.user(p['username'])
    result = unchanged(user=public(user))
    if user is None:
        body = dict(username=p['username'], email=p['email'], first_name=p['first_name'],
                    password=secrets.token_urlsafe(32) + 'aA1!')
        return record_create(module, client, result, '/users', body, dict(username=p['username'], email=p['email']),
                             lambda res, created: res.update(user=public(created)))
    if user.get('delete_at'):
        result.update(changed=True, action='activate', drift=['deactivated'],
                      diff=diff_of(dict(active=False), dict(active=True)))
        if not module.check_mode:
            client.request('PUT', '/users/%s/active' % user['id'], data=dict(active=True))
            result['user'] = public(client.user(p['username']))
    return result


def main():
    run_module(run, dict(
        username=dict(type='str', required=True),
        email=dict(type='str', required=True),
        first_name=dict(type='str', default=''),
    ))


if __name__ == '__main__':
    main()
