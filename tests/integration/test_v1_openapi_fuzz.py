"""schemathesis against /v1/openapi.json on a real server: no 500s and responses that match the schema."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.live import start_server

# Calls that end the fuzzing user's own session would only turn every later call into a 401.
_EXCLUDE = r"^/v1/(auth/(logout|setup)|me/password)$"


@pytest.mark.slow
def test_v1_schema_holds_under_fuzzing(built_library: BuiltLibrary, tmp_path: Path) -> None:
    # A private server: fuzzed writes (deletes included) must not disturb the shared test server.
    with start_server(tmp_path, built_library.root, MUSICD_AUTH_WRITES_PER_SECOND="10000",
                      MUSICD_AUTH_READS_PER_SECOND="10000") as server:
        st = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
        # alice is an ordinary user: admin-only calls answer 403, which the schema documents. Three generated
        # cases per operation in the fuzzing phase (ten took 25 s more for the same operations); the coverage
        # phase, the boundary values of every parameter, does not depend on it and stays whole.
        r = subprocess.run(
            [st, "run", f"{server.base}/v1/openapi.json", "--checks", "not_a_server_error,response_schema_conformance",
             "--header", f"Authorization: Bearer {server.token('alice')}", "--max-examples", "3",
             "--seed", "42", "--generation-deterministic", "--exclude-path-regex", _EXCLUDE,
             "--suppress-health-check", "all", "--continue-on-failure", "--workers", "2"],
            capture_output=True, text=True, timeout=400, cwd=tmp_path,
        )
        assert r.returncode == 0, r.stdout[-8000:] + r.stderr[-2000:] + server.log()[-3000:]
        # Every selected operation was really called in both phases, not skipped.
        selected = re.search(r"Operations:\s+(\d+) selected", r.stdout)
        assert selected and int(selected[1]) > 150, r.stdout[:3000]
        for phase in ("Coverage", "Fuzzing"):
            done = re.search(rf"{phase} \(in [^)]*\)\s+\S+ (\d+) passed\s", r.stdout)
            assert done and done[1] == selected[1], (phase, r.stdout[:3000])
