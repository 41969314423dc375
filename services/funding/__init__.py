"""EU and Italian funding calls from real feeds, matched to member companies, deadline reminders."""
