from django.db import migrations

from govflow.audit.dbtriggers import installer

TABLES = ["audit_logleaf", "audit_lognode", "audit_checkpoint"]


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_merkle_log")]

    operations = [
        migrations.RunPython(installer(table), installer(table, reverse=True)) for table in TABLES
    ]
