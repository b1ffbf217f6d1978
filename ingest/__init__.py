"""Ingest: readers, header aliases and mapping files, validation, entity resolution, the job."""
