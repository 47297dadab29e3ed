from django.db import migrations

from govflow.audit.dbtriggers import installer

# KYC records, the replay store of provider webhooks, processed expiries, signed growth
# approvals and signed snapshots are never edited or deleted (spelled out: a migration is
# history and must not change with govflow.audit.dbtriggers.APPEND_ONLY_TABLES).
TABLES = [
    "rollout_kycrecord",
    "rollout_webhookreceipt",
    "rollout_kycexpiry",
    "rollout_growthapproval",
    "rollout_cohortsnapshot",
]


class Migration(migrations.Migration):
    dependencies = [("rollout", "0001_initial"), ("audit", "0002_append_only")]

    operations = [
        migrations.RunPython(installer(table), installer(table, reverse=True)) for table in TABLES
    ]
