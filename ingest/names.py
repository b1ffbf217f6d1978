"""Name normalisation for entity resolution (Chinese and English company names).

`normalise_name` removes what varies between spellings of one company and keeps what tells
two companies apart:

* full-width → half-width (NFKC), case, spaces and punctuation, brackets (the text inside
  brackets is kept: 华为技术(深圳)有限公司 and 华为技术（深圳）有限公司 are one name);
* the legal-form family 有限公司 / 有限责任公司 / 股份有限公司 / 股份公司 and, for English
  names, Co. / Ltd. / Inc. / Limited / Corp. / LLC / PLC / GmbH …;
* the kind of account a statement writes after the holder's name, (基本户) / (一般存款账户) …:
  an account of the company, not another company;
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

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.arrays import one_array
from ingest.arrow_text import from_arrow, to_arrow

__all__ = ["normalise_name", "normalise_names", "normalise_texts", "block_columns", "block_id", "split_branch",
           "external_id", "is_latin", "digits_of"]

_LEGAL_ZH = re.compile(r"(股份有限公司|有限责任公司|有限公司|股份公司|责任公司)")
_LEGAL_EN = re.compile(
    r"\b(co|company|corp|corporation|inc|incorporated|ltd|limited|llc|plc|gmbh|ag|sa|bv|nv|pte|pty|"
    r"holdings?|the)\b")
# an account kind in brackets at the end of a name (after NFKC: half-width brackets)
_ACCOUNT_KIND = re.compile(r"\((?:基本|一般|专用|临时|结算|保证金)?(?:存款)?(?:账户|帐户|户)\)$")
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
    text = _BRACKETS.sub(" ", _ACCOUNT_KIND.sub("", text).rstrip())
    if is_latin(text):
        text = text.replace("&", " and ")
        text = re.sub(r"[^a-z0-9 ]+", " ", text)
        text = _LEGAL_EN.sub(" ", text)
        return " ".join(text.split())
    text = _LEGAL_ZH.sub("", text)
    return _PUNCT.sub("", text)


# The Arrow (RE2) form of the rules above gives byte for byte what `normalise_name` gives on the
# characters below (ASCII, CJK punctuation and ideographs, full- and half-width forms: all the
# names of a Chinese bank's export); tests/ingest/test_names_columnar.py checks every one of them.
# A name with any other character (Unicode case or spaces, newer NFKC tables) goes through
# `normalise_name` itself.
_OTHER_CHARS = r"[^\x{00}-\x{7f}\x{3000}-\x{303f}\x{4e00}-\x{9fff}\x{ff00}-\x{ffef}·•“”‘’–—]"
_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "  # what str.strip and re's \s remove among those characters
_RE2_SPACE = r"\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f} "
_RE2_PUNCT = _PUNCT.pattern.replace(r"\s", _RE2_SPACE)


def normalise_texts(values: pa.Array) -> pa.Array:
    """`normalise_name` over an Arrow text array, in Arrow kernels; nulls stay null."""
    values = values.cast(pa.large_string())
    text = pc.ascii_lower(pc.utf8_trim(pc.utf8_normalize(values, "NFKC"), _SPACES))
    text = pc.utf8_rtrim(pc.replace_substring_regex(text, _ACCOUNT_KIND.pattern, ""), _SPACES)
    text = pc.replace_substring_regex(text, _BRACKETS.pattern, " ")
    # each name goes through the rules of its own script only (a third less time than both on all)
    latin = pc.fill_null(pc.match_substring_regex(text, r"^[\x{00}-\x{7f}]+$"), False)
    english = pc.replace_substring_regex(pc.replace_substring(text.filter(latin), "&", " and "), "[^a-z0-9 ]+", " ")
    english = pc.replace_substring_regex(english, _LEGAL_EN.pattern, " ")
    english = pc.utf8_trim(pc.replace_substring_regex(english, " +", " "), " ")
    rest = pc.invert(latin)  # and the nulls, which stay null
    chinese = pc.replace_substring_regex(text.filter(rest), _LEGAL_ZH.pattern, "")
    chinese = pc.replace_substring_regex(chinese, _RE2_PUNCT, "")
    out = pc.replace_with_mask(pa.nulls(len(text), pa.large_string()), latin, english)
    out = pc.replace_with_mask(out, rest, chinese)
    other = pc.fill_null(pc.match_substring_regex(values, _OTHER_CHARS), False)
    if pc.any(other).as_py():  # rare: the few names with other characters, one by one
        at = pc.indices_nonzero(other)
        exact = pa.array([normalise_name(v) for v in values.take(at).to_pylist()], pa.large_string())
        out = pc.replace_with_mask(out, other, exact)
    return out


def normalise_names(names: pd.Series) -> pd.Series:
    """`normalise_name` over a text column, once per distinct value (exports repeat names); <NA> stays."""
    values = to_arrow(names.astype("string"))
    values = one_array(values)
    distinct = pc.dictionary_encode(values)
    return from_arrow(normalise_texts(distinct.dictionary).take(distinct.indices), names.index)


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


def block_id(key: str, branch: str, digits: tuple[str, ...], length: int) -> str:
    """The one text naming a fuzzy block (see `ingest.resolve`): key, branch, numbers, head length."""
    return f"{key}\x1f{branch}\x1f{'|'.join(digits)}\x1f{length}"


def block_key(head: str, prefix: int) -> str | None:
    """The block key of a name's head: its first word (English) or its first `prefix` characters."""
    if is_latin(head):
        words = head.split()
        return f"w:{words[0]}" if words else None
    return f"p:{head[:prefix]}" if head else None


