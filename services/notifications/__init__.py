"""Email, in-app inbox and signed webhooks to partner systems; preferences and digests."""
