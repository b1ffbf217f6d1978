"""The bank's working rhythm: contact plans by tier, the customer 360 view, metrics tracked
across ingests, chain and market campaigns, branch outflow notices (DOMAIN.md).

Uses `scoring` (the lead board, the ledger, settings) and `graph`; `api` uses it.
"""
