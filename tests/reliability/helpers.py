"""Helpers for the reliability tests: small bundles, a live uvicorn server, forked children.

Bundle A is a base month; bundles B and C each add a month of payments to new counterparties,
so every step changes what the endpoints the concurrency tests call answer (more entities,
prospects, neighbours). `content` compares stores by their rows; `fork_call`/`wait_exit` run an
ingest in a child process that a test can SIGKILL without paying for an interpreter start-up.
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from graph.store import GraphStore

ENTERPRISES = """enterprise_id,name,uscc,is_client,is_credit_client,branch_id,manager_id
E0001,华东精工机械制造有限公司,,是,是,B01,M01
E0002,惠民连锁超市有限公司,,是,否,B02,M02
E0003,苏州精密模具有限公司,,否,否,B01,
"""
PERSONS = """person_id,name,id_number,phone,is_retail_client,aum,branch_id
P0001,张伟,110101199003077777,13812345678,是,45000,B01
P0002,李娜,11010119900307651X,13987654321,否,,B02
"""
PAYMENTS_A = """payer_id,payee_name,amount,paid_on,payee_bank
E0001,苏州新材料有限公司,200000,2024-01-05,工商银行
E0001,无锡轴承有限公司,150000,2024-01-08,农业银行
E0002,杭州冷链物流有限公司,90000,2024-01-12,
E0003,E0001,50000,2024-01-20,本行
"""
PAYMENTS_B = """payer_id,payee_name,amount,paid_on,payee_bank
E0001,苏州新材料有限公司,300000,2024-02-03,工商银行
E0001,常州电机有限公司,120000,2024-02-06,建设银行
E0001,南通包装材料有限公司,80000,2024-02-09,
E0002,宁波水产批发有限公司,70000,2024-02-15,中国银行
"""
PAYMENTS_C = """payer_id,payee_name,amount,paid_on,payee_bank
E0001,苏州新材料有限公司,280000,2024-03-04,工商银行
E0001,扬州齿轮有限公司,95000,2024-03-07,交通银行
E0002,温州鞋业有限公司,60000,2024-03-12,
E0003,无锡轴承有限公司,40000,2024-03-18,农业银行
"""
PAYROLL = """employer_id,person_id,month,amount
E0001,P0001,2024-01,12000
E0001,P0002,2024-01,9000
"""


def write_bundle_a(out: Path) -> Path:
    """The base bundle: three enterprises, two persons (with raw ID numbers and phones)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "enterprises.csv").write_text(ENTERPRISES, encoding="utf-8")
    (out / "persons.csv").write_text(PERSONS, encoding="utf-8")
    (out / "payments.csv").write_text(PAYMENTS_A, encoding="utf-8")
    (out / "payroll.csv").write_text(PAYROLL, encoding="utf-8")
    return out


def write_bundle_b(out: Path) -> Path:
    """The next month: payments only, three of them to counterparties not seen in A."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "enterprises.csv").write_text(ENTERPRISES, encoding="utf-8")
    (out / "payments.csv").write_text(PAYMENTS_B, encoding="utf-8")
    return out


def write_bundle_c(out: Path) -> Path:
    """A third month: payments only, two more counterparties not seen before."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "enterprises.csv").write_text(ENTERPRISES, encoding="utf-8")
    (out / "payments.csv").write_text(PAYMENTS_C, encoding="utf-8")
    return out


CONTENT_TABLES = ("enterprises", "persons", "payments", "payroll", "edges", "resolutions", "prospects")


def content(store: GraphStore) -> dict[str, str]:
    """Each table's rows as order-free text: two stores with equal content compare equal."""
    out: dict[str, str] = {}
    for table in CONTENT_TABLES:
        df = store.read(table).astype(str)
        out[table] = df.sort_values(list(df.columns)).to_csv(index=False) if len(df) else ""
    return out


def fork_call(target: Callable[[], int]) -> int:
    """Run `target` in a forked child (no interpreter start-up on a busy machine); returns its pid.

    The child leaves with `os._exit(target())` (or 70 on an unexpected exception), so nothing of
    the parent's pytest state runs in it.
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 70
        try:
            code = target()
        except BaseException:  # noqa: B036 - the child must never return into pytest
            traceback.print_exc()
        finally:
            os._exit(code)
    return pid


def wait_exit(pid: int, timeout: float = 30.0) -> int:
    """Wait for a child; returns its exit code, or -signal when a signal ended it."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"child {pid} did not finish in {timeout}s")
        time.sleep(0.01)
