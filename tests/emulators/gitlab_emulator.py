"""A GitLab stand-in for tests: the REST API, sign-in pages and OAuth2 provider
that Mattermost and the collection's modules use, answering as GitLab's source
says, never kinder.

Standard library only, so it runs in the bare test containers as well as in
pytest (``GitLabEmulator(port=0).start()``). Self-contained: molecule scenarios
copy this file alone onto their hosts. ``BackgroundServers``,
``listener_arguments`` and ``serve_until_interrupted`` below serve the SMTP sink
(smtp_sink.py) too.

Covered, per GitLab version (``version``, default 18.6.2; 16.0 and later):
personal access tokens with scopes (``PRIVATE-TOKEN`` or ``Authorization:
Bearer``) and the Admin Mode setting; ``/api/v4/version``; the instance
applications API (unpaginated list, create, delete, renew-secret from 16.11);
``/api/v4/user``; the browser sign-in page (``/users/sign_in``, CSRF token,
``_gitlab_session`` cookie); Doorkeeper's ``/oauth/authorize`` (consent page,
approve, deny, error page) and ``/oauth/token``; ``/-/health``; projects and
groups (ids or URL-encoded full paths) with the ``mattermost`` and
``mattermost-slash-commands`` integrations (GET/PUT/DELETE, GitLab's masking),
the slash-command trigger Mattermost calls (an unknown chat user gets a
single-use link to connect their account, confirmed by the signed-in user on
GitLab's page; a linked user's ``issue show <iid>`` answers in the channel),
project issues (``POST /api/v4/projects/:id/issues``), and the application
settings' outbound local requests allowlist (``/api/v4/application/settings``).
Test control lives under ``/-/emulator/``: state, settings, request log, reset,
fault injection, a clock, and a secret renewed or callback URLs edited behind the
client's back (what an admin does in GitLab's Admin Area), and events fired to
the Mattermost notifications integration with the JSON GitLab posts.

Sources (gitlabhq/gitlabhq unless named): lib/api/applications.rb,
app/finders/applications_finder.rb, lib/api/entities/application.rb,
lib/api/metadata.rb, lib/api/api.rb, lib/api/api_guard.rb,
lib/gitlab/auth/auth_finders.rb, lib/api/helpers.rb,
config/initializers/doorkeeper.rb, config/locales/doorkeeper.en.yml,
app/controllers/oauth/authorizations_controller.rb,
app/views/doorkeeper/authorizations/{new,error,redirect}.html.haml,
app/views/devise/sessions/_new_base.html.haml,
config/initializers/session_store.rb; doorkeeper-gem/doorkeeper:
lib/doorkeeper/oauth/pre_authorization.rb,
lib/doorkeeper/oauth/authorization_code_request.rb,
app/controllers/doorkeeper/authorizations_controller.rb; heartcombo/devise:
lib/devise/failure_app.rb. Integrations: lib/api/integrations.rb,
lib/api/helpers/integrations_helpers.rb, lib/api/entities/project_integration*.rb,
app/models/integrations/{mattermost,mattermost_slash_commands,base_chat_notification,
base_slash_commands}.rb, app/models/integrations/chat_message/{push,merge,pipeline}_message.rb,
lib/gitlab/slash_commands/presenters/access.rb, lib/gitlab/url_blocker.rb,
lib/api/settings.rb. Slash commands and chat names: app/models/integrations/base_slash_commands.rb,
lib/gitlab/slash_commands/{command,base_command,issue_command,issue_show}.rb,
lib/gitlab/slash_commands/presenters/{base,issue_base,issue_show}.rb,
app/services/chat_names/authorize_user_service.rb, lib/gitlab/chat_name_token.rb,
app/controllers/profiles/chat_names_controller.rb, config/routes/user_settings.rb; lib/api/issues.rb.
"""

import argparse
import base64
import html
import http.cookies
import ipaddress
import json
import re
import secrets
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

DEFAULT_VERSION = "18.6.2"
OLDEST_VERSION = (16, 0)
# lib/api/applications.rb: POST :id/renew-secret, "Introduced in GitLab 16.11"
# (doc/api/applications.md history, issue 422420).
RENEW_SECRET_FROM = (16, 11)
# lib/api/entities/application.rb exposes `scopes` only in recent sources: the
# entity at commit 7f0fd430 (and the 18.x docs) list id, application_id,
# application_name, callback_url, confidential; the one at 3919ad72 adds scopes.
# The release is unconfirmed (client-go added the field in June 2026), so the
# gate errs late: a client relying on `scopes` fails against 16.x-18.x here.
APPLICATION_SCOPES_FROM = (19, 0)
REVISION = "0emulator0"
# Gitlab::ChatNameToken: TOKEN_LENGTH 50 (Devise.friendly_token), EXPIRY_TIME 10
# minutes in Redis; read by Profiles::ChatNamesController#new, deleted by
# create and deny (single use). The page moved from /-/profile/chat_names to
# /-/user_settings/integration_accounts (config/routes/user_settings.rb, same
# controller); the release of the move is unconfirmed, so the emulator uses
# the new path from 17.0 and serves only the path of its version.
CHAT_NAME_TOKEN_LIFETIME = 600
USER_SETTINGS_CHAT_NAMES_FROM = (17, 0)

SESSION_COOKIE = "_gitlab_session"   # config/initializers/session_store.rb
CODE_LIFETIME = 600                  # Doorkeeper's default authorization_code_expires_in
ACCESS_TOKEN_LIFETIME = 7200         # doorkeeper.rb: access_token_expires_in 7200
DEFAULT_SCOPES = ["api"]             # Gitlab::Auth::DEFAULT_SCOPES -> default_scopes
SERVER_SCOPES = {                    # default_scopes + Gitlab::Auth.optional_scopes
    "api", "read_api", "read_user", "create_runner", "manage_runner", "k8s_proxy",
    "read_repository", "write_repository", "read_registry", "write_registry",
    "sudo", "admin_mode", "openid", "profile", "email", "ai_features",
}

# config/locales/doorkeeper.en.yml (doorkeeper.errors.messages)
DOORKEEPER_ERRORS = {
    "invalid_request": "The request is missing a required parameter, includes an unsupported parameter "
                       "value, or is otherwise malformed.",
    "invalid_redirect_uri": "The redirect URI included is not valid.",
    "access_denied": "The resource owner or authorization server denied the request.",
    "invalid_scope": "The requested scope is invalid, unknown, or malformed.",
    "unsupported_response_type": "The authorization server does not support this response type.",
    "invalid_client": "Client authentication failed due to unknown client, no client authentication "
                      "included, or unsupported authentication method.",
    "invalid_grant": "The provided authorization grant is invalid, expired, revoked, does not match the "
                     "redirection URI used in the authorization request, or was issued to another client.",
    "unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
}
# rack-oauth2 DEFAULT_DESCRIPTION[:insufficient_scope], used by lib/api/api_guard.rb
INSUFFICIENT_SCOPE = "The request requires higher privileges than provided by the access token."
TOKEN_EXPIRED = "Token is expired. You can either do re-authorization or token refresh."

DEFAULT_USERS = [
    {"id": 1, "username": "root", "name": "Administrator", "email": "admin@example.test",
     "is_admin": True, "password": "root-Pa55word",
     "tokens": [{"token": "glpat-admin-token", "scopes": ["api", "admin_mode"]},
                {"token": "glpat-admin-api-only", "scopes": ["api"]},
                {"token": "glpat-admin-read-api", "scopes": ["read_api"]}]},
    {"id": 2, "username": "developer", "name": "Developer", "email": "developer@example.test",
     "is_admin": False, "password": "developer-Pa55word",
     "tokens": [{"token": "glpat-user-token", "scopes": ["api"]}]},
    {"id": 42, "username": "sso.tester", "name": "SSO Tester", "email": "sso.tester@example.test",
     "is_admin": False, "password": "sso-Tester-Pa55word", "tokens": []},
]
# A group and its project; the developer is a Developer (30) in both, so may
# not touch integrations (Maintainer, 40, for a project; Owner, 50, for a group).
DEFAULT_GROUPS = [{"id": 10, "full_path": "group", "name": "Group", "members": {2: 30}}]
# GitLab's user of the sign-in tests (42) is a Reporter (20) of the project:
# allowed to read its issues (confidential ones too), not to touch integrations.
DEFAULT_PROJECTS = [{"id": 1, "path_with_namespace": "group/app", "name": "App", "namespace_id": 10,
                     "default_branch": "main", "members": {2: 30, 42: 20}}]
# lib/api/entities/application_setting.rb (the part modelled); Gitlab's defaults.
DEFAULT_APPLICATION_SETTINGS = {"allow_local_requests_from_web_hooks_and_services": False,
                                "outbound_local_requests_whitelist": []}


class HTTPError(Exception):
    """An error answered with GitLab's status, body and headers."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def parse_version(text):
    """'18.6.2' (or '18.6.2-ee') -> (18, 6, 2); refuses versions before 16.0."""
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:-ee)?", str(text))
    if not match:
        raise ValueError(f"not a GitLab version: {text!r}")
    version = tuple(int(part) for part in match.groups())
    if version < OLDEST_VERSION:
        raise ValueError(f"GitLab {text} is older than the oldest modelled version 16.0")
    return version


def parse_bool(value):
    """Grape's Boolean coercion (true/false/1/0 and JSON booleans); None if invalid."""
    if isinstance(value, bool):
        return value
    return {"true": True, "1": True, "false": False, "0": False}.get(str(value).lower())


def with_query(uri, params):
    """Doorkeeper's URIBuilder.uri_with_query: merge params, drop blank ones."""
    parts = urlsplit(uri)
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    query.update(params)
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return parts._replace(query=urlencode(query)).geturl()


def redirect_uri_errors(value):
    """Doorkeeper's RedirectUriValidator with GitLab's forbid_redirect_uri
    (data, vbscript, javascript) and its messages (config/locales/doorkeeper.en.yml)."""
    if not value.strip():
        return ["can't be blank"]
    errors = []
    for uri in value.split():
        parts = urlsplit(uri)
        if parts.scheme.lower() in ("data", "vbscript", "javascript"):
            errors.append("is forbidden by the server.")
        if parts.fragment or uri.endswith("#"):
            errors.append("cannot contain a fragment.")
        if not parts.scheme and not parts.netloc:
            errors.append("must be an absolute URI.")
    return list(dict.fromkeys(errors))


