"""The witness's HTTP interface: ``POST /add-checkpoint`` (tlog-witness) on the standard
library's threading HTTP server, with HTTP/1.1 keep-alive as the spec recommends."""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from govflow.witness.protocol import MAX_BODY_BYTES, Answer, Witness

logger = logging.getLogger("govflow.witness")


def make_handler(witness: Witness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "govflow-witness"
        # Headers and body go out in two writes; with Nagle's algorithm on, a keep-alive
        # client's delayed ACK would add ~40 ms to every answer.
        disable_nagle_algorithm = True

        def _send(self, answer: Answer) -> None:
            data = answer.body.encode("utf-8")
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            if self.path != "/add-checkpoint":
                self._send(Answer(404, "not found\n"))
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self.close_connection = True
                self._send(Answer(411, "Content-Length required\n"))
                return
            if not 0 <= length <= MAX_BODY_BYTES:
                self.close_connection = True
                self._send(Answer(413, f"request body over {MAX_BODY_BYTES} bytes\n"))
                return
            answer = witness.add_checkpoint(self.rfile.read(length))
            logger.info("add-checkpoint → %s", answer.status)
            self._send(answer)

        def do_GET(self) -> None:  # noqa: N802
            # Not part of tlog-witness: a liveness and identity probe for operators.
            if self.path == "/":
                body = {"witness": witness.key.cosigner.vkey, "logs": sorted(witness.logs)}
                self._send(Answer(200, json.dumps(body) + "\n", "application/json"))
            else:
                self._send(Answer(404, "not found\n"))

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            logger.debug("%s " + format, self.address_string(), *args)

    return Handler


def make_server(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(witness))
    server.daemon_threads = True
    return server
