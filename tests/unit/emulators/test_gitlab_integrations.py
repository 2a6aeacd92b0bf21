"""The GitLab emulator's Mattermost integrations answer as GitLab does (never
kinder): field names, masking, permissions, the URL blocker and allowlist, the
slash-command trigger and the events it fires at a webhook."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.emulators.gitlab_emulator import DEFAULT_USERS, GitLabEmulator
from tests.unit.emulators.test_gitlab_emulator import Forms, sign_in

ADMIN = {"PRIVATE-TOKEN": "glpat-admin-token"}
ADMIN_API_ONLY = {"PRIVATE-TOKEN": "glpat-admin-api-only"}
DEVELOPER = {"PRIVATE-TOKEN": "glpat-user-token"}


@pytest.fixture
def gitlab():
    emulator = GitLabEmulator()
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def hook():
    """A stand-in Mattermost incoming webhook on the loopback: records what it is sent."""
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"type": self.headers["Content-Type"], "form": parse_qs(raw.decode())})
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/hook1d", received
    server.shutdown()
    server.server_close()


def call(gitlab, method, path, headers=None, **kwargs):
    return requests.request(method, gitlab.url + "/api/v4" + path, headers=headers or ADMIN, timeout=10, **kwargs)


def allow_loopback(gitlab):
    answer = call(gitlab, "PUT", "/application/settings", json={"outbound_local_requests_allowlist_raw": "127.0.0.1"})
    assert answer.status_code == 200


@pytest.mark.parametrize("project", ["1", "group%2Fapp", "GROUP%2Fapp"])
@pytest.mark.parametrize("slug", ["mattermost", "mattermost-slash-commands"])
def test_never_saved_integration_is_not_found(gitlab, project, slug):
    answer = call(gitlab, "GET", f"/projects/{project}/integrations/{slug}")
    assert (answer.status_code, answer.json()) == (404, {"message": "404 Integration Not Found"})


@pytest.mark.parametrize("path, headers, status, body", [
    ("/projects/99/integrations/mattermost", ADMIN, 404, {"message": "404 Project Not Found"}),
    ("/projects/group%2Fnope/integrations/mattermost", ADMIN, 404, {"message": "404 Project Not Found"}),
    ("/groups/nope/integrations/mattermost", ADMIN, 404, {"message": "404 Group Not Found"}),
    ("/projects/1/integrations/mattermost", DEVELOPER, 403, {"message": "403 Forbidden"}),
    ("/groups/group/integrations/mattermost", DEVELOPER, 403, {"message": "403 Forbidden"}),
    # Admin Mode on: an admin's token without admin_mode is an ordinary user, not a member.
    ("/projects/1/integrations/mattermost", ADMIN_API_ONLY, 404, {"message": "404 Project Not Found"}),
    ("/projects/1/integrations/mattermost", {"PRIVATE-TOKEN": "nope"}, 401, {"message": "401 Unauthorized"}),
    ("/groups/group/services/mattermost", ADMIN, 404, {"error": "404 Not Found"}),
    ("/projects/1/integrations/slack", ADMIN, 404, {"error": "404 Not Found"}),
])
def test_lookup_and_permission_errors(path, headers, status, body):
    emulator = GitLabEmulator(admin_mode=True)
    emulator.start()
    try:
        answer = call(emulator, "PUT", path, headers=headers, json={"webhook": "https://chat.example.com/hooks/x"})
        assert (answer.status_code, answer.json()) == (status, body)
    finally:
        emulator.stop()


def test_group_integrations_need_17_9():
    emulator = GitLabEmulator(version="17.8.0")
    emulator.start()
    try:
        answer = call(emulator, "GET", "/groups/10/integrations/mattermost")
        assert (answer.status_code, answer.json()) == (404, {"error": "404 Not Found"})
    finally:
        emulator.stop()


@pytest.mark.parametrize("body, error", [
    ({"username": "gitlab"}, "webhook is missing"),
    ({"webhook": "https://chat.example.com/hooks/x", "push_events": "maybe"}, "push_events is invalid"),
    ({"webhook": "https://chat.example.com/hooks/x", "notify_only_broken_pipelines": "yes please"},
     "notify_only_broken_pipelines is invalid"),
])
def test_grape_rejects_bad_parameters(gitlab, body, error):
    answer = call(gitlab, "PUT", "/projects/1/integrations/mattermost", json=body)
    assert (answer.status_code, answer.json()) == (400, {"error": error})


@pytest.mark.parametrize("version, webhook, message", [
    ("18.6.2", "http://127.0.0.1:9/hooks/x",
     'Failed to update integration. {:webhook=>["is blocked: Requests to localhost are not allowed"]}'),
    ("18.6.2", "http://10.0.0.1/hooks/x",
     'Failed to update integration. {:webhook=>["is blocked: Requests to the local network are not allowed"]}'),
    ("18.6.2", "ftp://chat.example.com/hooks/x",
     'Failed to update integration. {:webhook=>["is blocked: Only allowed schemes are http, https"]}'),
    ("17.1.0", "http://127.0.0.1:9/hooks/x", "400 Bad Request"),
])
def test_webhook_on_a_private_address_is_blocked(version, webhook, message):
    emulator = GitLabEmulator(version=version)
    emulator.start()
    try:
        answer = call(emulator, "PUT", "/projects/1/integrations/mattermost", json={"webhook": webhook})
        assert (answer.status_code, answer.json()) == (400, {"message": message})
    finally:
        emulator.stop()


@pytest.mark.parametrize("entries, allowed", [
    ("127.0.0.1", True), ("127.0.0.0/8", True), ("localhost", False), ("127.0.0.1:9", True),
    ("127.0.0.1:10", False), ("10.0.0.1", False), ("chat.example.com;127.0.0.1", True),
])
def test_allowlist(gitlab, entries, allowed):
    assert call(gitlab, "PUT", "/application/settings",
                json={"outbound_local_requests_allowlist_raw": entries}).status_code == 200
    answer = call(gitlab, "PUT", "/projects/1/integrations/mattermost", json={"webhook": "http://127.0.0.1:9/hooks/x"})
    assert (answer.status_code == 200) is allowed


def test_application_settings_need_an_admin(gitlab):
    answer = call(gitlab, "PUT", "/application/settings", headers=DEVELOPER,
                  json={"outbound_local_requests_whitelist": ["127.0.0.1"]})
    assert (answer.status_code, answer.json()) == (403, {"message": "403 Forbidden"})
    answer = call(gitlab, "PUT", "/application/settings", json={"outbound_local_requests_whitelist": ["a", "a", "b"]})
    assert answer.json()["outbound_local_requests_whitelist"] == ["a", "b"]
    assert call(gitlab, "GET", "/application/settings").json()["outbound_local_requests_whitelist"] == ["a", "b"]


def test_put_is_partial_and_get_hides_the_webhook(gitlab, hook):
    allow_loopback(gitlab)
    webhook, _received = hook
    first = call(gitlab, "PUT", "/projects/group%2Fapp/integrations/mattermost",
                 json={"webhook": webhook, "username": "gitlab", "channel": "app-events", "push_events": False,
                       "no_such_parameter": "dropped"})
    assert first.status_code == 200
    second = call(gitlab, "PUT", "/projects/1/services/mattermost", json={"webhook": webhook, "username": "gl"})
    data = call(gitlab, "GET", "/projects/1/integrations/mattermost").json()
    assert second.json() == data
    assert data["active"] is True and data["push_events"] is False and data["slug"] == "mattermost"
    assert data["title"] == "Mattermost notifications"
    assert "webhook" not in data["properties"] and webhook not in json.dumps(data)
    assert data["properties"]["username"] == "gl" and data["properties"]["channel"] == "app-events"
    assert data["properties"]["branches_to_be_notified"] == "default"
    assert data["properties"]["notify_only_broken_pipelines"] is True
    assert data["properties"]["pipeline_channel"] is None and "no_such_parameter" not in data["properties"]


def test_token_is_never_returned(gitlab):
    answer = call(gitlab, "PUT", "/projects/1/integrations/mattermost-slash-commands", json={"token": "s3cr3t"})
    assert answer.status_code == 200 and answer.json()["properties"] == {}
    assert "s3cr3t" not in call(gitlab, "GET", "/projects/1/integrations/mattermost-slash-commands").text
    missing = call(gitlab, "PUT", "/projects/1/integrations/mattermost-slash-commands", json={})
    assert (missing.status_code, missing.json()) == (400, {"error": "token is missing"})


def test_delete_keeps_the_row_inactive_and_empty(gitlab, hook):
    allow_loopback(gitlab)
    call(gitlab, "PUT", "/projects/1/integrations/mattermost", json={"webhook": hook[0], "username": "gitlab"})
    assert call(gitlab, "DELETE", "/projects/1/integrations/mattermost").status_code == 204
    data = call(gitlab, "GET", "/projects/1/integrations/mattermost").json()
    assert data["active"] is False
    assert set(data["properties"].values()) == {None}
    # A later PUT does not bring the defaults back.
    again = call(gitlab, "PUT", "/projects/1/integrations/mattermost", json={"webhook": hook[0]})
    assert again.status_code == 400


def test_group_settings_are_inherited_by_projects_without_their_own(gitlab, hook):
    allow_loopback(gitlab)
    answer = call(gitlab, "PUT", "/groups/group/integrations/mattermost", json={"webhook": hook[0], "username": "grp"})
    assert answer.status_code == 200 and answer.json()["inherited"] is False
    project = call(gitlab, "GET", "/projects/1/integrations/mattermost").json()
    assert project["inherited"] is True and project["properties"]["username"] == "grp"
    own = call(gitlab, "PUT", "/projects/1/integrations/mattermost", json={"webhook": hook[0], "username": "own"})
    assert own.json()["inherited"] is False
    call(gitlab, "PUT", "/groups/10/integrations/mattermost", json={"webhook": hook[0], "username": "grp2"})
    assert call(gitlab, "GET", "/projects/1/integrations/mattermost").json()["properties"]["username"] == "own"


CHAT_USER = {"team_id": "t", "team_domain": "dev", "user_id": "u", "user_name": "sso.tester"}


def trigger(gitlab, text, chat_user=None):
    reply = requests.post(gitlab.url + "/api/v4/projects/1/integrations/mattermost_slash_commands/trigger",
                          data=dict(chat_user or CHAT_USER, token="right", text=text, command="/gitlab"), timeout=10)
    assert reply.status_code == 200
    return reply.json()


@pytest.mark.parametrize("body, status, answer", [
    ({"text": "help"}, 400, {"error": "token is missing"}),
    ({"token": "wrong"}, 404, {"message": "404 Integration Not Found"}),
])
def test_trigger_refuses(gitlab, body, status, answer):
    call(gitlab, "PUT", "/projects/1/integrations/mattermost-slash-commands", json={"token": "right"})
    reply = requests.post(gitlab.url + "/api/v4/projects/1/integrations/mattermost_slash_commands/trigger",
                          data=body, timeout=10)
    assert (reply.status_code, reply.json()) == (status, answer)


@pytest.mark.parametrize("project", ["1", "group%2Fapp", "99"])
def test_trigger_with_the_right_token(gitlab, project):
    call(gitlab, "PUT", "/projects/1/integrations/mattermost-slash-commands", json={"token": "right"})
    reply = requests.post(f"{gitlab.url}/api/v4/projects/{project}/integrations/mattermost_slash_commands/trigger",
                          data=dict(CHAT_USER, token="right", text="help", command="/gitlab"), timeout=10)
    if project == "99":
        assert (reply.status_code, reply.json()) == (404, {"message": "404 Integration Not Found"})
        return
    assert reply.status_code == 200
    data = reply.json()
    assert data["response_type"] == "ephemeral" and data["status"] == 200
    assert "connect your GitLab account" in data["text"]
    # Inactive (deleted) integration: the token no longer works.
    call(gitlab, "DELETE", "/projects/1/integrations/mattermost-slash-commands")
    assert requests.post(f"{gitlab.url}/api/v4/projects/1/integrations/mattermost_slash_commands/trigger",
                         data={"token": "right"}, timeout=10).status_code == 404


def test_unidentified_chat_user_gets_no_link(gitlab):
    """AuthorizeUserService needs team_id, team_domain, user_id and user_name."""
    call(gitlab, "PUT", "/projects/1/integrations/mattermost-slash-commands", json={"token": "right"})
    reply = trigger(gitlab, "help", {"team_id": "t", "user_id": "u"})
    assert reply == {"response_type": "ephemeral", "status": 200,
                     "text": ":sweat_smile: Couldn't identify you, nor can I authorize you!"}


def test_linked_chat_user_gets_the_help(gitlab):
    call(gitlab, "PUT", "/projects/1/integrations/mattermost-slash-commands", json={"token": "right"})
    requests.post(gitlab.url + "/-/emulator/chat_names", json={"team_id": "t", "user_id": "u", "username": "root"},
                  timeout=10)
    reply = requests.post(gitlab.url + "/api/v4/projects/1/integrations/mattermost_slash_commands/trigger",
                          data={"token": "right", "team_id": "t", "user_id": "u", "command": "/gl"}, timeout=10)
    assert "/gl issue show <id>" in reply.json()["text"]


def test_events_post_gitlab_messages_as_a_form(gitlab, hook):
    allow_loopback(gitlab)
    webhook, received = hook
    call(gitlab, "PUT", "/projects/1/integrations/mattermost",
         json={"webhook": webhook, "username": "gitlab", "channel": "app-events", "pipeline_channel": "ci"})
    fired = requests.post(gitlab.url + "/-/emulator/projects/group%2Fapp/events",
                          json={"events": ["push", "merge_request", "pipeline"]}, timeout=10).json()
    assert [(f["event"], f["sent"], f["status"]) for f in fired] == [
        ("push", True, 200), ("merge_request", True, 200), ("pipeline", True, 200)]
    assert all(r["type"] == "application/x-www-form-urlencoded" for r in received)
    push, merge, pipeline = (json.loads(r["form"]["payload"][0]) for r in received)
    assert push["username"] == "gitlab" and push["channel"] == "app-events"
    assert push["text"].startswith("Administrator (root) pushed to branch <")
    assert "|Compare changes>)" in push["text"] and push["attachments"][0]["color"] == "#345"
    assert "opened merge request" in merge["text"]
    assert pipeline["channel"] == "ci" and pipeline["text"] == ""
    attachment = pipeline["attachments"][0]
    assert attachment["color"] == "danger" and attachment["title"] == "Pipeline #7 has failed in 02:10"
    assert [f["title"] for f in attachment["fields"]] == ["Branch", "Commit", "Failed stage", "Failed job"]


def test_events_respect_switches_branches_and_the_blocker(gitlab, hook):
    allow_loopback(gitlab)
    webhook, received = hook
    call(gitlab, "PUT", "/projects/1/integrations/mattermost", json={"webhook": webhook, "push_events": False})
    fired = requests.post(gitlab.url + "/-/emulator/projects/1/events",
                          json={"events": ["push", "pipeline"], "ref": "feature"}, timeout=10).json()
    assert [f["sent"] for f in fired] == [False, False] and received == []
    call(gitlab, "PUT", "/application/settings", json={"outbound_local_requests_whitelist": []})
    fired = requests.post(gitlab.url + "/-/emulator/projects/1/events", json={"events": ["pipeline"]},
                          timeout=10).json()
    assert fired[0]["sent"] is False and fired[0]["reason"].startswith("blocked")


# Issues and `issue show` ---------------------------------------------------------
OUTSIDER = {"id": 7, "username": "outsider", "name": "Outsider", "email": "outsider@example.test",
            "password": "outsider-Pa55word", "tokens": [{"token": "glpat-outsider", "scopes": ["api"]}]}


@pytest.mark.parametrize("path, headers, body, status, answer", [
    ("/projects/99/issues", ADMIN, {"title": "x"}, 404, {"message": "404 Project Not Found"}),
    ("/projects/1/issues", ADMIN, {}, 400, {"error": "title is missing"}),
    ("/projects/1/issues", ADMIN, {"title": "x", "confidential": "maybe"}, 400, {"error": "confidential is invalid"}),
    ("/projects/1/issues", {"PRIVATE-TOKEN": "nope"}, {"title": "x"}, 401, {"message": "401 Unauthorized"}),
    ("/projects/1/issues", {"PRIVATE-TOKEN": "glpat-outsider"}, {"title": "x"}, 404, {"message": "404 Project Not Found"}),
])
def test_issue_creation_refuses(path, headers, body, status, answer):
    gitlab = GitLabEmulator(users=DEFAULT_USERS + [OUTSIDER]).start()
    try:
        reply = call(gitlab, "POST", path, headers=headers, json=body)
        assert (reply.status_code, reply.json()) == (status, answer)
    finally:
        gitlab.stop()


def test_issues_get_iids_per_project(gitlab):
    first = call(gitlab, "POST", "/projects/group%2Fapp/issues", json={"title": "Release 2.0", "labels": "a,b"})
    second = call(gitlab, "POST", "/projects/1/issues", headers=DEVELOPER, json={"title": "Second"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["iid"], second.json()["iid"]) == (1, 2)
    assert first.json()["labels"] == ["a", "b"] and first.json()["state"] == "opened"
    assert first.json()["web_url"].endswith("/group/app/-/issues/1")


def link(gitlab, username="sso.tester", chat_user=None):
    chat_user = chat_user or CHAT_USER
    requests.post(gitlab.url + "/-/emulator/chat_names", timeout=10,
                  json={"team_id": chat_user["team_id"], "user_id": chat_user["user_id"], "username": username})


@pytest.mark.parametrize("text", ["issue show 1", "issue show #1", "issue   show 1 please"])
def test_issue_show_answers_in_the_channel(gitlab, text):
    call(gitlab, "PUT", "/projects/1/integrations/mattermost-slash-commands", json={"token": "right"})
    call(gitlab, "POST", "/projects/1/issues", json={"title": "Release 2.0", "labels": "release"})
    link(gitlab)
    reply = trigger(gitlab, text)
    assert reply["response_type"] == "in_channel" and reply["status"] == 200
    attachment = reply["attachments"][0]
    assert attachment["title"] == "Release 2.0 · #1"
    assert attachment["pretext"] == "Issue *#1* from Group / App"
    assert attachment["fallback"] == "Issue #1: Release 2.0"
    assert attachment["title_link"] == gitlab.url + "/group/app/-/issues/1"
    assert attachment["text"] == "**Open**" and attachment["color"] == "#38ae67"
    assert {f["title"]: f["value"] for f in attachment["fields"]} == {
        "Assignee": "_None_", "Milestone": "_None_", "Labels": "release"}


def test_issue_show_keeps_what_the_user_may_not_see():
    """Confidential: ephemeral; unknown iid or a project the user cannot see: GitLab's 404 text, ephemeral."""
    gitlab = GitLabEmulator(users=DEFAULT_USERS + [OUTSIDER]).start()
    try:
        call(gitlab, "PUT", "/projects/1/integrations/mattermost-slash-commands", json={"token": "right"})
        call(gitlab, "POST", "/projects/1/issues", json={"title": "Open"})
        call(gitlab, "POST", "/projects/1/issues", json={"title": "Secret", "confidential": True})
        link(gitlab)
        assert trigger(gitlab, "issue show 2")["response_type"] == "ephemeral"
        assert trigger(gitlab, "issue show 2")["attachments"][0]["title"] == "Secret · #2"
        not_found = {"response_type": "ephemeral", "status": 200,
                     "text": "404 not found! GitLab couldn't find what you were looking for! :boom:"}
        assert trigger(gitlab, "issue show 3") == not_found
        outsider = dict(CHAT_USER, user_id="o", user_name="outsider")
        link(gitlab, "outsider", outsider)
        assert trigger(gitlab, "issue show 1", outsider) == not_found
    finally:
        gitlab.stop()


