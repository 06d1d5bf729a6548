"""Run one scenario in this process and write its result as JSON:
``python -m bench.one <scenario> <database> <output.json> [--quick] [key=value ...]``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import pages, payments, scenarios


def main() -> int:
    name, database, output = sys.argv[1:4]
    quick = "--quick" in sys.argv
    extra = {}
    for arg in sys.argv[4:]:
        if "=" in arg:
            key, value = arg.split("=", 1)
            extra[key] = None if value == "none" else (float(value) if "." in value else int(value))
    modules = {"payments": payments, "backfill": pages, "monthend": pages}
    module = modules.get(name, scenarios)
    result = getattr(module, name)(database, quick, **extra)
    Path(output).write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
