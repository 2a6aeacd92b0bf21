#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: gitlab_application
short_description: Manage an instance-wide OAuth application in GitLab
version_added: 0.1.0
description:
  - Creates, re-creates, renews the secret of, or deletes an instance-wide OAuth application
    (Admin Area > Applications) through GitLab's C(/api/v4/applications) API.
  - Made for the application Mattermost signs in with (what the GitLab Linux package registered as
    C(GitLab Mattermost)), but works for any instance-wide application.
  - GitLab has no API to change an application. When the redirect URIs, the scopes or the
    confidential flag differ from what is asked, the module replaces the application. It creates the
    new one B(first) and deletes the old one afterwards, so a failure never leaves GitLab without an
    application. If the old one cannot be deleted, the new one is deleted again and the module fails
    with GitLab as it was. The replacement has a new client ID and a new secret, which the module
    returns.
  - GitLab shows an application's secret only when it creates one or renews it. The module returns
    RV(secret) in those cases. Otherwise it returns the secret given in O(secret), so a playbook that
    keeps the secret (vault, file on the controller) always finds the right one in RV(secret).
  - GitLab never lists secrets (it stores them hashed), so the module checks O(secret) with GitLab's OAuth
    token endpoint (see O(verify_secret)) and renews a secret GitLab refuses.
author:
  - chatops.mattermost maintainers (!UNKNOWN)
extends_documentation_fragment: [chatops.mattermost.gitlab_api, chatops.mattermost.attributes]
attributes:
  check_mode:
    details:
      - Reads the applications (one C(GET)), checks O(secret) when given (one C(POST) to GitLab's OAuth token
        endpoint that issues nothing, see O(verify_secret)) and reports what would change. No request that
        changes GitLab is sent.
      - When a secret would be renewed, also reads GitLab's version (C(GET /api/v4/version)) to report a
        replacement instead on GitLab older than 16.11 (see O(reauthorize)).
  diff_mode:
    details:
      - The diff shows the name, redirect URIs, scopes, confidential flag, numeric ID and client ID.
        Secrets are never part of it; a new secret shows as C(secret=(new)).
options:
  name:
    description:
      - Name of the application, as shown in GitLab's Admin Area.
      - The GitLab package named Mattermost's application V(GitLab Mattermost).
    type: str
    required: true
  redirect_uris:
    description:
      - Redirect (callback) URIs, in order. GitLab stores them as one newline-separated string.
      - Compared with GitLab's as an ordered list after splitting on white space.
      - For Mattermost, V(<site URL>/signup/gitlab/complete) and V(<site URL>/login/gitlab/complete).
      - Required when O(state=present) or O(match=name_and_redirect_uris).
    type: list
    elements: str
  scopes:
    description:
      - OAuth scopes the application may ask for. Compared as a set.
      - GitLab versions whose application list does not include the scopes (GitLab 16 to 18 as documented)
        cannot be checked for scope drift; on those the scopes are only used when the application is created.
        To apply changed scopes there, run once with O(reauthorize=recreate).
    type: list
    elements: str
    default: [read_user]
  confidential:
    description:
      - Whether the application is confidential (can keep its secret, as a server such as Mattermost can).
      - GitLab versions whose application list does not include this flag cannot be checked for drift.
    type: bool
    default: true
  state:
    description:
      - V(present) makes sure exactly the described application exists.
      - V(absent) deletes every application found by O(match).
    type: str
    choices: [present, absent]
    default: present
  match:
    description:
      - How to find the application this task manages among all instance applications.
      - V(name) takes the application named O(name). If several have that name, the one whose redirect
        URIs equal O(redirect_uris) is taken; if that is not exactly one, the one also in sync for
        scopes and confidential flag; if still not exactly one, the module fails and lists them. The
        other applications of that name are left alone (a warning names them). With O(state=absent),
        all applications of that name are deleted.
      - V(name_and_redirect_uris) takes only applications with that name B(and) those redirect URIs.
        Use it when several Mattermost servers register applications of the same name in one GitLab;
        each task then owns its own application. A change of redirect URIs then creates a new
        application and leaves the old one in place.
    type: str
    choices: [name, name_and_redirect_uris]
    default: name
  reauthorize:
    description:
      - V(none) changes the application only when it is missing or differs from the options.
      - V(renew_secret) asks GitLab for a new secret (same client ID). The old secret stops working at once.
        GitLab has this API from version 16.11 on. On older GitLab (its API answers 404 for
        C(POST /api/v4/applications/:id/renew-secret)) the module replaces the application instead, as
        V(recreate) does, with a warning; RV(action) is then V(replace) and the client ID changes.
      - V(recreate) replaces the application (new client ID and secret), like the Linux package's
        documented "reauthorise" procedure after a restore.
      - Both are a change B(on every run) by design. Turn the switch back to V(none) once it has served.
      - With O(state=absent) this option is ignored.
    type: str
    choices: [none, renew_secret, recreate]
    default: none
  secret:
    description:
      - The application secret the caller already holds (for example from a vault or a file written by an
        earlier run).
      - Returned unchanged in RV(secret) when this run does not get a new secret from GitLab, so
        RV(secret) is always the one to use.
      - Checked with GitLab when the application is kept, unless O(verify_secret=false); a secret GitLab refuses
        is renewed.
      - Masked in the logged module arguments like O(api_token).
    type: str
  verify_secret:
    description:
      - Whether to check O(secret) with GitLab when the application is kept as it is (no drift and
        O(reauthorize=none)). GitLab never lists a secret, so the module asks GitLab's OAuth token endpoint
        (C(<api_url>/oauth/token)), sending one authorization-code request with the client ID, O(secret), the first
        of O(redirect_uris) and a made-up code, B(without) O(api_token). GitLab checks the client before the
        code, so it answers C(invalid_grant) when the secret is right and C(invalid_client) when it is wrong.
        It issues nothing either way.
      - A secret GitLab refuses (for example renewed in the Admin Area behind the playbook's back, or an
        application restored from a backup) is renewed as with O(reauthorize=renew_secret); RV(action) is
        V(renew_secret) (V(replace) on GitLab older than 16.11), RV(drift) holds V(secret) and RV(secret) the
        new secret. In check mode this is reported without any change.
      - Any other answer of the token endpoint (unreachable, rate limit, server error) fails the task; set
        V(false) to skip the check, for example when the token endpoint is not reachable from where the
        module runs. O(secret) is then returned as given, unchecked.
      - Has no effect without O(secret), or with O(state=absent).
    type: bool
    default: true
