"""The GitLab emulator answers as GitLab does (never kinder): the tests of the
collection's module and of GitLab SSO are only as true as this."""

import base64
import importlib.util
import json
import os
import threading
import time
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.emulators.gitlab_emulator import GitLabEmulator

ADMIN = {"PRIVATE-TOKEN": "glpat-admin-token"}
API_ONLY = {"PRIVATE-TOKEN": "glpat-admin-api-only"}
READ_API = {"PRIVATE-TOKEN": "glpat-admin-read-api"}
USER = {"PRIVATE-TOKEN": "glpat-user-token"}
PROFILES = ["16.10.0", "17.11.4", "18.6.2"]
REDIRECTS = ["https://chat.example.test/signup/gitlab/complete",
             "https://chat.example.test/login/gitlab/complete"]
SSO = ("sso.tester", "sso-Tester-Pa55word")
INVALID_GRANT = ("The provided authorization grant is invalid, expired, revoked, does not match the redirection "
                 "URI used in the authorization request, or was issued to another client.")
INVALID_CLIENT = ("Client authentication failed due to unknown client, no client authentication included, "
                  "or unsupported authentication method.")


@pytest.fixture
def make_gitlab():
    started = []

    def make(**options):
        emulator = GitLabEmulator(**options)
        emulator.start()
        started.append(emulator)
        return emulator
    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture
def gitlab(make_gitlab):
    return make_gitlab()


@pytest.fixture(params=PROFILES)
def profile(request, make_gitlab):
    return make_gitlab(version=request.param)


def api(gitlab, method, path, headers=None, **kwargs):
    """An API request, as the administrator unless other headers are given."""
    return requests.request(method, f"{gitlab.url}/api/v4{path}", headers=ADMIN if headers is None else headers,
                            timeout=5, **kwargs)


def control(gitlab, method, path, **kwargs):
    return requests.request(method, f"{gitlab.url}/-/emulator{path}", timeout=5, **kwargs)


def create(gitlab, name="GitLab Mattermost", **extra):
    data = {"name": name, "redirect_uri": "\n".join(REDIRECTS), "scopes": "read_user", **extra}
    return api(gitlab, "POST", "/applications", data=data)


# REST API -------------------------------------------------------------------
def test_admin_token_in_either_header(gitlab):
    for headers in (ADMIN, {"Authorization": "Bearer glpat-admin-token"}):
        answer = api(gitlab, "GET", "/applications", headers=headers)
        assert answer.status_code == 200
        assert answer.json() == []


