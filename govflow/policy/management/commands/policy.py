"""`manage.py policy check FILE…` and `manage.py policy show FILE`."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from govflow.gates.registry import gate_kinds
from govflow.policy.document import PolicyInvalid, load_policy_file


class Command(BaseCommand):
    help = "Check release policy files, or show what a policy requires stage by stage."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="Validate one or more policy files.")
        check.add_argument("files", nargs="+", type=Path)
        show = sub.add_parser("show", help="Print a policy's stages and gates.")
        show.add_argument("file", type=Path)
        show.add_argument("--json", action="store_true", help="Print the parsed document.")
        sub.add_parser("kinds", help="List the gate kinds and their parameters.")

    def handle(self, *args, action: str, **options):
        if action == "check":
            return self._check(options["files"])
        if action == "show":
            return self._show(options["file"], options["json"])
        return self._kinds()

    def _check(self, files: list[Path]) -> None:
        failed = 0
        for path in files:
            try:
                policy = load_policy_file(path)
            except PolicyInvalid as exc:
                failed += 1
                for problem in exc.problems:
                    self.stderr.write(str(problem))
                continue
            self.stdout.write(f"ok  {path}: {policy.name} v{policy.version} {policy.digest}")
        if failed:
            raise CommandError(f"{failed} of {len(files)} policy files are invalid")

    def _show(self, path: Path, as_json: bool) -> None:
        try:
            policy = load_policy_file(path)
        except PolicyInvalid as exc:
            raise CommandError("\n".join(str(p) for p in exc.problems)) from exc
        if as_json:
            self.stdout.write(json.dumps(policy.document, indent=2))
            return
        self.stdout.write(f"{policy.name} v{policy.version}  {policy.digest}")
        if policy.description:
            self.stdout.write(policy.description.strip())
        for i, stage in enumerate(policy.stages):
            flag = "  [irreversible]" if stage.irreversible else ""
            self.stdout.write(f"\n{i + 1}. {stage.name} — {stage.title}{flag}")
            if i == 0:
                self.stdout.write("   entered when a release opens")
            for gate in stage.gates:
                params = ", ".join(f"{k}={v!r}" for k, v in gate.params.items())
                self.stdout.write(f"   - {gate.id} ({gate.kind}): {params}")

    def _kinds(self) -> None:
        for name, kind in sorted(gate_kinds().items()):
            self.stdout.write(f"{name}: {kind.description}")
            for pname, param in kind.params.items():
                self.stdout.write(f"    {pname}: {param.describe()}  {param.help}")
