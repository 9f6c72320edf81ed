"""The logs carry no password and no reset token, whatever the account journey: failed and
successful logins, password change, reset request and reset through the e-mailed link.

Every logger is captured at DEBUG, the outgoing e-mail's own log line included (when
MAIL_SERVER is unset, e-mails are logged instead of sent)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pytest
import time_machine

from grants.models import Role, User
from grants.operations.accounts import make_reset_token
from tests.conftest import open_reset_link

OLD = "Ancien-Secret-Porteur-7391"
WRONG = "Faux-Secret-Tente-8264"
CHANGED = "Nouveau-Secret-Change-5127"
RESET = "Secret-Reinitialise-4480"
RESET_LINK = re.compile(r"http://localhost/compte/reinitialiser/(\S+)")


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """caplog at DEBUG on the root logger and on every logger that set a level of its own."""
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
            caplog.set_level(logging.DEBUG, logger=name)
    return caplog


# aiosmtpd's logger: the test's SMTP server (the relay's side) logs the whole conversation.
RECEIVING_SERVER = "mail.log"


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the application's records hold: messages, raw arguments, exceptions."""
    parts = []
    handler = caplog.handler
    for record in caplog.records:
        if record.name == RECEIVING_SERVER or record.name.startswith(f"{RECEIVING_SERVER}."):
            continue
        parts += [handler.format(record), record.getMessage(), repr(record.args),
                  repr(getattr(record, "exc_text", None))]
    return "\n".join(parts)


def account_journey(client, user: User, reset_token) -> str:  # type: ignore[no-untyped-def]
    """Every form that carries a password or a token; returns the reset token used."""
    email = user.email
    failed = client.post("/compte/connexion", data={"email": email, "password": WRONG})
    assert failed.status_code == 200
    assert client.post("/compte/connexion", data={"email": email, "password": OLD}).status_code == 302
    changed = client.post("/compte/mot-de-passe", data={
        "current_password": OLD, "password": CHANGED, "confirm": CHANGED})
    assert changed.status_code == 302, changed.get_data(as_text=True)[:500]
    client.post("/compte/deconnexion", csrf_from="/")

    assert client.post("/compte/mot-de-passe-oublie", data={"email": email}).status_code == 302
    token = reset_token()
    url = f"/compte/reinitialiser/{token}"
    form = open_reset_link(client, url)
    assert client.get(form).status_code == 200
    done = client.post(form, data={"password": RESET, "confirm": RESET})
    assert done.status_code == 302 and done.headers["Location"].endswith("/compte/connexion")
    assert client.get(url).status_code == 302, "single use: the link is refused after the reset"
    assert client.post("/compte/connexion", data={"email": email, "password": RESET}).status_code == 302
    return token


def assert_no_secret(text: str, token: str) -> None:
    for secret in (OLD, WRONG, CHANGED, RESET, token, token[:20]):
        assert secret not in text, f"{secret!r} found in the logs"
    assert "/compte/reinitialiser/" not in text


def test_no_password_nor_token_in_the_logs_with_smtp(client, make_user, all_logs, smtp_server):  # type: ignore[no-untyped-def]
    user = make_user(Role.applicant, password=OLD)

    def token_from_the_email() -> str:
        [mail] = [m for m in smtp_server.messages if m["To"] == user.email]
        match = RESET_LINK.search(mail.get_body(("plain",)).get_content())
        assert match, "the e-mail carries the reset link"
        return match.group(1)

    token = account_journey(client, user, token_from_the_email)
    text = logged_text(all_logs)
    assert all_logs.records, "the capture works: the journey logs something"
    assert_no_secret(text, token)


def test_no_password_nor_token_in_the_logs_without_mail_server(app, client, make_user, all_logs):  # type: ignore[no-untyped-def]
    assert not app.config["MAIL_SERVER"]
    user = make_user(Role.applicant, password=OLD)

    def same_token_as_the_email() -> str:
        # Time is frozen: the token signed now is the very one the e-mail carried.
        with app.test_request_context():
            from grants.extensions import db

            return make_reset_token(db.session.get(User, user.id))

    with time_machine.travel(datetime.now(UTC), tick=False):
        token = account_journey(client, user, same_token_as_the_email)
    text = logged_text(all_logs)
    # The e-mail was logged instead of sent: recipient and subject, at INFO, nothing else.
    [line] = [r for r in all_logs.records if "MAIL_SERVER absent" in r.getMessage()]
    assert line.levelno == logging.INFO
    assert user.email in line.getMessage() and "Réinitialisation de votre mot de passe" in line.getMessage()
    assert_no_secret(text, token)


def test_an_error_on_the_reset_page_logs_the_route_not_the_token(app, client, all_logs, monkeypatch):  # type: ignore[no-untyped-def]
    # Any failure while the reset page is handled (here the database going away during the
    # token's lookup) is logged by the 500 handler: with the route's pattern, not the path.
    from grants.operations import accounts

    with app.test_request_context():
        token = accounts._serializer().dumps({"uid": 1, "h": "0" * 16})

    def database_gone(_token: str) -> None:
        raise ConnectionError("server closed the connection unexpectedly")

    monkeypatch.setattr(accounts, "user_for_reset_token", database_gone)
    response = client.get(f"/compte/reinitialiser/{token}")
    assert response.status_code == 500
    assert "Erreur inattendue" in response.get_data(as_text=True)
    [error] = [r for r in all_logs.records if r.getMessage().startswith("Unhandled error on")]
    assert error.getMessage() == "Unhandled error on /compte/reinitialiser/<token>"
    assert error.exc_info is not None, "the traceback is kept, only the path is hidden"
    assert token not in logged_text(all_logs) and token[:20] not in logged_text(all_logs)


@pytest.mark.parametrize("uid", [10**30, 2**31, 999_999, 0, -1, True, "1"])
def test_a_signed_token_for_no_such_user_is_an_invalid_link(app, client, all_logs, uid):  # type: ignore[no-untyped-def]
    # A validly signed token whose user id no database integer can hold, or that no user has.
    with app.test_request_context():
        from grants.operations.accounts import _serializer

        token = _serializer().dumps({"uid": uid, "h": "0" * 16})
    response = client.get(f"/compte/reinitialiser/{token}")
    assert response.status_code == 302 and response.headers["Location"] == "/compte/mot-de-passe-oublie"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ce lien de réinitialisation est invalide ou a expiré" in page
    assert not [r for r in all_logs.records if r.getMessage().startswith("Unhandled error on")]
    assert token not in logged_text(all_logs)


def test_development_outbox_holds_the_whole_message_and_the_log_only_its_place(
    app, client, db, users, all_logs, tmp_path, monkeypatch
):  # type: ignore[no-untyped-def]
    """Without MAIL_SERVER, development writes each e-mail to MAIL_OUTBOX: the reset link
    can be followed from there, and the log line says where, without the link."""
    monkeypatch.setitem(app.config, "MAIL_OUTBOX", str(tmp_path / "outbox"))
    user = users["applicant"]
    assert client.post("/compte/mot-de-passe-oublie", data={"email": user.email}).status_code == 302
    [written] = sorted((tmp_path / "outbox").glob("*.eml"))
    assert written.stat().st_mode & 0o777 == 0o600
    import email

    message = email.message_from_bytes(written.read_bytes())
    assert message["To"] == user.email
    body = message.get_payload(decode=True).decode()
    [token] = RESET_LINK.findall(body)
    logs = logged_text(all_logs)
    assert str(written) in logs
    assert token not in logs
