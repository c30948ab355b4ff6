"""四美一好: the score is the exact weighted mean of the criterion scores; staff score, the secretary
approves, and a building that passed carries its badge on its page, the resident's home and the
compound board. Scope: another community's staff get 404 and change nothing; residents see only
the public parts. Query counts of the round page, the rankings and the board are pinned."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from baohe.exceptions import Conflict, OutOfScope
from communities.services.fees import fee_rate_record
from ratings import selectors, services
from ratings.models import BuildingRating, Criterion, CriterionScore, RatingEvent, RatingPhoto, RatingRound
from tests.factories import BuildingFactory

pytestmark = pytest.mark.django_db

# Fixed scores of building 1: (95×25 + 94×25 + 92×15 + 90×15 + 96×20) / 100 = 93.75.
HIGH = {"environment": "95", "neighbourhood": "94", "family": "92", "volunteering": "90", "service": "96"}
# Building 2: (80×25 + 81.5×25 + 77×15 + 60×15 + 88.5×20) / 100 = 78.625, rounded half up 78.63.
LOW = {"environment": "80", "neighbourhood": "81.5", "family": "77", "volunteering": "60", "service": "88.5"}


@pytest.fixture
def criteria(db):
    services.criteria_ensure_defaults()
    return {c.code: c for c in Criterion.objects.all()}


def by_id(criteria, scores):
    return {criteria[code].pk: value for code, value in scores.items()}


@pytest.fixture
def round_a1(district, staff_a, criteria):
    return services.round_open(community=district.a1.community, year=2026, quarter=3, by=staff_a)


def score(round, building, criteria, values, by, **extra):
    return services.rating_score(round=round, building=building, scores=by_id(criteria, values), by=by, **extra)


def png(name="stairs.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 160, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_weighted_score_is_exact():
    weights = {"a": Decimal(3), "b": Decimal(1)}
    assert services.weighted_score({"a": Decimal(90), "b": Decimal(80)}, weights) == Decimal("87.50")
    # 1/3 weights: (100 + 0 + 0) / 3 = 33.333… → 33.33; (0.5 + 0 + 0.51) / 3 = 0.336… → 0.34
    equal = {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)}
    assert services.weighted_score({"a": Decimal(100), "b": Decimal(0), "c": Decimal(0)}, equal) == Decimal("33.33")
    assert services.weighted_score({"a": Decimal("0.5"), "b": 0, "c": Decimal("0.51")}, equal) == Decimal("0.34")
    # half up at the second place: 78.675 → 78.68
    assert services.weighted_score(
        {"a": Decimal("78.675"), "b": Decimal("78.675")}, {"a": Decimal(1), "b": Decimal(1)}
    ) == Decimal("78.68")


def test_default_criteria_and_weights(criteria):
    assert [(c.name, c.weight) for c in Criterion.objects.order_by("order")] == [
        ("环境美", Decimal("25.00")),
        ("邻里美", Decimal("25.00")),
        ("家风美", Decimal("15.00")),
        ("志愿美", Decimal("15.00")),
        ("服务好", Decimal("20.00")),
    ]
    assert services.criteria_ensure_defaults() == 0  # never twice, never over the district's own set


def test_score_approve_and_badge_everywhere(
    district, round_a1, criteria, staff_a, secretary_a, resident, client_for, django_assert_max_num_queries
):
    one, two = district.a1.buildings
    first = score(round_a1, one, criteria, HIGH, staff_a, note="楼道整洁", representatives=6, photos=[png()])
    second = score(round_a1, two, criteria, LOW, staff_a)
    assert (first.score, second.score) == (Decimal("93.75"), Decimal("78.63"))
    assert CriterionScore.objects.filter(rating=first).count() == 5
    assert set(CriterionScore.objects.filter(rating=first).values_list("weight", flat=True)) == {
        Decimal(25),
        Decimal(15),
        Decimal(20),
    }
    assert RatingPhoto.objects.filter(rating=first).count() == 1
    # Correcting a score replaces it (the weights of the day with it).
    again = score(round_a1, two, criteria, {**LOW, "volunteering": "100"}, staff_a)
    assert again.pk == second.pk and again.score == Decimal("84.63")
    assert selectors.building_badges([one.pk, two.pk]) == {}  # nothing before the secretary approves

    staff_page = client_for(staff_a)
    assert staff_page.post(reverse("ratings:approve", args=[round_a1.pk])).status_code == 403  # not the secretary
    round_a1.refresh_from_db()
    assert round_a1.status == RatingRound.Status.OPEN

    response = client_for(secretary_a).post(reverse("ratings:approve", args=[round_a1.pk]))
    assert response.status_code == 302
    round_a1.refresh_from_db()
    assert round_a1.status == RatingRound.Status.APPROVED and round_a1.approved_by == secretary_a
    assert dict(BuildingRating.objects.values_list("building_id", "passed")) == {one.pk: True, two.pk: False}
    assert list(RatingEvent.objects.filter(round=round_a1).values_list("kind", flat=True)) == [
        "opened",
        "scored",
        "scored",
        "scored",
        "approved",
    ]
    assert selectors.building_badges([one.pk, two.pk]) == {one.pk: [2026]}
    with pytest.raises(Conflict):  # an approved round is final
        score(round_a1, two, criteria, HIGH, staff_a)
    with pytest.raises(Conflict):
        services.round_approve(round=round_a1, by=secretary_a)

    # The badge: the building page (staff), the resident's home, the compound board.
    page = staff_page.get(reverse("communities:building", args=[one.pk]))
    assert page.status_code == 200 and "2026 四美一好楼栋" in page.content.decode()
    assert "四美一好楼栋" not in staff_page.get(reverse("communities:building", args=[two.pk])).content.decode()
    home = client_for(resident).get(reverse("communities:my_building"))  # the resident lives in building 1
    assert 'data-testid="merit-badge" data-year="2026"' in home.content.decode()
    reader = client_for(resident)
    with django_assert_max_num_queries(30):
        board = reader.get(reverse("service_requests:board", args=[district.a1.compound.pk]))
    text = board.content.decode()
    assert 'data-testid="board-merit"' in text and one.label in text and "2026 四美一好楼栋" in text
    assert "楼道整洁" not in text  # notes and scores stay with the staff
    # Residents see no rating rows: no page, nothing in the API.
    assert reader.get(reverse("ratings:round", args=[round_a1.pk])).status_code == 403
    assert reader.get(reverse("ratings:photo", args=[first.photos.get().pk])).status_code == 403


def test_other_community_staff_get_404_and_change_nothing(
    district, round_a1, criteria, staff_a, staff_b, client_for, api_client_for
):
    one = district.a1.buildings[0]
    rating = score(round_a1, one, criteria, LOW, staff_a, photos=[png()])
    photo = rating.photos.get()
    before = (
        list(BuildingRating.objects.values_list("pk", "score", "passed")),
        RatingRound.objects.get().status,
        RatingEvent.objects.count(),
    )
    page = client_for(staff_b)
    assert page.get(reverse("ratings:round", args=[round_a1.pk])).status_code == 404
    assert page.get(reverse("ratings:rate", args=[round_a1.pk, one.pk])).status_code == 404
    assert page.post(reverse("ratings:rate", args=[round_a1.pk, one.pk]), {"note": "x"}).status_code == 404
    assert page.post(reverse("ratings:approve", args=[round_a1.pk])).status_code == 404
    assert page.get(reverse("ratings:photo", args=[photo.pk])).status_code == 404
    assert round_a1.community.name not in page.get(reverse("ratings:rankings")).content.decode()
    api = api_client_for(staff_b)
    assert api.get(f"/api/v1/rating-rounds/{round_a1.pk}/").status_code == 404
    assert api.get(f"/api/v1/building-ratings/{rating.pk}/").status_code == 404
    assert api.get("/api/v1/building-ratings/").json()["count"] == 0
    payload = {"building": one.pk, "scores": {str(c.pk): 100 for c in criteria.values()}}
    assert api.post(f"/api/v1/rating-rounds/{round_a1.pk}/score/", payload, format="json").status_code == 404
    assert api.post(f"/api/v1/rating-rounds/{round_a1.pk}/approve/").status_code == 404
    with pytest.raises(OutOfScope):
        services.rating_score(round=round_a1, building=one, scores={}, by=staff_b)
    # …nor open a round for a community not theirs (400: not a choice they have).
    opened = api.post("/api/v1/rating-rounds/", {"community": district.a1.community.pk, "year": 2026, "quarter": 4})
    assert opened.status_code == 400 and list(opened.json()) == ["community"]
    after = (
        list(BuildingRating.objects.values_list("pk", "score", "passed")),
        RatingRound.objects.get().status,
        RatingEvent.objects.count(),
    )
    assert after == before


def test_bad_scores_are_refused_and_nothing_is_written(
    district, round_a1, criteria, staff_a, client_for, api_client_for
):
    one, two = district.a1.buildings
    elsewhere = district.a2.buildings[0]
    page = client_for(staff_a)
    url = reverse("ratings:rate", args=[round_a1.pk, one.pk])
    form = {f"score_{c.pk}": "90" for c in criteria.values()} | {"representatives": "3"}
    response = page.post(url, {**form, f"score_{criteria['family'].pk}": "150"})
    assert response.status_code == 400 and 'data-field-error="score_' in response.content.decode()
    assert page.post(url, {**form, f"score_{criteria['family'].pk}": "abc"}).status_code == 400
    assert page.post(url, {**form, "representatives": "²"}).status_code == 400
    not_a_photo = SimpleUploadedFile("x.png", b"<html>not an image</html>", content_type="image/png")
    response = page.post(url, {**form, "photos": not_a_photo})
    assert response.status_code == 400 and "不是可识别的照片" in response.content.decode()
    assert page.get(reverse("ratings:rate", args=[round_a1.pk, elsewhere.pk])).status_code == 404
    api = api_client_for(staff_a)
    scores = {str(c.pk): 90 for c in criteria.values()}
    bad = api.post(
        f"/api/v1/rating-rounds/{round_a1.pk}/score/",
        {"building": two.pk, "scores": {**scores, str(criteria["family"].pk): 101}},
        format="json",
    )
    assert bad.status_code == 400 and "scores" in bad.json()
    missing = api.post(
        f"/api/v1/rating-rounds/{round_a1.pk}/score/",
        {"building": two.pk, "scores": {str(criteria["family"].pk): 90}},
        format="json",
    )
    assert missing.status_code == 400 and list(missing.json()) == ["scores"]
    wrong_place = api.post(
        f"/api/v1/rating-rounds/{round_a1.pk}/score/", {"building": elsewhere.pk, "scores": scores}, format="json"
    )
    assert wrong_place.status_code == 400 and list(wrong_place.json()) == ["building"]
    junk = api.post(f"/api/v1/rating-rounds/{round_a1.pk}/score/", {"building": "x", "scores": "y"}, format="json")
    assert junk.status_code == 400
    assert not BuildingRating.objects.exists() and not RatingPhoto.objects.exists()
    assert list(RatingEvent.objects.values_list("kind", flat=True)) == ["opened"]
    # The same round twice is a field error, not a 500.
    twice = api.post("/api/v1/rating-rounds/", {"community": district.a1.community.pk, "year": 2026, "quarter": 3})
    assert twice.status_code == 400 and list(twice.json()) == ["quarter"]
    assert RatingRound.objects.count() == 1
    # Then a good one through the API.
    good = api.post(
        f"/api/v1/rating-rounds/{round_a1.pk}/score/", {"building": two.pk, "scores": scores}, format="json"
    )
    assert good.status_code == 200 and good.json()["score"] == "90.00"


def test_approve_through_the_api_and_rankings(
    district, criteria, staff_a, staff_b, secretary_a, street_official_a, api_client_for, client_for
):
    a1 = services.round_open(community=district.a1.community, year=2026, quarter=3, by=staff_a)
    a2 = services.round_open(community=district.a2.community, year=2026, quarter=3, by=staff_b)
    score(a1, district.a1.buildings[0], criteria, HIGH, staff_a)
    score(a1, district.a1.buildings[1], criteria, LOW, staff_a)
    score(a2, district.a2.buildings[0], criteria, {**HIGH, "service": "100"}, staff_b)
    assert api_client_for(staff_a).post(f"/api/v1/rating-rounds/{a1.pk}/approve/").status_code == 403
    answer = api_client_for(secretary_a).post(f"/api/v1/rating-rounds/{a1.pk}/approve/")
    assert answer.status_code == 200 and answer.json()["status"] == "approved"
    assert api_client_for(secretary_a).post(f"/api/v1/rating-rounds/{a1.pk}/approve/").status_code == 409
    services.round_approve(round=a2, by=_secretary_of(district.a2.community))

    result = selectors.rankings(street_official_a, year=2026, quarter=3)
    ranked = [(r.rating.building_id, r.community_rank, r.street_rank) for r in result["ranked"]]
    assert ranked == [
        (district.a2.buildings[0].pk, 1, 1),  # 94.55
        (district.a1.buildings[0].pk, 1, 2),  # 93.75
        (district.a1.buildings[1].pk, 2, 3),  # 78.63
    ]
    summary = {row.community.name: (row.rated, row.passed, row.mean_score) for row in result["summary"]}
    assert summary == {"曙光社区": (2, 1, Decimal("86.19")), "宁国路社区": (1, 1, Decimal("94.55"))}
    # The street: 3 rated, 2 passed, (93.75 + 78.63 + 94.55) / 3 = 88.976… → 88.98; fee rates of September.
    fee_rate_record(compound=district.a1.compound, month=dt.date(2026, 9, 1), rate="90", by=staff_a)
    fee_rate_record(compound=district.a2.compound, month=dt.date(2026, 9, 1), rate="81.5", by=staff_b)
    result = selectors.rankings(street_official_a, year=2026, quarter=3)
    [street] = result["streets"]
    assert (street.street, street.rated, street.passed, street.mean_score, street.fee_rate) == (
        district.street_a,
        3,
        2,
        Decimal("88.98"),
        Decimal("85.75"),
    )
    assert [row.fee_rate for row in result["summary"]] == [Decimal("90.00"), Decimal("81.50")]
    page = client_for(street_official_a).get(reverse("ratings:rankings"), {"year": "2026", "quarter": "3"})
    assert page.status_code == 200 and 'data-testid="ranked-row"' in page.content.decode()
    assert (
        client_for(street_official_a).get(reverse("ratings:rankings"), {"year": "²", "quarter": "9"}).status_code == 200
    )


def _secretary_of(community):
    from accounts.models import Role
    from tests.factories import RoleFactory, UserFactory

    user = UserFactory(username=f"secretary_{community.pk}")
    RoleFactory(user=user, secretary=True, community=community)
    assert Role.objects.filter(user=user).exists()
    return user


@pytest.mark.parametrize("buildings", [0, 18])
def test_round_page_and_rankings_query_counts_are_flat(
    district,
    round_a1,
    criteria,
    staff_a,
    secretary_a,
    district_official,
    client_for,
    django_assert_max_num_queries,
    buildings,
):
    compound = district.a1.compound
    for number in range(buildings):
        building = BuildingFactory(compound=compound, number=str(100 + number))
        score(round_a1, building, criteria, HIGH if number % 2 else LOW, staff_a, photos=[png()] if number < 3 else [])
    score(round_a1, district.a1.buildings[0], criteria, HIGH, staff_a)
    page = client_for(staff_a)
    with django_assert_max_num_queries(16):
        response = page.get(reverse("ratings:round", args=[round_a1.pk]))
    assert response.content.decode().count('data-testid="rating-row"') == 2 + buildings
    services.round_approve(round=round_a1, by=secretary_a)
    official = client_for(district_official)
    with django_assert_max_num_queries(14):
        response = official.get(reverse("ratings:rankings"))
    assert response.content.decode().count('data-testid="ranked-row"') == 1 + buildings
    with django_assert_max_num_queries(12):
        assert page.get(reverse("ratings:rounds")).status_code == 200
