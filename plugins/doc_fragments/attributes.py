# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # What every module of the collection that talks to an API, or groups paths,
    # supports (the descriptions are ansible.builtin.action_common_attributes'); a
    # module's own `attributes` add their details. The note is the modules' contract,
    # which each module's RETURN lists with its own values.
    DOCUMENTATION = r"""
notes:
  - >-
    Every result says what the module did: RV(action) is V(none) when nothing needed doing, else what was done
    (what would be done, in check mode); RV(drift) lists what differed from the options before the run (empty when
    nothing did), the same in check mode. The module's return values list its own values of RV(action) and
    RV(drift). A module that talks to GitLab or Mattermost also returns C(requests), the number of HTTP requests it
    sent, also when it failed on an API error.
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
"""

    # A module that only reads (host_state, http_probe): it changes nothing, so
    # check mode is full and there is no diff. Named before
    # ansible.builtin.action_common_attributes, which gives the descriptions
    # (an earlier fragment's values win).
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
"""
