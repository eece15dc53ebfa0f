"""Names the swift-testing tests that a `swift test` log shows started but never ended.

After a run that was stopped (scripts/test.sh bounds `swift test`), these are where it hung.
Usage: unfinished-tests.py LOG
"""

import re
import sys

STARTED = re.compile(r'^\S+ Test "(.*)" started\.$')
ENDED = re.compile(r'^\S+ Test "(.*)" (?:with \d+ test cases? )?(?:passed|failed|skipped)\b')


def main(path: str) -> None:
    started: dict[str, None] = {}
    ended: set[str] = set()
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            line = line.rstrip("\n")
            if match := STARTED.match(line):
                started[match.group(1)] = None
            elif match := ENDED.match(line):
                ended.add(match.group(1))
    unfinished = [name for name in started if name not in ended]
    if unfinished:
        print("== tests that started and did not end:")
        for name in unfinished:
            print(f"  - {name}")
    else:
        print("== every test that started ended: see the failures above, or, if there are none, the run stopped outside a test")


if __name__ == "__main__":
    main(sys.argv[1])
