"""The Keras, PyTorch Lightning and transformers callbacks, driven by minimal
stand-in trainers (the frameworks are not installed: fake modules are put in
sys.modules). Each stand-in calls the hooks in the order its framework does.
The epochs' energy comes from the fake RAPL counter, so it is known exactly."""

import builtins
import importlib
import os
import subprocess
import sys
import types
import unittest
import warnings
from unittest import mock

import _support
from _support import FakeRapl

_support.use_library()

from carbontracker.exceptions import CarbonTrackerWarning  # noqa: E402
from carbontracker.tracker import CarbonTracker  # noqa: E402

TRACKER_KW = dict(components="cpu", verbose=0, update_interval=3600, carbon_intensity=100.0, pue=1.0,
                  offline=True)


class FakeCallbackBase:
    """Stands in for keras.callbacks.Callback / lightning Callback / TrainerCallback."""

    def __init__(self):
        self.params = None
        self.model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model


def fake_modules(*names):
    """{module name: module} for dotted names, each with a Callback/TrainerCallback class."""
    mods = {}
    for dotted in names:
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            if name not in mods:
                mods[name] = types.ModuleType(name)
                if i > 1:
                    setattr(mods[".".join(parts[: i - 1])], parts[i - 1], mods[name])
    return mods


def load(modname, sysmods):
    """Imports carbontracker.<modname> afresh with the given fake framework modules."""
    p = mock.patch.dict(sys.modules, sysmods)
    p.start()
    sys.modules.pop("carbontracker." + modname, None)
    mod = importlib.import_module("carbontracker." + modname)
    return mod, p


class CallbackCase(unittest.TestCase):
    def setUp(self):
        self.rapl = FakeRapl()
        self.addCleanup(self.rapl.close)

    def use(self, modname, sysmods):
        mod, p = load(modname, sysmods)
        self.addCleanup(p.stop)
        self.addCleanup(sys.modules.pop, "carbontracker." + modname, None)
        return mod

    def work(self, uj):
        self.rapl.add_uj(uj)


# ---------------------------------------------------------------------------
# Keras


class FakeModel:
    def __init__(self):
        self.stop_training = False


def keras_fit(callbacks, epochs, work, batches=0):
    """What keras.Model.fit does with callbacks (CallbackList); with batches,
    on_train_batch_end(batch) for each (params["steps"] = batches)."""
    model = FakeModel()
    for cb in callbacks:
        cb.set_params({"epochs": epochs, "steps": batches or 10, "verbose": 0})
        cb.set_model(model)
    for cb in callbacks:
        cb.on_train_begin(logs={})
    for epoch in range(epochs):
        for cb in callbacks:
            cb.on_epoch_begin(epoch, logs={})
        work(epoch)
        for batch in range(batches):
            for cb in callbacks:
                if hasattr(cb, "on_train_batch_end"):
                    cb.on_train_batch_end(batch, logs={"loss": 1.0})
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs={"loss": 1.0 / (epoch + 1)})
        if model.stop_training:
            break
    for cb in callbacks:
        cb.on_train_end(logs={})
    return model


