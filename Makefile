# nerva-edu: the two commands of the README, and the helpers they use.
#   make book        install into .venv, then build the website into _build/html
#   make test        install into .venv, then run every test (unit, property, symbolic, nbval)
#   make notebooks   re-execute every notebook in place (regenerates the stored outputs)

PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
JOBS     ?= 2

.PHONY: install system-packages book test notebooks check clean

# System packages of the browser test (Debian's, installed once, as root or through sudo), npm where
# there is none, and MathJax for the website (the npm package pinned in package-lock.json).
SYSTEM_PACKAGES := chromium chromium-driver $(if $(shell command -v npm),,nodejs npm)
SUDO     := $(if $(filter 0,$(shell id -u)),,sudo)
MATHJAX  := node_modules/mathjax/es5/tex-mml-chtml.js

install: system-packages $(STAMP) $(MATHJAX)

$(MATHJAX): package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -qx 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing system packages:" $$missing; \
	    $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing > /tmp/nerva-edu-apt.log 2>&1 \
	        || { cat /tmp/nerva-edu-apt.log; exit 1; }; \
	fi

$(STAMP): requirements.txt pyproject.toml setup.py
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
