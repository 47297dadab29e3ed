from django.db import migrations

from govflow.audit.dbtriggers import installer

# Reports filed to the regulator about incidents are never edited or deleted.
TABLES = ["monitoring_incidentreport"]


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial"), ("audit", "0002_append_only")]

    operations = [
        migrations.RunPython(installer(table), installer(table, reverse=True)) for table in TABLES
    ]
