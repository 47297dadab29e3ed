"""gunicorn's settings for govflow's web process (`gunicorn -c deploy/gunicorn.conf.py`):
the request limits, here so that the Procfile, the image and compose share them.

They are the input gate's (govflow/core/inputgate.py) applied one step earlier, on the
raw bytes, before a worker parses anything: gunicorn answers 400 "Request Header Fields
Too Large" / "Request Line is too large" itself. The app's gate keeps the same numbers for
a deployment that fronts govflow with another server, and checks what gunicorn does not
(the characters of the headers govflow reads, the Idempotency-Key's format, the total).
tests/core/test_input_gate_headers.py holds the two in step.
"""

# At most this many header fields (gunicorn's default is 100; a browser sends ~15).
limit_request_fields = 64
# One header line, name and value, in bytes (gunicorn's default; cookies and tokens are
# a few hundred bytes).
limit_request_field_size = 8190
# The request line (method, path and query string); console filters and keyset cursors
# stay far below it.
limit_request_line = 4094
