"""API tokens moved from DRF's ``authtoken`` (one plain-text key per user, never expiring) to
``accounts.ApiToken`` (knox: hashed, expiring, one per device). The old app is no longer
installed, so nothing would ever remove its table; its keys still grant nothing, but its
foreign key to ``accounts_user`` would stop a user from being deleted. Drop it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_tokens_and_credentials_version"),
    ]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop),
    ]
