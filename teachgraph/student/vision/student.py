"""The vision student: a frozen image encoder, a trained projector, and a LoRA on the language model.

Behind the same :class:`~teachgraph.student.base.Student` protocol as the text student: prompts
are text whose first line may be an image reference (``<image>{json}</image>``,
:mod:`teachgraph.tasks.vqa.images`). The image's EfficientNet-Lite0 features
(:mod:`.encoder`) pass through the projector (:mod:`.projector`) into ``grid``² embeddings that
take the place of the reference at the start of the user turn; the rest of the prompt goes
through the language model's chat template as usual. Training updates the LoRA and the
projector together and saves both in one directory: the peft adapter (``adapter_config.json``,
``adapter_model.safetensors``) and ``projector.json`` + ``projector.safetensors``.

Unlike the text student, training runs in this process (a vision round is one short call; the
text student's child process exists to bound long LoRA runs and survive their crashes).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teachgraph.errors import StudentError
from teachgraph.student import _env  # first: offline/OpenMP env before transformers
from teachgraph.student.base import TrainingPair, TrainResult
from teachgraph.student.chat import IGNORE_INDEX, end_of_turn_id, render_prompt
from teachgraph.student.config import StudentConfig, VisionOptions
from teachgraph.student.hf import check_adapter_dir
from teachgraph.student.train_worker import lr_factor
from teachgraph.student.vision.encoder import FEATURE_DIM, ImageEncoder
from teachgraph.student.vision.projector import ProjectorShape, build_projector, load_projector, save_projector
from teachgraph.student.weights import resolve_base_dir
from teachgraph.tasks.vqa.images import load_image, split_image

__all__ = ["VisionOptions", "VisionStudent"]

logger = logging.getLogger(__name__)

ENCODER = "efficientnet-lite0"
# Stands for the image tokens while the chat template is applied; never a real prompt character.
_SLOT = "\ufffc"


@dataclass
class _Encoded:
    """One prompt as token ids around the image slot, and its image key (``None``: no image)."""

    before: list[int]
    after: list[int]
    image: str | None


class VisionStudent:
    """SmolLM2 (or any chat LM the text student can load) that sees an image through a projector.

    Args:
        config: The language side: base model, LoRA, training and generation settings
            (``mode`` decides whether ``init_adapter`` is continued). ``build_student`` makes one
            for ``kind: vision``.
        options: The vision side (default: ``config.vision``).
    """

    def __init__(self, config: StudentConfig, options: VisionOptions | None = None) -> None:
        self.config = config
        self.options = options or config.vision
        self.name = f"vision:{config.model}"
        self._device = "cpu"
        self.encoder = ImageEncoder(self.options.image_size, self.options.grid)
        self._base_dir: Path | None = None
        self._tokenizer: Any = None
        self._model: Any = None  # the LM used by predict (peft model once an adapter is loaded)
        self._projector: Any = None
        self._adapter: Path | None = None
        self._refs: dict[str, Any] = {}

    # -- loading ---------------------------------------------------------------------------

    @property
    def base_dir(self) -> Path:
        """The language model's checkpoint directory (converted on first access)."""
        if self._base_dir is None:
            self._base_dir = resolve_base_dir(self.config)
        return self._base_dir

    @property
    def adapter(self) -> Path | None:
        """The adapter directory used by :meth:`predict` (``None``: base LM, untrained projector)."""
        return self._adapter

    def _tok(self) -> Any:
        if self._tokenizer is None:
            import torch
            from transformers import AutoTokenizer

            if self.config.device == "auto":
                self._device = "cuda" if torch.cuda.is_available() else "cpu"
            else:
                self._device = self.config.device
            self.encoder.device = self._device
            tokenizer = AutoTokenizer.from_pretrained(str(self.base_dir), local_files_only=True)
            if tokenizer.pad_token_id is None:
                tokenizer.pad_token = tokenizer.eos_token
            self._tokenizer = tokenizer
        return self._tokenizer

    def _shape(self, base: Any) -> ProjectorShape:
        return ProjectorShape(
            encoder=ENCODER,
            image_size=self.options.image_size,
            grid=self.options.grid,
            feature_dim=FEATURE_DIM,
            hidden_size=int(base.config.hidden_size),
        )

    def _load(self, adapter: Path | None, *, trainable: bool) -> tuple[Any, Any, ProjectorShape]:
        """A fresh LM (with ``adapter``, or a new LoRA when ``trainable``) and its projector."""
        import torch
        from peft import LoraConfig, PeftModel, get_peft_model
        from transformers import AutoModelForCausalLM

        self._tok()
        try:
            base = AutoModelForCausalLM.from_pretrained(str(self.base_dir), dtype=torch.float32, local_files_only=True)
        except (OSError, ValueError) as err:
            raise StudentError(f"cannot load the student from {self.base_dir}: {err}") from err
        shape = self._shape(base)
        with _env.quiet_peft():
            if adapter is not None:
                try:
                    model = PeftModel.from_pretrained(base, str(adapter), is_trainable=trainable)
                except (OSError, ValueError, RuntimeError, KeyError) as err:
                    raise StudentError(f"cannot load adapter {adapter} onto {self.base_dir}: {err}") from err
                projector = load_projector(adapter, shape)
            elif trainable:
                lora = LoraConfig(
                    task_type="CAUSAL_LM",
                    r=self.config.lora_r,
                    lora_alpha=self.config.lora_alpha,
                    lora_dropout=self.config.lora_dropout,
                    target_modules=self.config.lora_target_modules,
                    modules_to_save=["lm_head"] if self.config.is_tiny and self.config.tiny_train_head else None,
                )
                model = get_peft_model(base, lora)
                projector = build_projector(shape, seed=self.config.seed)
            else:
                model, projector = base, build_projector(shape, seed=self.config.seed)
        return model.to(self._device), projector.to(self._device), shape

    def load_adapter(self, adapter_dir: Path | None) -> None:
        """Predict with this adapter directory (LoRA + projector) from now on; ``None``: the base.

        Raises:
            StudentError: the directory holds no peft adapter or no projector.
        """
        if adapter_dir is None:
            wanted = None
        else:
            wanted = check_adapter_dir(adapter_dir)
            if not (wanted / "projector.safetensors").is_file():
                raise StudentError(f"{wanted} has no vision projector: was it trained by the vision student?")
        self._adapter = wanted
        self._model = self._projector = None  # loaded again on the next predict

    # -- prompts to embeddings ---------------------------------------------------------------

    def _encode_prompt(self, prompt: str) -> _Encoded:
        tokenizer = self._tok()
        ref, text = split_image(prompt)
        text = text.replace(_SLOT, "")
        if ref is None:
            ids = tokenizer(render_prompt(tokenizer, text), add_special_tokens=False)["input_ids"]
            return _Encoded(before=ids, after=[], image=None)
        key = ref.model_dump_json()
        self._refs[key] = ref
        before, after = render_prompt(tokenizer, f"{_SLOT}\n{text}").split(_SLOT, 1)
        return _Encoded(
            before=tokenizer(before, add_special_tokens=False)["input_ids"],
            after=tokenizer(after, add_special_tokens=False)["input_ids"],
            image=key,
        )

    def _embed(self, model: Any, projector: Any, items: list[_Encoded], tails: list[list[int]]) -> list[Any]:
        """Per item: embeddings of ``before``, the image tokens, ``after`` and ``tail``."""
        import torch

        keys = [i.image for i in items if i.image is not None]
        features = iter(
            self.encoder.encode_cached(
                keys, lambda k: load_image(self._refs[k]), batch_size=self.options.encode_batch_size
            ).to(self._device)
            if keys
            else []
        )
        table = model.get_input_embeddings()
        out = []
        for item, tail in zip(items, tails, strict=True):
            parts = [table(torch.tensor(item.before, device=self._device))]
            if item.image is not None:
                parts.append(projector(next(features)))
            parts.append(table(torch.tensor([*item.after, *tail], dtype=torch.long, device=self._device)))
            out.append(torch.cat(parts))
        return out

    # -- Student protocol --------------------------------------------------------------------

    def predict(self, prompts: list[str]) -> list[str]:
        """Greedy answers for ``prompts`` (image reference first, then the question), in order."""
        if not prompts:
            return []
        import torch

        if self._model is None:
            self._model, self._projector, _ = self._load(self._adapter, trainable=False)
        model, projector = self._model.eval(), self._projector.eval()
        tokenizer = self._tok()
        eos = end_of_turn_id(tokenizer)
        items = [self._encode_prompt(p) for p in prompts]
        order = sorted(range(len(items)), key=lambda i: len(items[i].before) + len(items[i].after))
        replies: list[str] = [""] * len(prompts)
        size = self.config.generation_batch_size
        for first in range(0, len(order), size):
            rows = order[first : first + size]
            with torch.no_grad():
                embeds = self._embed(model, projector, [items[i] for i in rows], [[] for _ in rows])
                width = max(e.shape[0] for e in embeds)
                batch = torch.zeros(len(rows), width, embeds[0].shape[1], device=self._device)
                mask = torch.zeros(len(rows), width, dtype=torch.long, device=self._device)
                for r, e in enumerate(embeds):  # left padding: every row ends where generation starts
                    batch[r, width - e.shape[0] :] = e
                    mask[r, width - e.shape[0] :] = 1
                generated = model.generate(
                    inputs_embeds=batch,
                    attention_mask=mask,
                    max_new_tokens=self.config.max_new_tokens,
                    do_sample=False,
                    eos_token_id=eos,
                    pad_token_id=tokenizer.pad_token_id,
                )
            for i, text in zip(rows, tokenizer.batch_decode(generated, skip_special_tokens=True), strict=True):
                replies[i] = text.strip()
        return replies

    def train(self, pairs: list[TrainingPair], output_dir: Path, init_adapter: Path | None = None) -> TrainResult:
        """Train the LoRA and the projector on ``pairs``; save both under ``output_dir``.

        ``continue`` mode starts from ``init_adapter`` (LoRA and projector); ``retrain`` mode
        ignores it. Does not change what :meth:`predict` uses: call :meth:`load_adapter`.

        Raises:
            StudentError: no pairs, or ``init_adapter`` is not a vision adapter.
        """
        import torch

        if not pairs:
            raise StudentError("no training pairs")
        # The LoRA's and projector's initial weights and the batch order follow config.seed, without
        # touching the caller's global torch RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)
            return self._train(pairs, Path(output_dir), init_adapter)

    def _train(self, pairs: list[TrainingPair], output_dir: Path, init_adapter: Path | None) -> TrainResult:
        import torch

        start = time.monotonic()
        init = check_adapter_dir(init_adapter) if init_adapter is not None and self.config.mode == "continue" else None
        model, projector, shape = self._load(init, trainable=True)
        model.train()
        projector.train()
        tokenizer = self._tok()
        eos = end_of_turn_id(tokenizer)
        items = [self._encode_prompt(p.prompt) for p in pairs]
        targets = [[*tokenizer(p.target, add_special_tokens=False)["input_ids"], eos] for p in pairs]
        image_tokens = shape.tokens
        too_long = [
            k
            for k, (item, target) in enumerate(zip(items, targets, strict=True))
            if len(item.before) + len(item.after) + len(target) + (image_tokens if item.image else 0)
            > self.config.max_length
        ]
        if too_long:
            raise StudentError(
                f"{len(too_long)} of {len(pairs)} pairs are longer than max_length={self.config.max_length} "
                f"tokens (first: pair {too_long[0]}); raise student.max_length or shorten them"
            )
        lora_params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            [
                {"params": lora_params, "lr": self.config.effective_learning_rate},
                {"params": list(projector.parameters()), "lr": self.options.projector_learning_rate},
            ],
            weight_decay=0.0,
        )
        size = self.config.batch_size
        total = self.config.epochs * math.ceil(len(pairs) / size)
        if self.config.max_steps is not None:
            total = min(total, self.config.max_steps)
        warmup = int(self.config.warmup_ratio * total)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total, warmup))
        order_rng = torch.Generator().manual_seed(self.config.seed)
        step, tokens, loss_value = 0, 0, None
        while step < total:
            for batch_rows in torch.randperm(len(pairs), generator=order_rng).split(size):
                if step >= total:
                    break
                rows = batch_rows.tolist()
                loss, n = self._batch_loss(model, projector, [items[i] for i in rows], [targets[i] for i in rows])
                loss.backward()
                torch.nn.utils.clip_grad_norm_([*lora_params, *projector.parameters()], 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step, tokens, loss_value = step + 1, tokens + n, float(loss.detach())
                if step % 25 == 0 or step == total:
                    logger.info(
                        "vision student: step %d/%d loss %.4f (%.0f s)",
                        step,
                        total,
                        loss_value,
                        time.monotonic() - start,
                    )
        model.save_pretrained(str(output_dir))
        save_projector(projector, shape, output_dir)
        return TrainResult(
            adapter_dir=output_dir.resolve(),
            steps=step,
            examples=len(pairs),
            train_tokens=tokens,
            seconds=time.monotonic() - start,
            final_loss=loss_value,
        )

    def _batch_loss(
        self, model: Any, projector: Any, items: list[_Encoded], targets: list[list[int]]
    ) -> tuple[Any, int]:
        """Mean cross-entropy over the target tokens, and the number of tokens in the batch."""
        import torch

        embeds = self._embed(model, projector, items, targets)
        width = max(e.shape[0] for e in embeds)
        batch = torch.zeros(len(embeds), width, embeds[0].shape[1], device=self._device)
        mask = torch.zeros(len(embeds), width, dtype=torch.long, device=self._device)
        labels = torch.full((len(embeds), width), IGNORE_INDEX, dtype=torch.long, device=self._device)
        for r, (e, target) in enumerate(zip(embeds, targets, strict=True)):
            n = e.shape[0]
            batch[r, :n], mask[r, :n] = e, 1  # right padding: positions count from the left
            labels[r, n - len(target) : n] = torch.tensor(target, device=self._device)
        causal_lm = model.get_base_model()
        hidden = causal_lm.get_decoder()(inputs_embeds=batch, attention_mask=mask, use_cache=False).last_hidden_state
        shifted = labels[:, 1:]  # position t predicts token t+1
        keep = shifted != IGNORE_INDEX
        logits = causal_lm.get_output_embeddings()(hidden[:, :-1][keep])
        return torch.nn.functional.cross_entropy(logits.float(), shifted[keep]), int(mask.sum())
