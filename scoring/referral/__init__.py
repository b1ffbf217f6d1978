"""The referral family (以客荐客): fellow members of clients' associations and chambers, each with
the chain of people that introduces them and the account manager who owns the referrer.

Column-wise throughout: each step is SQL over whole tables in one in-process DuckDB connection,
and rows become Python objects only when shown (`scoring.run`).

- `settings.py`: the weights (section ``referral:`` of scoring/weights.yaml);
- `network.py`: entities with their flags and products, memberships, roles, associations'
  penetration and display names, from the node tables and the derived ``edges``;
- `chains.py`: every referral chain (association, officer, interlock, group) as joins, its
  points, and its rank among the prospect's chains;
- `members.py`: kind ``member``, one row per prospect from its best chain;
- `targets.py`: kind ``association_target``, associations to work as a batch;
- `rows.py`: evidence bars and reason slots put together as a frame (`scoring.frame`);
- `text.py`: the reason templates (`scoring.templates`) and word tables;
- `score.py`: the family's entry point `score`.
"""

from scoring.referral.score import score
from scoring.referral.settings import ReferralSettings

__all__ = ["score", "ReferralSettings"]
