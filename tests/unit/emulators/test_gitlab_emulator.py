"""The GitLab emulator answers as GitLab does: the tests of the collection's
module and of GitLab SSO are only as true as this."""

import base64
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.emulators.gitlab_emulator import GitLabEmulator

ADMIN = {"PRIVATE-TOKEN": "glpat-admin-token"}
REDIRECTS = ["https://chat.example.test/signup/gitlab/complete",
             "https://chat.example.test/login/gitlab/complete"]


@pytest.fixture
def gitlab():
    emulator = GitLabEmulator()
    emulator.start()
    yield emulator
    emulator.stop()


def create(gitlab, name="GitLab Mattermost", **extra):
    data = {"name": name, "redirect_uri": "\n".join(REDIRECTS), "scopes": "read_user", **extra}
    return requests.post(f"{gitlab.url}/api/v4/applications", headers=ADMIN, data=data, timeout=5)


def test_admin_token_in_either_header(gitlab):
    for headers in (ADMIN, {"Authorization": "Bearer glpat-admin-token"}):
        answer = requests.get(f"{gitlab.url}/api/v4/applications", headers=headers, timeout=5)
        assert answer.status_code == 200
        assert answer.json() == []


def test_missing_or_unknown_token_is_401(gitlab):
    for headers in ({}, {"PRIVATE-TOKEN": "glpat-wrong"}):
        answer = requests.get(f"{gitlab.url}/api/v4/applications", headers=headers, timeout=5)
        assert answer.status_code == 401
        assert answer.json() == {"message": "401 Unauthorized"}


def test_non_admin_token_is_403(gitlab):
    answer = requests.get(f"{gitlab.url}/api/v4/applications",
                          headers={"PRIVATE-TOKEN": "glpat-user-token"}, timeout=5)
    assert answer.status_code == 403
    assert answer.json() == {"message": "403 Forbidden"}


def test_create_list_delete(gitlab):
    created = create(gitlab)
    assert created.status_code == 201
    app = created.json()
    assert app["secret"].startswith("gloas-")
    assert len(app["application_id"]) == 64
    assert app["callback_url"] == "\n".join(REDIRECTS)
    assert app["confidential"] is True
    listed = requests.get(f"{gitlab.url}/api/v4/applications", headers=ADMIN, timeout=5).json()
    assert [a["id"] for a in listed] == [app["id"]]
    assert "secret" not in listed[0]
    assert listed[0]["scopes"] == ["read_user"]
    deleted = requests.delete(f"{gitlab.url}/api/v4/applications/{app['id']}", headers=ADMIN, timeout=5)
    assert deleted.status_code == 204
    again = requests.delete(f"{gitlab.url}/api/v4/applications/{app['id']}", headers=ADMIN, timeout=5)
    assert again.status_code == 404
    assert again.json() == {"message": "404 Application Not Found"}


def test_confidential_false_and_json_body(gitlab):
    answer = requests.post(f"{gitlab.url}/api/v4/applications", headers=ADMIN, timeout=5, json={
        "name": "public", "redirect_uri": REDIRECTS[0], "scopes": "openid profile", "confidential": False})
    assert answer.status_code == 201
    assert answer.json()["confidential"] is False


@pytest.mark.parametrize("data, error", [
    ({"redirect_uri": REDIRECTS[0], "scopes": "read_user"}, {"error": "name is missing"}),
    ({"name": "x", "scopes": "read_user"}, {"error": "redirect_uri is missing"}),
    ({"name": "x", "redirect_uri": "not-a-uri", "scopes": "read_user"},
     {"message": {"redirect_uri": ["must be an absolute URI."]}}),
    ({"name": "x", "redirect_uri": REDIRECTS[0], "scopes": "read_everything"},
     {"message": {"scopes": ["doesn't match configured on the server."]}}),
])
def test_bad_input_is_400_with_field_errors(gitlab, data, error):
    answer = requests.post(f"{gitlab.url}/api/v4/applications", headers=ADMIN, data=data, timeout=5)
    assert answer.status_code == 400
    assert answer.json() == error


def test_pagination_headers(gitlab):
    for number in range(23):
        create(gitlab, name=f"app-{number}")
    first = requests.get(f"{gitlab.url}/api/v4/applications", headers=ADMIN, timeout=5)
    assert len(first.json()) == 20
    assert first.headers["X-Total"] == "23"
    assert first.headers["X-Total-Pages"] == "2"
    assert first.headers["X-Next-Page"] == "2"
    assert 'rel="next"' in first.headers["Link"]
    second = requests.get(f"{gitlab.url}/api/v4/applications?page=2", headers=ADMIN, timeout=5)
    assert [a["application_name"] for a in second.json()] == ["app-20", "app-21", "app-22"]
    assert second.headers["X-Next-Page"] == ""
    assert second.headers["X-Prev-Page"] == "1"
    big = requests.get(f"{gitlab.url}/api/v4/applications?per_page=100", headers=ADMIN, timeout=5)
    assert len(big.json()) == 23


