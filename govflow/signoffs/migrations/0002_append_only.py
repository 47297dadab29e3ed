from django.db import migrations

from govflow.audit.dbtriggers import installer


class Migration(migrations.Migration):
    dependencies = [("signoffs", "0001_initial"), ("audit", "0002_append_only")]

    operations = [
        migrations.RunPython(
            installer("signoffs_signoff"), installer("signoffs_signoff", reverse=True)
        ),
    ]
