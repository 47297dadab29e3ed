"""Run the ```sh blocks of a Markdown page in order, in one bash process, and check each
block's output against the `#> …` lines written under its commands.

One process, so that variables, functions and the working directory carry from block to
block as they do for a reader typing them into one terminal. A `#> text` line is a
comment to bash and, to the reader, the output to expect: the block's output (stdout and
stderr) must contain each text, in the order written.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)
EXPECT = "#> "


@dataclass
class Block:
    number: int
    line: int
    code: str

    @property
    def expected(self) -> list[str]:
        return [line.strip()[len(EXPECT):] for line in self.code.splitlines()
                if line.strip().startswith(EXPECT)]


def blocks(markdown: str) -> list[Block]:
    return [Block(i + 1, markdown[:m.start()].count("\n") + 1, m.group(1))
            for i, m in enumerate(FENCE.finditer(markdown))]


def missing(expected: list[str], output: str) -> str | None:
    """The first expected text not found (in order) in the output, or None."""
    position = 0
    for text in expected:
        found = output.find(text, position)
        if found < 0:
            return text
        position = found + len(text)
    return None


class Shell:
    def __init__(self, cwd: Path, env: dict[str, str]):
        self.proc = subprocess.Popen(["bash", "--noprofile", "--norc"], cwd=cwd, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def run(self, code: str, timeout: float) -> tuple[str, int]:
        marker = f"__block_done_{time.monotonic_ns()}__"
        self.proc.stdin.write(f"{code}\necho; echo {marker} $?\n".encode())
        self.proc.stdin.flush()
        out = b""
        deadline = time.monotonic() + timeout
        while marker.encode() not in out:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise TimeoutError(f"block did not finish in {timeout}s:\n{out.decode()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
        text = out.decode(errors="replace")
        body, _, tail = text.rpartition(marker)
        return body, int(tail.split()[0]) if tail.split() else -1

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