notes:
  - B(Secrets in the output.) Ansible masks the values of O(api_token) and O(secret) wherever they appear in the
    module's output, but it cannot know the secret GitLab returns, and prints RV(secret) like any other
    return value with C(-v). Set C(no_log=true) on the task (the C(mattermost_gitlab_sso) role does), and
    report errors from the registered result in a following task if needed.
  - The numeric ID, client ID and secret of a replaced application change. Whatever uses them (Mattermost's
    C(GitLabSettings)) must be updated from the returned values.
  - Uses the GitLab REST API only (no C(python-gitlab)). GitLab lists all instance applications in one
    answer (the list is not paginated), so finding the application costs one C(GET) however many there are.
  - "Requests per run (RV(requests)): unchanged application 1, or 2 with O(secret) (list and secret check);
    create 2; replace 3; renew 2 (3 when the renewal follows a refused secret). On GitLab older than 16.11 a
    renewal becomes a replacement: 2 more (the refused renewal, then create and delete). Check mode sends the
    same reads, plus C(GET /api/v4/version) when a secret would be renewed."
  - With Admin Mode on (Admin Area > Settings > General > Sign-in restrictions), the token also needs the
    C(admin_mode) scope; without it GitLab answers 403 Forbidden and the module says so.
seealso:
  - name: GitLab applications API
    description: The instance-wide applications API this module uses.
    link: https://docs.gitlab.com/api/applications/
  - name: GitLab as OAuth 2.0 provider
    description: How GitLab OAuth applications and their scopes work.
    link: https://docs.gitlab.com/integration/oauth_provider/
