"""District-scale party organisation for ``manage.py seed_baohe --scale district``.

Over the district-scale registry: one compound (grid) branch per compound (1,000), a
building party group for every two neighbouring buildings (~5,000), party members among
the settled adults (about 4% of residents, each in the group of their building), a leader
per group and a secretary per branch, a central household (党员中心户) for about every 25
households serving the households next to it, and this year's 千万工程 backbones (about
1,000 party and 10,000 mass) with each street's targets.

Everything is derived in the database with set-based ``INSERT … SELECT`` statements from the
registry rows, so nothing is held in Python; "random" choices are a fixed hash of the row id
(``hashint8extended``), so every run on the same registry picks the same people.
"""

import time

from django.db import connection
from django.utils import timezone

from baohe import bulk
from communities.models import Street

from ..models import (
    Backbone,
    BackboneTarget,
    CentralHousehold,
    PartyBranch,
    PartyGroup,
    PartyMember,
)
from .demo import MASS_TARGET, PARTY_TARGET, SPECIALTIES, YEAR, largest_remainder

ORDER = 20

# "Random" choices below are ``abs(hashint8extended(id, salt)) % 1000``: a fixed number 0–999
# per row and purpose (PostgreSQL's 64-bit integer hash, the one hash partitioning uses, so it
# is the same on every version).
MEMBER_PER_MILLE = 65  # of settled adults 22–80 (about 4% of all residents)
CENTRAL_EVERY = 25  # households per central household, about


STATEMENTS = (
    # Which branch and group each building belongs to: ids assigned here, in compound order.
    (
        "",
        """
        CREATE TEMP TABLE district_groups ON COMMIT DROP AS
        SELECT b.id AS building_id, b.compound_id, b.street_id, b.community_id, b.number, b.name,
               b.number::int AS n,
               %(branch_base)s + dense_rank() OVER (ORDER BY b.compound_id) AS branch_id,
               %(group_base)s + dense_rank() OVER (ORDER BY b.compound_id, (b.number::int - 1) / 2) AS group_id
        FROM communities_building b
        """,
    ),
    # Branches: one per compound, named after it, founded 2015–2019.
    (
        "branches",
        """
        INSERT INTO partybuilding_partybranch
            (id, created_at, updated_at, street_id, community_id, name, kind, founded_on)
        SELECT %(branch_base)s + row_number() OVER (ORDER BY c.id), %(now)s, %(now)s, c.street_id,
               c.community_id, c.name || '党支部', 'compound',
               DATE '2015-01-01' + (abs(hashint8extended(c.id, 0)) %% 1826)::int
        FROM communities_compound c ORDER BY c.id
        """,
    ),
    (
        "branch compounds",
        """
        INSERT INTO partybuilding_partybranch_compounds (partybranch_id, compound_id)
        SELECT %(branch_base)s + row_number() OVER (ORDER BY c.id), c.id FROM communities_compound c ORDER BY c.id
        """,
    ),
    # Groups: buildings 1–2, 3–4, … of a compound share a building party group.
    (
        "groups",
        """
        INSERT INTO partybuilding_partygroup (id, created_at, updated_at, street_id, community_id, branch_id, name, kind)
        SELECT group_id, %(now)s, %(now)s, min(street_id), min(community_id), min(branch_id),
               CASE WHEN count(*) = 1 AND max(name) <> '' THEN max(name) || '党小组'
                    ELSE string_agg(number, '、' ORDER BY n) || '栋党小组' END,
               'building'
        FROM district_groups GROUP BY group_id ORDER BY group_id
        """,
    ),
    (
        "group buildings",
        """
        INSERT INTO partybuilding_partygroup_buildings (partygroup_id, building_id)
        SELECT group_id, building_id FROM district_groups ORDER BY group_id, building_id
        """,
    ),
    # Members: a fixed share of the settled adults (not tenants), in their building's group.
    (
        "members",
        """
        INSERT INTO partybuilding_partymember
            (created_at, updated_at, street_id, community_id, resident_id, branch_id, group_id, joined_on)
        SELECT %(now)s, %(now)s, r.street_id, r.community_id, r.id, dg.branch_id, dg.group_id,
               make_date(LEAST(r.birth_year + 20 + abs(hashint8extended(r.id, 1)) %% 30, %(year)s - 1)::int,
                         (1 + abs(hashint8extended(r.id, 2)) %% 12)::int,
                         (1 + abs(hashint8extended(r.id, 4)) %% 28)::int)
        FROM communities_resident r
        JOIN communities_household hh ON hh.id = r.household_id AND NOT hh.is_rented
        JOIN district_groups dg ON dg.building_id = hh.building_id
        WHERE r.relation <> 'tenant' AND r.birth_year BETWEEN %(year)s - 80 AND %(year)s - 22
          AND abs(hashint8extended(r.id, 0)) %% 1000 < %(members)s
        ORDER BY r.id
        """,
    ),
    (
        "",
        """
        UPDATE partybuilding_partygroup g SET leader_id = m.id
        FROM (SELECT DISTINCT ON (group_id) group_id, id FROM partybuilding_partymember
              ORDER BY group_id, abs(hashint8extended(id, 0)), id) m
        WHERE m.group_id = g.id
        """,
    ),
    (
        "",
        """
        UPDATE partybuilding_partybranch b SET secretary_id = m.id
        FROM (SELECT DISTINCT ON (pm.branch_id) pm.branch_id, pm.id FROM partybuilding_partymember pm
              JOIN communities_resident r ON r.id = pm.resident_id
              ORDER BY pm.branch_id, (r.birth_year BETWEEN %(year)s - 70 AND %(year)s - 35) DESC, pm.id) m
        WHERE m.branch_id = b.id
        """,
    ),
    # Central households: members' households, about one in every CENTRAL_EVERY households.
    (
        "central households",
        """
        INSERT INTO partybuilding_centralhousehold
            (created_at, updated_at, street_id, community_id, household_id, member_id, rated_on)
        SELECT %(now)s, %(now)s, x.street_id, x.community_id, x.household_id, x.member_id,
               DATE '2018-01-01' + (abs(hashint8extended(x.member_id, 0)) %% 2900)::int
        FROM (SELECT DISTINCT ON (r.household_id) r.household_id, pm.id AS member_id, pm.street_id, pm.community_id
              FROM partybuilding_partymember pm JOIN communities_resident r ON r.id = pm.resident_id
              ORDER BY r.household_id, pm.id) x
        WHERE abs(hashint8extended(x.household_id, 3)) %% 1000
              < (SELECT 1000.0 * count(*) / %(central_every)s FROM communities_household)
                / GREATEST(1, (SELECT count(DISTINCT r.household_id) FROM partybuilding_partymember pm
                               JOIN communities_resident r ON r.id = pm.resident_id))
        ORDER BY x.household_id
        """,
    ),
    # …each serving the households next to it in its building (4–8 of them).
    (
        "served households",
        """
        INSERT INTO partybuilding_centralhousehold_served_households (centralhousehold_id, household_id)
        SELECT ch.id, n.id FROM partybuilding_centralhousehold ch
        JOIN communities_household own ON own.id = ch.household_id
        JOIN communities_household n ON n.building_id = own.building_id
             AND n.id BETWEEN ch.household_id - 4 AND ch.household_id + 4 AND n.id <> ch.household_id
        WHERE NOT EXISTS (SELECT 1 FROM partybuilding_centralhousehold o WHERE o.household_id = n.id)
        ORDER BY ch.id, n.id
        """,
    ),
    # 千万工程 backbones of this year: party backbones among members, mass backbones among the rest.
    (
        "party backbones",
        """
        INSERT INTO partybuilding_backbone
            (created_at, updated_at, street_id, community_id, resident_id, kind, year, specialty)
        SELECT %(now)s, %(now)s, pm.street_id, pm.community_id, pm.resident_id, 'party', %(year)s,
               (%(specialties)s::text[])[1 + abs(hashint8extended(pm.id, 0)) %% %(n_specialties)s]
        FROM partybuilding_partymember pm
        WHERE abs(hashint8extended(pm.resident_id, 7)) %% 1000
              < 1000.0 * %(party_target)s / GREATEST(1, (SELECT count(*) FROM partybuilding_partymember))
        ORDER BY pm.id
        """,
    ),
    (
        "mass backbones",
        """
        INSERT INTO partybuilding_backbone
            (created_at, updated_at, street_id, community_id, resident_id, kind, year, specialty)
        SELECT %(now)s, %(now)s, r.street_id, r.community_id, r.id, 'mass', %(year)s,
               (%(specialties)s::text[])[1 + abs(hashint8extended(r.id, 0)) %% %(n_specialties)s]
        FROM communities_resident r
        WHERE r.id %% 100 = 17 AND r.birth_year BETWEEN %(year)s - 75 AND %(year)s - 22
          AND NOT EXISTS (SELECT 1 FROM partybuilding_partymember pm WHERE pm.resident_id = r.id)
        ORDER BY r.id
        """,
    ),
)


