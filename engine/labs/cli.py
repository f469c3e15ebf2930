"""``spikestudio lab list`` and ``spikestudio lab check ID | --all``.

Outside :mod:`engine.labs` so that building the CLI's parser imports nothing heavy: the labs
(and their checks, which import numpy and pandas) load when a lab command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from engine.errors import SpikeStudioError

__all__ = ["add_lab_command"]


def add_lab_command(sub: Any) -> None:
    """Add ``lab list`` and ``lab check`` to the subparsers action ``sub``."""
    lab = sub.add_parser("lab", help="list the teaching labs, or check their steps")
    lab_sub = lab.add_subparsers(dest="lab_command", required=True)
    ls = lab_sub.add_parser("list", help="print each lab's id and title")
    ls.add_argument("--labs", action="append", default=[], metavar="DIR",
                    help="also look for labs in this folder (repeatable)")
    ls.set_defaults(func=_list)
    check = lab_sub.add_parser(
        "check", help="run each step's reference solution and check its observation: one "
                      "JSON line per step, exit 0 when every observation holds")
    check.add_argument("lab_id", nargs="?", help="the lab's id (see lab list)")
    check.add_argument("--all", action="store_true", help="check every lab")
    check.add_argument("--labs", action="append", default=[], metavar="DIR",
                       help="also look for labs in this folder (repeatable)")
    check.set_defaults(func=_check)


def _list(args: argparse.Namespace) -> int:
    from engine.labs.catalogue import labs_in

    for entry in labs_in(args.labs):
        print(f"{entry.lab.id}\t{entry.lab.title}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from engine.labs.catalogue import find_lab, labs_in
    from engine.labs.lab_file import check_lab

    if bool(args.all) == bool(args.lab_id):
        raise SpikeStudioError("lab check: give a lab id or --all (not both)")
    entries = labs_in(args.labs) if args.all else [find_lab(args.lab_id, args.labs)]
    all_hold = True
    for entry in entries:
        for outcome in check_lab(entry.project()):
            all_hold &= bool(outcome.observation.holds)
            print(json.dumps(outcome.as_json(), allow_nan=False), flush=True)
    if not all_hold:
        print("lab check: some observations do not hold", file=sys.stderr)
    return 0 if all_hold else 1
