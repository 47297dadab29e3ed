"""`manage.py docs_reference`: regenerate docs/reference/*.md from the code."""

from django.core.management.base import BaseCommand

from govflow.console.reference import write_pages


class Command(BaseCommand):
    help = ("Write docs/reference/api.md (from the OpenAPI schema) and "
            "docs/reference/gate-kinds.md (from the gate-kind registry).")

    def handle(self, *args, **options):
        for path in write_pages():
            self.stdout.write(f"wrote {path}")
