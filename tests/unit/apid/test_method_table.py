"""apid's method table (method_table.py) is the one the generated descriptors give, and apid
routes calls without loading any descriptor."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from talos.apid import methods


def test_method_table_matches_the_generated_descriptors() -> None:
    table = Path(methods.__file__).with_name("method_table.py").read_text()
    assert table == methods.render_table(methods.methods_from_descriptors()), (
        "src/talos/apid/method_table.py is stale: run "
        "`python -m talos.apid.methods > src/talos/apid/method_table.py`")
    assert dict(methods.known_methods()) == methods.methods_from_descriptors()


def test_apid_knows_every_method_without_loading_descriptors() -> None:
    code = ("import sys, talos.apid.__main__\n"
            "from talos.apid.methods import known_methods, lookup\n"
            "assert lookup('/machine.MachineService/Version').fanout\n"
            "print(len(known_methods()), *[m for m in sys.modules if m.endswith('_pb2')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert int(out[0]) > 60 and out[1:] == []
