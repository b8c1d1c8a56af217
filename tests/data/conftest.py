from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def zh_text() -> str:
    """A few hundred characters of original Chinese prose about RNNs (UTF-8 fixture)."""
    return (FIXTURES / "zh_rnn.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def en_text() -> str:
    return (
        "First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
        "All:\nSpeak, speak.\n\nFirst Citizen:\nYou are all resolved rather to die "
        "than to famish?\n\nAll:\nResolved. resolved.\n"
    )
