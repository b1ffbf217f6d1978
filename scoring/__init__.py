"""Prospect families (one module each), the shared explanation type and the scoring run."""
