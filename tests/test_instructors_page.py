"""The instructors' page lists every auto-checker of nerva_edu.exercises."""

from pathlib import Path

from nerva_edu import exercises

PAGE = Path(__file__).resolve().parent.parent / "book" / "instructors.md"


def test_every_checker_is_listed_on_the_instructors_page():
    checkers = sorted(name for name, value in vars(exercises).items()
                      if name.startswith("check_") and callable(value))
    missing = [name for name in checkers if f"`{name}`" not in PAGE.read_text()]
    assert checkers and not missing, f"book/instructors.md does not list {', '.join(missing)}"


def test_every_checker_is_exported():
    checkers = {name for name, value in vars(exercises).items() if name.startswith("check_") and callable(value)}
    assert checkers <= set(exercises.__all__), f"missing from __all__: {sorted(checkers - set(exercises.__all__))}"
