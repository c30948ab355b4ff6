# Photos kept across a form error (baohe.staging): the staged uploads table.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('baohe', '0007_import_kind_fees'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='StagedUpload',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file', models.FileField(max_length=200, upload_to='staged/%Y/%m/', verbose_name='文件')),
                ('name', models.CharField(blank=True, max_length=200, verbose_name='原文件名')),
                ('content_type', models.CharField(max_length=50, verbose_name='文件类型')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='创建时间')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='用户')),
            ],
            options={
                'verbose_name': '暂存的照片',
                'verbose_name_plural': '暂存的照片',
            },
        ),
    ]