class GitLabState:
    """Settings, users, tokens, applications, sessions and grants; thread-safe,
    the applications optionally persisted to ``state_file``."""

    def __init__(self, users=None, state_file=None, version=DEFAULT_VERSION, admin_mode=False):
        parse_version(version)
        self.lock = threading.RLock()
        self.state_file = state_file
        self.initial_settings = {"version": str(version), "admin_mode": bool(admin_mode)}
        self.settings = dict(self.initial_settings)
        self.users = [dict(u) for u in (users or DEFAULT_USERS)]
        self.personal_tokens = self._personal_tokens()
        self.applications = []
        self.next_id = 1
        self.codes = {}
        self.access_tokens = {}
        self.sessions = {}
        self.clock_offset = 0.0
        self.requests = []
        self.faults = []
        self.projects = [dict(p) for p in DEFAULT_PROJECTS]
        self.groups = [dict(g) for g in DEFAULT_GROUPS]
        self.integrations = {}
        self.next_integration_id = 1
        self.application_settings = dict(DEFAULT_APPLICATION_SETTINGS)
        self.chat_names = {}
        self.chat_name_tokens = {}
        self.issues = []
        self.next_issue_id = 1
        self.webhook_ca_file = None
        self._load()

    def _personal_tokens(self):
        """token -> {user_id, scopes}; a user's legacy ``token`` key gets [api]."""
        tokens = {}
        for user in self.users:
            for entry in user.get("tokens", []):
                tokens[entry["token"]] = {"user_id": user["id"], "scopes": list(entry["scopes"])}
            if user.get("token"):
                tokens[user["token"]] = {"user_id": user["id"], "scopes": ["api"]}
        return tokens

    # persistence -----------------------------------------------------------
    def _load(self):
        if not self.state_file:
            return
        try:
            with open(self.state_file, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return
        self.applications = data.get("applications", [])
        self.next_id = data.get("next_id", 1)

    def save(self):
        if not self.state_file:
            return
        with open(self.state_file, "w", encoding="utf-8") as handle:
            json.dump({"applications": self.applications, "next_id": self.next_id}, handle)

    def reset(self):
        """Empty state and the settings the emulator started with."""
        with self.lock:
            self.settings = dict(self.initial_settings)
            self.applications, self.next_id = [], 1
            for table in (self.codes, self.access_tokens, self.sessions):
                table.clear()
            self.clock_offset = 0.0
            self.requests.clear()
            self.faults.clear()
            self.integrations.clear()
            self.next_integration_id = 1
            self.application_settings = dict(DEFAULT_APPLICATION_SETTINGS)
            self.chat_names.clear()
            self.chat_name_tokens.clear()
            self.issues.clear()
            self.next_issue_id = 1
            self.save()

    # settings and clock ----------------------------------------------------
    @property
    def version(self):
        return parse_version(self.settings["version"])

    def update_settings(self, changes):
        if not isinstance(changes, dict):
            raise HTTPError(400, {"message": "settings must be a JSON object"})
        unknown = set(changes) - {"version", "admin_mode"}
        if unknown:
            raise HTTPError(400, {"message": f"unknown settings: {', '.join(sorted(unknown))}"})
        if "version" in changes:
            try:
                parse_version(changes["version"])
            except ValueError as err:
                raise HTTPError(400, {"message": str(err)})
        if "admin_mode" in changes and not isinstance(changes["admin_mode"], bool):
            raise HTTPError(400, {"message": "admin_mode must be true or false"})
        with self.lock:
            self.settings.update(changes)
            return dict(self.settings)

    def now(self):
        return time.time() + self.clock_offset

    def advance_clock(self, seconds):
        with self.lock:
            self.clock_offset += float(seconds)
            return self.clock_offset

    # lookups ---------------------------------------------------------------
    def user_by_id(self, user_id):
        return next((u for u in self.users if u["id"] == user_id), None)

    def user_by_login(self, login):
        """User.find_by_login: username or email, case-insensitive."""
        login = (login or "").lower()
        return next((u for u in self.users
                     if login in (u["username"].lower(), u["email"].lower())), None)

    def token_record(self, token):
        """A personal access token or an OAuth access token, or None."""
        if not token:
            return None
        for known, record in self.personal_tokens.items():
            if secrets.compare_digest(known, token):
                return record
        return self.access_tokens.get(token)

    def app_by_uid(self, uid):
        return next((a for a in self.applications if a["application_id"] == uid), None)

    def app_by_id(self, app_id):
        """ApplicationsFinder by id, or the 404 of not_found!('Application')."""
        app = next((a for a in self.applications if a["id"] == app_id), None)
        if app is None:
            raise HTTPError(404, {"message": "404 Application Not Found"})
        return app

    # applications ----------------------------------------------------------
    def create_application(self, params, through_api=True):
        """POST /applications: Grape's params first, then the model's validations.

        ``through_api=False`` is an application made as ``gitlab-rails runner``
        makes one (the package's auto-registration of Mattermost): the model's
        validations only, so the scopes may be empty (the server's then apply).
        """
        if through_api:
            confidential = self._check_params(params)
        else:
            confidential = parse_bool(params.get("confidential", True))
        name, redirect_uri = str(params.get("name") or ""), str(params.get("redirect_uri") or "")
        scopes = str(params.get("scopes") or "").split()
        errors = {}
        if not name.strip():
            errors["name"] = ["can't be blank"]
        uri_errors = redirect_uri_errors(redirect_uri)
        if uri_errors:
            errors["redirect_uri"] = uri_errors
        if any(s not in SERVER_SCOPES for s in scopes):
            errors["scopes"] = ["doesn't match configured on the server."]
        if errors:
            raise HTTPError(400, {"message": errors})
        with self.lock:
            app = {
                "id": self.next_id,
                "application_id": secrets.token_hex(32),
                "application_name": name,
                "callback_url": "\n".join(redirect_uri.split()),
                "confidential": confidential,
                "scopes": scopes,
                "secret": new_secret(),
            }
            self.next_id += 1
            self.applications.append(app)
            self.save()
            return app

    @staticmethod
    def _check_params(params):
        """Grape: requires name, redirect_uri, scopes (allow_blank: false);
        optional Boolean confidential, default true. Returns confidential."""
        errors = [f"{f} is missing" for f in ("name", "redirect_uri", "scopes") if params.get(f) is None]
        if params.get("scopes") is not None and not str(params["scopes"]).strip():
            errors.append("scopes is empty")
        confidential = parse_bool(params.get("confidential", True))
        if confidential is None:
            errors.append("confidential is invalid")
        if errors:
            raise HTTPError(400, {"error": ", ".join(errors)})
        return confidential

    def delete_application(self, app_id):
        with self.lock:
            self.applications.remove(self.app_by_id(app_id))
            self.save()

    def set_callback_urls(self, app_id, redirect_uri):
        """Callback URLs edited in GitLab's Admin Area (the API cannot): Doorkeeper's
        ApplicationsController#update saves the model, so its RedirectUriValidator
        applies and uid and secret stay as they are."""
        uri_errors = redirect_uri_errors(redirect_uri)
        if uri_errors:
            raise HTTPError(400, {"message": {"redirect_uri": uri_errors}})
        with self.lock:
            app = self.app_by_id(app_id)
            app["callback_url"] = "\n".join(redirect_uri.split())
            self.save()
            return app

    def renew_secret(self, app_id):
        with self.lock:
            app = self.app_by_id(app_id)
            app["secret"] = new_secret()
            self.save()
            return app

    # sessions --------------------------------------------------------------
    def new_session(self, **carried):
        """A fresh session id and CSRF token (Devise renews both on sign-in)."""
        sid = secrets.token_hex(16)
        with self.lock:
            self.sessions[sid] = {"csrf": secrets.token_urlsafe(32), "user_id": None,
                                  "return_to": None, **carried}
        return sid

    def sign_in(self, old_sid, user):
        with self.lock:
            old = self.sessions.pop(old_sid, {})
        return self.new_session(user_id=user["id"], return_to=old.get("return_to"))

    # OAuth grants and tokens -----------------------------------------------
    def issue_code(self, app, user, redirect_uri, scopes):
        code = secrets.token_hex(32)   # doorkeeper.rb: default_generator_method :hex
        with self.lock:
            self.codes[code] = {"client_id": app["application_id"], "redirect_uri": redirect_uri,
                                "user_id": user["id"], "scopes": scopes, "created_at": self.now(),
                                "revoked": False}
        return code

    def redeem_code(self, code, app, redirect_uri):
        """AuthorizationCodeRequest: the grant must be this client's, unexpired,
        unrevoked and for this redirect_uri; it is revoked when a token is issued."""
        with self.lock:
            grant = self.codes.get(code)
            if (grant is None or grant["revoked"] or grant["client_id"] != app["application_id"]
                    or self.now() > grant["created_at"] + CODE_LIFETIME
                    or grant["redirect_uri"] != redirect_uri):
                raise HTTPError(400, oauth_error("invalid_grant"))
            grant["revoked"] = True
            token = secrets.token_hex(32)
            self.access_tokens[token] = {"user_id": grant["user_id"], "scopes": grant["scopes"],
                                         "client_id": app["application_id"], "created_at": self.now()}
            return token, grant["scopes"]

    def has_matching_token(self, app, user, scopes):
        """Doorkeeper's matching_token_for: a token for this user, client and scopes."""
        with self.lock:
            return any(t["client_id"] == app["application_id"] and t["user_id"] == user["id"]
                       and sorted(t["scopes"]) == sorted(scopes) for t in self.access_tokens.values())

    # chat names ------------------------------------------------------------
    def store_chat_name_token(self, params):
        """Gitlab::ChatNameToken#store!: a new 50-character token for ``params``, expiring in 10 minutes."""
        token = secrets.token_urlsafe(38)[:50]
        with self.lock:
            self.chat_name_tokens[token] = {"params": dict(params), "expires_at": self.now() + CHAT_NAME_TOKEN_LIFETIME}
        return token

    def chat_name_params(self, token):
        """Gitlab::ChatNameToken#get: the stored params, or None when unknown, used or expired."""
        with self.lock:
            record = self.chat_name_tokens.get(token or "")
            if record is None or self.now() >= record["expires_at"]:
                self.chat_name_tokens.pop(token or "", None)
                return None
            return dict(record["params"])

    def delete_chat_name_token(self, token):
        with self.lock:
            self.chat_name_tokens.pop(token or "", None)

    def link_chat_name(self, user, params):
        """ChatName validations: one GitLab user per chat user of a team
        (uniqueness of chat_id scoped to team_id). False when taken."""
        key = (params["team_id"], params["chat_id"])
        with self.lock:
            if key in self.chat_names:
                return False
            self.chat_names[key] = user["id"]
            return True

    # issues ----------------------------------------------------------------
    def create_issue(self, project, author, params):
        with self.lock:
            iid = 1 + max((i["iid"] for i in self.issues if i["project_id"] == project["id"]), default=0)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self.now()))
            issue = {"id": self.next_issue_id, "iid": iid, "project_id": project["id"], "title": params["title"],
                     "description": params.get("description"), "state": "opened",
                     "confidential": bool(params.get("confidential")), "labels": params.get("labels") or [],
                     "author_id": author["id"], "assignee_ids": [], "created_at": stamp, "updated_at": stamp}
            self.next_issue_id += 1
            self.issues.append(issue)
            return dict(issue)

    def visible_issue(self, project, user, iid):
        """IssuesFinder for ``user``, find_by(iid:): project members (and admins)
        see issues; confidential ones need Reporter, authorship or assignment."""
        level = 0 if user is None else project["members"].get(user["id"], 0)
        admin = bool(user and user.get("is_admin"))
        if not (admin or level):
            return None
        with self.lock:
            issue = next((i for i in self.issues if i["project_id"] == project["id"] and i["iid"] == iid), None)
        if issue is None or not issue["confidential"]:
            return issue
        if admin or level >= 20 or user["id"] == issue["author_id"] or user["id"] in issue["assignee_ids"]:
            return issue
        return None


