"""The SMTP password never travels in clear: with credentials in ``SMTP_URL``, a plain ``smtp://``
URL requires STARTTLS, unless ``?starttls=off`` says the server is a local relay. Real SMTP servers
on loopback (aiosmtpd) that record every login attempt and whether TLS was on at the time."""

import logging
import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from petition.mail.sender import send_due
from petition.mail.smtp import SMTPSettings

from .conftest import MailSink, free_port, sign, valid_fields
from .test_mail import outbox

USER, PASSWORD = "mailer", "p@ss word"
CREDENTIALS = "mailer:p%40ss%20word@"


class LoginSink(MailSink):
    """A loopback SMTP server that takes a login (on a plain connection too, as a careless
    server would) and offers STARTTLS when given a certificate."""

    def __init__(self, port: int, tls_context: ssl.SSLContext | None = None):
        super().__init__(port)
        self.tls_context = tls_context
        self.logins = []  # (user, password, TLS on) for each AUTH the server received
        self.senders = []  # (authenticated, TLS on) for each message

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        login = (auth_data.login.decode(), auth_data.password.decode())
        self.logins.append((*login, session.ssl is not None))
        return AuthResult(success=login == (USER, PASSWORD))

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.senders.append((bool(session.authenticated), session.ssl is not None))
        return await super().handle_DATA(server, session, envelope)

    def start(self):
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self.authenticate,
            auth_require_tls=False,
            tls_context=self.tls_context,
        )
        self.controller.start()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: its file and the server's TLS context."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


@pytest.fixture
def plain_server():
    """A server without STARTTLS."""
    sink = LoginSink(free_port())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def tls_server(certificate):
    """A server that offers STARTTLS with the self-signed certificate."""
    sink = LoginSink(free_port(), tls_context=certificate[1])
    sink.start()
    yield sink
    sink.stop()


def queue_and_send(app, petition) -> tuple[int, int]:
    """Sign (which queues a receipt), run the sender once; how many were sent and failed."""
    sign(app.test_client(), petition.slug, **valid_fields())
    with app.app_context():
        return send_due()


def test_no_password_to_a_server_without_starttls(make_app, plain_server, petition):
    app = make_app(SMTP_URL=f"smtp://{CREDENTIALS}127.0.0.1:{plain_server.port}")

    assert queue_and_send(app, petition) == (0, 1)

    assert plain_server.logins == [] and plain_server.messages == []
    [message] = outbox(app)
    assert message.sent_at is None and message.next_attempt_at is not None
    assert "offers no STARTTLS" in message.last_error and "starttls=off" in message.last_error


def test_starttls_off_sends_the_password_to_a_local_relay_and_says_so(
    make_app, plain_server, petition, caplog
):
    app = make_app(SMTP_URL=f"smtp://{CREDENTIALS}127.0.0.1:{plain_server.port}?starttls=off")

    with caplog.at_level(logging.WARNING, logger="petition.mail.smtp"):
        assert queue_and_send(app, petition) == (1, 0)

    assert plain_server.logins == [(USER, PASSWORD, False)]
    assert plain_server.senders == [(True, False)]
    [warning] = [record for record in caplog.records if record.name == "petition.mail.smtp"]
    assert warning.levelno == logging.WARNING and "in clear" in warning.getMessage()
    assert PASSWORD not in warning.getMessage()


def test_password_goes_only_after_starttls(make_app, tls_server, certificate, petition, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    app = make_app(SMTP_URL=f"smtp://{CREDENTIALS}127.0.0.1:{tls_server.port}")

    assert queue_and_send(app, petition) == (1, 0)

    assert tls_server.logins == [(USER, PASSWORD, True)]
    assert tls_server.senders == [(True, True)]


def test_a_certificate_that_fails_verification_stops_the_login(make_app, tls_server, petition, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system's authorities only
    app = make_app(SMTP_URL=f"smtp://{CREDENTIALS}127.0.0.1:{tls_server.port}")

    assert queue_and_send(app, petition) == (0, 1)

    assert tls_server.logins == [] and tls_server.messages == []
    [message] = outbox(app)
    assert message.sent_at is None and "CERTIFICATE_VERIFY_FAILED" in message.last_error


def test_without_credentials_starttls_is_used_when_offered(
    make_app, tls_server, certificate, petition, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    app = make_app(SMTP_URL=f"smtp://127.0.0.1:{tls_server.port}")

    assert queue_and_send(app, petition) == (1, 0)

    assert tls_server.logins == [] and tls_server.senders == [(False, True)]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("smtp://relay:25?starttls=no", "starttls takes one value, off"),
        ("smtp://relay:25?starttls", "starttls takes one value, off"),
        ("smtp://relay:25?starttls=off&starttls=off", "starttls takes one value, off"),
        ("smtp://relay:25?tls=off", "unknown parameter: tls"),
        ("smtps://user:pass@relay?starttls=off", "for smtp:// only"),
        ("smtp://relay:25?pa$ss@relay", "unknown parameter (the only one"),
        ("smtp://user:pa?ss@relay:25", "port that is not a number"),
        ("smtp://user:pa#ss@relay:25", "port that is not a number"),
    ],
)
def test_a_bad_smtp_url_is_refused_with_a_clear_message(url, problem):
    with pytest.raises(ValueError, match="SMTP_URL") as refused:
        SMTPSettings(url)
    assert problem in str(refused.value)
    assert "ss@relay" not in str(refused.value), "no piece of a password in the message"


def test_an_unknown_parameter_keeps_the_mail_in_the_outbox_and_says_why(make_app, plain_server, petition):
    app = make_app(SMTP_URL=f"smtp://127.0.0.1:{plain_server.port}?tls=off")

    assert queue_and_send(app, petition) == (0, 1)

    [message] = outbox(app)
    assert message.sent_at is None and "unknown parameter: tls" in message.last_error
    assert plain_server.messages == []
