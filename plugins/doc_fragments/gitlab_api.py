# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Connection and authentication options of the modules talking to GitLab's REST API.
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of GitLab, for example V(https://gitlab.example.com).
      - A trailing slash or a trailing C(/api/v4) is accepted and ignored.
      - GitLab must answer on this URL directly; redirects (for example from C(http) to C(https)) are
        reported as errors rather than followed, so the token is never sent to another address.
    type: str
    required: true
  api_token:
    description:
      - Personal access token sent in the C(PRIVATE-TOKEN) header.
      - Instance-wide endpoints such as C(/api/v4/applications) need the token of an administrator
        with the C(api) scope.
      - When Admin Mode is on in GitLab (Admin Area > Settings > General > Sign-in restrictions), the token
        needs the C(admin_mode) scope as well; without it GitLab answers 403 Forbidden.
      - If not set, the value of the E(GITLAB_API_TOKEN) environment variable is used.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify GitLab's TLS certificate.
      - Only set to V(false) for test instances; prefer O(ca_path) or O(ca_cert) for a private CA.
    type: bool
    default: true
  ca_path:
    description:
      - CA certificate bundle (PEM file on the managed host) used to verify GitLab's certificate, for a GitLab
        signed by a private CA. Only the certificates in this file are trusted.
      - Mutually exclusive with O(ca_cert).
    type: path
  ca_cert:
    description:
      - CA certificates as PEM text, trusted B(in addition to) the host's system CAs to verify GitLab's
        certificate. For a GitLab signed by a private CA when no file on the host holds that CA yet
        (for example on the first run of a playbook that installs it).
      - Mutually exclusive with O(ca_path).
    type: str
  timeout:
    description:
      - Seconds to wait for each answer from GitLab.
    type: int
    default: 30
"""