# Linking a chat user: GitLab's page, signed in, single-use token -------------
def connect_link(gitlab):
    text = trigger(gitlab, "help")["text"]
    return re.search(r"\[connect your GitLab account\]\(([^)]+)\)", text).group(1)


def signed_in_browser(gitlab):
    browser = requests.Session()
    assert sign_in(gitlab, browser).status_code == 302
    return browser


@pytest.mark.parametrize("version, path", [("18.6.2", "/-/user_settings/integration_accounts"),
                                           ("16.11.0", "/-/profile/chat_names")])
def test_a_signed_in_user_links_the_chat_user_once(version, path):
    gitlab = GitLabEmulator(version=version).start()
    try:
        call(gitlab, "PUT", "/projects/1/integrations/mattermost-slash-commands", json={"token": "right"})
        call(gitlab, "POST", "/projects/1/issues", json={"title": "Release 2.0"})
        url = connect_link(gitlab)
        assert urlsplit(url).path == path + "/new" and len(parse_qs(urlsplit(url).query)["token"][0]) == 50
        # Signed out: to the sign-in page; the other version's path does not exist.
        anonymous = requests.get(url, allow_redirects=False, timeout=5)
        assert (anonymous.status_code, anonymous.headers["Location"]) == (302, gitlab.url + "/users/sign_in")
        other = "/-/profile/chat_names" if path.startswith("/-/user_settings") else "/-/user_settings/integration_accounts"
        browser = signed_in_browser(gitlab)
        assert browser.get(url.replace(path, other), allow_redirects=False, timeout=5).status_code == 404
        page = browser.get(url, allow_redirects=False, timeout=5)
        assert page.status_code == 200
        authorize, deny = Forms(page.text).forms
        assert (authorize["attrs"]["action"], deny["attrs"]["action"], deny["fields"]["_method"]) == (
            path, path + "/deny", "delete")
        # CSRF first.
        forged = dict(authorize["fields"], authenticity_token="forged")
        assert browser.post(gitlab.url + path, data=forged, allow_redirects=False, timeout=5).status_code == 422
        done = browser.post(gitlab.url + path, data=authorize["fields"], allow_redirects=False, timeout=5)
        assert (done.status_code, done.headers["Location"]) == (302, gitlab.url + path)
        assert trigger(gitlab, "issue show 1")["response_type"] == "in_channel"
        # Single use: the page and the form are gone.
        assert browser.get(url, allow_redirects=False, timeout=5).status_code == 404
        assert browser.post(gitlab.url + path, data=authorize["fields"], allow_redirects=False,
                            timeout=5).status_code == 404
    finally:
        gitlab.stop()


def test_link_expires_after_ten_minutes_and_deny_links_nothing(gitlab):
    call(gitlab, "PUT", "/projects/1/integrations/mattermost-slash-commands", json={"token": "right"})
    browser = signed_in_browser(gitlab)
    expired = connect_link(gitlab)
    requests.post(gitlab.url + "/-/emulator/clock", json={"advance": 601}, timeout=5)
    assert browser.get(expired, allow_redirects=False, timeout=5).status_code == 404
    url = connect_link(gitlab)
    deny = Forms(browser.get(url, timeout=5).text).forms[1]
    answer = browser.post(gitlab.url + deny["attrs"]["action"], data=deny["fields"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    assert browser.get(url, allow_redirects=False, timeout=5).status_code == 404
    assert "connect your GitLab account" in trigger(gitlab, "issue show 1")["text"]
