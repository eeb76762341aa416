"""Work around the Werkzeug development server losing a response's ``close()``.

After it has sent a response, ``werkzeug.serving`` drains what is left on the socket; when the
browser resets the connection at that moment (Chromium does, following a 303 on a connection the
server said it would close), the drain raises ``ConnectionResetError`` and the server never calls
the WSGI iterable's ``close()``. PEP 3333 says it must, and Flask's ``call_on_close`` callbacks
hang on it: the texts and e-mails a request wrote would wait for the next ``flask reconcile``.

``make run`` and the test suite's live server are that server; gunicorn always closes. So outside
production the app's WSGI callable closes its own response as soon as the last byte of the body
has been handed to the server (a second ``close()``, from a server that does call it, does
nothing).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class CloseWhenSent:
    """WSGI middleware: ``close()`` the response once its body has been iterated to the end."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        return _closing(self.app(environ, start_response))


def _closing(body: Iterable[bytes]) -> Iterator[bytes]:
    try:
        yield from body
    finally:  # end of the body, or the server closing (or dropping) this generator
        close = getattr(body, "close", None)
        if close is not None:
            close()
