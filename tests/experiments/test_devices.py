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


def _proc(tmp_path, cgroup_lines: str, available_kb: int = 8 * 1024 * 1024):
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text(f"MemTotal: 99999999 kB\nMemAvailable: {available_kb} kB\n")
    (proc / "self" / "cgroup").write_text(cgroup_lines)
    return proc


def _group(root, path: str, limit: str, usage: int, names=("memory.max", "memory.current")):
    folder = root / path
    folder.mkdir(parents=True)
    (folder / names[0]).write_text(limit + "\n")
    (folder / names[1]).write_text(f"{usage}\n")


def test_a_slurm_jobs_memory_limit_caps_the_free_memory_v2(tmp_path):
    proc, root = _proc(tmp_path, "0::/system.slice/slurmstepd.scope/job_7\n"), tmp_path / "cg"
    _group(root, "system.slice/slurmstepd.scope/job_7", str(4 << 30), 1 << 30)
    assert devices.host_free_memory(proc, root) == 3 << 30


def test_a_memory_limit_caps_the_free_memory_v1(tmp_path):
    proc = _proc(tmp_path, "5:cpu,cpuacct:/\n4:memory:/slurm/uid_0/job_7\n0::/\n")
    root = tmp_path / "cg"
    _group(root, "memory/slurm/uid_0/job_7", str(2 << 30), 1 << 29,
           ("memory.limit_in_bytes", "memory.usage_in_bytes"))
    assert devices.host_free_memory(proc, root) == (2 << 30) - (1 << 29)


def test_without_a_limit_the_hosts_available_memory_counts(tmp_path):
    proc, root = _proc(tmp_path, "4:memory:/\n0::/\n", available_kb=1024), tmp_path / "cg"
    _group(root, "memory", "9223372036854771712", 5, ("memory.limit_in_bytes",
                                                       "memory.usage_in_bytes"))
    (root / "memory.max").write_text("max\n")
    (root / "memory.current").write_text("5\n")
    assert devices.host_free_memory(proc, root) == 1024 * 1024


def test_a_limit_above_the_available_memory_does_not_raise_it(tmp_path):
    proc, root = _proc(tmp_path, "0::/job\n", available_kb=1024), tmp_path / "cg"
    _group(root, "job", str(64 << 30), 0)
    assert devices.host_free_memory(proc, root) == 1024 * 1024
