from django.db import migrations

from govflow.audit.dbtriggers import installer

# Findings, their appended statements, conclusions and the links between them are never
# edited or deleted (govflow.auditing.models.APPEND_ONLY, spelled out: a migration is
# history and must not change when that list does).
TABLES = [
    "auditing_finding",
    "auditing_finding_attachments",
    "auditing_findingstatement",
    "auditing_findingstatement_attachments",
    "auditing_conclusion",
    "auditing_conclusion_findings",
]


class Migration(migrations.Migration):
    dependencies = [("auditing", "0001_initial"), ("audit", "0002_append_only")]

    operations = [
        migrations.RunPython(installer(table), installer(table, reverse=True)) for table in TABLES
    ]