"""

EXAMPLES = r"""
# The connection and the application once for every task of the play (module_defaults);
# the tasks are examples of their own.
- name: Mattermost's OAuth application in GitLab
  hosts: localhost
  gather_facts: false
  module_defaults:
    chatops.mattermost.gitlab_application:
      api_url: https://gitlab.example.com
      api_token: "{{ gitlab_admin_token }}"
      name: GitLab Mattermost
      redirect_uris:
        - https://mattermost.example.com/signup/gitlab/complete
        - https://mattermost.example.com/login/gitlab/complete
  tasks:
    - name: Register Mattermost as an OAuth application in GitLab
      chatops.mattermost.gitlab_application:
        scopes: [read_user]
        confidential: true
        secret: "{{ lookup('ansible.builtin.file', 'secrets/mattermost-oauth-secret', errors='ignore') | default('', true) }}"
      register: gitlab_app
      no_log: true  # the result holds the application secret

    - name: Keep the secret on the controller when GitLab issued a new one
      ansible.builtin.copy:
        content: "{{ gitlab_app.secret }}"
        dest: secrets/mattermost-oauth-secret
        mode: "0600"
      when: gitlab_app.secret_issued
      no_log: true

    - name: Use the client id
      ansible.builtin.debug:
        msg: "Client id {{ gitlab_app.application_id }}, application {{ gitlab_app.id }}"

    - name: Keep the application; renew the secret only if GitLab no longer takes the stored one
      chatops.mattermost.gitlab_application:
        secret: "{{ stored_secret }}"
        verify_secret: true  # default; 'secret' in gitlab_app.drift when GitLab refused it
      register: gitlab_app
      no_log: true

    - name: Renew the secret once (for example after it leaked); set back to none afterwards
      chatops.mattermost.gitlab_application:
        reauthorize: renew_secret
      register: gitlab_app
      no_log: true

    - name: Remove every application of that name
      chatops.mattermost.gitlab_application:
        state: absent
