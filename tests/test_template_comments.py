"""A ``{# … #}`` comment must end on its own line: Django prints a two-line one as text (the top
bar once showed its own description and covered the buttons below it). Longer notes go in
``{% comment %}…{% endcomment %}``."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_template_comment_runs_over_a_line():
    templates = [p for p in ROOT.glob("**/templates/**/*.html") if ".venv" not in p.parts]
    assert templates
    broken = []
    for path in templates:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            rest = line
            while "{#" in rest:
                rest = rest.split("{#", 1)[1]
                if "#}" not in rest:
                    broken.append(f"{path.relative_to(ROOT)}:{number}")
                    break
                rest = rest.split("#}", 1)[1]
    assert not broken, broken
