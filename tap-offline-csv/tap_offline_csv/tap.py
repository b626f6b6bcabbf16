"""tap-offline-csv: settings schema and stream discovery (thin; the work is in the plain modules)."""

from __future__ import annotations

import io
import json
import typing as t
from urllib.parse import urlsplit

from singer_sdk import Tap
from singer_sdk import typing as th

from tap_offline_csv import bookmarks
from tap_offline_csv.extract import DEFAULT_STATE_INTERVAL_SECONDS, METADATA_COLUMNS
from tap_offline_csv.reader import (
    BAD_ROW_POLICIES,
    COLUMN_TYPES,
    COMPRESSIONS,
    DEFAULT_MAX_FIELD_SIZE,
    DEFAULT_MAX_LINE_SIZE,
    BadRowError,
    CSVFormat,
    read_header,
)
from tap_offline_csv.storage import (
    ConfigError,
    SourceError,
    StorageSettings,
    list_files,
    open_binary,
    protocol_of,
    redact_url,
    url_prefix,
)
from tap_offline_csv.streams import CSVFileStream, StreamDefinition
from tap_offline_csv.writer import BufferedMsgspecWriter, stop_on_signals

DEFAULT_STREAM_NAME = "offline_conversions"

_PATH_TYPE = th.CustomType(
    {
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}},
        ],
        "description": "A path, glob or URL, or a list of them.",
    }
)


def _csv_format_properties() -> list[th.Property]:
    """Per-stream CSV settings; also accepted at the top level as defaults for every stream."""
    return [
        th.Property("delimiter", th.StringType, description="Field delimiter: ',' (default), '\\t', ';', '|'."),
        th.Property("quotechar", th.StringType, description="Quote character (default '\"')."),
        th.Property(
            "encoding",
            th.StringType,
            description="Text encoding (default utf-8; a byte-order mark is dropped).",
        ),
        th.Property(
            "compression",
            th.StringType,
            allowed_values=list(COMPRESSIONS),
            description="'infer' (default: from .gz .bz2 .zip .zst .xz) or an explicit codec, or 'none'.",
        ),
        th.Property("skip_rows", th.IntegerType, description="Junk lines before the header (default 0)."),
        th.Property(
            "column_types",
            th.ObjectType(additional_properties=th.StringType(allowed_values=list(COLUMN_TYPES))),
            description="{column: string|integer|number|boolean|date-time|date}; other columns are strings.",
        ),
        th.Property(
            "max_field_size",
            th.IntegerType,
            description=f"Longest field in characters (default {DEFAULT_MAX_FIELD_SIZE}); longer: a bad row.",
        ),
        th.Property(
            "max_line_size",
            th.IntegerType,
            description=f"Longest line in characters (default {DEFAULT_MAX_LINE_SIZE}); longer: a bad row, "
            "read past in bounded memory.",
        ),
        th.Property(
            "day_first",
            th.BooleanType,
            description="Slashed dates in date-time columns are day first (03/04/2026 = 3 April); as the target's.",
        ),
    ]


