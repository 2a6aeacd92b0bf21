# Copyright: Contributors to the chatops.mattermost collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""chatops.mattermost.http_probe: its pure functions, and the module against a server on loopback."""

import http.server
import importlib
import json
import socket
import threading

import pytest


@pytest.fixture
def code(collections_path):
    return importlib.import_module('ansible_collections.chatops.mattermost.plugins.modules.http_probe')


@pytest.mark.parametrize('body, parsed', [
    (b'{"status": "OK"}', {'status': 'OK'}),
    (b'[1, 2]', [1, 2]),
    (b'<html>bad gateway</html>', None),
    (b'', None),
])
def test_answer_of(code, body, parsed):
    result = code.answer_of(200, {'X-Version-Id': '11.4.0.1', 'Content-Type': 'x'}, body)
    assert result['headers'] == {'x-version-id': '11.4.0.1', 'content-type': 'x'}
    assert result.get('json') == parsed


@pytest.mark.parametrize('status, wanted, failed, words', [
    (200, [200], False, 'OK (200)'),
    (502, [200], True, 'Status code was 502 and not [200]: Bad Gateway'),
    (-1, list(range(100, 600)), True, 'Status code was -1 and not [100, 101'),
    (401, list(range(100, 600)), False, 'OK (401)'),
])
def test_outcome(code, status, wanted, failed, words):
    found, msg = code.outcome(dict(status=status), wanted, 'Bad Gateway')
    assert found is failed and msg.startswith(words)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == '/api/v4/system/ping':
            body = json.dumps({'status': 'OK', 'host': self.headers.get('Host')}).encode()
            self.send_response(200)
            self.send_header('X-Version-Id', '11.4.0.0.1.abc.true')
        else:
            body = b'<html>not here</html>'
            self.send_response(404)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.HTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize('check', [False, True])
def test_an_answer_with_json_headers_and_host(call_module, server, check):
    run = call_module('http_probe', dict(url=server + '/api/v4/system/ping', headers={'Host': 'chat.example.com'}),
                      check=check)
    assert run.rc == 0 and run['changed'] is False and run['status'] == 200
    assert run['json'] == {'status': 'OK', 'host': 'chat.example.com'}
    assert run['headers']['x-version-id'] == '11.4.0.0.1.abc.true'


def test_an_unwanted_status_fails_with_the_answer(call_module, server):
    run = call_module('http_probe', dict(url=server + '/elsewhere'))
    assert run.rc == 1 and run['status'] == 404 and 'json' not in run.result
    assert run['msg'].startswith('Status code was 404 and not [200]: Not Found')
    assert call_module('http_probe', dict(url=server + '/elsewhere', status_code=[404])).rc == 0


def test_no_answer_is_status_minus_one(call_module):
    run = call_module('http_probe', dict(url='http://127.0.0.1:%d/' % free_port(), timeout=2,
                                         status_code=list(range(100, 600))))
    assert run.rc == 1 and run['status'] == -1 and 'Request failed' in run['msg']


def test_a_url_that_is_not_http_is_refused(call_module):
    run = call_module('http_probe', dict(url='file:///etc/passwd'))
    assert run.rc == 1 and 'http or https' in run['msg']