def test_missing_or_unknown_token_is_401(gitlab):
    for headers in ({}, {"PRIVATE-TOKEN": "glpat-wrong"}):
        answer = api(gitlab, "GET", "/applications", headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {"message": "401 Unauthorized"}


def test_non_admin_token_is_403(gitlab):
    answer = api(gitlab, "GET", "/applications", headers=USER)
    assert answer.status_code == 403
    assert answer.json() == {"message": "403 Forbidden"}


def test_version_needs_a_token_and_reports_the_profile(profile):
    assert api(profile, "GET", "/version", headers={}).status_code == 401
    for headers in (ADMIN, READ_API, USER):
        answer = api(profile, "GET", "/version", headers=headers)
        assert answer.status_code == 200
        body = answer.json()
        assert body["version"] == profile.state.settings["version"]
        assert set(body) == {"version", "revision", "kas", "enterprise"}


def test_create_list_delete(profile):
    created = create(profile)
    assert created.status_code == 201
    app = created.json()
    assert app["secret"].startswith("gloas-")
    assert len(app["application_id"]) == 64
    assert app["callback_url"] == "\n".join(REDIRECTS)
    assert app["confidential"] is True
    listed = api(profile, "GET", "/applications").json()
    # Entities::Application of 16.x-18.x: no scopes, never the secret.
    assert listed == [{k: app[k] for k in ("id", "application_id", "application_name", "callback_url",
                                           "confidential")}]
    assert api(profile, "DELETE", f"/applications/{app['id']}").status_code == 204
    again = api(profile, "DELETE", f"/applications/{app['id']}")
    assert again.status_code == 404
    assert again.json() == {"message": "404 Application Not Found"}


def test_scopes_listed_only_from_the_gated_version(make_gitlab):
    newer = make_gitlab(version="19.0.0")
    create(newer)
    assert api(newer, "GET", "/applications").json()[0]["scopes"] == ["read_user"]


def test_confidential_false_and_json_body(gitlab):
    answer = api(gitlab, "POST", "/applications", json={
        "name": "public", "redirect_uri": REDIRECTS[0], "scopes": "openid profile", "confidential": False})
    assert answer.status_code == 201
    assert answer.json()["confidential"] is False


@pytest.mark.parametrize("data, error", [
    ({"redirect_uri": REDIRECTS[0], "scopes": "read_user"}, {"error": "name is missing"}),
    ({"name": "x", "scopes": "read_user"}, {"error": "redirect_uri is missing"}),
    ({"name": "x", "redirect_uri": REDIRECTS[0]}, {"error": "scopes is missing"}),
    ({"name": "x", "redirect_uri": REDIRECTS[0], "scopes": " "}, {"error": "scopes is empty"}),
    ({"name": "x", "redirect_uri": REDIRECTS[0], "scopes": "api", "confidential": "maybe"},
     {"error": "confidential is invalid"}),
    ({"name": "", "redirect_uri": REDIRECTS[0], "scopes": "api"}, {"message": {"name": ["can't be blank"]}}),
    ({"name": "x", "redirect_uri": "not-a-uri", "scopes": "read_user"},
     {"message": {"redirect_uri": ["must be an absolute URI."]}}),
    ({"name": "x", "redirect_uri": "https://chat.example.test/cb#top", "scopes": "read_user"},
     {"message": {"redirect_uri": ["cannot contain a fragment."]}}),
    ({"name": "x", "redirect_uri": "javascript://x/alert(1)", "scopes": "read_user"},
     {"message": {"redirect_uri": ["is forbidden by the server."]}}),
    ({"name": "x", "redirect_uri": REDIRECTS[0], "scopes": "read_everything"},
     {"message": {"scopes": ["doesn't match configured on the server."]}}),
])
def test_bad_input_is_400_with_gitlabs_errors(gitlab, data, error):
    answer = api(gitlab, "POST", "/applications", data=data)
    assert answer.status_code == 400
    assert answer.json() == error


def test_list_is_not_paginated(gitlab):
    for number in range(150):
        gitlab.state.create_application({"name": f"app-{number}", "redirect_uri": REDIRECTS[0],
                                         "scopes": "read_user"})
    for query in ("", "?page=2", "?per_page=20", "?page=3&per_page=100"):
        answer = api(gitlab, "GET", "/applications" + query)
        assert [a["application_name"] for a in answer.json()] == [f"app-{n}" for n in range(150)]
        for header in ("X-Page", "X-Per-Page", "X-Total", "X-Total-Pages", "X-Next-Page", "X-Prev-Page", "Link"):
            assert header not in answer.headers


@pytest.mark.parametrize("version, status", [("16.10.0", 404), ("16.11.0", 201), ("17.11.4", 201),
                                             ("18.6.2", 201)])
def test_renew_secret_route_exists_from_16_11(make_gitlab, version, status):
    gitlab = make_gitlab(version=version)
    app = create(gitlab).json()
    renewed = api(gitlab, "POST", f"/applications/{app['id']}/renew-secret")
    assert renewed.status_code == status
    if status == 404:
        assert renewed.json() == {"error": "404 Not Found"}
        # the route is missing: no authentication is even asked for
        assert api(gitlab, "POST", f"/applications/{app['id']}/renew-secret", headers={}).status_code == 404
        return
    assert renewed.json()["secret"] != app["secret"]
    assert renewed.json()["application_id"] == app["application_id"]
    assert api(gitlab, "POST", "/applications/999/renew-secret").json() == {"message": "404 Application Not Found"}


def test_admin_mode_needs_the_admin_mode_scope(gitlab):
    assert api(gitlab, "GET", "/applications", headers=API_ONLY).status_code == 200
    assert control(gitlab, "PUT", "/settings", json={"admin_mode": True}).json()["admin_mode"] is True
    for method, path in (("GET", "/applications"), ("POST", "/applications"), ("DELETE", "/applications/1")):
        answer = api(gitlab, method, path, headers=API_ONLY)
        assert answer.status_code == 403
        assert answer.json() == {"message": "403 Forbidden"}
    assert api(gitlab, "GET", "/applications", headers=ADMIN).status_code == 200
    assert create(gitlab).status_code == 201
    assert api(gitlab, "GET", "/applications", headers=USER).status_code == 403


def test_admin_mode_from_the_constructor(make_gitlab):
    gitlab = make_gitlab(admin_mode=True)
    assert api(gitlab, "GET", "/applications", headers=API_ONLY).status_code == 403
    assert control(gitlab, "GET", "/state").json()["settings"] == {"version": "18.6.2", "admin_mode": True}


def test_read_api_token_reads_but_does_not_write(gitlab):
    app = create(gitlab).json()
    assert api(gitlab, "GET", "/applications", headers=READ_API).status_code == 200
    for method, path in (("POST", "/applications"), ("DELETE", f"/applications/{app['id']}")):
        answer = api(gitlab, method, path, headers=READ_API, data={"name": "x"})
        assert answer.status_code == 403
        assert answer.json() == {
            "error": "insufficient_scope", "scope": "api read_api",
            "error_description": "The request requires higher privileges than provided by the access token."}
    assert len(api(gitlab, "GET", "/applications").json()) == 1


def test_unknown_api_route_is_404(gitlab):
    for headers in (ADMIN, {}):
        answer = api(gitlab, "GET", "/nothing", headers=headers)
        assert answer.status_code == 404
        assert answer.json() == {"error": "404 Not Found"}


def test_versions_before_16_are_refused():
    for version in ("15.11.0", "eighteen"):
        with pytest.raises(ValueError):
            GitLabEmulator(version=version)


# Browser sign-in and OAuth ------------------------------------------------
class Forms(HTMLParser):
    """Forms of a page: action, fields as a browser submits them, button test ids."""

    def __init__(self, text):
        super().__init__()
        self.forms = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"attrs": attrs, "fields": {}, "inputs": {}, "buttons": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"][attrs["name"]] = attrs
            if attrs.get("type") != "checkbox":
                self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
        elif tag == "button" and self.forms:
            self.forms[-1]["buttons"].append(attrs)


def authorize_params(app, redirect_uri=REDIRECTS[1], **extra):
    params = {"client_id": app["application_id"], "redirect_uri": redirect_uri, "response_type": "code",
              "state": "xyz", "scope": "read_user"}
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def open_authorize(gitlab, browser, app, **extra):
    return browser.get(f"{gitlab.url}/oauth/authorize", params=authorize_params(app, **extra),
                       allow_redirects=False, timeout=5)


def sign_in(gitlab, browser, login=SSO[0], password=SSO[1]):
    page = browser.get(f"{gitlab.url}/users/sign_in", timeout=5)
    form = Forms(page.text).forms[0]
    form["fields"].update({"user[login]": login, "user[password]": password})
    return browser.post(f"{gitlab.url}/users/sign_in", data=form["fields"], allow_redirects=False, timeout=5)


def consent(gitlab, browser, app, **extra):
    """Signs in (if needed) and returns the consent page's two forms."""
    page = open_authorize(gitlab, browser, app, **extra)
    if page.status_code == 302:
        assert sign_in(gitlab, browser).status_code == 302
        page = open_authorize(gitlab, browser, app, **extra)
    assert page.status_code == 200
    return Forms(page.text).forms


def submit(gitlab, browser, form):
    return browser.post(f"{gitlab.url}{form['attrs']['action']}", data=form["fields"], allow_redirects=False,
                        timeout=5)


def location_query(answer):
    location = urlsplit(answer.headers["Location"])
    return f"{location.scheme}://{location.netloc}{location.path}", parse_qs(location.query)


def oauth_code(gitlab, app, browser=None, **extra):
    """The whole browser flow: consent page, Authorize, the code from the redirect."""
    browser = browser or requests.Session()
    approve = consent(gitlab, browser, app, **extra)[0]
    answer = submit(gitlab, browser, approve)
    assert answer.status_code == 302
    target, query = location_query(answer)
    assert target == extra.get("redirect_uri", REDIRECTS[1])
    assert query["state"] == ["xyz"]
    return query["code"][0]


def exchange(gitlab, app, code, secret=None, redirect_uri=REDIRECTS[1]):
    return requests.post(f"{gitlab.url}/oauth/token", timeout=5, data={
        "client_id": app["application_id"], "client_secret": secret or app["secret"],
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})


def test_authorize_without_a_session_goes_to_sign_in(gitlab):
    app = create(gitlab).json()
    browser = requests.Session()
    answer = open_authorize(gitlab, browser, app)
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{gitlab.url}/users/sign_in"
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("_gitlab_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_with_an_https_external_url(make_gitlab):
    gitlab = make_gitlab(external_url="https://gitlab.example.test")
    page = requests.get(f"{gitlab.url}/users/sign_in", timeout=5,
                        headers={"Host": "gitlab.example.test", "X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers["Set-Cookie"]


def test_sign_in_page_has_gitlabs_form(gitlab):
    page = requests.get(f"{gitlab.url}/users/sign_in", timeout=5)
    assert page.status_code == 200
    form = Forms(page.text).forms[0]
    assert form["attrs"]["id"] == "new_user" and form["attrs"]["action"] == "/users/sign_in"
    assert form["attrs"]["method"] == "post" and form["attrs"]["data-testid"] == "sign-in-form"
    assert form["inputs"]["user[login]"]["data-testid"] == "username-field"
    assert form["inputs"]["user[password]"]["type"] == "password"
    assert form["inputs"]["authenticity_token"]["type"] == "hidden" and form["fields"]["authenticity_token"]
    assert form["buttons"][0]["data-testid"] == "sign-in-button"


def test_sign_in_returns_to_authorize_and_renews_the_session(gitlab):
    app = create(gitlab).json()
    browser = requests.Session()
    open_authorize(gitlab, browser, app)
    before = browser.cookies["_gitlab_session"]
    signed_in = sign_in(gitlab, browser)
    assert signed_in.status_code == 302
    target, query = location_query(signed_in)
    assert target == f"{gitlab.url}/oauth/authorize"
    assert query["client_id"] == [app["application_id"]]
    assert browser.cookies["_gitlab_session"] != before


@pytest.mark.parametrize("login, password", [("sso.tester", "wrong"), ("nobody", SSO[1]), ("", "")])
def test_wrong_password_gives_no_session(gitlab, login, password):
    app = create(gitlab).json()
    browser = requests.Session()
    answer = sign_in(gitlab, browser, login, password)
    assert answer.status_code == 200
    assert "Invalid login or password." in answer.text
    assert open_authorize(gitlab, browser, app).status_code == 302


def test_sign_in_by_email_too(gitlab):
    assert sign_in(gitlab, requests.Session(), "SSO.Tester@example.test").status_code == 302


def test_csrf_token_is_required(gitlab):
    browser = requests.Session()
    form = Forms(browser.get(f"{gitlab.url}/users/sign_in", timeout=5).text).forms[0]["fields"]
    form.update({"user[login]": SSO[0], "user[password]": SSO[1]})
    for token in ("", "forged"):
        answer = browser.post(f"{gitlab.url}/users/sign_in", data=dict(form, authenticity_token=token),
                              allow_redirects=False, timeout=5)
        assert answer.status_code == 422
    stranger = requests.post(f"{gitlab.url}/users/sign_in", data=form, allow_redirects=False, timeout=5)
    assert stranger.status_code == 422


def test_consent_page_then_code_then_token(gitlab):
    app = create(gitlab).json()
    approve, deny = consent(gitlab, requests.Session(), app)
    assert approve["attrs"]["action"] == "/oauth/authorize" and approve["attrs"]["method"] == "post"
    assert approve["buttons"][0]["data-testid"] == "authorization-button"
    for form in (approve, deny):
        assert form["fields"]["client_id"] == app["application_id"]
        assert form["fields"]["redirect_uri"] == REDIRECTS[1]
        assert form["fields"]["state"] == "xyz" and form["fields"]["response_type"] == "code"
        assert form["fields"]["scope"] == "read_user" and form["fields"]["authenticity_token"]
    assert deny["fields"]["_method"] == "delete"
    token = exchange(gitlab, app, oauth_code(gitlab, app))
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read_user" and body["expires_in"] == 7200
    user = api(gitlab, "GET", "/user", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert user.status_code == 200
    assert (user.json()["id"], user.json()["username"], user.json()["email"]) == (
        42, "sso.tester", "sso.tester@example.test")
    # a read_user token cannot manage applications
    denied = api(gitlab, "GET", "/applications", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert denied.status_code == 403 and denied.json()["error"] == "insufficient_scope"


def test_consent_post_needs_the_csrf_token(gitlab):
    app = create(gitlab).json()
    browser = requests.Session()
    approve = consent(gitlab, browser, app)[0]
    approve["fields"]["authenticity_token"] = "forged"
    assert submit(gitlab, browser, approve).status_code == 422


def test_deny_redirects_with_access_denied(gitlab):
    app = create(gitlab).json()
    browser = requests.Session()
    deny = consent(gitlab, browser, app)[1]
    answer = submit(gitlab, browser, deny)
    assert answer.status_code == 302
    target, query = location_query(answer)
    assert target == REDIRECTS[1]
    assert query == {"error": ["access_denied"], "state": ["xyz"], "error_description": [
        "The resource owner or authorization server denied the request."]}


def test_already_authorized_gets_the_redirect_page(gitlab):
    app = create(gitlab).json()
    browser = requests.Session()
    assert exchange(gitlab, app, oauth_code(gitlab, app, browser)).status_code == 200
    again = open_authorize(gitlab, browser, app)
    assert again.status_code == 200
    assert "Click here to redirect to" in again.text and "authorization-button" not in again.text
    assert "code=" in again.text


def test_invalid_scope_shows_the_error_page_without_redirect(gitlab):
    app = create(gitlab).json()
    browser = requests.Session()
    consent(gitlab, browser, app)
    for scope in ("api", "read_user api", "unknown"):
        page = open_authorize(gitlab, browser, app, scope=scope)
        assert page.status_code == 200
        assert "An error has occurred" in page.text
        assert "The requested scope is invalid, unknown, or malformed." in page.text
        assert "Location" not in page.headers and "code=" not in page.text


def test_no_scope_asks_for_gitlabs_default_scope(gitlab):
    read_user = create(gitlab).json()
    browser = requests.Session()
    consent(gitlab, browser, read_user)
    # default_scopes (api) & the application's (read_user) is empty: invalid
    assert "The requested scope is invalid" in open_authorize(gitlab, browser, read_user, scope=None).text
    with_api = create(gitlab, scopes="api read_user").json()
    approve = Forms(open_authorize(gitlab, browser, with_api, scope=None).text).forms[0]
    assert approve["fields"]["scope"] == "api"


def test_tampered_scope_on_approval_redirects_with_invalid_scope(gitlab):
    app = create(gitlab).json()
    browser = requests.Session()
    approve = consent(gitlab, browser, app)[0]
    approve["fields"]["scope"] = "api"
    answer = submit(gitlab, browser, approve)
    assert answer.status_code == 302
    target, query = location_query(answer)
    assert target == REDIRECTS[1]
    assert query == {"error": ["invalid_scope"], "state": ["xyz"],
                     "error_description": ["The requested scope is invalid, unknown, or malformed."]}


@pytest.mark.parametrize("params, message", [
    ({"client_id": "nope"}, "Client authentication failed due to unknown client"),
    ({"redirect_uri": "http://chat.example.test/login/gitlab/complete"}, "The redirect URI included is not valid."),
    ({"response_type": "token"}, "The authorization server does not support this response type."),
])
def test_bad_authorize_requests_show_the_error_page(gitlab, params, message):
    app = create(gitlab).json()
    browser = requests.Session()
    consent(gitlab, browser, app)
    page = open_authorize(gitlab, browser, app, **params)
    assert page.status_code == 200
    assert "An error has occurred" in page.text and message in page.text
    assert "Location" not in page.headers


def test_code_is_single_use(gitlab):
    app = create(gitlab).json()
    code = oauth_code(gitlab, app)
    assert exchange(gitlab, app, code).status_code == 200
    reused = exchange(gitlab, app, code)
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant", "error_description": INVALID_GRANT}


@pytest.mark.parametrize("advance, status", [(599, 200), (601, 400)])
def test_code_expires_after_ten_minutes(gitlab, advance, status):
    app = create(gitlab).json()
    code = oauth_code(gitlab, app)
    assert control(gitlab, "POST", "/clock", json={"advance": advance}).status_code == 200
    assert exchange(gitlab, app, code).status_code == status


def test_access_token_expires_after_two_hours(gitlab):
    app = create(gitlab).json()
    access = exchange(gitlab, app, oauth_code(gitlab, app)).json()["access_token"]
    control(gitlab, "POST", "/clock", json={"advance": 7201})
    answer = api(gitlab, "GET", "/user", headers={"Authorization": f"Bearer {access}"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_token"


def test_token_endpoint_checks_the_client_before_the_grant(gitlab):
    app = create(gitlab).json()
    other = create(gitlab, name="other").json()
    for client, secret in ((app, "gloas-wrong"), ({"application_id": "nope"}, app["secret"]), (other, None)):
        answer = exchange(gitlab, client, "bogus-code", secret=secret or other["secret"])
        expected = (400, "invalid_grant") if client is other else (401, "invalid_client")
        assert (answer.status_code, answer.json()["error"]) == expected
    wrong = exchange(gitlab, app, "bogus", secret="gloas-wrong")
    assert wrong.json() == {"error": "invalid_client", "error_description": INVALID_CLIENT}
    code = oauth_code(gitlab, app)
    assert exchange(gitlab, other, code).json()["error"] == "invalid_grant"
    assert exchange(gitlab, app, code, redirect_uri=REDIRECTS[0]).json()["error"] == "invalid_grant"
    assert control(gitlab, "GET", "/state").json()["access_tokens"] == 0
    assert exchange(gitlab, app, code).status_code == 200


def test_token_endpoint_request_errors(gitlab):
    app = create(gitlab).json()
    base = {"client_id": app["application_id"], "client_secret": app["secret"], "code": "x",
            "redirect_uri": REDIRECTS[1], "grant_type": "authorization_code"}
    cases = (({"grant_type": ""}, "invalid_request"), ({"grant_type": "password"}, "unsupported_grant_type"),
             ({"redirect_uri": "", "client_secret": "wrong"}, "invalid_request"))
    for change, error in cases:
        answer = requests.post(f"{gitlab.url}/oauth/token", data=dict(base, **change), timeout=5)
        assert (answer.status_code, answer.json()["error"]) == (400, error)


def test_token_accepts_http_basic_client_auth(gitlab):
    app = create(gitlab).json()
    code = oauth_code(gitlab, app)
    basic = base64.b64encode(f"{app['application_id']}:{app['secret']}".encode()).decode()
    answer = requests.post(f"{gitlab.url}/oauth/token", timeout=5, headers={"Authorization": f"Basic {basic}"},
                           data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECTS[1]})
    assert answer.status_code == 200


def test_secret_changed_behind_the_clients_back(make_gitlab):
    gitlab = make_gitlab(version="16.10.0")
    app = create(gitlab).json()
    changed = control(gitlab, "POST", f"/applications/{app['id']}/secret")
    assert changed.status_code == 200
    secret = changed.json()["secret"]
    assert secret.startswith("gloas-") and secret != app["secret"]
    stored = control(gitlab, "GET", "/state").json()["applications"][0]
    assert (stored["application_id"], stored["secret"]) == (app["application_id"], secret)
    assert exchange(gitlab, app, oauth_code(gitlab, app)).status_code == 401
    assert exchange(gitlab, app, oauth_code(gitlab, app), secret=secret).status_code == 200
    assert control(gitlab, "POST", "/applications/999/secret").status_code == 404


# Test control -----------------------------------------------------------------
def test_settings_change_and_reset_restores_the_start(make_gitlab):
    gitlab = make_gitlab(version="17.11.4")
    create(gitlab)
    changed = control(gitlab, "PUT", "/settings", json={"version": "16.10.0", "admin_mode": True})
    assert changed.json() == {"version": "16.10.0", "admin_mode": True}
    assert api(gitlab, "GET", "/version").json()["version"] == "16.10.0"
    assert api(gitlab, "POST", "/applications/1/renew-secret").status_code == 404
    for bad in ({"version": "15.0.0"}, {"admin_mode": "yes"}, {"colour": "blue"}):
        assert control(gitlab, "PUT", "/settings", json=bad).status_code == 400
    control(gitlab, "POST", "/clock", json={"advance": 100})
    assert control(gitlab, "POST", "/reset").status_code == 204
    state = control(gitlab, "GET", "/state").json()
    assert state["settings"] == {"version": "17.11.4", "admin_mode": False}
    assert state["applications"] == [] and state["access_tokens"] == 0
    assert gitlab.state.clock_offset == 0


def test_fault_injection_status_and_delay(gitlab):
    control(gitlab, "POST", "/faults",
            json={"path_regex": "^/api/v4/applications", "method": "GET", "status": 500, "count": 1})
    failed = api(gitlab, "GET", "/applications")
    assert failed.status_code == 500
    assert failed.json() == {"message": "500 Internal Server Error"}
    assert api(gitlab, "GET", "/applications").status_code == 200
    control(gitlab, "POST", "/faults", json={"path_regex": "^/api/v4/applications", "delay": 2, "count": 1})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{gitlab.url}/api/v4/applications", headers=ADMIN, timeout=0.5)
    time.sleep(2)


def test_request_log_counts_api_calls(gitlab):
    api(gitlab, "GET", "/applications")
    create(gitlab)
    log = control(gitlab, "GET", "/requests").json()
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("GET", "/api/v4/applications", 200), ("POST", "/api/v4/applications", 201)]


def test_state_file_survives_restart(tmp_path, make_gitlab):
    state_file = str(tmp_path / "state.json")
    first = GitLabEmulator(state_file=state_file)
    first.start()
    app = create(first).json()
    first.stop()
    second = make_gitlab(state_file=state_file)
    listed = api(second, "GET", "/applications").json()
    assert [a["application_id"] for a in listed] == [app["application_id"]]


# tests/integration/sso_login.py against the emulator and a Mattermost stand-in
def load_sso_login():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "integration", "sso_login.py")
    spec = importlib.util.spec_from_file_location("sso_login", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeMattermost(BaseHTTPRequestHandler):
    """Mattermost's side of GitLab SSO: /oauth/gitlab/login, the callback
    exchanging the code and reading /api/v4/user, MMAUTHTOKEN, /users/me."""

    def log_message(self, fmt, *args):
        pass

    def _answer(self, status, body=b"", headers=None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        server = self.server
        if url.path == "/oauth/gitlab/login":
            params = {"response_type": "code", "client_id": server.app["application_id"],
                      "redirect_uri": server.callback, "state": "st", "scope": server.scope}
            location = f"{server.gitlab}/oauth/authorize?" + urllib.parse.urlencode(params)
            self._answer(302, headers={"Location": location})
        elif url.path == "/signup/gitlab/complete" and "code" in query:
            data = urllib.parse.urlencode({"client_id": server.app["application_id"],
                                           "client_secret": server.app["secret"], "code": query["code"],
                                           "grant_type": "authorization_code",
                                           "redirect_uri": server.callback}).encode()
            with urllib.request.urlopen(f"{server.gitlab}/oauth/token", data=data, timeout=5) as answer:
                access = json.loads(answer.read())["access_token"]
            request = urllib.request.Request(f"{server.gitlab}/api/v4/user",
                                             headers={"Authorization": f"Bearer {access}"})
            with urllib.request.urlopen(request, timeout=5) as answer:
                server.me = json.loads(answer.read())
            self._answer(302, headers={"Location": "/", "Set-Cookie": "MMAUTHTOKEN=mm-session; Path=/"})
        elif url.path == "/signup/gitlab/complete":
            self._answer(302, headers={"Location": "/error?type=oauth_failed"})
        elif url.path == "/api/v4/users/me" and self.headers.get("Authorization") == "Bearer mm-session":
            me = server.me
            body = {"id": "mm1", "username": me["username"], "email": me["email"], "auth_service": "gitlab",
                    "auth_data": str(me["id"])}
            self._answer(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
        else:
            self._answer(200, b"<html><body>Mattermost</body></html>", {"Content-Type": "text/html"})


@pytest.fixture
def mattermost(gitlab):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeMattermost)
    site = f"http://127.0.0.1:{server.server_address[1]}"
    server.gitlab, server.callback, server.scope = gitlab.url, f"{site}/signup/gitlab/complete", "read_user"
    server.app = gitlab.state.create_application(
        {"name": "Mattermost", "redirect_uri": server.callback, "scopes": "read_user"})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.site = site
    yield server
    server.shutdown()
    server.server_close()


def test_sso_login_signs_in_through_gitlabs_pages(mattermost, capsys):
    assert load_sso_login().main([mattermost.site]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["user"] == {"id": "mm1", "username": "sso.tester", "email": "sso.tester@example.test",
                               "auth_service": "gitlab", "auth_data": "42"}
    paths = [(hop["method"], urlsplit(hop["url"]).path) for hop in printed["hops"]]
    assert ("POST", "/users/sign_in") in paths and ("POST", "/oauth/authorize") in paths


def test_sso_login_reports_a_wrong_password(mattermost, capsys):
    assert load_sso_login().main([mattermost.site, "--password", "wrong"]) == 1
    diagnosis = json.loads(capsys.readouterr().err)
    assert "Invalid login or password." in diagnosis["error"]


def test_sso_login_reports_gitlabs_error_page(mattermost, capsys):
    mattermost.scope = "api"
    assert load_sso_login().main([mattermost.site]) == 1
    diagnosis = json.loads(capsys.readouterr().err)
    assert diagnosis["gitlab_error"] == {
        "error_description": "The requested scope is invalid, unknown, or malformed."}


def test_callback_urls_edited_in_the_admin_area(gitlab):
    """Same client id and secret; the old redirect URI is refused, the new one gets a code."""
    app = create(gitlab).json()
    new = ["https://chat2.example.test/signup/gitlab/complete", "https://chat2.example.test/login/gitlab/complete"]
    answer = control(gitlab, "PUT", f"/applications/{app['id']}", json={"redirect_uri": "\n".join(new)})
    assert answer.status_code == 200
    assert answer.json()["application_id"] == app["application_id"]
    assert answer.json()["callback_url"] == "\n".join(new)
    assert "secret" not in answer.json()
    browser = requests.Session()
    old = open_authorize(gitlab, browser, app)
    if old.status_code == 302:
        assert sign_in(gitlab, browser).status_code == 302
        old = open_authorize(gitlab, browser, app)
    assert "The redirect URI included is not valid." in old.text
    assert oauth_code(gitlab, app, browser, redirect_uri=new[1])
    refused = control(gitlab, "PUT", f"/applications/{app['id']}", json={"redirect_uri": "not a uri"})
    assert refused.status_code == 400
