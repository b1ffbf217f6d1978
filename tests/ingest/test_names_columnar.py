"""The Arrow forms of name normalisation and fuzzy blocking give what the one-name functions give."""

from __future__ import annotations

import random

import pandas as pd
import pyarrow as pa
import pytest

from ingest.names import (
    block_columns,
    block_id,
    block_key,
    digits_of,
    normalise_name,
    normalise_names,
    normalise_texts,
    split_branch,
)

# every character the Arrow kernels handle themselves (the rest go through normalise_name)
_SAFE = ([chr(c) for c in range(0x80)] + [chr(c) for c in range(0x3000, 0x3040)]
         + [chr(c) for c in range(0x4E00, 0xA000, 97)] + [chr(c) for c in range(0xFF00, 0xFFF0)] + list("·•“”‘’–—"))
_CONTEXTS = ("{}", "a{}", "{}b", "A {} Co", "华{}东有限公司", " {} ", "{}{}", "x{}&y Ltd.", "公司{}", "Ｘ{}（深圳）")
_ODD = ["华为技术(深圳)有限公司北京分公司", "华为技术（深圳）有限公司", "康宁大药房连锁城东分店", "abc旗舰店", "旗舰店",
        "ACME 北京分公司", "x١٢y", "Ｃｏ．，Ｌｔｄ．３号", "İstanbul Ltd", "a\x85b", "a\xa0b", "ǅ Ltd", "Straße GmbH",
        "\u3000中国 石化\u3000", "The Boring Company", "AT&T Inc.", "", " ", "（）", "---", "株式会社ﾄﾖﾀ", "㈱東芝",
        "华东精工有限公司(基本户)", "华东（一般存款账户） ", "甲 (户)\u3000", "(户)", "户(保证金户)x", "ACME Ltd (结算户)"]


def _names(seed: int) -> list[str]:
    rng = random.Random(seed)
    pool = _SAFE + list("有限公司股份责任分店支行 Co Ltd Inc.,()（）【】0123456789") + ["ß", "é", "\u2028", "Ⅻ"]
    return [t.replace("{}", c) for c in _SAFE for t in _CONTEXTS] + _ODD + [
        "".join(rng.choice(pool) for _ in range(rng.randint(0, 14))) for _ in range(5000)]


def test_normalise_texts_is_normalise_name_per_value() -> None:
    names = _names(1)
    out = normalise_texts(pa.array([*names, None], pa.large_string())).to_pylist()
    assert out[-1] is None
    wrong = [(n, normalise_name(n), o) for n, o in zip(names, out, strict=False) if normalise_name(n) != o]
    assert not wrong, wrong[:5]


def test_normalise_names_keeps_index_and_missing() -> None:
    names = pd.Series(["华东精工机械制造有限责任公司", None, "Hon Hai Co., Ltd.", "华东精工机械制造有限责任公司"],
                      dtype="string", index=[7, 8, 9, 10])
    out = normalise_names(names)
    assert out.index.tolist() == [7, 8, 9, 10]
    assert out.tolist() == ["华东精工机械制造", pd.NA, "hon hai", "华东精工机械制造"]


@pytest.mark.parametrize("prefix", [1, 2, 3])
def test_block_columns_are_split_branch_and_digits_per_value(prefix: int) -> None:
    norms = sorted({normalise_name(n) for n in _names(2)})
    blocks, heads = block_columns(pa.array([*norms, None], pa.large_string()), prefix)
    assert blocks.to_pylist()[-1] is None
    for norm, block, head in zip(norms, blocks.to_pylist(), heads.to_pylist(), strict=False):
        want_head, branch = split_branch(norm)
        key = block_key(want_head, prefix)
        assert head == want_head
        assert block == (None if key is None else block_id(key, branch, digits_of(norm), len(want_head))), norm
