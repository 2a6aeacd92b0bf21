"""The SMTP sink speaks enough real SMTP for Mattermost's mailer and Python's
smtplib: plain, STARTTLS, implicit TLS, AUTH PLAIN/LOGIN, and refusals."""

import smtplib
import ssl
import subprocess

import pytest
import requests

from tests.emulators.smtp_sink import SMTPSink

USER, PASSWORD = "mattermost@example.test", "smtp-test-password"
MESSAGE = "From: a@example.test\r\nTo: b@example.test\r\nSubject: hello\r\n\r\nbody\r\n.dot\r\n"


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return str(crt), str(key)


@pytest.fixture
def sink(cert, tmp_path):
    server = SMTPSink(port=0, port_tls=0, tls_cert=cert[0], tls_key=cert[1], user=USER, password=PASSWORD,
                      maildir=str(tmp_path / "mail"), http_port=0).start()
    yield server
    server.stop()


def client_context(cert):
    return ssl.create_default_context(cafile=cert[0])


def test_plain_delivery_is_recorded(sink):
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp:
        smtp.sendmail("a@example.test", ["b@example.test"], MESSAGE)
    [message] = sink.messages
    assert message["mail_from"] == "a@example.test"
    assert message["rcpt_to"] == ["b@example.test"]
    assert message["subject"] == "hello"
    assert message["data"].endswith("\r\nbody\r\n.dot\r\n")  # dot-stuffing undone
    assert message["tls"] is False and message["auth_user"] is None


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_with_auth(sink, cert, mechanism):
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls")
        smtp.starttls(context=client_context(cert))
        smtp.ehlo()
        smtp.user, smtp.password = USER, PASSWORD
        smtp.auth(mechanism, getattr(smtp, "auth_" + mechanism.lower()), initial_response_ok=False)
        smtp.sendmail("a@example.test", ["b@example.test"], MESSAGE)
    [message] = sink.messages
    assert message["tls"] is True and message["implicit_tls"] is False and message["auth_user"] == USER


def test_implicit_tls_port(sink, cert):
    with smtplib.SMTP_SSL("127.0.0.1", sink.port_tls, timeout=5, context=client_context(cert)) as smtp:
        smtp.login(USER, PASSWORD)
        smtp.sendmail("a@example.test", ["b@example.test"], MESSAGE)
    assert sink.messages[0]["tls"] is True and sink.messages[0]["implicit_tls"] is True


def test_wrong_password_is_535(sink, cert):
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp:
        smtp.starttls(context=client_context(cert))
        with pytest.raises(smtplib.SMTPAuthenticationError) as error:
            smtp.login(USER, "wrong")
    assert error.value.smtp_code == 535
    assert sink.messages == []


def test_require_auth_is_530(cert):
    server = SMTPSink(port=0, tls_cert=cert[0], tls_key=cert[1], user=USER, password=PASSWORD,
                      require_auth=True).start()
    try:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as smtp:
            with pytest.raises(smtplib.SMTPSenderRefused) as error:
                smtp.sendmail("a@example.test", ["b@example.test"], MESSAGE)
        assert error.value.smtp_code == 530
    finally:
        server.stop()


def test_http_readout_and_clear(sink):
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as smtp:
        smtp.sendmail("a@example.test", ["b@example.test"], MESSAGE)
    url = f"http://127.0.0.1:{sink.http.server_address[1]}/messages"
    assert [m["subject"] for m in requests.get(url, timeout=5).json()] == ["hello"]
    requests.delete(url, timeout=5)
    assert requests.get(url, timeout=5).json() == []
