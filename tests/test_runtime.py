"""Which device a process takes: one per msrun worker on GPU/Ascend."""
import pytest

from src.errors import UserError
from src.runtime import device_for_worker


@pytest.mark.parametrize("target", ["GPU", "Ascend"])
def test_msrun_workers_take_their_local_rank(target):
    # msrun exports DEVICE_ID = local rank to worker i of a host.
    devices = [device_for_worker(target, 0, True, {"DEVICE_ID": str(i), "MS_WORKER_NUM": "4"})
               for i in range(4)]
    assert devices == [0, 1, 2, 3]
    assert device_for_worker(target, 5, True, {"DEVICE_ID": "2"}) == 2


def test_single_process_and_cpu_use_device_id():
    assert device_for_worker("GPU", 3, False, {"DEVICE_ID": "1"}) == 3
    assert device_for_worker("Ascend", 2, False, {}) == 2
    assert device_for_worker("CPU", 0, True, {"DEVICE_ID": "1"}) == 0
    assert device_for_worker("GPU", 1, True, {}) == 1  # no local rank exported: device_id


def test_a_bad_local_rank_is_a_user_error():
    with pytest.raises(UserError, match="DEVICE_ID is 'x'"):
        device_for_worker("GPU", 0, True, {"DEVICE_ID": "x"})


def test_init_mindspore_sets_the_workers_device(monkeypatch):
    # The wiring, without a GPU: every MindSpore call that needs one is replaced.
    import mindspore as ms
    import mindspore.communication
    from src.runtime import init_mindspore
    chosen = []
    monkeypatch.setattr(ms.hal, "is_available", lambda target: True)
    monkeypatch.setattr(ms, "set_device", lambda target, index: chosen.append((target, index)))
    monkeypatch.setattr(ms, "set_context", lambda **kw: None)
    monkeypatch.setattr(ms, "set_auto_parallel_context", lambda **kw: None)
    monkeypatch.setattr(mindspore.communication, "init", lambda *a: None)
    monkeypatch.setenv("MS_WORKER_NUM", "2")
    monkeypatch.setenv("DEVICE_ID", "1")
    init_mindspore("GPU", 0, 0, distributed=True)
    assert chosen == [("GPU", 1)]
