"""The benchmark-scale bundle: the demo's structure at about `scale` payment rows.

Tables in proportion to N = `scale`: ~N payments, ~N/10 enterprises, ~N/2 persons, ~1.2N
payroll rows, N/50 bills with endorsement chains, roles, associations and memberships.
Degrees are heavy-tailed (Zipf-like weights over a random order of nodes), a few percent of
payees are known only by name (some as variants, some never seen before), and headers are
the canonical English ones in plain UTF-8. Generation is vectorised (numpy) and written in
chunks with pyarrow's CSV writer, so memory stays bounded at any scale.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from demo.ids import OTHER_BANKS, OWN_BANK, usccs_vec
from graph.progress import track

__all__ = ["write_scale_bundle", "CHUNK"]

CHUNK = 250_000  # rows generated and written at a time
_EPOCH = np.datetime64("2024-01-01")
_DAYS = 14 * 30  # the window of payments, as in the demo bundle
_REGIONS = ["宁波", "杭州", "温州", "绍兴", "台州", "嘉兴", "湖州", "金华", "苏州", "无锡", "常州", "南京",
            "上海", "合肥", "福州", "厦门", "青岛", "济南", "广州", "深圳"]
_WORDS = list("华盛恒通宏达鑫源金泰瑞丰永兴正德天成安信中联博远东方明新隆昌富佳利和美嘉宇凯越鼎诚旺合荣")
_INDUSTRIES = [("机械制造", "机械"), ("钢材贸易", "钢材"), ("模具", "模具"), ("电气", "电气"), ("化工", "化工"),
               ("纺织", "纺织"), ("服装", "服饰"), ("电子", "电子科技"), ("物流", "物流"), ("建材", "建材"),
               ("保温材料", "保温材料"), ("医药零售", "大药房"), ("零售", "商贸"), ("食品", "食品"),
               ("汽车配件", "汽配"), ("塑料制品", "塑业"), ("五金", "五金"), ("家具", "家居"), ("印刷", "印务"),
               ("软件", "软件")]
_OPTS = pacsv.WriteOptions(quoting_style="needed")


def _ids(prefix: str, n: int, width: int = 8) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def _zipf_cdf(rng: np.random.Generator, n: int, alpha: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """A heavy-tailed sampler over `n` items: the cdf of Zipf weights and a random order of items."""
    weights = np.arange(1, n + 1, dtype=np.float64) ** -alpha
    cdf = np.cumsum(weights)
    return cdf / cdf[-1], rng.permutation(n)


def _sample(rng: np.random.Generator, sampler: tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]],
            size: int) -> npt.NDArray[np.int64]:
    cdf, order = sampler
    return order[np.minimum(np.searchsorted(cdf, rng.random(size)), len(cdf) - 1)]


def _pick(pool: list[str], idx: npt.NDArray[np.int64]) -> pa.Array:
    return pa.array(pool).take(pa.array(idx))


def _names(rng: np.random.Generator, n: int, suffix: str, offset: int = 0) -> tuple[pa.Array, pa.Array]:
    """`n` distinct company names (region + two words + industry word + suffix) and their industries."""
    sizes = (len(_REGIONS), len(_WORDS), len(_WORDS), len(_INDUSTRIES))
    combos = int(np.prod(sizes))
    code = (rng.permutation(max(n, 1))[:n] * 7919 + offset) % combos if n <= combos else np.arange(n) + offset
    parts, rest = [], code % combos
    for size in reversed(sizes):
        parts.append(rest % size)
        rest = rest // size
    ind, w2, w1, reg = parts
    industry_words = [w for _, w in _INDUSTRIES]
    cols = [_pick(_REGIONS, reg), _pick(_WORDS, w1), _pick(_WORDS, w2), _pick(industry_words, ind)]
    cycle = code // combos  # only beyond a million names: a numeric tail keeps them distinct
    tail = pc.if_else(pa.array(cycle > 0), pc.cast(pa.array(cycle), pa.string()), pa.scalar(""))
    names = pc.binary_join_element_wise(*cols, tail, pa.scalar(suffix), "")
    return names, _pick([i for i, _ in _INDUSTRIES], ind)


def _dates(rng: np.random.Generator, n: int, days: int = _DAYS) -> pa.Array:
    return pa.array(_EPOCH + rng.integers(0, days, n).astype("timedelta64[D]"))


def _amounts(rng: np.random.Generator, n: int, mean_log: float, sigma: float) -> pa.Array:
    return pa.array(np.round(rng.lognormal(mean_log, sigma, n), 2))


class _Writer:
    """Writes one CSV table chunk by chunk and counts its rows."""

    def __init__(self, out: Path, table: str) -> None:
        self.path = out / f"{table}.csv"
        self.rows = 0
        self._writer: pacsv.CSVWriter | None = None

    def write(self, columns: dict[str, pa.Array]) -> None:
        batch = pa.table(columns)
        if self._writer is None:
            self._writer = pacsv.CSVWriter(str(self.path), batch.schema, write_options=_OPTS)
        self._writer.write_table(batch)
        self.rows += batch.num_rows

    def close(self) -> int:
        if self._writer is not None:
            self._writer.close()
        return self.rows


def _chunks(total: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, CHUNK):
        yield start, min(CHUNK, total - start)


def write_scale_bundle(out: Path, seed: int, scale: int) -> dict[str, int]:
    """Write the benchmark bundle of about `scale` payment rows into `out`; rows per table."""
    from demo.scale_people import write_people

    rng = np.random.default_rng(seed)
    n_ent = max(200, scale // 10)
    n_branch = max(2, n_ent // 5_000)
    n_corp_mgr = max(2, n_ent // 500)
    stats: dict[str, int] = {}
    ent_ids = _ids("E", n_ent)
    names, industries = _names(rng, n_ent, "有限公司")
    is_client = rng.random(n_ent) < 0.10
    is_credit = is_client & (rng.random(n_ent) < 0.3)
    clients = np.flatnonzero(is_client)
    # enterprises: a few percent belong to a group (parent_id), capital is heavy-tailed
    # a parent always comes earlier in the list, so groups never form a cycle
    earlier = (rng.random(n_ent) * np.arange(n_ent)).astype(np.int64)
    parent = np.where((rng.random(n_ent) < 0.03) & (np.arange(n_ent) > 0), earlier, -1)
    mgr_idx = rng.integers(0, n_corp_mgr, n_ent)
    writer = _Writer(out, "enterprises")
    for start, size in track(list(_chunks(n_ent)), "enterprises"):
        sl = slice(start, start + size)
        client = pa.array(is_client[sl])
        par = parent[sl]
        writer.write({
            "enterprise_id": ent_ids[start:start + size], "name": names[start:start + size],
            "uscc": pa.array(usccs_vec(rng, size)), "industry": industries[start:start + size],
            "region": _pick(_REGIONS, rng.integers(0, len(_REGIONS), size)),
            "registered_capital": pa.array(np.round((rng.pareto(1.2, size) + 1) * 1e6, -4)),
            "is_client": client, "is_credit_client": pa.array(is_credit[sl]),
            "branch_id": pc.if_else(client, _ids("B", n_branch, 3).take(pa.array(mgr_idx[sl] % n_branch)), None),
            "manager_id": pc.if_else(client, _ids("MC", n_corp_mgr, 5).take(pa.array(mgr_idx[sl])), None),
            "parent_id": ent_ids.take(pa.array(np.where(par < 0, 0, par), mask=par < 0)),
            "opened_on": pc.if_else(client, _dates(rng, size, 3650), None),
        })
    stats["enterprises"] = writer.close()
    stats.update(_write_payments(out, rng, scale, ent_ids, names, clients))
    stats.update(_write_bills(out, rng, scale // 50, ent_ids, np.flatnonzero(is_credit)))
    stats.update(write_people(out, rng, scale, ent_ids, clients, n_branch, n_corp_mgr))
    return stats


def _write_payments(out: Path, rng: np.random.Generator, n: int, ent_ids: pa.Array, names: pa.Array,
                    clients: npt.NDArray[np.int64]) -> dict[str, int]:
    n_ent = len(ent_ids)
    payer_any, payer_client = _zipf_cdf(rng, n_ent, 0.8), _zipf_cdf(rng, max(len(clients), 1), 0.8)
    payee_any = _zipf_cdf(rng, n_ent, 0.7)
    n_unknown = max(10, n_ent // 5)
    # counterparties the bank has never seen: sole traders, named unlike any known company
    unknown_names, _ = _names(rng, n_unknown, "贸易商行", offset=1)
    unknown_sampler = _zipf_cdf(rng, n_unknown, 0.9)
    banks = [OWN_BANK, *OTHER_BANKS]
    bank_p = np.array([0.4] + [0.6 / len(OTHER_BANKS)] * len(OTHER_BANKS))
    writer = _Writer(out, "payments")
    for _, size in track(list(_chunks(n)), "payments"):
        from_client = rng.random(size) < 0.7
        payer = np.where(from_client, clients[_sample(rng, payer_client, size)] if len(clients) else 0,
                         _sample(rng, payer_any, size))
        payee = _sample(rng, payee_any, size)
        payee = np.where(payee == payer, (payee + 1) % n_ent, payee)
        kind = rng.random(size)  # < 3%: payee by name (a third as a variant); < 5%: a name never seen before
        by_name, unknown = kind < 0.03, (kind >= 0.03) & (kind < 0.05)
        payee_names = names.take(pa.array(payee))
        variant = pa.array(kind < 0.01)
        payee_names = pc.if_else(variant, pc.replace_substring(payee_names, "有限公司", "有限责任公司"), payee_names)
        payee_names = pc.if_else(pa.array(unknown), unknown_names.take(pa.array(_sample(rng, unknown_sampler, size))),
                                 payee_names)
        name_only = pa.array(by_name | unknown)
        writer.write({
            "payer_id": ent_ids.take(pa.array(payer)),
            "payee_id": pc.if_else(name_only, None, ent_ids.take(pa.array(payee))),
            "payee_name": pc.if_else(name_only, payee_names, None),
            "payee_bank": _pick(banks, rng.choice(len(banks), size, p=bank_p)),
            "amount": _amounts(rng, size, 10.5, 1.4),
            "paid_on": _dates(rng, size),
        })
    return {"payments": writer.close()}


def _write_bills(out: Path, rng: np.random.Generator, n: int, ent_ids: pa.Array,
                 drawers: npt.NDArray[np.int64]) -> dict[str, int]:
    n_ent = len(ent_ids)
    drawers = drawers if len(drawers) else np.arange(min(10, n_ent))
    drawer_s, payee_s = _zipf_cdf(rng, len(drawers), 0.9), _zipf_cdf(rng, n_ent, 0.7)
    bills, endorsements = _Writer(out, "bills"), _Writer(out, "endorsements")
    for start, size in track(list(_chunks(max(n, 1))), "bills"):
        bill_ids = _ids("BL", start + size, 10)[start:]
        drawer = drawers[_sample(rng, drawer_s, size)]
        payee = _sample(rng, payee_s, size)
        payee = np.where(payee == drawer, (payee + 1) % n_ent, payee)
        issued = _EPOCH + rng.integers(0, _DAYS, size).astype("timedelta64[D]")
        hops = np.minimum(rng.geometric(0.55, size) - 1, 4)  # 0 (kept or discounted) to 4 endorsements
        bills.write({
            "bill_id": bill_ids, "drawer_id": ent_ids.take(pa.array(drawer)),
            "payee_id": ent_ids.take(pa.array(payee)),
            "acceptor": _pick([OWN_BANK, *OTHER_BANKS], np.where(rng.random(size) < 0.6, 0, rng.integers(1, 9, size))),
            "amount": pa.array(np.round(rng.lognormal(12.5, 0.9, size), -4) + 10_000),
            "issued_on": pa.array(issued), "due_on": pa.array(issued + np.timedelta64(180, "D")),
            "discounted_by": pc.if_else(pa.array(rng.random(size) < 0.3),
                                        _pick(list(OTHER_BANKS), rng.integers(0, len(OTHER_BANKS), size)), None),
        })
        # endorsement chains: hop k goes from the previous holder to a new (heavy-tailed) holder
        rows = np.repeat(np.arange(size), hops)
        seq = np.arange(len(rows)) - np.repeat(np.cumsum(hops) - hops, hops) + 1
        to = _sample(rng, payee_s, len(rows))
        holder_before = np.where(seq == 1, payee[rows], np.roll(to, 1))
        endorsements.write({
            "bill_id": bill_ids.take(pa.array(rows)), "seq": pa.array(seq),
            "from_id": ent_ids.take(pa.array(holder_before)), "to_id": ent_ids.take(pa.array(to)),
            "endorsed_on": pa.array(issued[rows] + (seq * 20).astype("timedelta64[D]")),
        })
    return {"bills": bills.close(), "endorsements": endorsements.close()}
