"""The one settings object (graph.settings): sections, environment names, the accessor."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from graph.settings import (
    ApiSettings,
    IngestSettings,
    Settings,
    get_settings,
    override_settings,
    reset_settings,
)
from graph.vocabulary import OWN_BANK_NAMES, PLACEHOLDER_NAMES


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.upper().startswith(("PROSPECT_GRAPH_", "NEO4J_")):
            monkeypatch.delenv(name)
    return monkeypatch


def test_ingest_threshold_does_not_move_the_search_cut_off(clean_env):
    """The #21 bug: one PROSPECT_GRAPH_FUZZY_THRESHOLD changed the ingest's matching and the API's search."""
    defaults = Settings()
    clean_env.setenv("PROSPECT_GRAPH_INGEST__FUZZY_THRESHOLD", "97")
    s = Settings()
    assert s.ingest.fuzzy_threshold == 97.0
    assert s.api.search_threshold == defaults.api.search_threshold == 60.0
    clean_env.setenv("PROSPECT_GRAPH_API__SEARCH_THRESHOLD", "75")
    s = Settings()
    assert (s.ingest.fuzzy_threshold, s.api.search_threshold) == (97.0, 75.0)


def test_the_old_flat_threshold_name_is_the_ingest_threshold_only(clean_env):
    clean_env.setenv("PROSPECT_GRAPH_FUZZY_THRESHOLD", "93")
    s = Settings()
    assert s.ingest.fuzzy_threshold == 93.0 and s.api.search_threshold == 60.0
    assert not hasattr(s.api, "fuzzy_threshold")


def test_nested_names_win_over_flat_ones(clean_env):
    clean_env.setenv("PROSPECT_GRAPH_STORE", "/flat/store")
    clean_env.setenv("PROSPECT_GRAPH_AS_OF", "2024-01-31")
    clean_env.setenv("NEO4J_URI", "bolt://flat:7687")
    assert Settings().graph.store == Path("/flat/store")
    assert Settings().scoring.as_of == "2024-01-31"
    assert Settings().graph.neo4j_uri == "bolt://flat:7687"
    clean_env.setenv("PROSPECT_GRAPH_GRAPH__STORE", "/nested/store")
    clean_env.setenv("PROSPECT_GRAPH_SCORING__AS_OF", "2024-06-30")
    assert Settings().graph.store == Path("/nested/store")
    assert Settings().scoring.as_of == "2024-06-30"


def test_one_language_for_every_section(clean_env):
    clean_env.setenv("PROSPECT_GRAPH_LANG", "en")
    s = Settings()
    assert (s.lang, s.scoring.lang, s.api.lang) == ("en", "en", "en")
    clean_env.setenv("PROSPECT_GRAPH_LANG", "fr")
    with pytest.raises(ValidationError):
        Settings()


def test_list_settings_read_as_json(clean_env):
    clean_env.setenv("PROSPECT_GRAPH_INGEST__OWN_BANK_NAMES", '["本行", "总行营业部"]')
    clean_env.setenv("PROSPECT_GRAPH_PLACEHOLDER_NAMES", '["保密"]')
    s = Settings()
    assert s.ingest.own_bank_names == ["本行", "总行营业部"] and s.ingest.placeholder_names == ["保密"]


def test_section_defaults_come_from_the_vocabulary(clean_env):
    s = IngestSettings()
    assert s.own_bank_names == list(OWN_BANK_NAMES) and s.placeholder_names == list(PLACEHOLDER_NAMES)
    s.own_bank_names.append("changed")  # a section's list is its own copy
    assert IngestSettings().own_bank_names == list(OWN_BANK_NAMES)


def test_bad_value_is_a_clear_error(clean_env):
    clean_env.setenv("PROSPECT_GRAPH_INGEST__FUZZY_THRESHOLD", "20")
    with pytest.raises(ValidationError, match="fuzzy_threshold"):
        Settings()


def test_accessor_keeps_its_read_and_tests_can_override(clean_env):
    clean_env.setenv("PROSPECT_GRAPH_API__SEARCH_LIMIT", "7")
    first = get_settings()
    assert first.api.search_limit == 7
    clean_env.setenv("PROSPECT_GRAPH_API__SEARCH_LIMIT", "9")
    assert get_settings() is first  # read once per process
    with override_settings(api=ApiSettings(search_limit=3)) as chosen:
        assert get_settings() is chosen and get_settings().api.search_limit == 3
        assert get_settings().ingest == first.ingest
    assert get_settings() is first
    with override_settings(lang="en") as english:
        assert (english.scoring.lang, english.api.lang) == ("en", "en") and first.scoring.lang == "zh"
    reset_settings()
    assert get_settings().api.search_limit == 9
