"""Werkzeug's development server (``make run``, the suite's live server) skips a response's
``close()`` when the browser resets the connection just after the response; the shop's
``call_on_close`` senders (texts and e-mails after the response) hung on it. ``CloseWhenSent``
closes the response itself once its body is out. Real server, real socket, a real reset."""
from __future__ import annotations

import socket
import struct
import threading

from flask import Flask
from werkzeug.serving import make_server

from core.devserver import CloseWhenSent


def _serve(wsgi_app):
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _post_then_reset(port: int) -> bytes:
    """POST, read the answer, then reset the connection (RST, not FIN) while the server is
    still draining the socket: extra bytes after the request keep it reading."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /refund HTTP/1.1\r\nHost: shop\r\nContent-Length: 0\r\n\r\n" + b"x" * 64)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return answer


def _app(closed: threading.Event) -> Flask:
    app = Flask(__name__)

    @app.post("/refund")
    def refund():
        from flask import redirect

        response = redirect("/orders/1", 303)
        response.call_on_close(closed.set)  # as notifications.sms and mail.outbox do
        return response

    return app


def test_a_reset_connection_still_runs_what_the_response_left_to_do():
    closed = threading.Event()
    app = _app(closed)
    app.wsgi_app = CloseWhenSent(app.wsgi_app)  # type: ignore[method-assign]
    server = _serve(app)
    try:
        for _ in range(5):
            closed.clear()
            assert _post_then_reset(server.server_port).startswith(b"HTTP/1.1 303")
            assert closed.wait(5), "the response's close() never ran"
    finally:
        server.shutdown()


def test_close_runs_once_when_the_server_closes_too():
    calls = []
    app = Flask(__name__)

    @app.get("/")
    def home():
        from flask import make_response

        response = make_response("hello")
        response.call_on_close(lambda: calls.append(1))
        return response

    app.wsgi_app = CloseWhenSent(app.wsgi_app)  # type: ignore[method-assign]
    with app.test_client() as client:  # the test client closes its responses
        assert client.get("/").text == "hello"
    assert calls == [1]


def test_only_outside_production(monkeypatch):
    """gunicorn closes every response itself: production keeps the plain WSGI stack."""
    from app import create_app

    assert isinstance(create_app("testing").wsgi_app, CloseWhenSent)
    assert isinstance(create_app("development").wsgi_app, CloseWhenSent)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1/x")
    production = create_app({"ENV_NAME": "production", "SECRET_KEY": "s" * 32, "SIMULATOR_ENABLED": False})
    assert not isinstance(production.wsgi_app, CloseWhenSent)
