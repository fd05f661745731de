# rolecall: two commands on a fresh machine.
#   make demo   install and run the demo
#   make test   install and run every quality gate and the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: demo test lint tools bench screenshots install clean

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; sys.exit("rolecall needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The demo needs only rolecall and moto's server: quicker than the full toolchain.
$(DEMO_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $(DEMO_STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(DEMO_STAMP)

install: $(STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/rolecall demo

screenshots: $(STAMP)
	$(BIN)/python screenshots/make_screenshots.py

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench screenshots
	$(BIN)/ruff check src tests bench screenshots
	$(BIN)/mypy
	$(BIN)/lint-imports

# The end-to-end tests drive a real terminal (tmux); the completion tests drive real shells
# (zsh, fish; bash is everywhere). Install them where the machine allows it.
SHELL_TOOLS := tmux zsh fish
tools:
	@missing=""; for t in $(SHELL_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get install -y -qq $$missing >/dev/null 2>&1 || \
			 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $$missing >/dev/null 2>&1)) \
			|| echo "warning: could not install$$missing; their tests will be skipped"; \
		else echo "warning:$$missing missing; their tests will be skipped"; fi; fi

test: lint tools
	$(BIN)/pytest -n 2

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
