"""The web client's pages, one module per area (public, account, members_area...)."""
