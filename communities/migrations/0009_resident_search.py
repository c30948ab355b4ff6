"""Search by 尾号: a blind index of each resident's last 4 mobile digits (``baohe.crypto``,
kind ``mobile_tail``), filled for the existing rows in batches of 2,000 (``baohe.reencrypt``),
then indexed with the community. The trigram index on names is in the next migration."""

from django.db import migrations, models

import baohe.fields


def fill_tails(apps, schema_editor):
    from baohe.reencrypt import rewrite_table

    rewrite_table("communities_resident", mode="encrypt", using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("communities", "0008_compound_fee_rates"),
    ]

    operations = [
        migrations.AddField(
            model_name="resident",
            name="mobile_tail_index",
            field=baohe.fields.BlindIndexField(kind="mobile_tail", source="mobile", verbose_name="手机尾号索引"),
        ),
        migrations.RunPython(fill_tails, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="resident",
            index=models.Index(fields=["mobile_tail_index", "community"], name="communities_resident_tail_ix"),
        ),
    ]
