from django.db import migrations

from govflow.audit.dbtriggers import installer

# A regulator's signed statements are never edited or deleted (spelled out: a migration
# is history and must not change when govflow.audit.dbtriggers.APPEND_ONLY_TABLES does).
TABLES = ["oversight_signedaction"]


class Migration(migrations.Migration):
    dependencies = [("oversight", "0001_initial"), ("audit", "0002_append_only")]

    operations = [
        migrations.RunPython(installer(table), installer(table, reverse=True)) for table in TABLES
    ]
