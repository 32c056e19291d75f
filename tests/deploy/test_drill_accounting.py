"""The drill counts a 503 as allowed only while the primary was down during its request."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def drill():
    spec = importlib.util.spec_from_file_location("drill", ROOT / "bench" / "drill.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["drill"] = module
    spec.loader.exec_module(module)
    return module


def test_a_vote_in_flight_when_the_restart_began_is_allowed_its_503():
    """Sent just before the restart, answered during it: the primary was down meanwhile."""
    module = drill()
    phases = [module.Phase("primary restart", 0, 30)]
    recorder = module.Recorder(phases, module.Clock())
    recorder.primary_down.append([7.2, 8.0])
    recorder.record(7.1, "vote", 503, "60", None, 0.3)
    recorder.record(3.0, "vote", 503, "60", None, 0.1)
    recorder.record(20.0, "page", 503, "30", None, 0.1)
    stats = recorder.stats["primary restart"]
    assert stats.allowed_503 == 1
    assert stats.bad_5xx == {"503 vote": 1, "503 page": 1}
