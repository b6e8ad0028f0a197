# Safe Abroad: the two quick-start commands are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test install lint locales validate bench clean lock train

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## Run the bot on the embedded defaults: web chat on http://127.0.0.1:8000/chat (Telegram too if TELEGRAM_BOT_TOKEN is set).
## Ctrl+C stops it (exit status 0). Another port: PORT=8001 make run
run: install
	@$(PY) -m bot serve

## Run the whole test suite (installs what it needs first).
test: install
	$(PY) -m bot validate
	$(PY) -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Extract messages from code and dialogs and update the catalogs.
locales: install
	$(PY) -m bot.i18n_tool extract

validate: install
	$(PY) -m bot validate

## Retrain the danger detector's statistical layer from dialogs/signals/corpus/ (about a minute),
## and the job-ad scanner's from the written ads' dev part (about ten seconds).
train: install
	$(PY) -m bot train --language-words
	$(PY) -m bot train
	-$(PY) -m bot devset --corpus test  # prints the test split; below an aim is reported, not fatal
	$(PY) -m bot train --ads
	$(PY) -m bench.bench_scanner --quality

## Pin every runtime dependency with its hash (requirements.lock, used by the Dockerfile and CI).
lock: install
	$(PY) -m pip lock '.[postgres]' 'setuptools>=77' wheel -o pylock.toml
	$(PY) .ci/lock.py pylock.toml requirements.lock
	rm -f pylock.toml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
