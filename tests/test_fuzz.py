"""Fuzzing every operation of the OpenAPI schema against a real server: hostile or
nonsensical input gets a 4xx, never a 5xx (a 500 is always a bug, see errors.py).

Each operation gets valid input (schema boundaries included) and invalid input; a bounded
number of examples per operation keeps it in `make test`; hypothesis keeps no
example database, so each run is independent of the previous ones.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.realserver import ServerProcess

pytestmark = pytest.mark.server
EXAMPLES_PER_OPERATION = 12  # in each mode: valid input, then invalid input


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("fuzz") / "data")
    process.start()
    yield process
    process.stop()


def test_no_input_gets_a_server_error(server: ServerProcess) -> None:
    """Each operation in turn (schemathesis' pytest integration does not support this
    pytest's fixtures, so the loop is here), every failure reported at the end."""
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    failures: list[str] = []
    strategies = [
        operation.as_strategy(generation_mode=mode)
        for operation in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
    for strategy in strategies:

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(timeout=30)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.query} {case.headers} "
                f"-> {response.status_code}: {response.text[:300]}"
            )

        try:
            fuzz()
        except Unsatisfiable:
            continue  # an operation without parameters has no invalid input to send
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0])
    assert failures == [], "\n".join(failures)
    assert "Traceback" not in server.log.read_text(), server.log.read_text()[-5000:]
