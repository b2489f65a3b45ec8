# nerva-edu: the two commands of the README, and the helpers they use.
#   make book        install into .venv, then build the website into _build/html
#   make test        install into .venv, then run every test (unit, property, symbolic, nbval)
#   make notebooks   re-execute every notebook in place (regenerates the stored outputs)

PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
JOBS     ?= 2

.PHONY: install book test notebooks check clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

book: install
	rm -rf _build/html
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo
	@echo "The website is built: open $(CURDIR)/_build/html/index.html"

test: install
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope tests \
	    --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
	    $$($(BIN)/python tests/toc.py)

notebooks: install
	$(BIN)/python tests/execute_notebooks.py $$($(BIN)/python tests/toc.py)

check: install
	$(BIN)/nerva-edu check

clean:
	rm -rf _build
