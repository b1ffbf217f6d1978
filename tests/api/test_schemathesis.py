"""Property-based tests of the whole API against its own OpenAPI schema (schemathesis).

A bounded number of generated requests per operation, with an admin token: no 5xx, every
status documented, content types documented and every JSON body matching its schema.

schemathesis' lazy pytest loader (`from_fixture`) uses a pytest attribute that pytest 9
removed, so each operation's strategy is driven with hypothesis' `@given` directly.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.auth import add_token
from api.main import create_app
from api.settings import ApiSettings
from tests.api.conftest import build_store

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 10
API_PATHS = r"^/(health|me|entities|paths|prospects|ingest)"  # the HTML pages have their own tests


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    root = tmp_path_factory.mktemp("fuzz")
    store = build_store(root / "store")  # its own store: generated ingest jobs may write to it
    (root / "ingest-root").mkdir()
    token = add_token(store, "fuzzer", "admin")
    app = create_app(root / "store", ApiSettings(ingest_root=root / "ingest-root", max_upload_bytes=16 * 1024,
                                              public_docs=True))
    return app, token


def test_api_matches_its_schema(fuzz_app):
    app, token = fuzz_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex=API_PATHS)
    headers = {"Authorization": f"Bearer {token}"}
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert {"GET /prospects/{family}", "GET /entities/{entity_id}/neighbors", "GET /paths", "POST /ingest",
            "POST /ingest/path", "GET /entities"} <= set(tested)
