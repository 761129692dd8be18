# The README's commands. Everything runs from .venv, created on first use.
# Python 3.11 to 3.13: `make install PYTHON=python3.13`; later commands keep using the
# Python that built .venv, and a .venv left by another Python is rebuilt.
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= $(or $(shell cat $(VENV)/.base-python 2>/dev/null),$(shell command -v python3.11 || command -v python3))
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
INSTALLED := $(VENV)/.installed-$(PY_VERSION)
CLASS := build/sample_class

.PHONY: install demo test lab report bench clean distclean

$(INSTALLED): pyproject.toml
	@test -n "$(PY_VERSION)" || { echo "make: $(PYTHON) does not run; set PYTHON=python3.11 (3.11 to 3.13)"; exit 1; }
	@if [ -e $(VENV) ] && [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" != "$(PY_VERSION)" ]; then \
		echo "make: $(VENV) was made by another Python (or is broken); rebuilding it with $(PYTHON)"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	echo "$(PYTHON)" > $(VENV)/.base-python
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
			$(BIN)/autograder grade $$a $(CLASS) --cell-timeout 60 --timeout 300 || exit 1; \
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

## lab: JupyterLab on this repository, for instructors (students use dist/student: `make lab` there)
lab: install
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

## report: every source notebook executed at full size with papermill, as notebook and HTML in build/reports/
report: install
	$(BIN)/autograder report

## bench: grading speed against plain nbgrader, and the course's quality goals
bench: install
	@for script in benchmarks/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf build dist submitted autograded feedback gradebook.db grades.csv .local_s3

## distclean: also remove .venv
distclean: clean
	rm -rf $(VENV)