class Keras(CallbackCase):
    def keras(self, via="keras"):
        if via == "keras":
            mods = fake_modules("keras.callbacks")
            mods["keras.callbacks"].Callback = FakeCallbackBase
        else:  # tensorflow.keras only
            mods = fake_modules("tensorflow.keras.callbacks")
            mods["tensorflow.keras.callbacks"].Callback = FakeCallbackBase
            mods["keras"] = None
        return self.use("keras", mods)

    def test_epochs_and_early_stopping(self):
        ck = self.keras()
        cb = ck.CarbonTrackerCallback(**TRACKER_KW)
        self.assertIsInstance(cb, FakeCallbackBase)

        class EarlyStopping(FakeCallbackBase):
            def on_train_begin(self, logs=None): pass
            def on_epoch_begin(self, epoch, logs=None): pass
            def on_train_end(self, logs=None): pass

            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:
                    self.model.stop_training = True

        keras_fit([cb, EarlyStopping()], 5, lambda e: self.work((e + 1) * 1_000_000))
        t = cb.tracker
        self.assertEqual(t.epochs, 5)  # from fit(epochs=5)
        self.assertTrue(t.deleted)  # on_train_end stopped it
        self.assertEqual(t.actual.epochs, 2)
        self.assertEqual([round(e.energy_j["cpu"], 9) for e in t.epoch_results], [1.0, 2.0])
        self.assertEqual(t.predicted.epochs, 5)

    def test_tensorflow_keras(self):
        ck = self.keras(via="tensorflow")
        cb = ck.CarbonTrackerCallback(epochs=2, **TRACKER_KW)
        keras_fit([cb], 2, lambda e: self.work(500_000))
        self.assertEqual(cb.tracker.actual.epochs, 2)
        self.assertAlmostEqual(cb.tracker.actual.components["cpu"].energy_j, 1.0, delta=1e-9)

    def test_stop_on_budget(self):
        ck = self.keras()
        # 3600 J per epoch = 0.001 kWh; 10 epochs predicted = 0.01 kWh > 0.005.
        cb = ck.CarbonTrackerCallback(stop_on_budget=True, max_energy_kwh=0.005, **TRACKER_KW)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            model = keras_fit([cb], 10, lambda e: self.work(3_600_000_000))
        self.assertTrue(model.stop_training)
        self.assertEqual(cb.tracker.actual.epochs, 1)
        self.assertTrue(any("stopping the training" in str(x.message) for x in w))
        self.assertEqual(cb.driver.stop_reason, "budget")

    def test_second_fit_after_a_crash(self):
        ck = self.keras()
        cb = ck.CarbonTrackerCallback(**TRACKER_KW)

        def crash(e):
            self.work(1_000_000)
            raise KeyboardInterrupt

        with self.assertRaises(KeyboardInterrupt):
            keras_fit([cb], 3, crash)
        first = cb.tracker
        self.assertFalse(first.deleted)  # Keras has no exception hook
        keras_fit([cb], 2, lambda e: self.work(1_000_000))
        self.assertTrue(first.deleted)  # stopped by the next fit
        self.assertEqual(first.actual.epochs, 1)
        self.assertIsNot(cb.tracker, first)
        self.assertEqual(cb.tracker.actual.epochs, 2)

    def test_without_keras(self):
        ck = self.use("keras", {"keras": None, "tensorflow": None})
        with self.assertRaises(ImportError) as cm:
            ck.CarbonTrackerCallback
        self.assertIn("pip install keras", str(cm.exception))
        with self.assertRaises(AttributeError):
            ck.NoSuchThing


# ---------------------------------------------------------------------------
# PyTorch Lightning


class FakeTrainer:
    def __init__(self, max_epochs):
        self.max_epochs = max_epochs
        self.should_stop = False


def lightning_fit(callbacks, trainer, work, batches=0):
    """What lightning's fit loop does with callbacks; with batches,
    on_train_batch_end(..., batch_idx) for each (trainer.num_training_batches)."""
    module = object()
    try:
        for cb in callbacks:
            cb.on_train_start(trainer, module)
        epoch = 0
        while not trainer.should_stop and (trainer.max_epochs is None or trainer.max_epochs < 0
                                           or epoch < trainer.max_epochs):
            for cb in callbacks:
                cb.on_train_epoch_start(trainer, module)
            work(epoch)
            for i in range(batches):
                for cb in callbacks:
                    if hasattr(cb, "on_train_batch_end"):
                        cb.on_train_batch_end(trainer, module, {"loss": 1.0}, ("x", "y"), i)
            for cb in callbacks:
                cb.on_train_epoch_end(trainer, module)
            epoch += 1
        for cb in callbacks:
            cb.on_train_end(trainer, module)
    except BaseException as e:
        for cb in callbacks:
            cb.on_exception(trainer, module, e)
        raise


