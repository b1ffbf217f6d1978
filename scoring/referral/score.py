"""The `referral` family (以客荐客): prospects a client can introduce, and associations to work as a batch.

Kinds:

- ``member``: an enterprise or person (not a client, or a weak client) reached by a referral
  chain — a fellow association member, through an association officer, through a person who
  sits in both companies, or through a group. The best chain decides the score and the
  manager; the other chains and introducers are listed in ``details``.
- ``association_target``: an association ranked for batch acquisition (salons, packages).

A member's score is the best chain's contributions (referrer strength, the association's
penetration, fit with the referrer, chain length) plus a bonus for independent introducers,
so adding a chain never lowers it. Weights: section ``referral:`` of scoring/weights.yaml.

`score` runs the SQL steps in one in-process DuckDB database of its own (`_connect`) — network,
chains, member rows, association targets — closes it (its tables are most of the family's memory), then
puts the member rows' details, evidence and reasons together and returns one frame
(`scoring.frame.FRAME_SCHEMA`).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from graph.duck import duckdb_cursor, own_database
from graph.memory import release_memory
from graph.store import GraphStore
from scoring.referral.chains import build_chains
from scoring.referral.members import member_rows, member_table
from scoring.referral.network import load_network
from scoring.referral.settings import ReferralSettings
from scoring.referral.targets import association_targets
from scoring.referral.text import position_words, role_words
from scoring.settings import ScoringSettings, family_settings

__all__ = ["score", "FAMILY"]

FAMILY = "referral"


def score(store: GraphStore, settings: ScoringSettings) -> pa.Table:
    """Every `member` and `association_target` row of the referral family, as one frame."""
    cfg = family_settings(settings, FAMILY, ReferralSettings)
    con = _connect()
    try:
        con.register("position_words", position_words())
        con.register("role_words", role_words())
        load_network(con, store, cfg, settings.as_of)
        build_chains(con, cfg)
        members = member_table(con, cfg)
        targets = association_targets(con, cfg)
    finally:
        con.close()  # its tables (the chains above all) are freed before the frame is built
    release_memory()
    return pa.concat_tables([member_rows(members, cfg), targets])


def _connect() -> duckdb.DuckDBPyConnection:
    """A DuckDB database of the family's own, with as many threads as the process's database
    (`graph.duck`: `scoring.parallel.duckdb_threads` gives a scoring process its share of the
    cores). Its own, not a cursor of that one: closing it hands the memory of its tables back at
    once; a cursor's freed pages stayed with the process database's allocator and raised the
    family's peak by about 0.2 GiB at 2M payments."""
    shared = duckdb_cursor()
    try:
        threads = int(shared.execute("SELECT current_setting('threads')").fetchall()[0][0])
    finally:
        shared.close()
    return own_database(threads)
