"""The weights file: parsed once while unchanged, read again once edited, never shared mutably."""

from __future__ import annotations

import os

import pytest

from graph.errors import InvalidRequest
from scoring.campaigns import CampaignSettings
from scoring.settings import ScoringSettings, family_settings, weight_sections


def test_an_edited_weights_file_is_read_again(tmp_path):
    path = tmp_path / "weights.yaml"
    path.write_text("campaigns:\n  top_members: 3\n", encoding="utf-8")
    settings = ScoringSettings(weights=path)
    assert family_settings(settings, "campaigns", CampaignSettings).top_members == 3
    path.write_text("campaigns:\n  top_members: 25\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a new stamp even where the clock is coarse
    assert family_settings(settings, "campaigns", CampaignSettings).top_members == 25
    path.write_text("campaigns: [not, a, mapping", encoding="utf-8")
    with pytest.raises(InvalidRequest, match="cannot read weights file"):
        family_settings(settings, "campaigns", CampaignSettings)


def test_a_caller_changing_the_sections_changes_no_one_elses(tmp_path):
    settings = ScoringSettings()
    first = weight_sections(settings)
    first["campaigns"] = {"top_members": 999}
    first.clear()
    assert weight_sections(settings).get("campaigns", {}).get("top_members") != 999
    assert weight_sections(settings)  # the shipped file's sections, whole
