"""四美一好 pages (staff and officials): rounds, scoring a building, approval, rankings.

Residents see no page here: the public parts (the badge, the compound board's section) are the
template tags in ``templatetags/ratings_tags.py``. Every row is reached through ``restrict()``
(``services.access_round_by_id``): another community's round is 404.
"""

import os

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from baohe.exceptions import Conflict
from baohe.forms import add_service_errors
from baohe.query import read_query
from baohe.scoping import CHANGE, VIEW
from baohe.staging import keep_photos
from baohe.views import staff_required
from communities.models import Building, Street

from . import forms, selectors, services
from .models import BuildingRating, RatingPhoto, RatingRound


@staff_required
def round_list(request):
    """The rounds the user may see, newest first, and 发起评定 for those who may change a community."""
    rounds = (
        RatingRound.objects.restrict(request.user, VIEW)
        .select_related("community")
        .order_by("-year", "-quarter", "community__code")[:100]
    )
    form = forms.RoundOpenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            round = services.round_open(
                by=request.user,
                request=request,
                community=form.cleaned_data["community"],
                year=form.cleaned_data["year"],
                quarter=form.cleaned_data["quarter"],
                pass_score=form.cleaned_data["pass_score"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("已发起评定：%(round)s") % {"round": round})
            return redirect(round)
    can_open = form.fields["community"].queryset.exists()
    status = 400 if request.method == "POST" else 200
    context = {"rounds": rounds, "form": form if can_open else None}
    return render(request, "ratings/round_list.html", context, status=status)


@staff_required
def round_detail(request, pk):
    round = services.access_round_by_id(request.user, pk)
    rows = selectors.round_rows(round)
    context = {
        "round": round,
        "rows": rows,
        "criteria": selectors.criteria(),
        "events": round.events.select_related("by").order_by("-created_at", "-id")[:30],
        "can_score": round.status == RatingRound.Status.OPEN
        and RatingRound.objects.restrict(request.user, CHANGE).filter(pk=round.pk).exists(),
        "can_approve": round.status == RatingRound.Status.OPEN and services.may_approve(request.user, round),
        "rated": sum(1 for row in rows if row.rating),
        "passed": sum(1 for row in rows if row.rating and row.rating.passed),
    }
    return render(request, "ratings/round_detail.html", context)


@staff_required
def rating_edit(request, pk, building_pk):
    """楼栋评分: score one building of an open round (again, to correct it)."""
    round = services.access_round_by_id(request.user, pk, CHANGE)
    building = get_object_or_404(
        Building.objects.filter(community_id=round.community_id).select_related("compound"), pk=building_pk
    )
    rating = BuildingRating.objects.filter(round=round, building=building).prefetch_related("scores").first()
    criteria = selectors.criteria()
    form = forms.RatingForm(
        request.POST or None, request.FILES or None, criteria=criteria, rating=rating, user=request.user
    )
    status = 200
    if request.method == "POST":
        if round.status != RatingRound.Status.OPEN:
            messages.error(request, _("本轮评定已审定，不能再修改评分。"))
            return redirect(round)
        if form.is_valid():
            try:
                services.rating_score(
                    round=round,
                    building=building,
                    scores=form.scores(),
                    note=form.cleaned_data["note"],
                    representatives=form.cleaned_data["representatives"] or 0,
                    photos=form.cleaned_data["photos"],
                    by=request.user,
                    request=request,
                )
            except ValidationError as error:
                add_service_errors(form, error, rename={"scores": None})
            except Conflict as conflict:
                messages.error(request, conflict.message)
                return redirect(round)
            else:
                messages.success(request, _("已保存 %(building)s 的评分。") % {"building": building.label})
                return redirect(round)
        keep_photos(form, request.user)  # the chosen photos come back as thumbnails
        status = 400
    context = {"round": round, "building": building, "form": form, "rating": rating}
    return render(request, "ratings/rating_form.html", context, status=status)


@staff_required
@require_POST
def round_approve(request, pk):
    round = services.access_round_by_id(request.user, pk)
    try:
        services.round_approve(round=round, by=request.user, request=request)
    except PermissionDenied:
        raise
    except Conflict as conflict:
        messages.error(request, conflict.message)
    else:
        messages.success(request, _("已审定 %(round)s。") % {"round": round})
    return redirect(round)


@staff_required
def rankings(request):
    """四美一好 rankings of a quarter per community and street, with the fee rate of its last month."""
    values = read_query(request, forms.RankingsQuery)
    year, quarter = forms.current_quarter()
    latest = (
        RatingRound.objects.restrict(request.user, VIEW)
        .filter(status=RatingRound.Status.APPROVED)
        .order_by("-year", "-quarter")
        .values_list("year", "quarter")
        .first()
    )
    if latest:
        year, quarter = latest
    year = values["year"] or year
    quarter = int(values["quarter"]) if values["quarter"] else quarter
    streets = list(Street.objects.restrict(request.user, VIEW).order_by("code"))
    street_id = values["street"] if values["street"] in {s.pk for s in streets} else None
    result = selectors.rankings(request.user, year=year, quarter=quarter, street_id=street_id)
    context = {
        **result,
        "year": year,
        "quarter": quarter,
        "quarters": forms.QUARTERS,
        "streets": streets,
        "street_id": street_id,
    }
    return render(request, "ratings/rankings.html", context)


@staff_required
def rating_photo(request, pk):
    """A rating's photo, for those who may see the rating (404 otherwise), never cached."""
    photo = get_object_or_404(RatingPhoto.objects.restrict(request.user), pk=pk)
    response = FileResponse(
        photo.file.open("rb"), content_type=photo.content_type, filename=os.path.basename(photo.file.name)
    )
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response