def oauth_login(gitlab, app, redirect_uri=REDIRECTS[1]):
    answer = requests.get(f"{gitlab.url}/oauth/authorize", allow_redirects=False, timeout=5, params={
        "client_id": app["application_id"], "redirect_uri": redirect_uri,
        "response_type": "code", "state": "xyz"})
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def exchange(gitlab, app, code, secret=None, redirect_uri=REDIRECTS[1]):
    return requests.post(f"{gitlab.url}/oauth/token", timeout=5, data={
        "client_id": app["application_id"], "client_secret": secret or app["secret"],
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})


def test_oauth_code_flow_signs_in_the_test_user(gitlab):
    app = create(gitlab).json()
    code = oauth_login(gitlab, app)
    token = exchange(gitlab, app, code)
    assert token.status_code == 200
    body = token.json()
    assert body["token_type"] == "Bearer"
    user = requests.get(f"{gitlab.url}/api/v4/user", timeout=5,
                        headers={"Authorization": f"Bearer {body['access_token']}"})
    assert user.status_code == 200
    assert user.json()["email"] == "sso.tester@example.test"
    assert user.json()["username"] == "sso.tester"
    assert user.json()["id"] == 42


def test_token_accepts_http_basic_client_auth(gitlab):
    app = create(gitlab).json()
    code = oauth_login(gitlab, app)
    basic = base64.b64encode(f"{app['application_id']}:{app['secret']}".encode()).decode()
    answer = requests.post(f"{gitlab.url}/oauth/token", timeout=5, headers={"Authorization": f"Basic {basic}"},
                           data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECTS[1]})
    assert answer.status_code == 200


def test_oauth_rejects_unknown_client_and_foreign_redirect(gitlab):
    app = create(gitlab).json()
    unknown = requests.get(f"{gitlab.url}/oauth/authorize", allow_redirects=False, timeout=5, params={
        "client_id": "nope", "redirect_uri": REDIRECTS[0], "response_type": "code"})
    assert unknown.status_code == 401
    foreign = requests.get(f"{gitlab.url}/oauth/authorize", allow_redirects=False, timeout=5, params={
        "client_id": app["application_id"], "redirect_uri": "http://chat.example.test/login/gitlab/complete",
        "response_type": "code"})
    assert foreign.status_code == 400
    assert "redirect uri" in foreign.json()["error_description"]


def test_wrong_secret_reused_code_and_redirect_mismatch(gitlab):
    app = create(gitlab).json()
    code = oauth_login(gitlab, app)
    wrong = exchange(gitlab, app, code, secret="gloas-wrong")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert exchange(gitlab, app, code, redirect_uri=REDIRECTS[0]).status_code == 400
    code = oauth_login(gitlab, app)
    assert exchange(gitlab, app, code).status_code == 200
    reused = exchange(gitlab, app, code)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


def test_renewed_secret_replaces_the_old(gitlab):
    app = create(gitlab).json()
    renewed = requests.post(f"{gitlab.url}/api/v4/applications/{app['id']}/renew-secret", headers=ADMIN, timeout=5)
    assert renewed.status_code == 201
    new_secret = renewed.json()["secret"]
    assert new_secret != app["secret"]
    assert renewed.json()["application_id"] == app["application_id"]
    assert exchange(gitlab, app, oauth_login(gitlab, app)).status_code == 401
    assert exchange(gitlab, app, oauth_login(gitlab, app), secret=new_secret).status_code == 200
    missing = requests.post(f"{gitlab.url}/api/v4/applications/999/renew-secret", headers=ADMIN, timeout=5)
    assert missing.status_code == 404


def test_unknown_api_route_is_404(gitlab):
    answer = requests.get(f"{gitlab.url}/api/v4/nothing", headers=ADMIN, timeout=5)
    assert answer.status_code == 404
    assert answer.json() == {"error": "404 Not Found"}


def test_fault_injection_status_and_delay(gitlab):
    requests.post(f"{gitlab.url}/-/emulator/faults", timeout=5,
                  json={"path_regex": "^/api/v4/applications", "method": "GET", "status": 500, "count": 1})
    failed = requests.get(f"{gitlab.url}/api/v4/applications", headers=ADMIN, timeout=5)
    assert failed.status_code == 500
    assert failed.json() == {"message": "500 Internal Server Error"}
    assert requests.get(f"{gitlab.url}/api/v4/applications", headers=ADMIN, timeout=5).status_code == 200
    requests.post(f"{gitlab.url}/-/emulator/faults", timeout=5,
                  json={"path_regex": "^/api/v4/applications", "delay": 2, "count": 1})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{gitlab.url}/api/v4/applications", headers=ADMIN, timeout=0.5)
    time.sleep(2)


def test_request_log_counts_api_calls(gitlab):
    requests.get(f"{gitlab.url}/api/v4/applications", headers=ADMIN, timeout=5)
    create(gitlab)
    log = requests.get(f"{gitlab.url}/-/emulator/requests", timeout=5).json()
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("GET", "/api/v4/applications", 200), ("POST", "/api/v4/applications", 201)]


def test_state_file_survives_restart(tmp_path):
    state_file = str(tmp_path / "state.json")
    first = GitLabEmulator(state_file=state_file)
    first.start()
    app = create(first).json()
    first.stop()
    second = GitLabEmulator(state_file=state_file)
    second.start()
    try:
        listed = requests.get(f"{second.url}/api/v4/applications", headers=ADMIN, timeout=5).json()
        assert [a["application_id"] for a in listed] == [app["application_id"]]
    finally:
        second.stop()
