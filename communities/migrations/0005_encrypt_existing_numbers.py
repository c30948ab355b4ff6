"""Encrypt the residents' mobile and ID numbers already stored in plain text and fill their blind
indexes, 2,000 rows per batch (``baohe.reencrypt``); the reverse decrypts them again."""

from django.db import migrations


def encrypt(apps, schema_editor):
    from baohe.reencrypt import rewrite_table

    rewrite_table("communities_resident", mode="encrypt", using=schema_editor.connection.alias)


def decrypt(apps, schema_editor):
    from baohe.reencrypt import rewrite_table

    rewrite_table("communities_resident", mode="decrypt", using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("communities", "0004_encrypted_numbers")]

    operations = [migrations.RunPython(encrypt, decrypt, elidable=False)]