class Lightning(CallbackCase):
    def lightning(self, package="lightning.pytorch"):
        mods = fake_modules(package + ".callbacks")
        mods[package + ".callbacks"].Callback = FakeCallbackBase
        if package == "pytorch_lightning":
            mods["lightning"] = None
        return self.use("lightning", mods)

    def test_epochs_and_should_stop(self):
        cl = self.lightning()
        cb = cl.CarbonTrackerCallback(**TRACKER_KW)
        trainer = FakeTrainer(max_epochs=4)

        def work(e):
            self.work(2_000_000)
            if e == 2:
                trainer.should_stop = True  # what EarlyStopping does

        lightning_fit([cb], trainer, work)
        t = cb.tracker
        self.assertEqual(t.epochs, 4)
        self.assertTrue(t.deleted)
        self.assertEqual(t.actual.epochs, 3)
        self.assertAlmostEqual(t.actual.components["cpu"].energy_j, 6.0, delta=1e-9)

    def test_exception_stops_and_closes_the_epoch(self):
        cl = self.lightning(package="pytorch_lightning")
        cb = cl.CarbonTrackerCallback(**TRACKER_KW)

        def work(e):
            self.work(1_000_000)
            if e == 1:
                raise RuntimeError("CUDA out of memory")

        with self.assertRaises(RuntimeError):
            lightning_fit([cb], FakeTrainer(max_epochs=5), work)
        t = cb.tracker
        self.assertTrue(t.deleted)
        self.assertEqual(t.actual.epochs, 2)  # the failed epoch is closed and counted
        self.assertAlmostEqual(t.actual.components["cpu"].energy_j, 2.0, delta=1e-9)

    def test_unbounded_trainer_needs_epochs(self):
        cl = self.lightning()
        cb = cl.CarbonTrackerCallback(**TRACKER_KW)
        with self.assertRaises(ValueError) as cm:
            lightning_fit([cb], FakeTrainer(max_epochs=-1), lambda e: None)
        self.assertIn("epochs=N", str(cm.exception))
        cb2 = cl.CarbonTrackerCallback(epochs=2, **TRACKER_KW)
        trainer = FakeTrainer(max_epochs=2)
        lightning_fit([cb2], trainer, lambda e: self.work(1))
        self.assertEqual(cb2.tracker.actual.epochs, 2)

    def test_borrowed_tracker_is_left_running(self):
        cl = self.lightning()
        t = CarbonTracker(epochs=4, **TRACKER_KW)
        cb = cl.CarbonTrackerCallback(tracker=t)
        lightning_fit([cb], FakeTrainer(max_epochs=2), lambda e: self.work(1_000_000))
        self.assertFalse(t.deleted)  # its owner stops it
        self.assertEqual(t.epoch_counter, 2)
        t.close()


# ---------------------------------------------------------------------------
# transformers


class Args:
    def __init__(self, num_train_epochs):
        self.num_train_epochs = num_train_epochs


class State:
    def __init__(self, num_train_epochs=0, steps_per_epoch=0):
        self.num_train_epochs = num_train_epochs
        self.epoch = 0.0
        self.global_step = 0
        self.steps_per_epoch = steps_per_epoch  # the stand-in's, not transformers'
        self.max_steps = steps_per_epoch * num_train_epochs


class Control:
    def __init__(self):
        self.should_training_stop = False


