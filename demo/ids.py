"""Check characters and name pools for the demo and scale bundle generators.

ID numbers follow GB 11643 (18 characters, the last a check character over the first 17);
unified social credit codes (USCC) follow GB 32100 (18 characters from a 31-letter alphabet,
with an organisation code carrying its own GB 11714 check character). Both come in a scalar
form (the demo bundle) and a vectorised numpy form (the scale bundle).
"""

from __future__ import annotations

import random

import numpy as np
import numpy.typing as npt

from graph.vocabulary import OWN_BANK_NAMES

__all__ = [
    "id_check_char",
    "make_id_number",
    "uscc_check_char",
    "make_uscc",
    "id_numbers_vec",
    "usccs_vec",
    "phones_vec",
    "make_phone",
    "person_name",
    "SURNAMES",
    "GIVEN_CHARS",
    "REGION_CODES",
    "OTHER_BANKS",
    "OWN_BANK",
]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Administrative division codes (GB/T 2260) of a few eastern cities, used as ID-number and USCC prefixes.
REGION_CODES = ("330203", "330205", "330206", "320505", "320506", "310115", "330106", "320106")
OWN_BANK = OWN_BANK_NAMES[0]  # "本行" (graph.vocabulary)
OTHER_BANKS = ("中国工商银行", "招商银行", "中国建设银行", "中国农业银行", "中国银行", "兴业银行",
               "浦发银行", "宁波银行")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力兰志斌峰宇浩凯鹏欣婷雪琳晨旭亮飞彬博晶佳颖慧琴波健俊帆磊蕾倩岚嘉鑫宁昊然"


def id_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of an ID number."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def make_id_number(rng: random.Random, birth_year_range: tuple[int, int] = (1960, 2002)) -> str:
    """A valid 18-character ID number: region, birth date, sequence, check character."""
    region = rng.choice(REGION_CODES)
    year = rng.randint(*birth_year_range)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    first17 = f"{region}{year:04d}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def _org_check_char(first8: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))  # GB 11714: A=10 … Z=35
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a USCC."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def make_uscc(rng: random.Random) -> str:
    """A valid USCC of a company registered with the market regulator (prefix 91)."""
    org8 = f"{rng.randint(0, 99_999_999):08d}"
    first17 = "91" + rng.choice(REGION_CODES) + org8 + _org_check_char(org8)
    return first17 + uscc_check_char(first17)


def make_phone(rng: random.Random) -> str:
    """A mainland mobile number (11 digits)."""
    return rng.choice(("138", "139", "135", "136", "137", "150", "151", "158", "186", "188")) + \
        f"{rng.randint(0, 99_999_999):08d}"


def person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


# ------------------------------------------------------------- vectorised
def _digits_to_strings(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.str_]:
    """Rows of ASCII codes (n x width) to an array of strings."""
    width = codes.shape[1]
    return np.ascontiguousarray(codes).view(f"S{width}").ravel().astype(f"U{width}")


def id_numbers_vec(rng: np.random.Generator, n: int) -> npt.NDArray[np.str_]:
    """`n` valid ID numbers (GB 11643), vectorised."""
    regions = np.array([[int(c) for c in r] for r in REGION_CODES], dtype=np.int64)
    digits = np.empty((n, 17), dtype=np.int64)
    digits[:, :6] = regions[rng.integers(0, len(REGION_CODES), n)]
    year = rng.integers(1955, 2004, n)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    seq = rng.integers(0, 1000, n)
    for pos, (value, width) in enumerate(((year, 4), (month, 2), (day, 2), (seq, 3))):
        start = 6 + sum((4, 2, 2, 3)[:pos])
        for k in range(width):
            digits[:, start + k] = value // 10 ** (width - 1 - k) % 10
    check = (digits * np.array(_ID_WEIGHTS)).sum(axis=1) % 11
    check_codes = np.frombuffer(_ID_CHECK.encode(), dtype=np.uint8)[check]
    codes = np.empty((n, 18), dtype=np.uint8)
    codes[:, :17] = digits + ord("0")
    codes[:, 17] = check_codes
    return _digits_to_strings(codes)


def usccs_vec(rng: np.random.Generator, n: int) -> npt.NDArray[np.str_]:
    """`n` valid USCCs (GB 32100 with a GB 11714 organisation code), vectorised."""
    alphabet = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
    values = np.empty((n, 17), dtype=np.int64)
    values[:, 0], values[:, 1] = 9, 1
    regions = np.array([[int(c) for c in r] for r in REGION_CODES], dtype=np.int64)
    values[:, 2:8] = regions[rng.integers(0, len(REGION_CODES), n)]
    values[:, 8:16] = rng.integers(0, 10, (n, 8))
    org = 11 - (values[:, 8:16] * np.array(_ORG_WEIGHTS)).sum(axis=1) % 11
    # 10 is written X (value 30 in the USCC alphabet), 11 is written 0
    values[:, 16] = np.where(org == 10, USCC_ALPHABET.index("X"), np.where(org == 11, 0, org))
    check = (31 - (values * np.array(_USCC_WEIGHTS)).sum(axis=1) % 31) % 31
    codes = np.empty((n, 18), dtype=np.uint8)
    codes[:, :17] = alphabet[values]
    codes[:, 17] = alphabet[check]
    return _digits_to_strings(codes)


def phones_vec(rng: np.random.Generator, n: int) -> npt.NDArray[np.str_]:
    """`n` mobile numbers, vectorised."""
    prefixes = np.array([138, 139, 135, 136, 137, 150, 151, 158, 186, 188], dtype=np.int64)
    number = prefixes[rng.integers(0, len(prefixes), n)] * 10**8 + rng.integers(0, 10**8, n)
    return number.astype("U11")
