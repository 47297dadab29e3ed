"""A witness killed with SIGKILL keeps what it cosigned (a real process, a real kill)."""

from __future__ import annotations

import signal

from tests.witness.support import FakeLog, WitnessProcess, new_witness_key


def test_a_witness_killed_between_two_checkpoints_keeps_its_state(tmp_path):
    # given: a witness that cosigned a checkpoint of 5 events, then was killed -9
    log = FakeLog()
    log.append(*(f"event {i}" for i in range(5)))
    key = new_witness_key(tmp_path)
    state = tmp_path / "state"
    first = WitnessProcess(state=state, key=key, log_vkeys=[log.vkey])
    try:
        assert first.post(log.request(0))[0] == 200
    finally:
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait()
    # when: it is restarted on the same state and offered the log afresh from size 0
    log.append("event 5", "event 6")
    second = WitnessProcess(state=state, key=key, log_vkeys=[log.vkey])
    try:
        fresh_start = second.post(log.request(0))
        extension = second.post(log.request(5))
        # and a rewrite of what it saw before the kill
        rewritten = FakeLog(key=log.key)
        rewritten.append("event 0", "EDITED", "event 2", "event 3", "event 4", "event 5",
                         "event 6", "event 7")
        rewrite = second.post(rewritten.request(7))
    finally:
        second.stop()
    # then: it remembered 5, cosigned only the consistent extension, refused the rewrite
    assert fresh_start[:3] == (409, "text/x.tlog.size", "5\n")
    assert extension[0] == 200
    assert rewrite[0] == 422
