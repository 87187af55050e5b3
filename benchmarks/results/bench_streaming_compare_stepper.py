"""bench_streaming.py --compare REV, with REV's TCN stepper module too.

Since the stepper moved to ``sksep/nn/_stepper.py``, ``--compare`` loads
REV's ``_modules.py``, whose relative import picks up the *current*
``_stepper.py``; this wrapper also loads REV's ``_stepper.py`` into the
compared code, so both codes are REV's. Usage (from the repository root):

    python benchmarks/results/bench_streaming_compare_stepper.py --compare HEAD --sections compute
"""
import contextlib
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_streaming


def code_at(rev):
    import sksep.nn._modules
    import sksep.streaming

    def load(path, name, package):
        text = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
        file = Path(tempfile.mkdtemp()) / Path(path).name
        file.write_text(text)
        spec = importlib.util.spec_from_file_location(name, file)
        module = importlib.util.module_from_spec(spec)
        module.__package__ = package
        spec.loader.exec_module(module)
        return module

    stepper = load("sksep/nn/_stepper.py", "sksep.nn._stepper_at_rev", "sksep.nn")
    engine = load("sksep/streaming.py", "sksep._streaming_at_rev", "sksep")

    def old_tcn_stepper(self, dtype=None):
        import numpy as np
        return stepper._CausalTCNStepper(self, dtype=dtype or np.float32)

    @contextlib.contextmanager
    def patched():
        net, eng = sksep.nn._modules.MaskNet, sksep.streaming
        saved = net._tcn_stepper, eng.BlockStreamer
        net._tcn_stepper, eng.BlockStreamer = old_tcn_stepper, engine.BlockStreamer
        try:
            yield
        finally:
            net._tcn_stepper, eng.BlockStreamer = saved

    return patched


bench_streaming.code_at = code_at
if __name__ == "__main__":
    bench_streaming.main()