def new_secret():
    """Gitlab::DoorkeeperSecretStoring::Token::UniqueApplicationToken: gloas- + hex(32)."""
    return "gloas-" + secrets.token_hex(32)


def oauth_error(name):
    return {"error": name, "error_description": DOORKEEPER_ERRORS[name]}


def application_json(app, version, with_secret=False):
    """Entities::Application (+ ApplicationWithSecret): scopes only from
    APPLICATION_SCOPES_FROM; the secret only when created or renewed."""
    keys = ["id", "application_id", "application_name", "callback_url", "confidential"]
    if version >= APPLICATION_SCOPES_FROM:
        keys.append("scopes")
    data = {k: app[k] for k in keys}
    if with_secret:
        data["secret"] = app["secret"]
    return data


def user_json(user, base_url):
    return {
        "id": user["id"], "username": user["username"], "login": user["username"],
        "name": user["name"], "email": user["email"], "state": "active", "locked": False,
        "avatar_url": None, "web_url": f"{base_url}/{user['username']}",
        "created_at": "2020-01-01T00:00:00.000Z", "is_admin": user.get("is_admin", False),
        "bot": False,
    }


# HTML pages: GitLab's field names, ids and data-testid attributes ------------
def page(title, body, csrf=None):
    meta = f'<meta name="csrf-token" content="{html.escape(csrf)}">' if csrf else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">{meta}'
            f"<title>{html.escape(title)} · GitLab</title></head>\n<body>\n{body}\n</body></html>\n").encode()


def hidden(name, value):
    return f'<input type="hidden" name="{name}" value="{html.escape(value or "")}" autocomplete="off">'


def sign_in_page(csrf, alert=None):
    """app/views/devise/sessions/_new_base.html.haml (form_for :user)."""
    flash = f'<div class="flash-container"><div class="flash-alert">{html.escape(alert)}</div></div>' if alert else ""
    return page("Sign in", f"""{flash}
<main id="signin-container">
<form class="new_user gl-show-field-errors js-arkose-labs-form" id="new_user" data-testid="sign-in-form"
      action="/users/sign_in" accept-charset="UTF-8" method="post">
{hidden("authenticity_token", csrf)}
<label for="user_login">Username or primary email</label>
<input type="text" name="user[login]" id="user_login" autocomplete="username" required data-testid="username-field">
<label for="user_password">Password</label>
<input type="password" name="user[password]" id="user_password" autocomplete="current-password" required
       data-testid="password-field">
<input name="user[remember_me]" type="hidden" value="0" autocomplete="off">
<input type="checkbox" value="1" name="user[remember_me]" id="user_remember_me">
<label for="user_remember_me">Remember me</label>
<button type="submit" data-testid="sign-in-button">Sign in</button>
</form>
</main>""", csrf)


def consent_page(csrf, app, user, pre_auth):
    """app/views/doorkeeper/authorizations/new.html.haml: an authorize form and a
    deny form (_method=delete), both posting to /oauth/authorize."""
    fields = "\n".join([hidden("authenticity_token", csrf), hidden("client_id", app["application_id"])]
                       + [hidden(k, pre_auth[k]) for k in ("redirect_uri", "state", "response_type", "scope")]
                       + [hidden(k, "") for k in ("nonce", "code_challenge", "code_challenge_method")])
    name = html.escape(app["application_name"])
    scopes = "".join(f"<li><strong>{html.escape(s)}</strong></li>" for s in pre_auth["scope"].split())
    return page("Authorize application", f"""<main>
<div><strong>{name}</strong> is requesting access to your account on GitLab.</div>
<div><strong>{html.escape(user["name"])}</strong> &middot; <span>@{html.escape(user["username"])}</span></div>
<ul>{scopes}</ul>
{approve_and_deny("/oauth/authorize", "/oauth/authorize", fields,
                  f'<button type="submit" data-testid="authorization-button">Authorize {name}</button>', "Cancel")}
</main>""", csrf)


def approve_and_deny(action, deny_action, fields, approve_button, deny_label):
    """GitLab's pair of forms: one posting ``fields`` to approve, one posting them with _method=delete."""
    return f"""<form action="{action}" accept-charset="UTF-8" method="post">
{fields}
{approve_button}
</form>
<form action="{deny_action}" accept-charset="UTF-8" method="post">
{hidden("_method", "delete")}
{fields}
<button type="submit">{deny_label}</button>
</form>"""


def error_page(name):
    """app/views/doorkeeper/authorizations/error.html.haml."""
    return page("An error has occurred", '<h3 class="page-title">An error has occurred</h3>\n'
                f'<main role="main"><pre>{html.escape(DOORKEEPER_ERRORS[name])}</pre></main>')


def redirect_page(uri):
    """app/views/doorkeeper/authorizations/redirect.html.haml: a link and a script."""
    return page("Redirecting", f'<h1 class="page-title">Redirecting</h1>\n'
                f'<div><a href="{html.escape(uri)}">Click here to redirect to {html.escape(uri)}</a></div>\n'
                f"<script>window.location = {json.dumps(uri)};</script>")


# Integrations -----------------------------------------------------------------
# lib/api/helpers/integrations_helpers.rb and app/models/integrations/: the two
# Mattermost integrations, project level (REST since GitLab 9.x as /services,
# /integrations since 14.0) and group level (/groups/:id/integrations, GitLab
# 17.9). Slugs as the API spells them (hyphens); the trigger uses underscores.
MATTERMOST_EVENTS = {  # Grape Boolean params (Integrations::Mattermost.supported_events)
    "push_events": "push_channel", "issues_events": "issue_channel",
    "confidential_issues_events": "confidential_issue_channel",
    "merge_requests_events": "merge_request_channel", "note_events": "note_channel",
    "confidential_note_events": "confidential_note_channel", "tag_push_events": "tag_push_channel",
    "pipeline_events": "pipeline_channel", "wiki_page_events": "wiki_page_channel",
    "deployment_events": "deployment_channel", "incident_events": "incident_channel",
}
BRANCH_CHOICES = ("default", "protected", "default_and_protected", "all")   # BaseChatNotification
LABEL_BEHAVIOURS = ("match_any", "match_all")
INTEGRATION_FIELDS = {
    # String fields; `webhook` and `token` are secret: never in `properties`.
    "mattermost": ["webhook", "username", "channel", "notify_only_broken_pipelines", "branches_to_be_notified",
                   "labels_to_be_notified", "labels_to_be_notified_behavior"] + list(MATTERMOST_EVENTS.values()),
    "mattermost-slash-commands": ["token"],
}
SECRET_FIELDS = {"webhook", "token"}
INTEGRATION_TITLES = {"mattermost": "Mattermost notifications",
                      "mattermost-slash-commands": "Mattermost slash commands"}
# Integration's boolean columns and their database defaults (db/structure.sql).
EVENT_COLUMNS = {"commit_events": True, "push_events": True, "issues_events": True, "incident_events": False,
                 "alert_events": True, "confidential_issues_events": True, "merge_requests_events": True,
                 "tag_push_events": True, "deployment_events": False, "note_events": True,
                 "confidential_note_events": True, "pipeline_events": True, "wiki_page_events": True,
                 "job_events": True, "comment_on_event_enabled": True, "vulnerability_events": False}
# Errors with the model's messages in the answer: GitLab 17.2 (MR 150898); before, "400 Bad Request".
DETAILED_INTEGRATION_ERRORS_FROM = (17, 2)
GROUP_INTEGRATIONS_FROM = (17, 9)


def integration_defaults(slug):
    fields = {name: None for name in INTEGRATION_FIELDS[slug]}
    if slug == "mattermost":
        fields.update(notify_only_broken_pipelines=True, branches_to_be_notified="default",
                      labels_to_be_notified_behavior="match_any")
    return {"active": False, "inherited": False, "events": dict(EVENT_COLUMNS), "fields": fields}


