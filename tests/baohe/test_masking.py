"""The one rule for public text (``baohe.masking.anonymise_text``): what goes and what stays."""

import pytest

from baohe.masking import anonymise_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("和谐5栋2单元301室厨房漏水", "和谐5栋**单元**厨房漏水"),  # the building stays, unit and room go
        ("住3-502，电话13812345678", "住**，电话**"),
        ("座机0551-62881234，身份证34010419900101123X", "座机**，身份证**"),
        ("卡号 6222 0212 3456 7890", "卡号 **"),
        ("王建国说预计2026-12-10前修好，等了3天", "**说预计2026-12-10前修好，等了3天"),  # dates and short numbers stay
        ("地下室积水", "地下室积水"),
        ("居民反映", "居民反映"),
    ],
)
def test_anonymise_text(text, expected):
    assert anonymise_text(text, ["王建国", ""]) == expected