def seed(ctx):
    bulk.require_postgresql()
    if PartyBranch.objects.exists():
        ctx.log("  partybuilding: the party organisation is already there")
        return
    bulk.bulk_session()
    started = time.monotonic()
    residents = {s: 0 for s in Street.objects.values_list("pk", flat=True)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT street_id, count(*) FROM communities_resident GROUP BY street_id")
        residents.update(dict(cursor.fetchall()))
    params = {
        "now": timezone.now(),
        "year": YEAR,
        "members": MEMBER_PER_MILLE,
        "central_every": CENTRAL_EVERY,
        "party_target": PARTY_TARGET,
        "specialties": list(SPECIALTIES),
        "n_specialties": len(SPECIALTIES),
        "branch_base": bulk.next_id(PartyBranch) - 1,
        "group_base": bulk.next_id(PartyGroup) - 1,
    }
    counts = {}
    with connection.cursor() as cursor:
        for label, sql in STATEMENTS:
            cursor.execute(sql, params)
            if label:
                counts[label] = cursor.rowcount
    BackboneTarget.objects.bulk_create(
        [
            BackboneTarget(street_id=street_id, year=YEAR, party_quota=party, mass_quota=mass)
            for (street_id, party), mass in zip(
                sorted(largest_remainder(PARTY_TARGET, residents).items()),
                [v for _k, v in sorted(largest_remainder(MASS_TARGET, residents).items())],
                strict=True,
            )
        ]
    )
    bulk.reset_sequences(PartyBranch, PartyGroup)
    bulk.analyze(PartyBranch, PartyGroup, PartyMember, CentralHousehold, Backbone)
    ctx.log(
        "  partybuilding: "
        + ", ".join(f"{count} {label}" for label, count in counts.items())
        + f" ({time.monotonic() - started:.1f}s)"
    )
