"""The suite's shared servers are named in one place, and the docs say how to move them.

`make test` writes to PostgreSQL's database `test` and Redis's database 0 by
default; a contributor whose servers hold other data points the suite
elsewhere with environment variables. That works only if no test reaches
for the default address itself, and if the variables are documented.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests import services

ROOT = Path(__file__).resolve().parents[1]
# A test that names a default server itself instead of asking tests/services.py.
DEFAULT_SERVER = re.compile(
    r"127\.0\.0\.1:(?:5432|6379|5672)|need_port\(\s*\"(?:PostgreSQL|Redis|RabbitMQ)\""
)
# Files whose default addresses are data, not servers they use.
NOT_SERVERS = {
    "tests/services.py": "defines them",
    "tests/test_redact.py": "hides passwords in URLs it never connects to",
}


def test_no_test_names_a_shared_server_itself() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in NOT_SERVERS
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if DEFAULT_SERVER.search(line)
    ]
    assert not found, "use tests/services.py (need_postgres, need_redis, ...):\n" + "\n".join(found)


def test_the_variables_that_move_the_servers_are_documented() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = page.split("## Test suite", 1)[1].split("\n## ", 1)[0]
    source = Path(services.__file__).read_text(encoding="utf-8")
    variables = ["FOOTFALL_TEST_POSTGRES", "FOOTFALL_TEST_REDIS", "FOOTFALL_TEST_RABBITMQ"]
    assert all(f'os.environ.get("{name}"' in source for name in variables)
    for name in variables:
        assert f"| `{name}` |" in section, name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    testing = readme.split("## Testing footfall", 1)[1].split("\n## ", 1)[0]
    assert all(name in testing for name in variables)
    assert "database `test`" in testing and "database 0" in testing


def test_a_schema_of_its_own_is_added_to_the_query() -> None:
    assert services.with_query("postgresql://h/db", schema="s") == "postgresql://h/db?schema=s"
    assert services.with_query("postgresql://h/db?a=1", schema="s") == (
        "postgresql://h/db?a=1&schema=s"
    )
