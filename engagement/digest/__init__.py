"""Digests for stakeholder group coordinators: ``build`` (SQL aggregates → the digest's data),
``themes`` and ``quotes`` (merging themes, balanced quotes), ``chart`` (PNG and alt text), ``render``
(chat reply and page values in English or Welsh), ``schedule`` (due digests through the outbox),
``links`` (signed, expiring links), ``mail`` ("you said, we did" to respondents) and ``web`` (routes)."""
