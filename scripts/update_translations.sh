#!/usr/bin/env bash
# Extract the UI strings, merge them into the es and en catalogs, compile them (`make translations`).
# Then translate whatever is new or fuzzy in src/ventanilla/locale/es/LC_MESSAGES/messages.po and run
# this again; tests/unit/test_catalogs.py fails while anything is untranslated, fuzzy or not compiled.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
LOCALE=src/ventanilla/locale
POT=$LOCALE/messages.pot
LANGUAGES=(es en)

# babel.cfg's patterns (src/ventanilla/**.py, ...) are matched against paths relative to the directory
# scanned, so scan the repository root: scanning src/ventanilla would extract nothing at all.
"$PYBABEL" extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 --add-comments=Translators: \
  --project=ventanilla -o "$POT" .

# No fuzzy matching: on short UI labels its guesses are wrong ("Network" -> "nuevo") and easy to miss.
for lang in "${LANGUAGES[@]}"; do
  if [[ -f $LOCALE/$lang/LC_MESSAGES/messages.po ]]; then
    "$PYBABEL" update -i "$POT" -d "$LOCALE" -l "$lang" --no-fuzzy-matching
  else
    "$PYBABEL" init -i "$POT" -d "$LOCALE" -l "$lang"
  fi
done

"$PYBABEL" compile -d "$LOCALE" --statistics
