"""Encrypt the users' mobile numbers already stored in plain text and fill their blind index
(``baohe.reencrypt``), and give every account whose username is its mobile number an opaque
username (``resident_`` + 12 hex digits): residents keep signing in with the mobile number,
found through the blind index. The reverse decrypts the numbers (usernames stay opaque)."""

import secrets

from django.db import migrations


def encrypt(apps, schema_editor):
    from baohe.reencrypt import rewrite_table

    alias = schema_editor.connection.alias
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id FROM accounts_user WHERE username = mobile")
        ids = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(ids), 2000):
            cursor.executemany(
                "UPDATE accounts_user SET username = %s WHERE id = %s",
                [(f"resident_{secrets.token_hex(6)}", pk) for pk in ids[start : start + 2000]],
            )
    rewrite_table("accounts_user", mode="encrypt", using=alias)


def decrypt(apps, schema_editor):
    from baohe.reencrypt import rewrite_table

    rewrite_table("accounts_user", mode="decrypt", using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_encrypted_mobile")]

    operations = [migrations.RunPython(encrypt, decrypt, elidable=False)]