class TapOfflineCSV(Tap):
    """Incremental extraction of offline-conversion CSV files from local disk, S3, SFTP and fsspec."""

    name = "tap-offline-csv"
    message_writer_class = BufferedMsgspecWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "files",
            th.ArrayType(
                th.ObjectType(
                    th.Property("name", th.StringType, required=True, description="Stream name."),
                    th.Property("path", _PATH_TYPE, required=True),
                    th.Property("key_properties", th.ArrayType(th.StringType)),
                    th.Property(
                        "replication_key",
                        th.StringType,
                        description="Column; rows at or below the stream's bookmark are skipped.",
                    ),
                    *_csv_format_properties(),
                )
            ),
            description="Stream definitions. Use this or the `path`/`stream_name` shorthand.",
        ),
        th.Property("path", _PATH_TYPE, description="Shorthand for a single stream: its path, glob or URL."),
        th.Property(
            "stream_name",
            th.StringType,
            default=DEFAULT_STREAM_NAME,
            description="Stream name for the `path` shorthand.",
        ),
        th.Property("key_properties", th.ArrayType(th.StringType), description="Key columns (shorthand)."),
        th.Property("replication_key", th.StringType, description="Replication key column (shorthand)."),
        *_csv_format_properties(),
        th.Property("start_date", th.DateTimeType, description="Files last modified before it are ignored."),
        th.Property(
            "s3",
            th.ObjectType(
                th.Property("endpoint_url", th.StringType, description="For S3-compatible stores (MinIO...)."),
                th.Property("aws_access_key_id", th.StringType, secret=True),
                th.Property("aws_secret_access_key", th.StringType, secret=True),
                th.Property("aws_session_token", th.StringType, secret=True),
                th.Property("region_name", th.StringType),
                th.Property("anon", th.BooleanType, description="Anonymous access to a public bucket."),
            ),
            description="S3 settings; without keys the standard AWS credential chain applies.",
        ),
        th.Property(
            "sftp",
            th.ObjectType(
                th.Property("username", th.StringType),
                th.Property("password", th.StringType, secret=True),
                th.Property("private_key", th.StringType, secret=True, description="PEM/OpenSSH private key text."),
                th.Property("private_key_path", th.StringType),
                th.Property("private_key_passphrase", th.StringType, secret=True),
                th.Property("port", th.IntegerType, description="Default 22 (a port in the URL wins)."),
                th.Property("known_hosts_path", th.StringType, description="Default ~/.ssh/known_hosts."),
                th.Property(
                    "host_key",
                    th.StringType,
                    description="Pinned server key, one OpenSSH line ('ssh-ed25519 AAAA...').",
                ),
                th.Property(
                    "host_key_check",
                    th.BooleanType,
                    default=True,
                    description="Verify the server's host key (turning it off logs a warning).",
                ),
                th.Property("connect_timeout", th.NumberType, description="Seconds (default 30)."),
            ),
        ),
        th.Property(
            "storage_options",
            th.ObjectType(additional_properties=th.ObjectType()),
            secret=True,  # passwords, account keys and tokens of ftp, az, gs... live here
            description="{protocol: {...}} handed to fsspec (ftp, gs, az, https...); secret: it holds credentials.",
        ),
        th.Property(
            "on_bad_row",
            th.StringType,
            default="skip",
            allowed_values=list(BAD_ROW_POLICIES),
            description="skip: count and report by file and line; fail: stop the run.",
        ),
        th.Property(
            "add_metadata_columns",
            th.BooleanType,
            default=True,
            description="Add _sdc_source_file, _sdc_source_lineno, _sdc_source_modified_at.",
        ),
        th.Property(
            "state_interval_seconds",
            th.NumberType,
            default=DEFAULT_STATE_INTERVAL_SECONDS,
            description="Emit STATE at most this often while reading (and always at the end).",
        ),
        th.Property(
            "state_every_rows",
            th.IntegerType,
            description="Also emit STATE every N records (default: off, STATE is paced by time).",
        ),
        th.Property(
            "settle_seconds",
            th.NumberType,
            default=0,
            description="Files modified more recently are left for the next run (half-uploaded drops).",
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set the tap up as the SDK does, then stop on SIGTERM/SIGINT at a message boundary (see writer.py)."""
        super().__init__(*args, **kwargs)
        if isinstance(self.message_writer, BufferedMsgspecWriter):
            stop_on_signals(self.message_writer)

    # -- state -----------------------------------------------------------------------------------

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: t.Any = None,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
    ) -> None:
        """Run the CLI as the SDK does; a state file that is not JSON is a one-line error naming the file."""
        if state is not None:
            state = io.StringIO(_read_state_text(state))
        super().invoke(about=about, about_format=about_format, config=config, state=state, catalog=catalog)

    def load_state(self, state: dict[str, t.Any]) -> None:
        """Refuse a state of the wrong shape, or another configuration's, before anything is read."""
        bookmarks.check_state_shape(state)
        if not state.get("bookmarks"):
            super().load_state(state)
            return
        for definition in self.stream_definitions():
            stream_state = state.get("bookmarks", {}).get(definition.name)
            if stream_state is not None:
                prefixes = [url_prefix(path) for path in definition.paths]
                bookmarks.check_stream_state(definition.name, stream_state, prefixes)
        super().load_state(state)

    # -- settings -> stream definitions ----------------------------------------------------------

    def stream_definitions(self) -> list[StreamDefinition]:
        """Validate the ``files`` / ``path`` settings into stream definitions."""
        config = self.config
        entries: list[dict[str, t.Any]] = [dict(entry) for entry in config.get("files") or []]
        if config.get("path"):
            if entries:
                raise ConfigError("Set either `files` or the `path` shorthand, not both.")
            entries = [
                {
                    "name": config.get("stream_name") or DEFAULT_STREAM_NAME,
                    "path": config["path"],
                    "key_properties": config.get("key_properties") or [],
                    "replication_key": config.get("replication_key"),
                }
            ]
        if not entries:
            raise ConfigError("No files to read: set `files` (a list of streams) or `path`.")
        definitions: list[StreamDefinition] = []
        names: set[str] = set()
        for entry in entries:
            definition = self._definition(entry)
            if definition.name in names:
                raise ConfigError(f"Two streams are named {definition.name!r} in `files`.")
            names.add(definition.name)
            definitions.append(definition)
        return definitions

    def _definition(self, entry: dict[str, t.Any]) -> StreamDefinition:
        """One ``files`` entry, its CSV settings defaulting to the top-level ones."""
        config = self.config
        name = entry["name"]
        paths = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
        if not paths:
            raise ConfigError(f"Stream {name!r}: `path` is empty.")
        for path in paths:
            if urlsplit(path).password:
                self.logger.warning(
                    "Stream %s: the path %s holds a password, which is not kept secret there; move it to "
                    "storage_options.%s.password (or the sftp settings)",
                    name,
                    redact_url(path),
                    protocol_of(path),
                )

        def setting(key: str, default: t.Any) -> t.Any:
            value = entry.get(key)
            return config.get(key, default) if value is None else value

        fmt = CSVFormat(
            delimiter=setting("delimiter", ","),
            quotechar=setting("quotechar", '"'),
            encoding=setting("encoding", "utf-8"),
            compression=setting("compression", "infer"),
            skip_rows=int(setting("skip_rows", 0)),
            column_types=dict(setting("column_types", {})),
            on_bad_row=config.get("on_bad_row") or "skip",
            key_properties=tuple(entry.get("key_properties") or ()),
            day_first=bool(setting("day_first", False)),
            max_field_size=int(setting("max_field_size", DEFAULT_MAX_FIELD_SIZE)),
            max_line_size=int(setting("max_line_size", DEFAULT_MAX_LINE_SIZE)),
        )
        replication_key = entry.get("replication_key") or None
        if replication_key and fmt.column_types.get(replication_key, "string") == "string":
            # "10" < "9" and "12/01/2025" > "11/30/2026" as text: only ISO-8601 text compares correctly.
            self.logger.warning(
                "Stream %s: replication_key %r is compared as text; give it a column_types entry "
                "(integer, number, date or date-time) unless its values are ISO-8601 or fixed-width",
                name,
                replication_key,
            )
        return StreamDefinition(
            name=name,
            paths=list(paths),
            fmt=fmt,
            key_properties=fmt.key_properties,
            replication_key=replication_key,
        )

    # -- discovery -------------------------------------------------------------------------------

    def build_schema(self, definition: StreamDefinition) -> dict[str, t.Any]:
        """Schema from the header of the stream's first file + column_types + metadata columns."""
        settings = StorageSettings.from_config(self.config)
        definition.listings = [list_files(path, settings) for path in definition.paths]
        header: list[str] = []
        candidates = sorted(
            ((fs, remote) for fs, found in definition.listings for remote in found),
            key=lambda pair: pair[1].sort_key(),
        )
        for fs, remote in candidates:
            try:
                binary = open_binary(fs, remote)
            except SourceError as exc:  # gone, a dangling link...: the sync sets it aside too
                self.logger.warning("Stream %s: %s; the schema is read from the next file", definition.name, exc)
                continue
            header = read_header(binary, remote.url, definition.fmt)
            if header:
                break
        if not header:
            raise SourceError(
                ", ".join(redact_url(path) for path in definition.paths),
                f"stream {definition.name!r}: every matching file is empty (no header)",
            )
        column_types = definition.fmt.column_types
        unknown = [name for name in column_types if name not in header]
        if unknown:
            self.logger.warning(
                "Stream %s: column_types names column(s) not in the header: %s",
                definition.name,
                ", ".join(unknown),
            )
        for key in (
            *definition.key_properties,
            *([definition.replication_key] if definition.replication_key else []),
        ):
            if key not in header:
                raise ConfigError(
                    f"Stream {definition.name!r}: key or replication column {key!r} is not in the header of "
                    f"{candidates[0][1].url}"
                )
        properties: dict[str, t.Any] = {}
        for name in header:
            properties[name] = _json_type(column_types.get(name, "string"))
        if self.config.get("add_metadata_columns", True):
            properties[METADATA_COLUMNS[0]] = {"type": ["string"]}
            properties[METADATA_COLUMNS[1]] = {"type": ["integer"]}
            properties[METADATA_COLUMNS[2]] = {"type": ["string"], "format": "date-time"}
        return {"type": "object", "properties": properties}

    def discover_streams(self) -> list[CSVFileStream]:
        """One stream per definition, its schema read from its first file."""
        return [
            CSVFileStream(tap=self, definition=definition, schema=self.build_schema(definition))
            for definition in self.stream_definitions()
        ]


def _json_type(column_type: str) -> dict[str, t.Any]:
    if column_type in {"date-time", "date"}:
        return {"type": ["string", "null"], "format": column_type}
    return {"type": [column_type, "null"]}


def _read_state_text(state: t.IO[str]) -> str:
    name = getattr(state, "name", "the state file")
    text = state.read()
    try:
        bookmarks.check_state_shape(json.loads(text))
    except json.JSONDecodeError as exc:  # the message names the place, never the content
        raise bookmarks.StateError(
            f"--state {name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): "
            "a truncated or corrupt state file; restore it or run without --state to read every file again"
        ) from None
    return text


#: Errors whose message is written for the user (names a setting, file or line, never row content): one line.
USER_ERRORS: t.Final = (ConfigError, SourceError, bookmarks.StateError, BadRowError)


def main() -> None:
    """The ``tap-offline-csv`` command: the SDK's CLI, with the tap's own errors as one line and exit code 1."""
    try:
        TapOfflineCSV.cli()
    except USER_ERRORS as exc:
        TapOfflineCSV.logger.error("%s", exc)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
