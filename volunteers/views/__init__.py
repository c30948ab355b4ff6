"""Volunteer pages: ``resident`` (phone first: activities, sign up, my hours and points,
teams) and the ``staff`` package (activities with the check-in sheet, teams and projects,
volunteers, hours review and the Excel export); ``common`` holds what they share."""
