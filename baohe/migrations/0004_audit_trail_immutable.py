"""The audit trail is never edited (PostgreSQL only; a no-op elsewhere).

A trigger refuses every UPDATE of ``baohe_auditentry`` and every DELETE except the retention
purge's (``baohe.services.audit_purge``), which names its cut-off in the transaction-local
setting ``baohe.audit_purge_before``; even then a line younger than 183 days (six months, the
Cybersecurity Law's minimum) is refused.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION baohe_auditentry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    purge_before text;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit trail lines are never changed (baohe_auditentry)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    purge_before := current_setting('baohe.audit_purge_before', true);
    IF purge_before IS NULL OR purge_before = ''
        OR OLD.created_at >= purge_before::timestamptz
        OR OLD.created_at > now() - interval '183 days' THEN
        RAISE EXCEPTION 'audit trail lines are deleted only by the retention purge (baohe_auditentry)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END;
$$;
DROP TRIGGER IF EXISTS baohe_auditentry_guard ON baohe_auditentry;
CREATE TRIGGER baohe_auditentry_guard BEFORE UPDATE OR DELETE ON baohe_auditentry
    FOR EACH ROW EXECUTE FUNCTION baohe_auditentry_guard();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS baohe_auditentry_guard ON baohe_auditentry;
DROP FUNCTION IF EXISTS baohe_auditentry_guard();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("baohe", "0003_audit_trail"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
