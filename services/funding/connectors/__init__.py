"""Connectors: each funding source's own format turned into `CallRecord`s, or `Quarantined` with a reason.

One module per source: `eu_funding_tenders` (the EU Funding & Tenders Portal search API) and `incentivi_gov_it`
(the incentivi.gov.it open-data catalogue); `fields` reads what both write in their own ways.
"""
