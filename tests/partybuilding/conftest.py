"""The party organisation on top of the small district (``tests/conftest.py``).

``party`` builds, with exact coverage numbers the tests rely on::

    A1 曙光社区: branch_a1 covers 曙光小区; group_a1 covers building 1 only.
        member_a1 (household 1, building 1) is secretary of branch_a1 and leader of group_a1;
        member2_a1 (household 2) is in group_a1.
        central_a1 = household 1 (member_a1), serving household 0 (where ``resident`` lives).
        → compounds without branch 0/1, buildings without group 1/2, households unserved 4/6
    A2 宁国路社区: branch_a2 covers no compound; group_a2 covers building 1.
        member_a2 (household 0) in group_a2; central_a2 = household 0, serving household 3.
        → 1/1, 1/2, 4/6
    B1 望湖社区: nothing. → 1/1, 2/2, 6/6
"""

from dataclasses import dataclass

import pytest

from tests.factories import (
    BackboneFactory,
    CentralHouseholdFactory,
    PartyBranchFactory,
    PartyGroupFactory,
    PartyMemberFactory,
)


@dataclass
class Party:
    branch_a1: object
    group_a1: object
    member_a1: object
    member2_a1: object
    central_a1: object
    backbone_a1: object
    branch_a2: object
    group_a2: object
    member_a2: object
    central_a2: object
    backbone_a2: object


@pytest.fixture
def party(district):
    a1, a2 = district.a1, district.a2

    branch_a1 = PartyBranchFactory(community=a1.community, name="曙光小区党支部", compounds=[a1.compound])
    group_a1 = PartyGroupFactory(branch=branch_a1, name="曙光1栋党小组", buildings=[a1.buildings[0]])
    # residents[2] lives in households[1], residents[4] in households[2] (two residents per household).
    member_a1 = PartyMemberFactory(resident=a1.residents[2], branch=branch_a1, group=group_a1)
    member2_a1 = PartyMemberFactory(resident=a1.residents[4], branch=branch_a1, group=group_a1)
    group_a1.leader = member_a1
    group_a1.save(update_fields=["leader"])
    branch_a1.secretary = member_a1
    branch_a1.save(update_fields=["secretary"])
    central_a1 = CentralHouseholdFactory(member=member_a1, served_households=[a1.households[0]])

    branch_a2 = PartyBranchFactory(community=a2.community, name="宁国路功能型党支部")
    group_a2 = PartyGroupFactory(branch=branch_a2, name="宁国1栋党小组", buildings=[a2.buildings[0]])
    member_a2 = PartyMemberFactory(resident=a2.residents[0], branch=branch_a2, group=group_a2)
    central_a2 = CentralHouseholdFactory(member=member_a2, served_households=[a2.households[3]])

    return Party(
        branch_a1=branch_a1,
        group_a1=group_a1,
        member_a1=member_a1,
        member2_a1=member2_a1,
        central_a1=central_a1,
        backbone_a1=BackboneFactory(resident=a1.residents[6]),
        branch_a2=branch_a2,
        group_a2=group_a2,
        member_a2=member_a2,
        central_a2=central_a2,
        backbone_a2=BackboneFactory(resident=a2.residents[6]),
    )