def integration_json(record, slug, with_properties=True):
    """Entities::ProjectIntegration: the basic entity plus properties without secret fields."""
    data = {"id": record["id"], "title": INTEGRATION_TITLES[slug], "slug": slug,
            "created_at": record["created_at"], "updated_at": record["updated_at"],
            "active": record["active"], **record["events"], "inherited": record["inherited"]}
    if with_properties:
        data["properties"] = {k: v for k, v in record["fields"].items() if k not in SECRET_FIELDS}
    return data


def _is_local(address):
    return address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified


def _allowlisted(entries, host, port, addresses):
    """Gitlab::UrlBlockers::UrlAllowlist: IPs and ranges match resolved
    addresses, domains match the host name (``*.`` wildcards); ``:port`` narrows."""
    for entry in entries:
        entry = str(entry).strip()
        match = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d+))?|([^:\s]+):(\d+)", entry)
        if match:
            name, entry_port = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
        else:
            name, entry_port = entry, None
        if entry_port and int(entry_port) != port:
            continue
        try:
            network = ipaddress.ip_network(name, strict=False)
            if any(a in network for a in addresses):
                return True
            continue
        except ValueError:
            pass
        name = name.lower()
        if name.startswith("*.") and host.endswith(name[1:]) or name == host:
            return True
    return False


def url_blocked(url, settings):
    """Gitlab::UrlBlocker.validate! as PublicUrlValidator calls it for a webhook:
    the message GitLab puts after "is blocked: ", or None."""
    try:
        parts = urlsplit(str(url))
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "URI is invalid"
    if parts.scheme not in ("http", "https"):
        return "Only allowed schemes are http, https"
    host = (parts.hostname or "").lower()
    if not host:
        return "URI is invalid"
    try:
        addresses = {ipaddress.ip_address(info[4][0].split("%")[0])
                     for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError, ValueError):
        return "Host cannot be resolved or invalid"
    if settings["allow_local_requests_from_web_hooks_and_services"]:
        return None
    if _allowlisted(settings["outbound_local_requests_whitelist"], host, port, addresses):
        return None
    if any(a.is_loopback or a.is_unspecified for a in addresses):
        return "Requests to localhost are not allowed"
    if any(_is_local(a) for a in addresses):
        return "Requests to the local network are not allowed"
    return None


def check_integration_params(slug, body):
    """Grape's declared params: required ones, Boolean coercion; unknown keys dropped.
    Returns the declared params (values coerced)."""
    declared, errors = {}, []
    required = {"mattermost": ["webhook"], "mattermost-slash-commands": ["token"]}[slug]
    errors += [f"{name} is missing" for name in required if body.get(name) is None]
    booleans = list(MATTERMOST_EVENTS) + ["notify_only_broken_pipelines"] if slug == "mattermost" else []
    booleans.append("use_inherited_settings")
    for name, value in body.items():
        if name in booleans:
            coerced = parse_bool(value)
            if coerced is None:
                errors.append(f"{name} is invalid")
            declared[name] = coerced
        elif name in INTEGRATION_FIELDS[slug]:
            if isinstance(value, (dict, list)):
                errors.append(f"{name} is invalid")
            declared[name] = None if value is None else str(value)
    if errors:
        raise HTTPError(400, {"error": ", ".join(errors)})
    return declared


def chat_link(url, text):
    """ChatMessage::BaseMessage#link for Slack-style (Mattermost) messages."""
    return f"<{url}|{text}>"


def chat_messages(project, base_url, user, event, ref="main"):
    """The message GitLab's ChatMessage classes build for ``event`` (push,
    merge_request, pipeline): (events column, channel field, message dict)."""
    project_url = f"{base_url}/{project['path_with_namespace']}"
    project_name = " / ".join(part.capitalize() for part in project["path_with_namespace"].split("/"))
    project_link = chat_link(project_url, project_name)
    who = f"{user['name']} ({user['username']})"
    sha = "b83d6e391c22777fca1ed3012fce84f633d7fed0"
    if event == "push":
        commits = [{"id": sha, "message": "Add the release notes", "author": user["name"]}]
        text = (f"{who} pushed to branch {chat_link(f'{project_url}/-/commits/{ref}', ref)} of {project_link} "
                f"({chat_link(f'{project_url}/-/compare/1e8e6e2a...{sha[:8]}', 'Compare changes')})")
        lines = ["%s: %s - %s" % (chat_link(f"{project_url}/-/commit/{c['id']}", c["id"][:8]),
                                  c["message"], c["author"]) for c in commits]
        return "push_events", "push_channel", {"text": text, "attachments": [
            {"text": "\n".join(lines), "color": "#345"}]}
    if event == "merge_request":
        text = (f"{who} opened merge request {chat_link(f'{project_url}/-/merge_requests/1', '!1 *Add the release notes*')}"
                f" in {project_link}")
        return "merge_requests_events", "merge_request_channel", {"text": text, "attachments": []}
    if event == "pipeline":
        pipeline_url = f"{project_url}/-/pipelines/7"
        title = "Pipeline #7 has failed in 02:10"
        fields = [
            {"title": "Branch", "value": chat_link(f"{project_url}/-/commits/{ref}", ref), "short": True},
            {"title": "Commit", "value": chat_link(f"{project_url}/-/commit/{sha}", "Add the release notes"),
             "short": True},
            {"title": "Failed stage", "value": chat_link(f"{pipeline_url}/failures", "test"), "short": True},
            {"title": "Failed job", "value": chat_link(f"{project_url}/-/jobs/21", "rspec"), "short": True},
        ]
        attachment = {"fallback": f"{project_name}: {title}", "color": "danger", "author_name": who,
                      "author_icon": None, "title": title, "title_link": pipeline_url, "fields": fields,
                      "footer": project_name, "footer_icon": None, "ts": 1764700000}
        return "pipeline_events", "pipeline_channel", {"text": "", "attachments": [attachment]}
    raise HTTPError(400, {"message": f"unknown event {event!r}: push, merge_request or pipeline"})


# Gitlab::SlashCommands::IssueShow.match (Issue.reference_prefix is "#").
ISSUE_SHOW = re.compile(r"\Aissue\s+show\s+#?(?P<iid>\d+)")


def issue_json(issue, project, author, base_url):
    """Entities::Issue, the part modelled."""
    return {"id": issue["id"], "iid": issue["iid"], "project_id": issue["project_id"], "title": issue["title"],
            "description": issue["description"], "state": issue["state"], "created_at": issue["created_at"],
            "updated_at": issue["updated_at"], "closed_at": None, "labels": list(issue["labels"]),
            "milestone": None, "assignees": [], "assignee": None,
            "author": {k: v for k, v in user_json(author, base_url).items()
                       if k in ("id", "username", "name", "state", "avatar_url", "web_url")},
            "confidential": issue["confidential"], "user_notes_count": 0, "upvotes": 0, "downvotes": 0,
            "web_url": f"{base_url}/{project['path_with_namespace']}/-/issues/{issue['iid']}"}


def issue_show_answer(issue, project, group, author, base_url):
    """Presenters::IssueShow#present: in the channel, ephemeral when the issue is
    confidential; one attachment as Presenters::Base#response_message builds it
    (no votes or notes, no assignee or milestone here)."""
    full_name = " / ".join(part for part in ((group or {}).get("name"), project["name"]) if part)
    reference = f"#{issue['iid']}"
    opened = issue["state"] == "opened"
    attachment = {
        "title": f"{issue['title']} · {reference}",
        "title_link": f"{base_url}/{project['path_with_namespace']}/-/issues/{issue['iid']}",
        "author_name": author["name"], "author_icon": None,
        "fallback": f"Issue {reference}: {issue['title']}",
        "pretext": f"Issue *{reference}* from {full_name}",
        "text": "**Open**" if opened else "**Closed**",
        "color": "#38ae67" if opened else "#d22852",
        "fields": [{"title": "Assignee", "value": "_None_", "short": True},
                   {"title": "Milestone", "value": "_None_", "short": True},
                   {"title": "Labels", "value": ", ".join(issue["labels"]) or "_None_", "short": True}],
        "mrkdwn_in": ["title", "pretext", "fields"],
    }
    return {"response_type": "ephemeral" if issue["confidential"] else "in_channel", "status": 200,
            "attachments": [attachment]}


def deliver(url, payload, ca_file=None, timeout=10):
    """Integrations::Mattermost#notify: one form POST ``payload=<json>``; verifies TLS
    as Gitlab::HTTP does (system CAs, or ``ca_file`` when the emulator was given one)."""
    try:
        context = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    except OSError as err:
        return {"status": None, "error": f"CA file {ca_file}: {err}"}
    data = urlencode({"payload": json.dumps(payload)}).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "User-Agent": "GitLab/" + DEFAULT_VERSION})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
            return {"status": answer.status}
    except urllib.error.HTTPError as err:
        return {"status": err.code, "error": err.read()[:300].decode(errors="replace")}
    except (urllib.error.URLError, OSError) as err:
        return {"status": None, "error": str(getattr(err, "reason", err))}


