"""Name normalisation for entity resolution (Chinese and English company names).

`normalise_name` removes what varies between spellings of one company and keeps what tells
two companies apart:

* full-width → half-width (NFKC), case, spaces and punctuation, brackets (the text inside
  brackets is kept: 华为技术(深圳)有限公司 and 华为技术（深圳）有限公司 are one name);
* the legal-form family 有限公司 / 有限责任公司 / 股份有限公司 / 股份公司 and, for English
  names, Co. / Ltd. / Inc. / Limited / Corp. / LLC / PLC / GmbH …;
* branch suffixes are *kept* but written one way, because a branch or store is an entity of
  its own (the ecosystem family ranks them): …有限公司北京分公司 → …北京分公司.

Examples:
    >>> normalise_name("华东精工机械制造有限责任公司")
    '华东精工机械制造'
    >>> normalise_name("Hon Hai Precision Industry Co., Ltd.")
    'hon hai precision industry'
    >>> split_branch("康宁大药房连锁城东分店")
    ('康宁大药房连锁', '城东分店')
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["normalise_name", "normalise_names", "split_branch", "external_id", "is_latin", "digits_of"]

_LEGAL_ZH = re.compile(r"(股份有限公司|有限责任公司|有限公司|股份公司|责任公司)")
_LEGAL_EN = re.compile(
    r"\b(co|company|corp|corporation|inc|incorporated|ltd|limited|llc|plc|gmbh|ag|sa|bv|nv|pte|pty|"
    r"holdings?|the)\b")
_BRACKETS = re.compile(r"[()\[\]{}<>《》〈〉「」『』【】〔〕]")
_PUNCT = re.compile(r"[\s.,;:'\"`~!@#$%^*_+=|\\/?·•、，。；：！？“”‘’\-–—]+")
# branch suffixes, longest first; the branch part is the suffix plus the two characters before
# it (usually the place: 城东分店, 北京分公司)
_BRANCH_SUFFIXES = ("分公司", "营业部", "办事处", "旗舰店", "专卖店", "加盟店", "直营店", "分店", "门店", "分厂",
                    "分部", "支行", "分行", "分所", "分院", "店")
_LATIN = re.compile(r"^[\x00-\x7f]+$")
_DIGITS = re.compile(r"\d+")


def is_latin(text: str) -> bool:
    return bool(_LATIN.match(text))


def normalise_name(name: str) -> str:
    """The comparable form of a company name (see the module docstring)."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    text = _BRACKETS.sub(" ", text)
    if is_latin(text):
        text = text.replace("&", " and ")
        text = re.sub(r"[^a-z0-9 ]+", " ", text)
        text = _LEGAL_EN.sub(" ", text)
        return " ".join(text.split())
    text = _LEGAL_ZH.sub("", text)
    return _PUNCT.sub("", text)


def normalise_names(names: pd.Series) -> pd.Series:
    """`normalise_name` over a text column, once per distinct value (exports repeat names); <NA> stays."""
    codes, uniques = pd.factorize(names.astype("string"))
    table = np.array([normalise_name(str(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(table[codes], index=names.index, dtype="string")


def split_branch(norm: str) -> tuple[str, str]:
    """(head, branch suffix) of a normalised name; the suffix is '' for a head office."""
    if not norm.endswith(_BRANCH_SUFFIXES):  # one C call settles most names (no branch)
        return norm, ""
    for suffix in _BRANCH_SUFFIXES:
        if norm.endswith(suffix):
            cut = len(norm) - len(suffix) - 2
            if cut >= 2:
                return norm[:cut], norm[cut:]
            return norm, ""
    return norm, ""


def digits_of(norm: str) -> tuple[str, ...]:
    """The digit runs of a name: names whose numbers differ are never the same entity."""
    return tuple(_DIGITS.findall(norm))


def external_id(norm: str) -> str:
    """The stable id of an external enterprise known only by (normalised) name."""
    return "ext:" + hashlib.sha256(norm.encode("utf-8")).hexdigest()[:12]
