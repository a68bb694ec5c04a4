"""Where the tests' own data lives: inside the checkout, never beside it (design habit 13)."""

from pathlib import Path

TEST_DATA = Path(__file__).resolve().parent / "data"
