# The two set-up commands of the README. Both create .venv at the repo root
# (re-installing when pyproject.toml changes) and need nothing installed by hand
# except Python >= 3.11. bubblewrap (apt-get install bubblewrap) gives the full
# sandbox; without it grading still runs, with a loud warning.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SEED ?= 474

.PHONY: demo test test-slow install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,authoring,torch]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m autograder grade hw1 solutions/hw1/examples --out grading/hw1 --seed $(SEED) \
		--deadline 2026-09-23T23:59+09:00 --extensions solutions/hw1/extensions.csv
	@echo
	@cat grading/hw1/gradebook.csv
	@echo
	$(PY) -m autograder grade hw2 solutions/hw2/examples --out grading/hw2 --seed $(SEED)
	@echo
	@cat grading/hw2/gradebook.csv
	@echo
	$(PY) -m autograder grade hw3 solutions/hw3/examples --out grading/hw3 --seed $(SEED)
	@echo
	@cat grading/hw3/gradebook.csv
	@echo
	$(PY) -m course grades --policy course/cose474.toml --roster course/examples/roster.csv \
		--homework grading/hw1/gradebook.csv grading/hw2/gradebook.csv grading/hw3/gradebook.csv \
		--scores course/examples/scores.csv \
		--quizzes course/examples/quizzes.csv --attendance course/examples/attendance.csv --out final
	@echo "TA report (open in a browser): $(CURDIR)/grading/hw1/report/index.html"

# The suite in TEST_JOBS parallel workers (pytest-xdist, a file per worker at a time, the
# longest files first: tests/conftest.py), then the few `serial` tests alone. `make test`
# leaves out the `slow` files (whole end-to-end runs: tests/conftest.py SLOW), which
# `make test-slow` runs; CI runs both, so every test runs.
TEST_JOBS ?= 4
PYTEST := $(PY) -m pytest -n $(TEST_JOBS) --dist loadfile

test: $(STAMP)
	$(PY) -m ruff check autograder course solutions tests benchmarks
	$(PY) -m mypy
	$(PYTEST) -m "not serial and not slow"
	$(PY) -m pytest -m "serial and not slow"

test-slow: $(STAMP)
	$(PYTEST) -m "slow and not serial"

clean:
	rm -rf $(VENV) grading final
