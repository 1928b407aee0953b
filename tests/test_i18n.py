"""Every message exists in every language, with the same placeholders."""

import string

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import catalog


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    korean = catalog("ko")
    for language in SUPPORTED_LANGUAGES:
        other = catalog(language)
        assert set(other) == set(korean), f"{language}: keys differ"
        for key, text in korean.items():
            assert placeholders(other[key]) == placeholders(text), f"{language}: {key}"
