// Sphinx's search shows a summary of each result by fetching the result page. A browser
// refuses such fetches for a site opened from disk (file://) and reports one console error
// per result; there the results are listed with their titles only.
if (window.location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}
