import pytest

from experiments import devices


def test_cpu_takes_no_gpu_and_cuda_takes_one():
    assert devices.gpu_slots_per_trial("cpu") == 0
    assert devices.gpu_slots_per_trial("cuda") == 1 and devices.gpu_slots_per_trial("cuda:1") == 1


def test_auto_follows_the_driver(monkeypatch):
    monkeypatch.setattr(devices, "nvidia_driver_present", lambda: False)
    assert devices.gpu_slots_per_trial("auto") == 0
    monkeypatch.setattr(devices, "nvidia_driver_present", lambda: True)
    assert devices.gpu_slots_per_trial("auto") == 1


def test_unknown_device_is_an_error():
    with pytest.raises(ValueError, match="not 'tpu'"):
        devices.gpu_slots_per_trial("tpu")


def test_a_number_of_gpus_is_taken_whatever_this_machine_has(monkeypatch):
    # a login node without a driver still submits GPU trials; a GPU host may submit CPU ones
    monkeypatch.setattr(devices, "nvidia_driver_present", lambda: False)
    assert devices.gpu_slots_per_trial("auto", 1) == 1
    monkeypatch.setattr(devices, "nvidia_driver_present", lambda: True)
    assert devices.gpu_slots_per_trial("auto", 0) == 0
    assert devices.gpu_slots_per_trial("auto", "auto") == 1
