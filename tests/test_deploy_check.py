"""The production profile documented in ``.env.example`` passes ``manage.py check --deploy``.

The test reads the lines between ``# [production]`` and ``# [/production]`` of ``.env.example``
(``# NAME=value``; a ``<placeholder>`` becomes a random value), starts ``manage.py`` in a fresh
process with exactly that environment (every other variable ``.env.example`` names is removed,
so a developer's shell cannot help) and expects exit 0 with ``--fail-level WARNING`` and no
warning printed. A setting that weakens production (HSTS, the SSL redirect, secure cookies, a
log SMS backend…) or a new deploy check the profile does not satisfy fails it; the fix is in
settings or in the documented profile, never a silenced check here.
"""

import os
import re
import secrets
import subprocess
import sys

from django.conf import settings

ENV_EXAMPLE = settings.BASE_DIR / ".env.example"
VARIABLE = re.compile(r"^#\s*([A-Z][A-Z0-9_]*)=(.*)$")
PLACEHOLDER = re.compile(r"<[^>]*>")


def documented_names():
    """Every variable ``.env.example`` mentions (commented ``# NAME=`` lines)."""
    return {m.group(1) for line in ENV_EXAMPLE.read_text().splitlines() if (m := VARIABLE.match(line.strip()))}


def production_profile():
    lines = ENV_EXAMPLE.read_text().splitlines()
    start = lines.index("# [production]")
    end = lines.index("# [/production]")
    profile = {}
    for line in lines[start + 1 : end]:
        match = VARIABLE.match(line.strip())
        if match:
            name, value = match.groups()
            value = value.strip().strip('"')
            profile[name] = PLACEHOLDER.sub(lambda _m: secrets.token_urlsafe(48), value)
    return profile


def manage(*args, env, tmp_path):
    base = {k: v for k, v in os.environ.items() if k not in documented_names() and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base.update(env, VAR_DIR=str(tmp_path / "var"))
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_documented_production_profile_is_complete():
    profile = production_profile()

    assert profile["DEBUG"] == "false"
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "SMS_BACKEND"):
        assert profile.get(name), f"{name} missing from the production block of .env.example"
    assert profile["SMS_BACKEND"] != "baohe.sms.LogBackend"
    # HTTPS and HSTS are production's defaults, not something the profile must remember.
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_COOKIES", "SILENCED_SYSTEM_CHECKS"):
        assert name not in profile, f"{name} should not be needed in the production profile"


def test_check_deploy_is_clean_with_the_documented_production_profile(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_profile(), tmp_path=tmp_path)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    assert "no issues (0 silenced)" in output, output


def test_production_defaults_turn_on_https_and_hsts(tmp_path):
    code = (
        "from django.conf import settings as s\n"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER, s.SECURE_REFERRER_POLICY)\n"
    )

    result = manage("shell", "--no-imports", "-c", code, env=production_profile(), tmp_path=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["True", "31536000", "True", "True", "True", "None", "same-origin"]


def test_behind_a_tls_proxy_the_switches_turn_redirect_and_hsts_off(tmp_path):
    env = production_profile() | {"SECURE_SSL_REDIRECT": "false", "SECURE_HSTS_SECONDS": "0", "BEHIND_PROXY": "true"}
    code = (
        "from django.conf import settings as s\n"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SECURE_PROXY_SSL_HEADER[0])\n"
    )

    result = manage("shell", "--no-imports", "-c", code, env=env, tmp_path=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["False", "0", "False", "HTTP_X_FORWARDED_PROTO"]
    # check --deploy sees no proxy: it names exactly what the documented silencing covers.
    checked = manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    found = set(re.findall(r"\(security\.(W\d+)\)", checked.stdout + checked.stderr))
    assert found == {"W004", "W008"}, checked.stdout + checked.stderr
    silenced = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=env | {"SILENCED_SYSTEM_CHECKS": "security.W004,security.W008"},
        tmp_path=tmp_path,
    )
    assert silenced.returncode == 0, silenced.stdout + silenced.stderr