_ENDS_BRANCH = "(?:" + "|".join(_BRANCH_SUFFIXES) + ")$"


def block_columns(norms: pa.Array, prefix: int) -> tuple[pa.Array, pa.Array]:
    """(`block_id`, head) of every normalised name, in Arrow kernels (null block: no block).

    Names that end with a branch suffix or hold characters outside ASCII and CJK go through
    `split_branch`/`digits_of` one by one (a few); the rest are their own head.
    """
    norms = norms.cast(pa.large_string())
    text = pa.large_string()
    latin = pc.match_substring_regex(norms, r"^[\x{00}-\x{7f}]+$")
    first_word = pc.struct_field(pc.extract_regex(norms, f"^[{_RE2_SPACE}]*(?P<w>[^{_RE2_SPACE}]+)"), "w")
    key = pc.if_else(latin, pc.binary_join_element_wise(pa.scalar("w:", text), first_word, pa.scalar("", text)),
                     pc.binary_join_element_wise(pa.scalar("p:", text), pc.utf8_slice_codeunits(norms, 0, prefix),
                                                 pa.scalar("", text)))
    key = pc.if_else(pc.equal(norms, ""), pa.scalar(None, text), key)
    digits = pc.utf8_trim(pc.replace_substring_regex(norms, "[^0-9]+", "|"), "|")
    blocks = pc.binary_join_element_wise(key, pa.scalar("", text), digits, pc.cast(pc.utf8_length(norms), text),
                                         pa.scalar("\x1f", text))
    odd = pc.fill_null(pc.or_(pc.match_substring_regex(norms, _ENDS_BRANCH),
                              pc.match_substring_regex(norms, r"[^\x{00}-\x{7f}\x{3000}-\x{303f}\x{4e00}-\x{9fff}]")),
                       False)
    heads = norms
    if pc.any(odd).as_py():
        at = pc.indices_nonzero(odd)
        exact_blocks, exact_heads = [], []
        for norm in norms.take(at).to_pylist():
            head, branch = split_branch(norm)
            key_ = block_key(head, prefix)
            exact_heads.append(head)
            exact_blocks.append(None if key_ is None else block_id(key_, branch, digits_of(norm), len(head)))
        blocks = pc.replace_with_mask(blocks, odd, pa.array(exact_blocks, pa.large_string()))
        heads = pc.replace_with_mask(heads, odd, pa.array(exact_heads, pa.large_string()))
    return blocks, heads


def digits_of(norm: str) -> tuple[str, ...]:
    """The digit runs of a name: names whose numbers differ are never the same entity."""
    return tuple(_DIGITS.findall(norm))


def external_id(norm: str) -> str:
    """The stable id of an external enterprise known only by (normalised) name."""
    return "ext:" + hashlib.sha256(norm.encode("utf-8")).hexdigest()[:12]
