"""The website in a real browser: build it, serve it from loopback, open every page in
headless Chromium (Debian's chromium and chromium-driver, installed by `make install`).

Each page of _toc.yml must load with no console errors and no request leaving this machine,
have its math typeset by MathJax (served by the site itself), load its images, and link only
to pages and anchors that exist; search must find "softmax".
"""

import functools
import http.server
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urldefrag, urljoin, urlparse

import pytest
import yaml
from bs4 import BeautifulSoup

from nerva_edu import launch
from toc import ROOT, toc_files, toc_notebooks

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"]
PAGES = [f"{entry}.html" for entry in toc_files()]
TIMEOUT = 30  # seconds for a page, its MathJax typesetting or a search


@pytest.fixture(scope="session")
def site():
    """The website, built from the repository into a temporary folder (-W: warnings fail)."""
    output = Path(tempfile.mkdtemp(prefix="nerva-edu-site-"))
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jupyter_book), "build", str(ROOT), "--path-output", str(output),
                             "-W", "--keep-going"], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        log = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        pytest.fail(f"jupyter-book build failed (exit {result.returncode}):\n{log}", pytrace=False)
    return output / "_build" / "html"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def base_url(site):
    """The built site, served by http.server on 127.0.0.1 at a free port."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven through /usr/bin/chromedriver, with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: `make install` installs Debian's chromium and "
                    "chromium-driver", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="nerva-edu-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(TIMEOUT)
    driver.set_script_timeout(TIMEOUT)
    yield driver
    driver.quit()


def console_errors(driver):
    """The console messages of level SEVERE since the last call (reading the log empties it)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def open_page(driver, url):
    """Load url, wait until MathJax (when the page loads it) finished typesetting; give up
    waiting after 10 s of a MathJax that does not start (the checks then report it)."""
    console_errors(driver)  # drop what an earlier page left
    driver.get(url)
    driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const started = Date.now();
        const wait = () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                MathJax.startup.promise.then(() => done(), () => done());
            } else if (document.readyState === "complete"
                       && (!document.querySelector("script[src*='mathjax']") || Date.now() - started > 10000)) {
                done();
            } else { setTimeout(wait, 50); }
        };
        wait();""")


FOREIGN_REQUESTS = """
    return performance.getEntriesByType("resource").map(e => e.name)
        .filter(name => !name.startsWith(location.origin) && !name.startsWith("data:"));"""

UNTYPESET_MATH = """
    return Array.from(document.querySelectorAll(".math"))
        .filter(node => !node.querySelector("mjx-container"))
        .map(node => node.textContent.trim().slice(0, 80));"""

MATH_ERRORS = """
    return Array.from(document.querySelectorAll("mjx-merror"))
        .map(node => node.getAttribute("data-mjx-error") || node.textContent.slice(0, 80));"""

BROKEN_IMAGES = """
    return Array.from(document.images)
        .filter(img => !(img.complete && img.naturalWidth > 0))
        .map(img => img.getAttribute("src"));"""


@pytest.mark.parametrize("page", PAGES)
def test_page(browser, base_url, page):
    """One page: no console error, nothing fetched from elsewhere, math typeset, images load."""
    open_page(browser, base_url + page)
    problems = []
    errors = console_errors(browser)
    if errors:
        problems.append("console errors:\n    " + "\n    ".join(errors))
    foreign = browser.execute_script(FOREIGN_REQUESTS)
    if foreign:
        problems.append("requests leaving the site (it must work offline):\n    " + "\n    ".join(foreign))
    if browser.execute_script("return document.querySelector('.math') !== null"):
        if browser.execute_script("return document.querySelector('mjx-container') === null"):
            problems.append("the page has math but MathJax typeset none of it (is _static/mathjax there?)")
        else:
            untypeset = browser.execute_script(UNTYPESET_MATH)
            if untypeset:
                problems.append("math left untypeset:\n    " + "\n    ".join(untypeset))
    math_errors = browser.execute_script(MATH_ERRORS)
    if math_errors:
        problems.append("MathJax could not typeset:\n    " + "\n    ".join(math_errors))
    broken = browser.execute_script(BROKEN_IMAGES)
    if broken:
        problems.append("images that did not load:\n    " + "\n    ".join(broken))
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


def _fetch(url):
    """(status, text) of a GET on the local server."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_internal_links(site, base_url):
    """Every link between pages of the site leads to a file that exists and, with a
    #fragment, to an element with that id."""
    host = urlparse(base_url).netloc
    pages, broken = {}, []

    def ids(url):
        if url not in pages:
            status, text = _fetch(url)
            pages[url] = (status, {tag["id"] for tag in BeautifulSoup(text, "html.parser").find_all(id=True)}
                          if url.endswith(".html") else set())
        return pages[url]

    for page in PAGES:
        page_url = base_url + page
        status, text = _fetch(page_url)
        assert status == 200, f"{page}: HTTP {status}"
        for anchor in BeautifulSoup(text, "html.parser").find_all("a", href=True):
            target, fragment = urldefrag(urljoin(page_url, anchor["href"]))
            if urlparse(target).netloc != host:
                continue
            status, known_ids = ids(target)
            if status != 200:
                broken.append(f"{page}: {anchor['href']} -> HTTP {status}")
            elif fragment and target.endswith(".html") and fragment not in known_ids:
                broken.append(f"{page}: {anchor['href']} -> no element with id {fragment!r}")
    assert not broken, "broken internal links:\n  " + "\n  ".join(sorted(set(broken)))


