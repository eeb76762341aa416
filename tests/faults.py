"""Faults of real parts for tests: a TCP proxy in front of PostgreSQL or Redis that can be cut
(every connection dropped, new ones closed at once, as when a server restarts or the network
goes) and restored, so processes that speak through it meet the fault for real."""
from __future__ import annotations

import socket
import threading


class TcpProxy:
    """127.0.0.1:<port> → ``target``; ``cut()`` drops everything until ``restore()``."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = False
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data or self.down:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def cut(self) -> None:
        """Drop every open connection; refuse new ones (accepted and closed at once)."""
        self.down = True
        with self.lock:
            open_now = list(self.sockets)
        for sock in open_now:
            self._close(sock)

    def restore(self) -> None:
        self.down = False

    def stop(self) -> None:
        self.stopped = True
        self.cut()
        self.listener.close()
