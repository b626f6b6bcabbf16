"""Write the two plugins' entries in meltano.yml from their definition files in plugins/.

The definition files (plugins/extractors/tap-offline-csv.yml, plugins/loaders/target-snapchat-capi.yml) are the one
place where the plugins' capabilities and settings are declared; meltano.yml carries the same entries with a pip_url
that installs from this checkout. Run after editing a definition file:

    .venv/bin/python scripts/sync_plugin_definitions.py           # rewrite meltano.yml
    .venv/bin/python scripts/sync_plugin_definitions.py --check   # exit 1 if meltano.yml is out of date (tests do)

Everything else in meltano.yml (environments, other plugins, jobs) is left as it is.
"""

from __future__ import annotations

import argparse
import io
import sys
import typing as t
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

ROOT = Path(__file__).resolve().parents[1]
MELTANO_YML = ROOT / "meltano.yml"
# (plugin type in meltano.yml, definition file, pip_url inside this repository)
DEFINITIONS: tuple[tuple[str, Path, str], ...] = (
    ("extractors", ROOT / "plugins" / "extractors" / "tap-offline-csv.yml", "-e ./tap-offline-csv"),
    ("loaders", ROOT / "plugins" / "loaders" / "target-snapchat-capi.yml", "-e ./target-snapchat-capi"),
)
# Keys of a definition that describe the plugin for a catalogue, not for a project.
CATALOGUE_ONLY_KEYS = frozenset({"label", "description"})


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 120
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def load_definition(path: Path) -> dict[str, t.Any]:
    """A plugin definition file as plain data."""
    return dict(YAML(typ="safe").load(path.read_text(encoding="utf-8")))


def project_entry(definition: t.Mapping[str, t.Any], pip_url: str) -> CommentedMap:
    """The meltano.yml entry for a definition: the same plugin, installed from this checkout.

    ``definition`` is loaded round-trip, so the entry keeps the file's layout (flow lists, folded text).
    """
    entry = CommentedMap((key, value) for key, value in definition.items() if key not in CATALOGUE_ONLY_KEYS)
    entry["pip_url"] = pip_url
    return entry


def synced_text() -> tuple[str, str]:
    """meltano.yml as it is, and as it should be."""
    yaml = _yaml()
    current = MELTANO_YML.read_text(encoding="utf-8")
    document = yaml.load(current)
    for plugin_type, path, pip_url in DEFINITIONS:
        definition = yaml.load(path.read_text(encoding="utf-8"))
        plugins = document["plugins"][plugin_type]
        wanted = project_entry(definition, pip_url)
        for index, plugin in enumerate(plugins):
            if plugin["name"] == definition["name"]:
                # Keep the key order of the definition file; replace the entry whole.
                plugins[index] = wanted
                break
        else:
            plugins.insert(0, wanted)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return current, buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether meltano.yml is up to date")
    args = parser.parse_args(argv)
    current, wanted = synced_text()
    if current == wanted:
        return 0
    if args.check:
        print("meltano.yml differs from plugins/*.yml: run scripts/sync_plugin_definitions.py", file=sys.stderr)
        return 1
    MELTANO_YML.write_text(wanted, encoding="utf-8")
    print("meltano.yml updated from plugins/*.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
