"""pytest configuration shared by the unit tests and the nbval notebook run."""

NBVAL_OUTPUT_TIMEOUT_S = 120


def pytest_collection_modifyitems(config, items):
    # nbval waits a hard-coded 5 s for each output message after a cell finishes
    # (nbval issues #151 and #231), which a loaded 2-core CI machine can exceed while
    # matplotlib renders or TensorFlow starts its threads. Give it room; the per-cell
    # execution limit (--nbval-cell-timeout) is separate and unchanged.
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT_S