def hf_train(callbacks, args, state, work):
    """What transformers.Trainer does with callbacks (CallbackHandler)."""
    control = Control()
    for cb in callbacks:
        cb.on_train_begin(args, state, control)
    epochs = int(-(-args.num_train_epochs // 1))
    for epoch in range(epochs):
        for cb in callbacks:
            cb.on_epoch_begin(args, state, control)
        work(epoch, control)
        for _ in range(getattr(state, "steps_per_epoch", 0)):
            state.global_step += 1
            for cb in callbacks:
                if hasattr(cb, "on_step_end"):
                    cb.on_step_end(args, state, control)
        for cb in callbacks:
            r = cb.on_epoch_end(args, state, control)
            if r is not None:
                control = r
        if control.should_training_stop:
            break
    for cb in callbacks:
        cb.on_train_end(args, state, control)
    return control


class Transformers(CallbackCase):
    def transformers(self):
        mods = fake_modules("transformers")
        mods["transformers"].TrainerCallback = FakeCallbackBase
        return self.use("transformers", mods)

    def test_fractional_epochs_and_early_stopping(self):
        ct = self.transformers()
        cb = ct.CarbonTrackerCallback(**TRACKER_KW)

        def work(e, control):
            self.work(3_000_000)
            if e == 1:
                control.should_training_stop = True  # EarlyStoppingCallback

        hf_train([cb], Args(2.5), State(), work)
        t = cb.tracker
        self.assertEqual(t.epochs, 3)  # ceil(2.5)
        self.assertTrue(t.deleted)
        self.assertEqual(t.actual.epochs, 2)
        self.assertAlmostEqual(t.actual.components["cpu"].energy_j, 6.0, delta=1e-9)

    def test_state_epochs_preferred(self):
        ct = self.transformers()
        cb = ct.CarbonTrackerCallback(**TRACKER_KW)
        hf_train([cb], Args(3.0), State(num_train_epochs=7), lambda e, c: c.__setattr__("should_training_stop", True))
        self.assertEqual(cb.tracker.epochs, 7)
        self.assertEqual(cb.tracker.actual.epochs, 1)

    def test_declined_prediction_stops_training(self):
        ct = self.transformers()
        cb = ct.CarbonTrackerCallback(stop_and_confirm=True, **TRACKER_KW)
        with mock.patch.object(builtins, "input", return_value="n"), mock.patch("sys.stdout"):
            control = hf_train([cb], Args(5), State(), lambda e, c: self.work(1_000_000))
        self.assertTrue(control.should_training_stop)
        self.assertEqual(cb.driver.stop_reason, "declined")
        self.assertEqual(cb.tracker.actual.epochs, 1)
        self.assertTrue(cb.tracker.deleted)


# ---------------------------------------------------------------------------
# Progress within an epoch (issue 12): every batch end tells the tracker


class Spy:
    """Records the fractions a tracker's epoch_progress is given (the call goes on)."""

    def __init__(self, tracker):
        self.calls = []
        real = tracker.epoch_progress

        def spy(f):
            self.calls.append((tracker.epoch_counter, round(f, 9)))
            return real(f)

        tracker.epoch_progress = spy


class Progress(CallbackCase):
    def check(self, spy, t, epochs, batches):
        want = [(e, round((b + 1) / batches, 9)) for e in range(epochs) for b in range(batches)]
        self.assertEqual(spy.calls, want)
        self.assertEqual(t.actual.epochs, epochs)

    def test_keras_batches(self):
        ck = Keras.keras(self)
        t = CarbonTracker(epochs=3, **TRACKER_KW)
        spy = Spy(t)
        cb = ck.CarbonTrackerCallback(tracker=t)
        keras_fit([cb], 2, lambda e: self.work(1_000_000), batches=4)
        self.check(spy, t, 2, 4)
        t.close()

    def test_lightning_batches(self):
        cl = Lightning.lightning(self)
        t = CarbonTracker(epochs=2, **TRACKER_KW)
        spy = Spy(t)
        cb = cl.CarbonTrackerCallback(tracker=t)
        trainer = FakeTrainer(max_epochs=2)
        trainer.num_training_batches = 5
        lightning_fit([cb], trainer, lambda e: self.work(1_000_000), batches=5)
        self.check(spy, t, 2, 5)
        t.close()

    def test_lightning_unknown_batches(self):
        cl = Lightning.lightning(self)
        t = CarbonTracker(epochs=2, **TRACKER_KW)
        spy = Spy(t)
        cb = cl.CarbonTrackerCallback(tracker=t)
        trainer = FakeTrainer(max_epochs=1)
        trainer.num_training_batches = float("inf")  # an iterable dataset without a length
        lightning_fit([cb], trainer, lambda e: self.work(1_000_000), batches=3)
        self.assertEqual(spy.calls, [])
        t.close()

    def test_transformers_steps(self):
        ct = Transformers.transformers(self)
        t = CarbonTracker(epochs=3, **TRACKER_KW)
        spy = Spy(t)
        cb = ct.CarbonTrackerCallback(tracker=t)
        hf_train([cb], Args(3), State(num_train_epochs=3, steps_per_epoch=4), lambda e, c: self.work(1_000_000))
        self.check(spy, t, 3, 4)
        t.close()

    def test_marks_reach_the_library(self):
        # 3 marks in epoch 1: a prediction before epoch 1 ends (ct_epoch_progress)
        t = CarbonTracker(epochs=4, **TRACKER_KW)
        t.epoch_start()
        self.assertIsNone(t.predicted)
        for k in range(1, 4):
            self.work(1_000_000)
            t.epoch_progress(k / 4)
        p = t.predicted
        self.assertIsNotNone(p)
        self.assertEqual(p.epochs, 4)
        with self.assertRaises(ValueError):
            t.epoch_progress(0.5)  # went back: nothing recorded
        with self.assertRaises(ValueError):
            t.epoch_progress(1.5)
        t.epoch_end()
        t.close()

    def test_step_counts_batches(self):
        t = CarbonTracker(epochs=2, **TRACKER_KW)
        spy = Spy(t)
        t.epoch_start()
        self.assertIsNone(t.step())  # the number per epoch is not known yet
        self.assertEqual(t.step(batches_per_epoch=4), 0.5)
        self.assertEqual(t.step(), 0.75)
        self.assertEqual(t.step(2), 1.0)  # never past the end
        t.epoch_end()
        t.epoch_start()
        self.assertEqual(t.step(), 0.25)  # counted again from the start of each epoch
        t.epoch_end()
        self.assertEqual(spy.calls, [(0, 0.5), (0, 0.75), (0, 1.0), (1, 0.25)])
        t.close()


class LazyImports(unittest.TestCase):
    def test_no_framework_imported(self):
        code = (
            "import sys\n"
            "import carbontracker, carbontracker.tracker, carbontracker.parser\n"
            "import carbontracker.keras, carbontracker.lightning, carbontracker.transformers\n"
            "bad = [m for m in ('keras', 'tensorflow', 'lightning', 'pytorch_lightning', 'transformers', 'torch',"
            " 'numpy') if m in sys.modules]\n"
            "print(bad)\n"
        )
        env = dict(os.environ, PYTHONPATH=_support.PYDIR)
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "[]")


if __name__ == "__main__":
    unittest.main()
