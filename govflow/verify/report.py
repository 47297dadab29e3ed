"""What the verifier found, in the order it checked."""

from __future__ import annotations

from dataclasses import dataclass, field


class VerificationFailed(Exception):
    """The first problem found; verification stops there."""


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failure: str | None = None

    def ok(self, line: str) -> None:
        self.lines.append(line)

    def warn(self, line: str) -> None:
        self.warnings.append(line)

    @property
    def passed(self) -> bool:
        return self.failure is None

    def render(self) -> str:
        out = [f"  ok    {line}" for line in self.lines]
        out += [f"  warn  {line}" for line in self.warnings]
        if self.failure:
            out.append(f"  FAIL  {self.failure}")
            out.append("VERIFICATION FAILED")
        else:
            out.append("VERIFIED: the bundle is consistent with its signed checkpoints")
        return "\n".join(out)
