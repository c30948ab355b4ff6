"""Fill ``Category.name_en`` of the standard categories (by service code) where it is empty."""

from django.db import migrations

from service_requests.category_names import NAMES_EN


def fill(apps, schema_editor):
    Category = apps.get_model("service_requests", "Category")
    for category in Category.objects.filter(code__in=NAMES_EN, name_en=""):
        category.name_en = NAMES_EN[category.code]
        category.save(update_fields=["name_en"])


class Migration(migrations.Migration):
    dependencies = [
        ("service_requests", "0006_english_names_and_stored_texts"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
