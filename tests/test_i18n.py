"""Chinese first, English complete: every string in the code has an English translation,
and a page in English shows no Chinese of ours."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".venv", ".git", "var", "staticfiles", "media", "tests", "bench", "node_modules", "__pycache__"}
needs_gettext = pytest.mark.skipif(
    shutil.which("msgattrib") is None and not os.environ.get("REQUIRE_SERVICES"),
    reason="GNU gettext (msgattrib) is not installed",
)


@needs_gettext
def test_english_catalogue_covers_every_string(tmp_path):
    """makemessages over a copy of the project finds no msgid without an English msgstr."""
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=lambda folder, names: [
            n for n in names if n in SKIP_DIRS or (n == "vendor" and folder.endswith("static"))
        ],
    )
    env = {**os.environ, "VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": ""}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    untranslated = subprocess.run(
        ["msgattrib", "--untranslated", "--no-obsolete", str(copy / "locale/en/LC_MESSAGES/django.po")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fuzzy = subprocess.run(
        ["msgattrib", "--only-fuzzy", "--no-obsolete", str(copy / "locale/en/LC_MESSAGES/django.po")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    missing = re.findall(r'^msgid "(.+)"$', untranslated + fuzzy, flags=re.M)
    assert missing == [], f"{len(missing)} strings lack an English translation (run `make messages`): {missing[:10]}"


@pytest.mark.django_db
def test_login_page_in_english_and_chinese(client):
    chinese = client.get(reverse("accounts:login")).content.decode()
    assert "登录和美社区" in chinese
    english = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in english
    assert "登录和美社区" not in english
    assert "Hemei Community" in english
