# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Connection options of the modules talking to Mattermost's REST API.
    DOCUMENTATION = r"""
options:
  mattermost_url:
    description:
      - Mattermost's site URL, for example V(https://chat.example.com), to use the REST API over HTTP(S) with
        O(mattermost_token) from any host.
      - Unset (the default), the module talks to Mattermost over its local-mode socket O(local_socket) on the
        Mattermost host itself, with no token. That needs C(ServiceSettings.EnableLocalMode) (the
        C(mattermost_server_local_mode) role variable, on by default) and root or the Mattermost account
        (C(become)).
    type: str
  mattermost_token:
    description:
      - Personal access token or bot token of a system administrator, sent in the C(Authorization) header as a
        bearer token. Required with O(mattermost_url). If not set, the value of E(MATTERMOST_TOKEN) is used.
    type: str
  local_socket:
    description: Mattermost's local-mode socket (C(ServiceSettings.LocalModeSocketLocation)).
    type: path
    default: /run/mattermost/mattermost_local.socket
  validate_certs:
    description: Whether to verify Mattermost's TLS certificate (with O(mattermost_url)).
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each answer.
    type: int
    default: 30
"""

    # The options incoming webhooks and slash commands share (mattermost_api.integration_argument_spec
    # is their argument spec), and what both need.
    INTEGRATION = r"""
options:
  team:
    description: Name of the team.
    type: str
    required: true
  description:
    description: Its description. Compared only when given.
    type: str
  owner:
    description:
      - User name of the account that owns it, needed to create it (local mode has no C(/users/me)); the owner of
        a webhook of a private channel must be a member of the channel. See M(chatops.mattermost.mattermost_user).
    type: str
  username:
    description: User name its posts show (with C(ServiceSettings.EnablePostUsernameOverride)). Compared only when given.
    type: str
  icon_url:
    description: Icon its posts show (with C(ServiceSettings.EnablePostIconOverride)). Compared only when given.
    type: str
  state:
    description: Whether it exists.
    type: str
    default: present
    choices: [present, absent]
notes:
  - Mattermost answers 501 when incoming webhooks (C(ServiceSettings.EnableIncomingWebhooks)) or slash commands
    (C(ServiceSettings.EnableCommands)) are off.
"""
