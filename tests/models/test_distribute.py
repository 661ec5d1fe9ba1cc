"""The shared training loop under MirroredStrategy on two logical CPU devices gives
what one device gives (run in a fresh process: logical devices must be set before
TensorFlow starts)."""

import json
import subprocess
import sys
import textwrap

import pytest

from mlstc.models import distribute

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from mlstc.core import system
    system.import_tensorflow()
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from mlstc.evaluation import metrics, thresholds
    from mlstc.models import distribute, training

    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 8)).astype("float32")
    y = np.stack([x[:, 0] > 0.3, x[:, 1] + x[:, 2] > 0], 1).astype("float32")
    xv = rng.normal(size=(256, 8)).astype("float32")
    yv = np.stack([xv[:, 0] > 0.3, xv[:, 1] + xv[:, 2] > 0], 1).astype("float32")
    out = {}
    for name in ("default", "mirrored"):
        strategy = distribute.strategy(name)
        keras.utils.set_random_seed(0)
        with strategy.scope():
            inputs = keras.Input((8,))
            model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(16, activation="relu")(inputs)))
            model.compile(optimizer=keras.optimizers.Adam(1e-2),
                          loss=keras.losses.BinaryCrossentropy(from_logits=True))
        training.fit_arrays(model, x, y, xv, yv, epochs=8, patience=8, batch_size=64, in_graph=True)
        p = thresholds.sigmoid(model.predict(xv, verbose=0))
        out[name] = {"replicas": strategy.num_replicas_in_sync,
                     "micro_f1": metrics.evaluate(yv, p >= thresholds.tune_global(yv, p))["micro_f1"]}
    # what a chapter gets from `mlstc run --strategy mirrored`: no scope() in its code
    strategy = distribute.activate("mirrored")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(16, activation="relu")(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    training.fit_arrays(model, x, y, xv, yv, epochs=8, patience=8, batch_size=64, in_graph=True)
    p = thresholds.sigmoid(model.predict(xv, verbose=0))
    out["activated"] = {"replicas": model.distribute_strategy.num_replicas_in_sync,
                        "mirrored_variables": type(model.weights[0].value).__name__,
                        "micro_f1": metrics.evaluate(yv, p >= thresholds.tune_global(yv, p))["micro_f1"]}
    distribute.activate("default")
    out["reset"] = tf.distribute.get_strategy().num_replicas_in_sync
    print(json.dumps(out))
""")


@pytest.mark.slow
def test_mirrored_on_two_cpus_trains_like_one_device():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["default"]["replicas"] == 1 and out["mirrored"]["replicas"] == 2
    assert out["mirrored"]["micro_f1"] > 0.85
    assert abs(out["mirrored"]["micro_f1"] - out["default"]["micro_f1"]) < 0.03
    # activated globally (how chapters get it), the same model is mirrored without a scope
    assert out["activated"]["replicas"] == 2 and out["activated"]["mirrored_variables"] == "MirroredVariable"
    assert abs(out["activated"]["micro_f1"] - out["default"]["micro_f1"]) < 0.03
    assert out["reset"] == 1


def test_scale_and_names():
    assert distribute.scale(32, 1e-4, 4) == (128, 4e-4)
    with pytest.raises(ValueError, match="default, mirrored"):
        distribute.strategy("horovod")
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribute.strategy("multi-worker")
