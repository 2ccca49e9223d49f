"""Send a few tasks to the example worker from inside an identify() scope.

    python examples/celery_worker/send.py [USER] [COUNT]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from tasks import invoice_paid

import cs_sdk


def main(user: str = "u1", count: int = 3) -> list[str]:
    with cs_sdk.identify(user_id=user, account_id="acme"):
        results = [invoice_paid.delay(f"inv-{n}", 100.0 + n) for n in range(count)]
    return [str(result.get(timeout=60)) for result in results]


if __name__ == "__main__":
    print("\n".join(main(*sys.argv[1:2], *map(int, sys.argv[2:3]))))
