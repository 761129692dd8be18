# The README's commands. Everything runs from .venv, created on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CLASS := build/sample_class

.PHONY: install demo test lab bench clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

install: $(INSTALLED)

## demo: release every assignment, grade the sample class, write grades.csv and feedback
demo: install
	$(BIN)/autograder release
	rm -rf $(CLASS)
	$(BIN)/python samples/build_class.py $(CLASS)
	@for dir in source/*/; do \
		a=$$(basename $$dir); \
		if ls -d $(CLASS)/*/$$a >/dev/null 2>&1; then \
			$(BIN)/autograder grade $$a $(CLASS) --cell-timeout 30 --timeout 120 || exit 1; \
			$(BIN)/autograder feedback $$a || exit 1; \
		fi; \
	done
	$(BIN)/autograder status
	$(BIN)/autograder export --output grades.csv
	@echo "grades: grades.csv; feedback: feedback/<student>/<assignment>/feedback.html"

## test: the whole suite (unit, sandbox, notebooks, release sync, assignment self-tests)
test: install
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --doctest-modules course autograder
	$(BIN)/python -m pytest --nbval-lax -p no:randomly source

## lab: JupyterLab on the student notebooks
lab: install
	$(BIN)/jupyter lab --notebook-dir=release $(if $(filter 0,$(shell id -u)),--allow-root)

## bench: grading speed against plain nbgrader, and the course's quality goals
bench: install
	@for script in benchmarks/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf build submitted autograded feedback gradebook.db grades.csv .local_s3
