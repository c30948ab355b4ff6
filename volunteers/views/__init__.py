"""Volunteer pages: ``resident`` (phone first: activities, sign up, my hours and points,
teams) and ``staff`` (teams, projects, activities with the check-in sheet, hours review and
the Excel export)."""
