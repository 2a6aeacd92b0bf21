"""The GitLab emulator's Mattermost integrations answer as GitLab does (never
kinder): field names, masking, permissions, the URL blocker and allowlist, the
slash-command trigger and the events it fires at a webhook."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests

from tests.emulators.gitlab_emulator import GitLabEmulator

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
                          data={"token": "right", "team_id": "t", "user_id": "u", "text": "help",
                                "command": "/gitlab"}, timeout=10)
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