class Handler(BaseHTTPRequestHandler):
    """Routes one request; ``self.server.state`` holds the emulator state."""

    protocol_version = "HTTP/1.1"
    server_version = "nginx"

    # plumbing --------------------------------------------------------------
    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type", "")
        if "application/json" in ctype and raw:
            return json.loads(raw)
        return {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}

    def _send(self, status, body=None, headers=None):
        if body is None:
            payload, ctype = b"", None
        elif isinstance(body, bytes):
            payload, ctype = body, "text/html; charset=utf-8"
        else:
            payload, ctype = json.dumps(body).encode(), "application/json"
        # Logged before the answer leaves, so a client that reads the log right
        # after its answer finds its request there.
        self._log(status)
        self.send_response(status)
        if ctype and payload:
            self.send_header("Content-Type", ctype)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _redirect(self, location, headers=None):
        self._send(302, b"", {"Location": location, **(headers or {})})

    def _log(self, status):
        self._status = status
        path = urlsplit(self.path).path
        if not path.startswith("/-/emulator/") and not self._logged:
            self._logged = True
            with self.server.state.lock:
                self.server.state.requests.append({"method": self.command, "path": path, "status": status})

    def _origin(self):
        """Rails builds redirect URLs from the request (X-Forwarded-Proto/Host first)."""
        scheme = self.headers.get("X-Forwarded-Proto") or self.server.scheme
        host = self.headers.get("X-Forwarded-Host") or self.headers.get("Host")
        return f"{scheme}://{host}" if host else self.server.base_url

    def _apply_fault(self):
        state = self.server.state
        with state.lock:
            for fault in state.faults:
                if fault["count"] <= 0:
                    continue
                if fault.get("method") and fault["method"].upper() != self.command:
                    continue
                if not re.search(fault["path_regex"], self.path):
                    continue
                fault["count"] -= 1
                break
            else:
                return False
        if fault.get("delay"):
            time.sleep(float(fault["delay"]))
        if fault.get("status"):
            message = {500: "500 Internal Server Error", 502: "502 Bad Gateway",
                       503: "503 Service Unavailable", 401: "401 Unauthorized"}.get(
                           fault["status"], f"{fault['status']} Error")
            self._send(int(fault["status"]), {"message": message})
            return True
        return False

    def _dispatch(self):
        self._status = 0
        self._logged = False
        url = urlsplit(self.path)
        path, query = url.path, {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            if not path.startswith("/-/emulator/") and self._apply_fault():
                return
            for (method, pattern), func in ROUTES:
                match = re.fullmatch(pattern, path)
                if method == self.command and match:
                    func(self, query, *match.groups())
                    return
            # lib/api/api.rb: route :any, '*path' -> 404, before any authentication.
            if path.startswith("/api/"):
                raise HTTPError(404, {"error": "404 Not Found"})
            raise HTTPError(404, {"message": "404 Not Found"})
        except HTTPError as err:
            self._send(err.status, err.body, err.headers)
        finally:
            self._log(self._status)

    do_GET = do_POST = do_DELETE = do_PUT = _dispatch

    # REST authentication ---------------------------------------------------
    def _token(self):
        token = self.headers.get("PRIVATE-TOKEN")
        auth = self.headers.get("Authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        return token

    def _authenticate(self, read_scopes=()):
        """authenticate!: a known, unexpired token whose scopes an endpoint
        registered (lib/api/api.rb: api, and read_api for GET/HEAD; endpoint
        classes add read_scopes, also GET/HEAD only), else 401/403 as
        lib/api/api_guard.rb answers. Returns (user, token scopes)."""
        record = self.server.state.token_record(self._token())
        if record is None:
            raise HTTPError(401, {"message": "401 Unauthorized"})
        if "created_at" in record and self.server.state.now() > record["created_at"] + ACCESS_TOKEN_LIFETIME:
            raise HTTPError(401, {"error": "invalid_token", "error_description": TOKEN_EXPIRED}, {
                "WWW-Authenticate": f'Bearer realm="The API", error="invalid_token", '
                                    f'error_description="{TOKEN_EXPIRED}"'})
        registered = list(read_scopes) + ["api", "read_api"]
        reading = self.command in ("GET", "HEAD")
        allowed = {"api"} | ({"read_api", *read_scopes} if reading else set())
        if not allowed & set(record["scopes"]):
            raise HTTPError(403, {"error": "insufficient_scope", "error_description": INSUFFICIENT_SCOPE,
                                  "scope": " ".join(registered)})
        return self.server.state.user_by_id(record["user_id"]), record["scopes"]

    def _authenticate_admin(self):
        """authenticated_as_admin! -> can_admin_all_resources?: an admin, and with
        Admin Mode on a token with the admin_mode scope (api_guard.rb,
        bypass_session_for_admin_mode?)."""
        user, scopes = self._authenticate()
        admin_mode = self.server.state.settings["admin_mode"]
        if not user.get("is_admin") or (admin_mode and "admin_mode" not in scopes):
            raise HTTPError(403, {"message": "403 Forbidden"})
        return user

    # REST API --------------------------------------------------------------
    def version(self, query):
        """lib/api/metadata.rb: GET /version (read_user allowed), the metadata query."""
        self._authenticate(read_scopes=["read_user"])
        self._send(200, {"version": self.server.state.settings["version"], "revision": REVISION,
                         "kas": {"enabled": False, "externalUrl": None, "version": None},
                         "enterprise": False})

    def list_applications(self, query):
        """ApplicationsFinder.new.execute, presented whole: no page, no headers."""
        self._authenticate_admin()
        state = self.server.state
        with state.lock:
            self._send(200, [application_json(a, state.version) for a in state.applications])

    def create_application(self, query):
        self._authenticate_admin()
        app = self.server.state.create_application(self._body())
        self._send(201, application_json(app, self.server.state.version, with_secret=True))

    def delete_application(self, query, app_id):
        self._authenticate_admin()
        self.server.state.delete_application(int(app_id))
        self._send(204)

    def renew_secret(self, query, app_id):
        """Absent before 16.11: the catch-all 404, before authentication."""
        if self.server.state.version < RENEW_SECRET_FROM:
            raise HTTPError(404, {"error": "404 Not Found"})
        self._authenticate_admin()
        app = self.server.state.renew_secret(int(app_id))
        self._send(201, application_json(app, self.server.state.version, with_secret=True))

    def current_user(self, query):
        """lib/api/users.rb: GET /user, read_user allowed."""
        user, _scopes = self._authenticate(read_scopes=["read_user"])
        self._send(200, user_json(user, self.server.base_url))

    # browser session -------------------------------------------------------
    def _session(self):
        """(sid, session) from the _gitlab_session cookie, or (None, None)."""
        jar = http.cookies.SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie", ""))
        except http.cookies.CookieError:
            return None, None
        sid = jar[SESSION_COOKIE].value if SESSION_COOKIE in jar else None
        with self.server.state.lock:
            session = self.server.state.sessions.get(sid)
        return (sid, session) if session else (None, None)

    def _session_cookie(self, sid):
        """config/initializers/session_store.rb: httponly, secure with an https
        external URL, path /; SameSite=Lax from Rails' cookie defaults."""
        jar = http.cookies.SimpleCookie()
        jar[SESSION_COOKIE] = sid
        morsel = jar[SESSION_COOKIE]
        morsel["path"] = "/"
        morsel["httponly"] = True
        morsel["samesite"] = "Lax"
        if self.server.base_url.startswith("https://"):
            morsel["secure"] = True
        return {"Set-Cookie": morsel.OutputString()}

    def _ensure_session(self):
        sid, session = self._session()
        if session is None:
            sid = self.server.state.new_session()
            session = self.server.state.sessions[sid]
        return sid, session

    def _signed_in_user(self):
        sid, session = self._session()
        user = self.server.state.user_by_id(session["user_id"]) if session else None
        return sid, session, user

    def _verify_csrf(self, session, form):
        """protect_from_forgery with: :exception -> InvalidAuthenticityToken -> 422."""
        token = form.get("authenticity_token") or self.headers.get("X-CSRF-Token") or ""
        if session is None or not secrets.compare_digest(session["csrf"], token):
            raise HTTPError(422, page("The change you requested was rejected (422)",
                                      "<h1>The change you requested was rejected.</h1>"))

    def _require_sign_in(self):
        """doorkeeper.rb resource_owner_authenticator: keep request.fullpath in
        session[:user_return_to], redirect to the sign-in page."""
        sid, session = self._ensure_session()
        session["return_to"] = self.path
        self._redirect(self._origin() + "/users/sign_in", self._session_cookie(sid))

    def sign_in_form(self, query):
        """Devise sessions#new; a signed-in user is sent on (require_no_authentication)."""
        sid, session, user = self._signed_in_user()
        if user:
            self._redirect(self._origin() + (session.pop("return_to", None) or "/"))
            return
        sid, session = self._ensure_session()
        self._send(200, sign_in_page(session["csrf"]), self._session_cookie(sid))

    def sign_in(self, query):
        """Devise sessions#create: CSRF first; a bad login re-renders the page
        (FailureApp#recall, 200) with devise.failure.invalid; success renews the
        session and redirects to the kept location."""
        form = self._body()
        sid, session = self._session()
        self._verify_csrf(session, form)
        user = self.server.state.user_by_login(form.get("user[login]"))
        password = form.get("user[password]") or ""
        if user is None or not user.get("password") or not secrets.compare_digest(user["password"], password):
            self._send(200, sign_in_page(session["csrf"], "Invalid login or password."))
            return
        new_sid = self.server.state.sign_in(sid, user)
        return_to = self.server.state.sessions[new_sid].pop("return_to", None) or "/"
        self._redirect(self._origin() + return_to, self._session_cookie(new_sid))

    def dashboard(self, query):
        _sid, _session, user = self._signed_in_user()
        if user is None:
            self._redirect(self._origin() + "/users/sign_in")
            return
        self._send(200, page("Projects", f"<h1>Welcome, {html.escape(user['name'])}</h1>"))

    # OAuth2 ----------------------------------------------------------------
    def _pre_authorize(self, params):
        """Doorkeeper::OAuth::PreAuthorization validations in their order.
        Returns (app, pre_auth, error name or None)."""
        state = self.server.state
        pre_auth = {k: params.get(k) or "" for k in ("client_id", "redirect_uri", "state", "response_type")}
        if not pre_auth["client_id"]:
            return None, pre_auth, "invalid_request"
        app = state.app_by_uid(pre_auth["client_id"])
        if app is None:
            return None, pre_auth, "invalid_client"
        if pre_auth["redirect_uri"] not in app["callback_url"].split():
            return app, pre_auth, "invalid_redirect_uri"
        if not pre_auth["response_type"]:
            return app, pre_auth, "invalid_request"
        if pre_auth["response_type"] != "code":   # grant_flows: no implicit grant
            return app, pre_auth, "unsupported_response_type"
        # scope: the requested one, else default_scopes & the application's.
        pre_auth["scope"] = params.get("scope") or " ".join(
            s for s in DEFAULT_SCOPES if not app["scopes"] or s in app["scopes"])
        valid = set(app["scopes"] or SERVER_SCOPES) & SERVER_SCOPES
        scope = pre_auth["scope"]
        if not scope.strip() or re.search(r"[\n\r\t]", scope) or not set(scope.split()) <= valid:
            return app, pre_auth, "invalid_scope"
        return app, pre_auth, None

    def _error_redirect(self, pre_auth, name):
        """ErrorResponse#redirect_uri: error, error_description, state."""
        body = oauth_error(name)
        body["state"] = pre_auth["state"]
        self._redirect(with_query(pre_auth["redirect_uri"], body))

    def authorize(self, query):
        """Oauth::AuthorizationsController#new (GitLab's override): sign in first;
        an invalid request renders the error page (200, no redirect); a
        confidential client the user already authorized for these scopes gets the
        redirect page; otherwise the consent page."""
        _sid, session, user = self._signed_in_user()
        if user is None:
            self._require_sign_in()
            return
        app, pre_auth, error = self._pre_authorize(query)
        if error:
            self._send(200, error_page(error))
            return
        if app["confidential"] and self.server.state.has_matching_token(app, user, pre_auth["scope"].split()):
            session.pop("return_to", None)
            code = self.server.state.issue_code(app, user, pre_auth["redirect_uri"], pre_auth["scope"].split())
            self._send(200, redirect_page(with_query(pre_auth["redirect_uri"],
                                                     {"code": code, "state": pre_auth["state"]})))
            return
        self._send(200, consent_page(session["csrf"], app, user, pre_auth))

    def authorize_decision(self, query):
        """Doorkeeper create (approve) and destroy (deny, _method=delete): CSRF,
        sign-in, then the same validations; errors that may redirect do so,
        invalid_client / invalid_redirect_uri answer JSON."""
        form = self._body()
        _sid, session = self._session()
        self._verify_csrf(session, form)
        user = self.server.state.user_by_id(session["user_id"])
        if user is None:
            self._require_sign_in()
            return
        app, pre_auth, error = self._pre_authorize(form)
        if error in ("invalid_client", "invalid_redirect_uri") or (error and not pre_auth["client_id"]):
            raise HTTPError(401 if error == "invalid_client" else 400, oauth_error(error))
        if form.get("_method", "").lower() == "delete":
            if error in ("invalid_request", "unsupported_response_type"):
                # destroy: no strategy for the response type -> the error page
                self._send(200, error_page(error))
            else:
                self._error_redirect(pre_auth, "access_denied")
        elif error:
            self._error_redirect(pre_auth, error)
        else:
            code = self.server.state.issue_code(app, user, pre_auth["redirect_uri"], pre_auth["scope"].split())
            self._redirect(with_query(pre_auth["redirect_uri"], {"code": code, "state": pre_auth["state"]}))

    def _client_credentials(self, body):
        """client_credentials :from_basic, :from_params."""
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:]).decode()
            except ValueError:
                return "", ""
            client_id, _sep, secret = decoded.partition(":")
            return client_id, secret
        return body.get("client_id", ""), body.get("client_secret", "")

    def _authenticate_client(self, body):
        """Doorkeeper Application.by_uid_and_secret: a public client may omit its secret."""
        client_id, secret = self._client_credentials(body)
        app = self.server.state.app_by_uid(client_id) if client_id else None
        if app is None:
            return None
        if not secret and not app["confidential"]:
            return app
        return app if secrets.compare_digest(app["secret"], secret or "") else None

    def token(self, query):
        """Doorkeeper TokensController#create for authorization_code, checks in
        order: grant_type, redirect_uri present (invalid_request), client
        (invalid_client, 401), grant and redirect_uri (invalid_grant, 400)."""
        body = self._body()
        grant_type = body.get("grant_type", "")
        if not grant_type:
            raise HTTPError(400, oauth_error("invalid_request"))
        if grant_type != "authorization_code":
            raise HTTPError(400, oauth_error("unsupported_grant_type"))
        if not body.get("redirect_uri"):
            raise HTTPError(400, oauth_error("invalid_request"))
        app = self._authenticate_client(body)
        if app is None:
            raise HTTPError(401, oauth_error("invalid_client"),
                            {"WWW-Authenticate": 'Bearer realm="Doorkeeper", error="invalid_client"'})
        access, scopes = self.server.state.redeem_code(body.get("code", ""), app, body["redirect_uri"])
        self._send(200, {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_LIFETIME,
                         "refresh_token": secrets.token_hex(32), "scope": " ".join(scopes),
                         "created_at": int(self.server.state.now())},
                   {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def health(self, query):
        self._send(200, b"GitLab OK")

    # projects, groups, integrations ----------------------------------------
    def _can_admin_all(self, user, scopes):
        """can_admin_all_resources?: an admin, with Admin Mode on only through an admin_mode token."""
        return bool(user.get("is_admin")) and (not self.server.state.settings["admin_mode"]
                                               or "admin_mode" in scopes)

    def _find(self, kind, ident):
        """find_project / find_group: a numeric id or a URL-encoded full path."""
        ident = unquote(ident)
        key = "path_with_namespace" if kind == "project" else "full_path"
        table = self.server.state.projects if kind == "project" else self.server.state.groups
        if ident.isdigit():
            return next((r for r in table if r["id"] == int(ident)), None)
        return next((r for r in table if r[key].lower() == ident.lower()), None)

    def _user_resource(self, kind, ident):
        """user_project / user_group then authorize_admin_project (Maintainer) or
        admin_group (Owner): private resources a user cannot see are 404, seen but
        not administrable 403."""
        user, scopes = self._authenticate()
        resource = self._find(kind, ident)
        admin = self._can_admin_all(user, scopes)
        level = 0 if resource is None else resource["members"].get(user["id"], 0)
        if resource is None or not (admin or level):
            raise HTTPError(404, {"message": f"404 {kind.capitalize()} Not Found"})
        if not admin and level < (40 if kind == "project" else 50):
            raise HTTPError(403, {"message": "403 Forbidden"})
        return resource

    def _integration_route(self, kind, ident, slug, services=False):
        state = self.server.state
        if kind == "group" and (services or state.version < GROUP_INTEGRATIONS_FROM):
            raise HTTPError(404, {"error": "404 Not Found"})
        return self._user_resource(kind, ident)

    def get_integration(self, query, kind, ident, services, slug):
        resource = self._integration_route(kind, ident, slug, services)
        with self.server.state.lock:
            record = self.server.state.integrations.get((kind, resource["id"], slug))
            if record is None:
                raise HTTPError(404, {"message": "404 Integration Not Found"})
            self._send(200, integration_json(record, slug))

    def put_integration(self, query, kind, ident, services, slug):
        state = self.server.state
        resource = self._integration_route(kind, ident, slug, services)
        declared = check_integration_params(slug, self._body())
        inherit = declared.pop("use_inherited_settings", None)
        fields = {k: v for k, v in declared.items() if k in INTEGRATION_FIELDS[slug]}
        events = {k: v for k, v in declared.items() if k in EVENT_COLUMNS}
        with state.lock:
            key = (kind, resource["id"], slug)
            record = state.integrations.get(key)
            new = record is None
            record = integration_defaults(slug) if new else json.loads(json.dumps(record))
            record["fields"].update(fields)
            record["events"].update(events)
            record["active"] = True
            if kind == "project":
                record["inherited"] = bool(inherit) and self._group_integration(resource, slug) is not None
                if record["inherited"]:
                    source = self._group_integration(resource, slug)
                    record["fields"], record["events"] = dict(source["fields"]), dict(source["events"])
            errors = self._integration_errors(slug, record)
            if errors:
                if state.version < DETAILED_INTEGRATION_ERRORS_FROM:
                    raise HTTPError(400, {"message": "400 Bad Request"})
                details = ", ".join(f":{k}=>{json.dumps(v)}" for k, v in errors.items())
                raise HTTPError(400, {"message": f"Failed to update integration. {{{details}}}"})
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(state.now()))
            if new:
                record.update(id=state.next_integration_id, created_at=stamp)
                state.next_integration_id += 1
            record["updated_at"] = stamp
            state.integrations[key] = record
            if kind == "group":
                self._propagate(resource, slug, record)
            self._send(200, integration_json(record, slug))

    def _group_integration(self, project, slug):
        record = self.server.state.integrations.get(("group", project["namespace_id"], slug))
        return record if record and record["active"] else None

    def _propagate(self, group, slug, source):
        """PropagateIntegrationService: projects of the group without settings of
        their own take the group's (inherited: true)."""
        state = self.server.state
        for project in state.projects:
            if project["namespace_id"] != group["id"]:
                continue
            key = ("project", project["id"], slug)
            own = state.integrations.get(key)
            if own is not None and not own["inherited"]:
                continue
            copy = json.loads(json.dumps(source))
            copy["inherited"] = True
            if own is None:
                copy["id"] = state.next_integration_id
                state.next_integration_id += 1
            else:
                copy["id"], copy["created_at"] = own["id"], own["created_at"]
            state.integrations[key] = copy

    def _integration_errors(self, slug, record):
        """The model's validations, run when the integration is active."""
        errors = {}
        fields = record["fields"]
        if slug == "mattermost":
            if not fields.get("webhook"):
                errors["webhook"] = ["can't be blank"]
            else:
                blocked = url_blocked(fields["webhook"], self.server.state.application_settings)
                if blocked:
                    errors["webhook"] = [f"is blocked: {blocked}"]
            if fields.get("branches_to_be_notified") not in BRANCH_CHOICES:
                errors["branches_to_be_notified"] = ["is not included in the list"]
            if fields.get("labels_to_be_notified_behavior") not in LABEL_BEHAVIOURS + (None, ""):
                errors["labels_to_be_notified_behavior"] = ["is not included in the list"]
        elif not fields.get("token"):
            errors["token"] = ["can't be blank"]
        return errors

    def delete_integration(self, query, kind, ident, services, slug):
        """Integration settings are reset to the columns' defaults (nil for data
        fields) with active: false; the row stays, so GET still answers."""
        state = self.server.state
        resource = self._integration_route(kind, ident, slug, services)
        with state.lock:
            key = (kind, resource["id"], slug)
            record = state.integrations.get(key)
            if record is None:
                record = integration_defaults(slug)
                record.update(id=state.next_integration_id, created_at=None, updated_at=None)
                state.next_integration_id += 1
            record["fields"] = {name: None for name in INTEGRATION_FIELDS[slug]}
            record["active"] = False
            state.integrations[key] = record
        self._send(204)

    def trigger_slash_command(self, query, ident, _services):
        """What Mattermost's custom slash command calls: no GitLab token; a wrong
        token, an inactive integration or an unknown project are all 404
        Integration Not Found (to not leak project names)."""
        state = self.server.state
        body = self._body()
        if not body.get("token"):
            raise HTTPError(400, {"error": "token is missing"})
        project = self._find("project", ident)
        with state.lock:
            record = state.integrations.get(("project", project["id"], "mattermost-slash-commands")) \
                if project else None
            token = (record or {}).get("fields", {}).get("token") or ""
            if not record or not record["active"] or not secrets.compare_digest(token, str(body["token"])):
                raise HTTPError(404, {"message": "404 Integration Not Found"})
            linked = state.chat_names.get((body.get("team_id"), body.get("user_id")))
        user = state.user_by_id(linked) if linked is not None else None
        if user is None:
            self._send(200, self._authorize_answer(body))
            return
        # Gitlab::SlashCommands::Command#execute: the first matching command, else the help.
        match = ISSUE_SHOW.match(str(body.get("text") or ""))
        if match:
            issue = state.visible_issue(project, user, int(match.group("iid")))
            if issue is None:   # Presenters::Access#not_found
                self._send(200, {"response_type": "ephemeral", "status": 200,
                                 "text": "404 not found! GitLab couldn't find what you were looking for! :boom:"})
                return
            author = state.user_by_id(issue["author_id"])
            self._send(200, issue_show_answer(issue, project, self._group_of(project), author, self.server.base_url))
            return
        # Presenters::Help for a linked user (the commands GitLab lists).
        trigger = str(body.get("command") or "/gitlab")
        self._send(200, {"response_type": "ephemeral", "status": 200,
                         "text": f"Available commands:\n{trigger} issue new <title>\n{trigger} issue show <id>"
                                 f"\n{trigger} deploy <from> to <to>"})

    def _group_of(self, project):
        return next((g for g in self.server.state.groups if g["id"] == project["namespace_id"]), None)

    def _authorize_answer(self, body):
        """ChatNames::AuthorizeUserService then Presenters::Access#authorize: a
        single-use link when Mattermost sent every chat name parameter."""
        params = {"team_id": body.get("team_id"), "team_domain": body.get("team_domain"),
                  "chat_id": body.get("user_id"), "chat_name": body.get("user_name")}
        if not all(params.values()):
            text = ":sweat_smile: Couldn't identify you, nor can I authorize you!"
        else:
            token = self.server.state.store_chat_name_token(params)
            url = f"{self.server.base_url}{self._chat_names_path()}/new?{urlencode({'token': token})}"
            text = f":wave: Hi there! Before I do anything for you, please [connect your GitLab account]({url})."
        return {"response_type": "ephemeral", "status": 200, "text": text}

    def _chat_names_path(self):
        if self.server.state.version >= USER_SETTINGS_CHAT_NAMES_FROM:
            return "/-/user_settings/integration_accounts"
        return "/-/profile/chat_names"

    # chat names: Profiles::ChatNamesController (a signed-in user) ----------
    def _chat_names_user(self, path_prefix):
        """The route of this version only (else the catch-all 404), then
        authenticate_user! (to the sign-in page, coming back here)."""
        if path_prefix != self._chat_names_path():
            raise HTTPError(404, page("Not Found", "<h1>404: Page not found</h1>"))
        sid, session, user = self._signed_in_user()
        if user is None:
            self._require_sign_in()
        return sid, session, user

    def chat_names_index(self, query, path_prefix):
        _sid, _session, user = self._chat_names_user(path_prefix)
        if user is None:
            return
        with self.server.state.lock:
            names = [f"<li>{html.escape(str(team))}: {html.escape(str(chat))}</li>"
                     for (team, chat), owner in self.server.state.chat_names.items() if owner == user["id"]]
        self._send(200, page("Chat", f"<h1>Chat</h1><ul>{''.join(names)}</ul>"))

    def chat_names_new(self, query, path_prefix):
        """#new: before_action chat_name_token and chat_name_params (unknown,
        used or expired token: 404); a page with Authorize and Deny."""
        _sid, session, user = self._chat_names_user(path_prefix)
        if user is None:
            return
        token = query.get("token")
        params = self.server.state.chat_name_params(token)
        if params is None:
            raise HTTPError(404, page("Not Found", "<h1>404: Page not found</h1>"))
        fields = hidden("authenticity_token", session["csrf"]) + hidden("token", token)
        name = html.escape(params["chat_name"])
        self._send(200, page("Authorize integration", f"""<main>
<h3 class="page-title">An application called Mattermost is requesting access to your GitLab account.</h3>
<p>Authorize <strong>{name}</strong> to use your account?</p>
{approve_and_deny(path_prefix, path_prefix + "/deny", fields, '<button type="submit">Authorize</button>', "Deny")}
</main>""", session["csrf"]))

    def _chat_names_form(self, path_prefix):
        """create/deny: CSRF, then the token's params (404 when gone)."""
        form = self._body()
        sid, session, user = self._chat_names_user(path_prefix)
        if user is None:
            return None, None, None
        self._verify_csrf(session, form)
        params = self.server.state.chat_name_params(form.get("token"))
        if params is None:
            raise HTTPError(404, page("Not Found", "<h1>404: Page not found</h1>"))
        return form, params, user

    def chat_names_create(self, query, path_prefix):
        """#create: link the chat user to the signed-in user, delete the token, back to the list."""
        form, params, user = self._chat_names_form(path_prefix)
        if form is None:
            return
        self.server.state.link_chat_name(user, params)
        self.server.state.delete_chat_name_token(form["token"])
        self._redirect(self._origin() + path_prefix)

    def chat_names_deny(self, query, path_prefix):
        """#deny (DELETE, as a form's _method): delete the token, link nothing."""
        form, _params, _user = self._chat_names_form(path_prefix)
        if form is None:
            return
        if form.get("_method", "").lower() != "delete":
            raise HTTPError(404, page("Not Found", "<h1>404: Page not found</h1>"))
        self.server.state.delete_chat_name_token(form["token"])
        self._redirect(self._origin() + path_prefix)

    # issues: lib/api/issues.rb -----------------------------------------------
    def create_issue(self, query, ident):
        """POST /projects/:id/issues: user_project (404 for a project the user
        cannot see), authorize! :create_issue (Guest and up), requires :title."""
        user, scopes = self._authenticate()
        project = self._find("project", ident)
        admin = self._can_admin_all(user, scopes)
        if project is None or not (admin or project["members"].get(user["id"], 0)):
            raise HTTPError(404, {"message": "404 Project Not Found"})
        body = self._body()
        if not str(body.get("title") or "").strip():
            raise HTTPError(400, {"error": "title is missing" if body.get("title") is None else "title is empty"})
        confidential = parse_bool(body.get("confidential", False))
        if confidential is None:
            raise HTTPError(400, {"error": "confidential is invalid"})
        labels = body.get("labels") or []
        labels = [v.strip() for v in (labels.split(",") if isinstance(labels, str) else labels) if str(v).strip()]
        issue = self.server.state.create_issue(project, user, {
            "title": str(body["title"]), "description": body.get("description"), "confidential": confidential,
            "labels": labels})
        self._send(201, issue_json(issue, project, user, self.server.base_url))

    def get_application_settings(self, query):
        self._authenticate_admin()
        with self.server.state.lock:
            self._send(200, dict(self.server.state.application_settings))

    def put_application_settings(self, query):
        """lib/api/settings.rb: outbound_local_requests_whitelist (Array[String]),
        outbound_local_requests_allowlist_raw (entries split on commas,
        semicolons, spaces and newlines), allow_local_requests_from_web_hooks_and_services."""
        self._authenticate_admin()
        body = self._body()
        changes = {}
        if "allow_local_requests_from_web_hooks_and_services" in body:
            value = parse_bool(body["allow_local_requests_from_web_hooks_and_services"])
            if value is None:
                raise HTTPError(400, {"error": "allow_local_requests_from_web_hooks_and_services is invalid"})
            changes["allow_local_requests_from_web_hooks_and_services"] = value
        if "outbound_local_requests_whitelist" in body:
            value = body["outbound_local_requests_whitelist"]
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise HTTPError(400, {"error": "outbound_local_requests_whitelist is invalid"})
            changes["outbound_local_requests_whitelist"] = list(dict.fromkeys(v.strip() for v in value if v.strip()))
        if "outbound_local_requests_allowlist_raw" in body:
            raw = str(body["outbound_local_requests_allowlist_raw"] or "")
            changes["outbound_local_requests_whitelist"] = list(dict.fromkeys(
                v for v in re.split(r"[\s,;]+", raw) if v))
        with self.server.state.lock:
            self.server.state.application_settings.update(changes)
            self._send(200, dict(self.server.state.application_settings))

    # test control: events and chat names -----------------------------------
    def emulator_fire_events(self, query, ident):
        """Fire events of a project at its Mattermost notifications integration,
        as GitLab's workers do: {"events": ["push", "merge_request", "pipeline"],
        "user": "root", "ref": "main"}. Answers what was sent where."""
        state = self.server.state
        body = self._body()
        project = self._find("project", ident)
        if project is None:
            raise HTTPError(404, {"message": "404 Project Not Found"})
        user = state.user_by_login(body.get("user") or "root")
        ref = str(body.get("ref") or project["default_branch"])
        results = []
        for event in body.get("events") or []:
            column, channel_field, message = chat_messages(project, self.server.base_url, user, event, ref)
            with state.lock:
                record = state.integrations.get(("project", project["id"], "mattermost"))
                record = json.loads(json.dumps(record)) if record else None
            result = {"event": event, "sent": False}
            results.append(result)
            if not record or not record["active"] or not record["events"].get(column):
                result["reason"] = "integration inactive or event off"
                continue
            fields = record["fields"]
            branches = fields.get("branches_to_be_notified") or "default"
            if event in ("push", "pipeline") and branches in ("default", "default_and_protected") \
                    and ref != project["default_branch"] and branches != "all":
                result["reason"] = "branch not notified"
                continue
            blocked = url_blocked(fields["webhook"], state.application_settings)
            if blocked:
                result["reason"] = f"blocked: {blocked}"
                continue
            payload = dict(message)
            channel = fields.get(channel_field) or fields.get("channel")
            if channel:
                payload["channel"] = channel
            if fields.get("username"):
                payload["username"] = fields["username"]
            result.update(deliver(fields["webhook"], payload, ca_file=state.webhook_ca_file))
            result["sent"] = True
            result["payload"] = payload
        self._send(200, results)

    def emulator_chat_names(self, query):
        """Link a Mattermost user to a GitLab user (what /-/profile/chat_names does)."""
        body = self._body()
        user = self.server.state.user_by_login(body.get("username"))
        if user is None:
            raise HTTPError(404, {"message": "404 User Not Found"})
        with self.server.state.lock:
            self.server.state.chat_names[(body.get("team_id"), body.get("user_id"))] = user["id"]
        self._send(201, {"team_id": body.get("team_id"), "user_id": body.get("user_id"), "username": user["username"]})

    def emulator_integrations(self, query):
        """Every integration with its secret fields, for tests only."""
        with self.server.state.lock:
            self._send(200, [{"kind": k[0], "resource_id": k[1], "slug": k[2], **r}
                             for k, r in self.server.state.integrations.items()])

    # test control ----------------------------------------------------------
    def emulator_state(self, query):
        state = self.server.state
        with state.lock:
            self._send(200, {"applications": state.applications,
                             "access_tokens": len(state.access_tokens),
                             "users": [user_json(u, self.server.base_url) for u in state.users],
                             "settings": dict(state.settings)})

    def emulator_settings(self, query):
        self._send(200, self.server.state.update_settings(self._body()))

    def emulator_seed_application(self, query):
        """An application made outside the API, as the package's auto-registration did."""
        app = self.server.state.create_application(self._body(), through_api=False)
        self._send(201, application_json(app, self.server.state.version, with_secret=True))

    def emulator_secret(self, query, app_id):
        """A secret renewed in GitLab's UI: same client id, new secret, any version."""
        app = self.server.state.renew_secret(int(app_id))
        self._send(200, {"secret": app["secret"]})

    def emulator_callback_urls(self, query, app_id):
        """Callback URLs changed in GitLab's UI: same client id and secret."""
        app = self.server.state.set_callback_urls(int(app_id), str(self._body().get("redirect_uri") or ""))
        self._send(200, application_json(app, self.server.state.version))

    def emulator_clock(self, query):
        body = self._body()
        try:
            offset = self.server.state.advance_clock(body.get("advance", 0))
        except (TypeError, ValueError):
            raise HTTPError(400, {"message": "advance must be a number of seconds"})
        self._send(200, {"offset": offset, "now": self.server.state.now()})

    def emulator_requests(self, query):
        with self.server.state.lock:
            self._send(200, list(self.server.state.requests))

    def emulator_reset(self, query):
        self.server.state.reset()
        self._send(204)

    def emulator_add_fault(self, query):
        fault = self._body()
        fault.setdefault("count", 1)
        fault.setdefault("path_regex", ".*")
        with self.server.state.lock:
            self.server.state.faults.append(fault)
        self._send(201, fault)

    def emulator_clear_faults(self, query):
        with self.server.state.lock:
            self.server.state.faults.clear()
        self._send(204)


ROUTES = [
    (("GET", r"/api/v4/version"), Handler.version),
    (("GET", r"/api/v4/applications"), Handler.list_applications),
    (("POST", r"/api/v4/applications"), Handler.create_application),
    (("DELETE", r"/api/v4/applications/(\d+)"), Handler.delete_application),
    (("POST", r"/api/v4/applications/(\d+)/renew-secret"), Handler.renew_secret),
    (("GET", r"/api/v4/user"), Handler.current_user),
    (("GET", r"/"), Handler.dashboard),
    (("GET", r"/users/sign_in"), Handler.sign_in_form),
    (("POST", r"/users/sign_in"), Handler.sign_in),
    (("GET", r"/oauth/authorize"), Handler.authorize),
    (("POST", r"/oauth/authorize"), Handler.authorize_decision),
    (("POST", r"/oauth/token"), Handler.token),
    (("GET", r"/-/health"), Handler.health),
    (("GET", r"/api/v4/application/settings"), Handler.get_application_settings),
    (("PUT", r"/api/v4/application/settings"), Handler.put_application_settings),
    (("POST", r"/api/v4/projects/([^/]+)/(integrations|services)/mattermost_slash_commands/trigger"),
     Handler.trigger_slash_command),
    (("POST", r"/api/v4/projects/([^/]+)/issues"), Handler.create_issue),
    (("GET", r"(/-/user_settings/integration_accounts|/-/profile/chat_names)"), Handler.chat_names_index),
    (("GET", r"(/-/user_settings/integration_accounts|/-/profile/chat_names)/new"), Handler.chat_names_new),
    (("POST", r"(/-/user_settings/integration_accounts|/-/profile/chat_names)"), Handler.chat_names_create),
    (("POST", r"(/-/user_settings/integration_accounts|/-/profile/chat_names)/deny"), Handler.chat_names_deny),
    (("POST", r"/-/emulator/projects/([^/]+)/events"), Handler.emulator_fire_events),
    (("POST", r"/-/emulator/chat_names"), Handler.emulator_chat_names),
    (("GET", r"/-/emulator/integrations"), Handler.emulator_integrations),
    (("GET", r"/-/emulator/state"), Handler.emulator_state),
    (("PUT", r"/-/emulator/settings"), Handler.emulator_settings),
    (("POST", r"/-/emulator/applications"), Handler.emulator_seed_application),
    (("POST", r"/-/emulator/applications/(\d+)/secret"), Handler.emulator_secret),
    (("PUT", r"/-/emulator/applications/(\d+)"), Handler.emulator_callback_urls),
    (("POST", r"/-/emulator/clock"), Handler.emulator_clock),
    (("GET", r"/-/emulator/requests"), Handler.emulator_requests),
    (("POST", r"/-/emulator/reset"), Handler.emulator_reset),
    (("POST", r"/-/emulator/faults"), Handler.emulator_add_fault),
    (("DELETE", r"/-/emulator/faults"), Handler.emulator_clear_faults),
]


def _integration_route(func, kind):
    """A route handler for ``kind`` (project or group) of an integrations endpoint."""
    return lambda self, query, *groups: func(self, query, kind, *groups)


for _kind, _plural in (("project", "projects"), ("group", "groups")):
    for _method, _func in (("GET", Handler.get_integration), ("PUT", Handler.put_integration),
                           ("DELETE", Handler.delete_integration)):
        ROUTES.append(((_method, rf"/api/v4/{_plural}/([^/]+)/(?:(services)|integrations)/"
                                 r"(mattermost|mattermost-slash-commands)"), _integration_route(_func, _kind)))


def send_json(handler, status, body=None):
    """Answer ``handler``'s request (a BaseHTTPRequestHandler) with ``status`` and ``body`` as JSON (None: empty)."""
    payload = json.dumps(body).encode() if body is not None else b""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


class BackgroundServers:
    """Socket servers (``self.servers``) each served from a daemon thread."""

    # How long stop() waits at most for each server to notice.
    POLL_INTERVAL = 0.05

    servers = ()

    def start(self):
        for server in self.servers:
            threading.Thread(target=server.serve_forever, kwargs=dict(poll_interval=self.POLL_INTERVAL),
                             daemon=True).start()
        return self

    def stop(self):
        for server in self.servers:
            server.shutdown()
            server.server_close()


def listener_arguments(description, port, tls_port_option):
    """A command line parser with what every emulator takes: where it listens, and its TLS port and certificate."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument(tls_port_option, type=int)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    return parser


def serve_until_interrupted(service, banner):
    """Start ``service`` (BackgroundServers), print ``banner(service)``, serve until Ctrl-C."""
    service.start()
    print(banner(service), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        service.stop()


class GitLabEmulator(BackgroundServers):
    """Runs the emulator in background threads (HTTP, optionally HTTPS too)."""

    def __init__(self, host="127.0.0.1", port=0, external_url=None, users=None, state_file=None,
                 tls_port=None, tls_cert=None, tls_key=None, version=DEFAULT_VERSION, admin_mode=False):
        self.state = GitLabState(users=users, state_file=state_file, version=version, admin_mode=admin_mode)
        self.servers = [self._server(host, port, external_url)]
        if tls_port is not None and tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls_cert, tls_key)
            server = self._server(host, tls_port, external_url, scheme="https")
            server.socket = context.wrap_socket(server.socket, server_side=True)
            self.servers.append(server)

    def _server(self, host, port, external_url, scheme="http"):
        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        server.state = self.state
        server.scheme = scheme
        bound = server.server_address[1]
        server.base_url = (external_url or f"{scheme}://{host}:{bound}").rstrip("/")
        return server

    @property
    def url(self):
        host, port = self.servers[0].server_address[:2]
        return f"http://{host}:{port}"


def main():
    parser = listener_arguments(__doc__.splitlines()[0], 80, "--tls-port")
    parser.add_argument("--external-url")
    parser.add_argument("--state-file")
    parser.add_argument("--config", help="JSON file with a list of users (see DEFAULT_USERS)")
    parser.add_argument("--gitlab-version", default=DEFAULT_VERSION, help="GitLab version to behave as")
    parser.add_argument("--admin-mode", action="store_true", help="turn the Admin Mode setting on")
    parser.add_argument("--webhook-ca-file", help="CA bundle trusted when posting to Mattermost webhooks "
                                                  "(read when an event fires)")
    args = parser.parse_args()
    users = None
    if args.config:
        with open(args.config, encoding="utf-8") as handle:
            users = json.load(handle)
    emulator = GitLabEmulator(args.host, args.port, args.external_url, users, args.state_file,
                              args.tls_port, args.tls_cert, args.tls_key,
                              version=args.gitlab_version, admin_mode=args.admin_mode)
    emulator.state.webhook_ca_file = args.webhook_ca_file
    serve_until_interrupted(emulator, lambda e: f"GitLab emulator {args.gitlab_version} listening on {e.url}")


if __name__ == "__main__":
    main()
