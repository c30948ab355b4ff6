"""``{% building_merit building %}`` and ``{% compound_merit compound %}``: the public parts of
四美一好 on pages of lower floors (the registry's building page and the resident's 我的楼栋 in
``communities``, the compound board in ``service_requests``), which import nothing from here:
their templates load this tag library.

The building's badge is the years it passed an approved round; the compound's section lists its
badged buildings and the monthly property-fee rates. Neither holds anything personal.
"""

from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("ratings/_badge.html")
def building_merit(building):
    """The 四美一好 badges (one per year) of ``building`` (one query)."""
    if building is None:
        return {"years": []}
    return {"years": selectors.building_badges([building.pk]).get(building.pk, [])}


@register.inclusion_tag("ratings/_board.html")
def compound_merit(compound):
    """The compound board's 四美一好 and 物业费缴纳率 section (2 queries)."""
    merit = selectors.compound_merit(compound)
    latest = merit.trend[-1] if merit.trend else None
    return {"compound": compound, "merit": merit, "latest": latest}