"""

RETURN = r"""
application:
  description:
    - The application as GitLab describes it after the run (never with its secret).
    - Empty after O(state=absent), and in check mode when the application would be created or replaced.
  returned: always
  type: dict
  contains:
    id:
      description: Numeric ID (used in the API paths).
      type: int
      sample: 12
    application_id:
      description: Client ID (Mattermost's C(GitLabSettings.Id)).
      type: str
      sample: 5f1b4a7c9d1e0f7a0c2e8b3d6a9f4c1e2b7d0a3f6c9e2b5d8a1f4c7e0b3d6a9f
    application_name:
      description: Name.
      type: str
      sample: GitLab Mattermost
    callback_url:
      description: Redirect URIs as GitLab stores them, newline-separated.
      type: str
      sample: "https://mattermost.example.com/signup/gitlab/complete\nhttps://mattermost.example.com/login/gitlab/complete"
    redirect_uris:
      description: Redirect URIs as a list.
      type: list
      elements: str
      sample:
        - https://mattermost.example.com/signup/gitlab/complete
        - https://mattermost.example.com/login/gitlab/complete
    confidential:
      description: Whether the application is confidential; V(null) when GitLab does not say.
      type: bool
      sample: true
    scopes:
      description: Scopes; V(null) when the GitLab version does not list them.
      type: list
      elements: str
      sample: [read_user]
id:
  description: Numeric ID of the application.
  returned: when the application exists after the run (not in check mode for a new or replaced application)
  type: int
  sample: 12
application_id:
  description: Client ID of the application.
  returned: when the application exists after the run (not in check mode for a new or replaced application)
  type: str
  sample: 5f1b4a7c9d1e0f7a0c2e8b3d6a9f4c1e2b7d0a3f6c9e2b5d8a1f4c7e0b3d6a9f
secret:
  description:
    - The application secret GitLab issued in this run (creation, replacement, renewal).
    - Otherwise the value of O(secret) when given; not returned when neither applies, nor when GitLab
      refused O(secret) (check mode).
    - B(Printed with -v unless the task has C(no_log=true).)
  returned: when GitLab issued a secret or O(secret) was given
  type: str
  sample: gloas-0123456789abcdef
secret_issued:
  description: Whether GitLab issued a new secret in this run (the caller must store RV(secret)).
  returned: always
  type: bool
  sample: false
drift:
  description:
    - Attributes in which the existing application differed from the options.
    - V(redirect_uris), V(scopes), V(confidential) caused a replacement.
    - V(secret) means GitLab refused O(secret) (see O(verify_secret)); the secret was renewed.
  returned: always
  type: list
  elements: str
  sample: [redirect_uris]
deleted_ids:
  description: Numeric IDs of the applications deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: int
  sample: [7]
action:
  description:
    - What the module did, or would do in check mode.
    - V(none) when the application was up to date (or, with O(state=absent), not there).
    - V(renew_secret) for O(reauthorize=renew_secret) or a secret GitLab refused; V(replace) instead when GitLab,
      older than 16.11, cannot renew a secret (the client ID changes).
  returned: always
  type: str
  choices: [none, create, replace, renew_secret, delete]
  sample: none
requests:
  description:
    - Number of HTTP requests sent to GitLab in this run, the secret check included.
    - 1 for an unchanged application without O(secret), 2 with it.
  returned: always
  type: int
  sample: 2
msg:
  description: What was done, in words.
  returned: always
  type: str
  sample: Application 12 is up to date
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.chatops.mattermost.plugins.module_utils.gitlab_api import (
    GITLAB_API_MUTUALLY_EXCLUSIVE,
    GitLabAPIError,
    GitLabClient,
    gitlab_api_argument_spec,
)

NO_LOG_PLACEHOLDER = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
# POST /applications/:id/renew-secret exists from this GitLab version on.
RENEW_SECRET_SINCE = (16, 11)


def split_uris(value):
    """GitLab's callback_url or the redirect_uris option as an ordered list of URIs."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        value = '\n'.join(str(v) for v in value)
    return [uri for uri in re.split(r'\s+', value) if uri]


def normalize_scopes(scopes):
    """Scopes as a sorted list of unique names; accepts a list or a space-separated string."""
    if scopes is None:
        return None
    if isinstance(scopes, (list, tuple)):
        scopes = ' '.join(str(s) for s in scopes)
    return sorted(set(s for s in re.split(r'[\s,]+', scopes) if s))


def describe(app):
    """The application as returned to the caller (GitLab's fields plus a list of URIs, no secret)."""
    return dict(
        id=app.get('id'),
        application_id=app.get('application_id'),
        application_name=app.get('application_name'),
        callback_url=app.get('callback_url'),
        redirect_uris=split_uris(app.get('callback_url')),
        confidential=app.get('confidential'),
        scopes=normalize_scopes(app['scopes']) if app.get('scopes') is not None else None,
    )


def diff_view(app, secret=None):
    """An application as shown in the diff."""
    if not app:
        return {}
    view = dict(
        name=app.get('application_name'),
        redirect_uris=split_uris(app.get('callback_url')),
        scopes=normalize_scopes(app['scopes']) if app.get('scopes') is not None else None,
        confidential=app.get('confidential'),
        id=app.get('id'),
        application_id=app.get('application_id'),
    )
    if secret:
        view['secret'] = secret
    return view


def wanted_application(name, uris, scopes, confidential):
    """The application asked for, in GitLab's shape (no id yet)."""
    return dict(application_name=name, callback_url='\n'.join(uris), scopes=scopes, confidential=confidential)


def drift_of(app, wanted_uris, wanted_scopes, wanted_confidential):
    """Attributes of an existing application that differ from the wanted ones.

    Attributes GitLab does not list (scopes and confidential on old versions) cannot drift.
    """
    drift = []
    if split_uris(app.get('callback_url')) != wanted_uris:
        drift.append('redirect_uris')
    if app.get('scopes') is not None and normalize_scopes(app.get('scopes')) != wanted_scopes:
        drift.append('scopes')
    if app.get('confidential') is not None and bool(app.get('confidential')) != wanted_confidential:
        drift.append('confidential')
    return drift


class AmbiguousApplications(ValueError):
    """Several applications match and none stands out."""


def pick_application(found, wanted_uris, wanted_scopes, wanted_confidential):
    """The one application to manage among those found, as ``(app or None, others)``.

    Among several, the one with the wanted redirect URIs; failing exactly one, the
    one in sync for every attribute. Raises AmbiguousApplications otherwise.
    """
    if len(found) <= 1:
        return (found[0] if found else None), []
    same_uris = [a for a in found if split_uris(a.get('callback_url')) == wanted_uris]
    chosen = same_uris if len(same_uris) == 1 else None
    if chosen is None:
        in_sync = [a for a in (same_uris or found)
                   if not drift_of(a, wanted_uris, wanted_scopes, wanted_confidential)]
        chosen = in_sync if len(in_sync) == 1 else None
    if chosen is None:
        raise AmbiguousApplications(found)
    app = chosen[0]
    return app, [a for a in found if a is not app]


def summary(app):
    return 'id %s (client id %s, redirect URIs %s)' % (
        app.get('id'), app.get('application_id'), ', '.join(split_uris(app.get('callback_url'))) or 'none')


def version_text(version):
    return '.'.join(str(part) for part in version)


class ApplicationManager(object):

    def __init__(self, module, client):
        self.module = module
        self.client = client
        params = module.params
        self.name = params['name'].strip()
        self.wanted_uris = split_uris(params['redirect_uris']) if params['redirect_uris'] is not None else None
        self.wanted_scopes = normalize_scopes(params['scopes'])
        self.wanted_confidential = params['confidential']
        self.secret_refused = False
        self.result = dict(changed=False, action='none', application={}, secret_issued=False, drift=[],
                           deleted_ids=[], requests=0, msg='')
        self.diff = dict(before={}, after={})

    def wanted(self):
        return wanted_application(self.name, self.wanted_uris, self.wanted_scopes, self.wanted_confidential)

    # ------------------------------------------------------------------ lookups
    def find(self):
        """All applications this task manages (by O(match))."""
        apps = self.client.get_list('applications')
        found = [a for a in apps if (a.get('application_name') or '').strip() == self.name]
        if self.module.params['match'] == 'name_and_redirect_uris':
            found = [a for a in found if split_uris(a.get('callback_url')) == self.wanted_uris]
        return found

    def pick(self, found):
        """The one application to manage among several of the same name, or fail."""
        try:
            app, others = pick_application(found, self.wanted_uris, self.wanted_scopes, self.wanted_confidential)
        except AmbiguousApplications:
            self.fail('%d applications are named "%s" in GitLab and none stands out by its redirect URIs '
                      'and settings: %s. Delete the extra ones in the Admin Area (Applications), give them '
                      'distinct names, or use match=name_and_redirect_uris'
                      % (len(found), self.name, '; '.join(summary(a) for a in found)))
        if others:
            self.module.warn('%d other application(s) named "%s" exist and are left alone: %s'
                             % (len(others), self.name, '; '.join(summary(a) for a in others)))
        return app

    def refuses_secret(self, app):
        """Whether GitLab refuses the secret given in O(secret) (checked only when asked to)."""
        given = self.module.params['secret']
        if not given or not self.module.params['verify_secret']:
            return False
        self.secret_refused = not self.client.probe_secret(app.get('application_id'), given, self.wanted_uris[0])
        return self.secret_refused

    # ------------------------------------------------------------------ API calls
    def create(self):
        data = dict(
            name=self.name,
            redirect_uri='\n'.join(self.wanted_uris),
            scopes=' '.join(self.wanted_scopes),
            confidential=self.wanted_confidential,
        )
        app, dummy = self.client.request('POST', 'applications', data=data, expected=(200, 201))
        if not isinstance(app, dict) or 'id' not in app:
            raise GitLabAPIError('GitLab did not return the created application (POST %s): answer %r'
                                 % (self.client.url('applications'), type(app).__name__))
        return app

    def delete(self, app):
        # 404: already gone (deleted concurrently), which is what was asked.
        self.client.request('DELETE', 'applications/%s' % app['id'], expected=(200, 202, 204, 404))
        self.result['deleted_ids'].append(app['id'])

    def renew(self, app):
        renewed, dummy = self.client.request('POST', 'applications/%s/renew-secret' % app['id'],
                                             expected=(200, 201))
        if not isinstance(renewed, dict):
            raise GitLabAPIError('GitLab did not return the application after renewing its secret')
        return renewed

    # ------------------------------------------------------------------ state=present
    def present(self):
        """Create the application, or bring the one found in line with the options."""
        current = self.pick(self.find())
        if current is None:
            self.create_application()
            return
        self.diff['before'] = diff_view(current, secret='(current)')
        self.result['drift'] = drift_of(current, self.wanted_uris, self.wanted_scopes, self.wanted_confidential)
        change, why = self.change_needed(current)
        if change == 'replace':
            self.replace_application(current, why)
        elif change == 'renew_secret':
            self.renew_application_secret(current, why)
        else:
            self.keep_application(current)

    def change_needed(self, current):
        """What an existing application needs and why: ``('replace' | 'renew_secret' | None, why)``.

        The given secret is checked with GitLab only when nothing else would change the application.
        """
        drift = self.result['drift']
        reauthorize = self.module.params['reauthorize']
        if drift:
            return 'replace', '%s differ' % ', '.join(drift)
        if reauthorize == 'recreate':
            return 'replace', 'reauthorize=recreate'
        if reauthorize == 'renew_secret':
            return 'renew_secret', 'reauthorize=renew_secret'
        if self.refuses_secret(current):
            self.result['drift'] = ['secret']
            return 'renew_secret', 'GitLab refuses the secret given in secret'
        return None, None

    def create_application(self):
        """No application yet: create it."""
        self.result.update(changed=True, action='create')
        if self.module.check_mode:
            self.would_become(self.wanted(), 'Application "%s" would be created' % self.name)
            return
        app = self.create()
        self.became(app, 'Application "%s" created with id %s' % (self.name, app['id']))

    def replace_application(self, current, why):
        """Create the new application first, then delete the old one (GitLab cannot change one)."""
        self.result.update(changed=True, action='replace')
        if self.module.check_mode:
            self.result['deleted_ids'] = [current['id']]
            self.would_become(self.wanted(), 'Application %s would be replaced (%s)' % (current['id'], why))
            return None
        # Create first: if that fails, the old application is untouched.
        app = self.create()
        self.became(app, 'Application %s replaced by %s (%s)' % (current['id'], app['id'], why))
        try:
            self.delete(current)
        except GitLabAPIError as err:
            self.undo_create(app, current, err)
        return app

    def renew_application_secret(self, current, why):
        """Renew the secret (same client ID); on a GitLab without that API, replace the application."""
        self.result.update(changed=True, action='renew_secret')
        if self.module.check_mode:
            self.predict_renewal(current, why)
            return
        try:
            renewed = self.renew(current)
        except GitLabAPIError as err:
            if not err.route_missing:
                raise
            self.replace_unrenewable(current, why, err)
            return
        app = dict(current)
        app.update((k, v) for k, v in renewed.items() if v is not None)
        self.became(app, 'The secret of application %s was renewed (%s)' % (current['id'], why))

    def predict_renewal(self, current, why):
        """Check mode: a renewal, or a replacement where GitLab's version says it cannot renew a secret."""
        version = self.client.version()
        if version is not None and version < RENEW_SECRET_SINCE:
            self.replace_application(current, why)
            self.module.warn(
                'GitLab %s is older than 16.11 and cannot renew an application secret: application %s would be '
                'replaced instead, and its client id (%s) would change'
                % (version_text(version), current['id'], current.get('application_id')))
            return
        self.describe(current)
        self.would_become(current, 'The secret of application %s would be renewed (%s)' % (current['id'], why))

    def replace_unrenewable(self, current, why, err):
        """GitLab answered that it has no renew-secret API (before 16.11): replace the application instead."""
        app = self.replace_application(current, '%s; GitLab before 16.11 cannot renew a secret' % why)
        self.module.warn(
            'GitLab is older than 16.11 and has no API to renew an application secret (POST %s answered '
            '404 Not Found): application %s was replaced by %s instead, and the client id changed from %s '
            'to %s. Update whatever uses it (Mattermost\'s GitLabSettings.Id) from application_id'
            % (err.url, current['id'], app['id'], current.get('application_id'), app.get('application_id')))

    def keep_application(self, current):
        """Up to date: nothing to do."""
        self.diff['after'] = diff_view(current, secret='(current)')
        self.describe(current)
        self.result['msg'] = 'Application %s is up to date' % current['id']

    def undo_create(self, app, current, err):
        """The old application could not be deleted: delete the new one again, or report both."""
        what = ('Created the new application id %s (client id %s) but could not delete the old one id %s '
                '(client id %s): %s.' % (app['id'], app.get('application_id'), current['id'],
                                         current.get('application_id'), err))
        try:
            self.delete(app)
        except GitLabAPIError as undo_err:
            self.fail('%s Deleting the new one again failed too (%s). Both exist now; the new one is returned and '
                      'will be found by the next run if its redirect URIs or settings differ from the old one, '
                      'otherwise delete the old one in the Admin Area (Applications).' % (what, undo_err))
        # GitLab is as it was: report nothing issued, nothing changed.
        for key in ('secret', 'id', 'application_id'):
            self.result.pop(key, None)
        self.result.update(action='none', secret_issued=False, deleted_ids=[], application={})
        self.fail('%s Deleted the new one again: GitLab holds the old application, unchanged. Run again once '
                  'GitLab accepts the deletion.' % what)

    # ------------------------------------------------------------------ state=absent
    def absent(self):
        found = self.find()
        if not found:
            self.result['msg'] = 'No application "%s" to delete' % self.name
            return
        self.result.update(changed=True, action='delete')
        views = [diff_view(a) for a in found]
        self.diff['before'] = views[0] if len(views) == 1 else dict(applications=views)
        if self.module.check_mode:
            self.result['deleted_ids'] = [a['id'] for a in found]
            self.result['msg'] = 'Would delete application(s) %s' % ', '.join(str(a['id']) for a in found)
            return
        for app in found:
            try:
                self.delete(app)
            except GitLabAPIError as err:
                self.fail('Could not delete application %s: %s (deleted so far: %s)'
                          % (summary(app), err, ', '.join(str(i) for i in self.result['deleted_ids']) or 'none'))
        self.result['msg'] = 'Deleted application(s) %s' % ', '.join(str(i) for i in self.result['deleted_ids'])

    # ------------------------------------------------------------------ results
    def describe(self, app):
        self.result['application'] = describe(app)
        self.result['id'] = app.get('id')
        self.result['application_id'] = app.get('application_id')

    def issued(self, app):
        """Record an application GitLab answered with a (new) secret."""
        self.describe(app)
        if app.get('secret'):
            self.result['secret'] = app['secret']
            self.result['secret_issued'] = True

    def became(self, app, msg):
        """The application as GitLab answered the change, with its new secret."""
        self.issued(app)
        self.diff['after'] = diff_view(app, secret='(new)')
        self.result['msg'] = msg

    def would_become(self, app, msg):
        """Check mode: what the application would look like, with a new secret."""
        self.diff['after'] = diff_view(app, secret='(new)')
        self.result['msg'] = msg

    def fail(self, msg):
        self.result['requests'] = self.client.requests
        result = dict(self.result)
        result.pop('msg', None)
        result.pop('changed', None)
        # A new application may exist by now: report it (and its secret) even on failure.
        self.module.fail_json(msg=msg, changed=bool(result.get('secret_issued') or result.get('deleted_ids')),
                              **result)

    def run(self):
        try:
            if self.module.params['state'] == 'present':
                self.present()
            else:
                self.absent()
        except GitLabAPIError as err:
            self.fail(str(err))
        self.result['requests'] = self.client.requests
        given = self.module.params['secret']
        if (not self.result['secret_issued'] and given and not self.secret_refused
                and self.module.params['state'] == 'present'):
            self.result['secret'] = given
        if self.module._diff:
            self.result['diff'] = self.diff
        return self.result


def exit_with_result(module, result):
    """exit_json that returns the caller's own secret unmasked.

    Ansible replaces every value of a no_log option in a module's result by a
    placeholder. The value of O(secret) is returned on purpose (it is the
    caller's own); it stays masked in the logged arguments (``invocation``).
    """
    given = module.params.get('secret')
    if given and result.get('secret') == given and given != module.params.get('api_token'):
        module.no_log_values.discard(given)
        args = dict(module.params)
        for key in ('secret', 'api_token'):
            if args.get(key) is not None:
                args[key] = NO_LOG_PLACEHOLDER
        result['invocation'] = dict(module_args=args)
    module.exit_json(**result)


def main():
    argument_spec = gitlab_api_argument_spec(dict(
        name=dict(type='str', required=True),
        redirect_uris=dict(type='list', elements='str'),
        scopes=dict(type='list', elements='str', default=['read_user']),
        confidential=dict(type='bool', default=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        match=dict(type='str', default='name', choices=['name', 'name_and_redirect_uris']),
        reauthorize=dict(type='str', default='none', choices=['none', 'renew_secret', 'recreate']),
        secret=dict(type='str', no_log=True),
        verify_secret=dict(type='bool', default=True),
    ))
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=GITLAB_API_MUTUALLY_EXCLUSIVE,
        required_if=[
            ('state', 'present', ['redirect_uris']),
            ('match', 'name_and_redirect_uris', ['redirect_uris']),
        ],
        supports_check_mode=True,
    )
    params = module.params
    if not params['name'].strip():
        module.fail_json(msg='name must not be empty')
    if params['redirect_uris'] is not None and not split_uris(params['redirect_uris']) \
            and (params['state'] == 'present' or params['match'] == 'name_and_redirect_uris'):
        module.fail_json(msg='redirect_uris must hold at least one URI')
    if params['state'] == 'present' and not normalize_scopes(params['scopes']):
        module.fail_json(msg='scopes must hold at least one scope (GitLab would otherwise grant "api")')

    client = GitLabClient(module)
    result = ApplicationManager(module, client).run()
    exit_with_result(module, result)


if __name__ == '__main__':
    main()
