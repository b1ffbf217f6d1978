"""Leads and the bank's working rhythm: the lead board (board, state, refit), alerts of what an
ingest changed, contact plans by tier, the customer 360 view, metrics tracked across ingests,
chain and market campaigns, branch outflow notices (DOMAIN.md).

Uses `scoring` and `graph`, and `ingest` only for the `IngestWatcher` protocol that
`leads.watchers` (tracking, alerts) fulfils; `viz` and `api` use it.
"""
