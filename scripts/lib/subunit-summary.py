#!/usr/bin/python3
"""Read a subunit v2 stream (e.g. `stestr last --subunit`) on stdin; print one JSON object per test on stdout:
{"id", "status", "duration", "reason", "traceback"}. Used by scripts/tempest.mjs; runs under Debian's
/usr/bin/python3, whose python3-subunit comes with tempest (via stestr)."""
import json
import sys

import subunit
import testtools


def text(details, key):
    content = details.get(key)
    if content is None:
        return None
    try:
        return content.as_text()
    except Exception:  # binary attachment
        return None


def on_test(t):
    details = t.get("details") or {}
    start, stop = (list(t.get("timestamps") or []) + [None, None])[:2]
    duration = (stop - start).total_seconds() if start and stop else None
    sys.stdout.write(
        json.dumps(
            {
                "id": t["id"],
                "status": t["status"],
                "duration": duration,
                "reason": text(details, "reason"),
                "traceback": text(details, "traceback"),
            }
        )
        + "\n"
    )


def main():
    stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout")
    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        stream.run(result)
    finally:
        result.stopTestRun()


if __name__ == "__main__":
    main()
