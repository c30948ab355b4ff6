"""Each model's path to its street, community, compound and building is declared once, in its
``scope_paths``; the registry's level counts and the dashboard's lists read it from there."""

import pytest
from django.db.models import Q

from communities.models import Compound
from communities.selectors import counters
from dashboard.lists import SPECS
from partybuilding.models import PartyGroup


def test_the_level_counts_group_by_the_declared_paths():
    paths = {counter.key: counter.paths for counter in counters()}
    assert paths["community"] == {"street": "street"}
    assert paths["compound"] == {"street": "street", "community": "community"}
    assert paths["household"] == {
        "street": "street",
        "community": "community",
        "compound": "compound",
        "building": "building",
    }
    assert paths["resident"]["building"] == "household__building"
    assert paths["partybranch"] == {"street": "street", "community": "community", "compound": "compounds"}
    assert paths["partygroup"] == {
        "street": "street",
        "community": "community",
        "compound": "buildings__compound",
        "building": "buildings",
    }
    for counter in counters():
        assert counter.paths == counter.model.scope_paths.places_above()


@pytest.mark.parametrize("metric", sorted(SPECS))
def test_every_dashboard_list_can_be_narrowed_to_every_place(metric):
    paths = SPECS[metric].model.scope_paths
    assert all(paths.place(level) for level in ("street", "community", "compound")), metric


def test_a_model_without_a_path_to_a_place_says_so():
    assert PartyGroup.scope_paths.place_filter("building", 7) == Q(buildings=7)
    with pytest.raises(ValueError, match="no path to a building"):
        Compound.scope_paths.place_filter("building", 7)
