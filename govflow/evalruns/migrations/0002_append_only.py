from django.db import migrations

from govflow.audit.dbtriggers import installer


class Migration(migrations.Migration):
    dependencies = [("evalruns", "0001_initial"), ("audit", "0002_append_only")]

    operations = [
        migrations.RunPython(
            installer("evalruns_evalsample"), installer("evalruns_evalsample", reverse=True)
        ),
    ]
