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
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment: [chatops.mattermost.mattermost_api, chatops.mattermost.mattermost_api.integration, chatops.mattermost.attributes]
attributes:
  diff_mode:
    details: The hook's id (part of its URL) never appears in the diff.
options:
  channel:
    description: Name of the channel posts go to.
    type: str
    required: true
  display_name:
    description: The webhook's display name; with the team and the channel it identifies the webhook.
    type: str
    required: true
  channel_locked:
    description: Whether posts may only go to O(channel) (a payload naming another channel is refused).
    type: bool
    default: true
  site_url:
    description: Base of the returned URL. Defaults to Mattermost's C(ServiceSettings.SiteURL).
    type: str
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
action: {description: What the module did (see the notes)., returned: always, type: str, choices: [none, create, update, delete]}
drift: {description: What differed (see the notes)., returned: always, type: list, elements: str,
        choices: [absent, present, description, username, icon_url, channel_locked]}
hook:
  description: The webhook as Mattermost answers (id, channel_id, display_name...); a secret, like RV(url).
  returned: always
  type: dict
requests: {description: HTTP requests sent to Mattermost (see the notes)., returned: always, type: int}
url:
  description: The URL to post to; empty when absent or in check mode for a new webhook.
  returned: always
  type: str
"""

from ansible_collections.chatops.mattermost.plugins.module_utils.mattermost_api import (
    MattermostAPIError, delete_present, hook_url, integration_argument_spec, owner_id, reconcile_integration, run_module,
    unchanged)

EDITABLE = ('display_name', 'description', 'username', 'icon_url', 'channel_locked')


def run(module, client):
    p = module.params
    team = client.existing_team(p['team'])
    channel = client.existing_channel(team, p['channel'])
    hooks = [h for h in client.get_pages('/hooks/incoming', query={'team_id': team['id']})
             if h.get('channel_id') == channel['id'] and h.get('display_name') == p['display_name']]
    hook = hooks[0] if hooks else None
    result = unchanged(url='', hook=hook or {})
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
    # Mattermost answers an update of an incoming webhook with 201 (api4/webhook.go, updateIncomingHook).
    return reconcile_integration(
        module, client, result, '/hooks/incoming', hook, dict((k, p[k]) for k in EDITABLE),
        create=lambda: dict(channel_id=channel['id'],
                            user_id=owner_id(client, p['owner'], 'the webhook %r' % p['display_name'])),
        publish=lambda res, found: res.update(hook=found, url=hook_url(site, found['id'])),
        whole=lambda found: dict((k, found.get(k)) for k in ('id', 'channel_id') + EDITABLE), update_status=201)


def main():
    run_module(run, integration_argument_spec(
        channel=dict(type='str', required=True),
        display_name=dict(type='str', required=True),
        channel_locked=dict(type='bool', default=True),
        site_url=dict(type='str'),
    ))


if __name__ == '__main__':
    main()
