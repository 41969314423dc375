"""Italy's regions, named once: funding reads them from calls in the ways sources spell them, the web client offers
them as a filter."""

from __future__ import annotations

from typing import Literal, get_args

ItalianRegion = Literal[
    "Abruzzo",
    "Basilicata",
    "Calabria",
    "Campania",
    "Emilia-Romagna",
    "Friuli-Venezia Giulia",
    "Lazio",
    "Liguria",
    "Lombardia",
    "Marche",
    "Molise",
    "Piemonte",
    "Puglia",
    "Sardegna",
    "Sicilia",
    "Toscana",
    "Trentino-Alto Adige",
    "Umbria",
    "Valle d'Aosta",
    "Veneto",
]

# In their usual order, for lists people choose from.
ITALIAN_REGION_NAMES: tuple[ItalianRegion, ...] = get_args(ItalianRegion)
