"""The referral family: fellow members of clients' associations and chambers, each with the
chain of people that introduces them and the account manager who owns the referrer.

- `network.py` loads memberships, roles and ownership into one network and finds chains;
- `targets.py` lists an association's members who are not yet clients;
- `text.py` words the chains;
- `score.py` scores chains and rows (`score` is the family's entry point).
"""

from scoring.referral.score import ReferralSettings, chain_evidence, chain_facts, rank_chains, score

__all__ = ["score", "ReferralSettings", "chain_facts", "chain_evidence", "rank_chains"]
