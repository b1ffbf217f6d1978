"""The corporate-to-retail family: executives, owners and payroll staff of corporate clients as
retail prospects, retail clients who run non-client companies, and outflow alerts.

- `settings.py` the family's thresholds; `common.py` what every kind shares;
- `roles.py` executives and owners, and retail clients who run companies;
- `payroll.py` payroll staff; `outflow.py` outflow alerts;
- `linkage.py` the family's entry point (`score`) and the employer and manager views.
"""

from scoring.retail_linkage.linkage import (
    RetailLinkageSettings,
    employer_staff,
    employer_summaries,
    employer_tracking_metrics,
    retail_manager_view,
    scoped_summaries,
    score,
)

__all__ = ["score", "employer_staff", "employer_summaries", "employer_tracking_metrics", "retail_manager_view", "scoped_summaries",
           "RetailLinkageSettings"]
