#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mattermost_incoming_webhook
short_description: Manage a Mattermost incoming webhook
version_added: 0.2.0
description:
  - Creates, updates or deletes an incoming webhook of a channel, found by team, channel and display name, and
    returns the URL to post to (C(<SiteURL>/hooks/<id>)), for example for GitLab's Mattermost notifications.
  - The URL is a secret (whoever has it can post); run the task with C(no_log) when it is registered.
  - Needs C(ServiceSettings.EnableIncomingWebhooks) on (Mattermost answers 501 otherwise).
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment: [chatops.mattermost.mattermost_api, chatops.mattermost.attributes]
attributes:
  diff_mode:
    details: The hook's id (part of its URL) never appears in the diff.
options:
  team:
    description: Name of the team.
    type: str
    required: true
  channel:
    description: Name of the channel posts go to.
    type: str
    required: true
  display_name:
    description: The webhook's display name; with the team and the channel it identifies the webhook.
    type: str
    required: true
  description:
    description: The webhook's description. Compared only when given.
    type: str
  owner:
    description:
      - User name of the account that owns the webhook (needed to create it; local mode has no "me"). For a
        private channel it must be a member. See M(chatops.mattermost.mattermost_user).
    type: str
  username:
    description: Default user name of the posts (shown with C(EnablePostUsernameOverride)). Compared only when given.
    type: str
  icon_url:
    description: Default icon of the posts (shown with C(EnablePostIconOverride)). Compared only when given.
    type: str
  channel_locked:
    description: Whether posts may only go to O(channel) (a payload naming another channel is refused).
    type: bool
    default: true
  site_url:
    description: Base of the returned URL. Defaults to Mattermost's C(ServiceSettings.SiteURL).
    type: str
  state:
    description: Whether the webhook exists.
    type: str
    default: present
    choices: [present, absent]
"""

EXAMPLES = r"""
- name: A webhook GitLab posts its events of group/app to
  chatops.mattermost.mattermost_incoming_webhook:
    team: dev
    channel: app-events
    display_name: GitLab group/app
    owner: gitlab-integrations
  become: true
  no_log: true
  register: hook
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
url:
  description: The URL to post to; empty when absent or in check mode for a new webhook.
  returned: always
  type: str
hook:
  description: The webhook as Mattermost answers (id, channel_id, display_name...); a secret, like RV(url).
  returned: always
  type: dict
requests:
  description: HTTP requests sent to Mattermost.
  returned: always
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.chatops.mattermost.plugins.module_utils.mattermost_api import (
    MattermostAPIError, delete_present, diff_of, execute, given, hook_url, mattermost_api_argument_spec, owner_id,
    record_update)

EDITABLE = ('display_name', 'description', 'username', 'icon_url', 'channel_locked')


def run(module, client):
    p = module.params
    team = client.require('team', p['team'], client.team(p['team']))
    channel = client.require('channel', '%s/%s' % (p['team'], p['channel']), client.channel(team['id'], p['channel']))
    hooks = [h for h in client.get_pages('/hooks/incoming', query={'team_id': team['id']})
             if h.get('channel_id') == channel['id'] and h.get('display_name') == p['display_name']]
    hook = hooks[0] if hooks else None
    result = dict(changed=False, action='none', drift=[], url='', hook=hook or {})
    if len(hooks) > 1:
        module.warn('%d incoming webhooks of %s/%s are named %r; the oldest is managed'
                    % (len(hooks), p['team'], p['channel'], p['display_name']))
    if p['state'] == 'absent':
        return delete_present(module, client, result, hook, '/hooks/incoming/%s',
                              dict(display_name=p['display_name']))
    site = (p['site_url'] or client.site_url()).rstrip('/')
    if not site:
        raise MattermostAPIError('Mattermost has no ServiceSettings.SiteURL: set it (mattermost_server_external_url) '
                                 'or give site_url, to build the webhook URL')
    wanted = dict(display_name=p['display_name'], description=p['description'], username=p['username'],
                  icon_url=p['icon_url'], channel_locked=p['channel_locked'])
    if hook is None:
        body = dict(given(wanted), channel_id=channel['id'],
                    user_id=owner_id(client, p['owner'], 'the webhook %r' % p['display_name']))
        result.update(changed=True, action='create', drift=['absent'], diff=diff_of({}, given(wanted)))
        if not module.check_mode:
            hook = client.request('POST', '/hooks/incoming', data=body, expected=(201,))
            result.update(hook=hook, url=hook_url(site, hook['id']))
        return result
    result['url'] = hook_url(site, hook['id'])
    drift = record_update(result, hook, wanted)
    if not drift:
        return result
    if not module.check_mode:
        body = dict((k, hook.get(k)) for k in ('id', 'channel_id') + EDITABLE)
        body.update((k, wanted[k]) for k in drift)
        # Mattermost answers an update of an incoming webhook with 201 (api4/webhook.go, updateIncomingHook).
        result['hook'] = client.request('PUT', '/hooks/incoming/%s' % hook['id'], data=body, expected=(201,))
    return result


def main():
    module = AnsibleModule(
        argument_spec=mattermost_api_argument_spec(dict(
            team=dict(type='str', required=True),
            channel=dict(type='str', required=True),
            display_name=dict(type='str', required=True),
            description=dict(type='str'),
            owner=dict(type='str'),
            username=dict(type='str'),
            icon_url=dict(type='str'),
            channel_locked=dict(type='bool', default=True),
            site_url=dict(type='str'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        )),
        supports_check_mode=True,
    )
    execute(module, run)


if __name__ == '__main__':
    main()