def _search(browser, url):
    """The titles of the results that the search page lists for the query in url."""
    open_page(browser, url)
    return browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const started = Date.now();
        const poll = () => {
            const items = document.querySelectorAll("#search-results li");
            const finished = document.querySelector("#search-results .search-summary, #search-results p");
            if (items.length > 0 || (finished && !document.querySelector("#search-progress:not(:empty)"))
                || Date.now() - started > 20000) {
                done(Array.from(items).map(li => li.querySelector("a").textContent.trim()));
            } else { setTimeout(poll, 100); }
        };
        poll();""")


def test_search_finds_softmax(site, browser, base_url):
    """search.html?q=softmax lists results (once a page of the book mentions softmax)."""
    mentions = [page for page in PAGES if "softmax" in (site / page).read_text().lower()]
    if not mentions:
        pytest.skip("no page of the book mentions softmax yet")
    titles = _search(browser, base_url + "search.html?q=softmax")
    errors = console_errors(browser)
    assert titles, f"search for 'softmax' found nothing; pages that mention it: {mentions}"
    assert not errors, "console errors on the search page:\n  " + "\n  ".join(errors)


def test_opened_from_disk(site, browser):
    """Opened as files (file://), the first page and a search work without console errors."""
    first = PAGES[0]
    open_page(browser, (site / first).as_uri())
    errors = console_errors(browser)
    assert not errors, f"{first} from disk: console errors:\n  " + "\n  ".join(errors)
    titles = _search(browser, (site / "search.html").as_uri() + "?q=matrix")
    errors = console_errors(browser)
    assert titles, "search from disk found nothing for 'matrix'"
    assert not errors, "search from disk: console errors:\n  " + "\n  ".join(errors)


def test_launch_buttons_and_download(site):
    """Notebook pages offer Binder, JupyterHub and Colab for the repository, Thebe, and
    their .ipynb for download."""
    notebooks = [entry for entry in toc_files() if (ROOT / f"{entry}.ipynb").is_file()]
    if not notebooks:
        pytest.skip("no notebook in _toc.yml yet")
    entry = notebooks[0]
    soup = BeautifulSoup((site / f"{entry}.html").read_text(), "html.parser")
    links = [a["href"] for a in soup.find_all("a", href=True)]
    repo = launch.repository(ROOT / "_config.yml")
    expected = {
        "Binder": launch.binder_url(repo, f"{entry}.ipynb"),
        "Colab": launch.colab_url(repo, f"{entry}.ipynb"),
        "JupyterHub": "/hub/user-redirect/git-pull?repo=" + quote(repo.url, safe="/"),
        "download": f"_sources/{entry}.ipynb",
    }
    missing = [name for name, part in expected.items() if not any(part in link for link in links)]
    assert not missing, f"{entry}.html lacks the {', '.join(missing)} link(s); links: {links}"
    assert soup.find(class_="btn-launch-thebe"), f"{entry}.html has no Thebe (live code) button"
    assert (site / "_sources" / f"{entry}.ipynb").is_file(), f"_sources/{entry}.ipynb is not in the site"
    assert launch.INSTALL_CELL_ID not in str(soup) and 'find_spec("nerva_edu")' not in soup.get_text(), \
        f"{entry}.html shows the install cell (tagged remove-cell)"


def test_instructors_page_links_every_notebook_to_the_hub(site):
    """The instructors' page hands out one nbgitpuller link per notebook of the book, made from
    the repository and hub of _config.yml, and shows the pip command of the package."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo, hub = launch.repository(config), config["launch_buttons"]["jupyterhub_url"]
    soup = BeautifulSoup((site / "book" / "instructors.html").read_text(), "html.parser")
    links = {a["href"] for a in soup.find_all("a", href=True)}
    missing = [nb for nb in toc_notebooks() if launch.nbgitpuller_url(hub, repo, nb) not in links]
    assert not missing, f"instructors.html has no nbgitpuller link for {missing}"
    assert launch.install_command(repo) in soup.get_text(), "instructors.html lacks the package's pip command"
