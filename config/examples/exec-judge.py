"""A judge for troupe's exec target (config/examples/exec-judge.json).

troupe writes one task per run on stdin, as one JSON line:
  {"id": ..., "dataset": ..., "case_id": ..., "attempt": 1,
   "inputs": {...}, "params": {...}, "query": ...}
and reads the answer on stdout, as JSON. Exit 75 asks for a retry; any
other non-zero exit is a failure that is not retried; stderr goes into the
result's "error".
"""
import json
import sys


def main():
    task = json.loads(sys.stdin.readline())
    inputs = task["inputs"]
    # A flaky dependency, scripted: every seventh case fails its first
    # attempt with EX_TEMPFAIL, so the run shows retries.
    number = int(task["case_id"].lstrip("q"))
    if number % 7 == 0 and task["attempt"] == 1:
        print("judge backend busy, try again", file=sys.stderr)
        return 75
    answer = str(inputs.get("answer", "")).strip().lower()
    expected = str(inputs.get("expected", "")).strip().lower()
    score = 1.0 if answer == expected else 0.0
    json.dump({"score": score,
               "verdict": "correct" if score else "wrong",
               "strictness": task["params"].get("strictness", "exact")},
              sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
