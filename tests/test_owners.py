"""One writer per table: every INSERT, UPDATE or DELETE of a table is in the module (or
package) that docs/architecture.md names as its owner, and every written table has one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Not the live store: migrations build the schema, backup.py stamps its own copy.
EXEMPT = {"kanavat/backup.py"}
EXEMPT_PACKAGES = ("kanavat/migrations/",)  # schema steps: data moves of a migration
# SQL keywords are upper case in this code base; prose ("update the ...") is not.
WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z_]+)\b")
ROW = re.compile(r"^\|\s*(`[a-z_]+`(?:,\s*`[a-z_]+`)*)\s*\|\s*`([^`]+)`\s*\|", re.MULTILINE)


def owners() -> dict[str, str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for tables, owner in ROW.findall(text):
        for name in re.findall(r"`([a-z_]+)`", tables):
            table[name] = "kanavat/" + owner
    return table


def writers() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "kanavat").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in EXEMPT or rel.startswith(EXEMPT_PACKAGES):
            continue
        for name in WRITE.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(rel)
    return found


def owns(owner: str, module: str) -> bool:
    return module == owner or (owner.endswith("/") and module.startswith(owner))


def test_the_owner_table_is_read() -> None:
    table = owners()
    assert table["campaign_contacts"] == "kanavat/outreach/queue.py"
    assert table["privacy_requests"] == "kanavat/privacy/"


def test_every_table_is_written_by_its_owner_only() -> None:
    table = owners()
    wrong = {
        name: sorted(m for m in modules if not owns(table.get(name, "?"), m))
        for name, modules in writers().items()
    }
    wrong = {name: modules for name, modules in wrong.items() if modules}
    assert not wrong, (
        f"tables written outside their owner (docs/architecture.md, 'One owner per table'): {wrong}"
    )
