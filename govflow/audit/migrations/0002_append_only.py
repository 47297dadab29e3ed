from django.db import migrations

from govflow.audit.dbtriggers import installer


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(
            installer("audit_auditevent"), installer("audit_auditevent", reverse=True)
        ),
    ]
