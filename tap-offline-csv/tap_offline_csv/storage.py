"""Where the CSV files live: fsspec filesystems built from the tap settings.

Turns a path, glob or URL into a filesystem plus a sorted list of files with their fingerprints
(modified time, size and, where the store gives one, an ETag or checksum), and opens one file as a
binary stream. Credentials come from the settings, never from logs: every URL shown to a user or
stored in state goes through :func:`redact_url` first.

This module imports nothing from singer_sdk.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import re
import typing as t
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import fsspec
from fsspec.core import split_protocol

logger = logging.getLogger("tap_offline_csv.storage")

_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
LOCAL_PROTOCOLS = frozenset({"", "file", "local"})
GLOB_CHARS = frozenset("*?[")
# Block size for remote reads: big enough for throughput, small enough that memory stays flat.
REMOTE_BLOCK_SIZE = 8 * 1024 * 1024
DEFAULT_CONNECT_TIMEOUT_SECONDS = 30.0
UNKNOWN_MTIME = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# gcsfs reads this switch once, at import: "true" (its default) probes each bucket's layout over gRPC first, which
# stalls 60 s per call against anything but Google itself (an emulator, a proxy). The user's own value is kept.
GCSFS_LAYOUT_PROBE_SWITCH = "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"
# The Azure SDK logs every request's URL and headers at INFO.
AZURE_HTTP_LOGGER = "azure.core.pipeline.policies.http_logging_policy"


class SourceError(Exception):
    """A source cannot be listed, reached or read.

    The message names the source as a URL without credentials and says why; it never contains a
    password, a key or file content.
    """

    def __init__(self, source: str, reason: str) -> None:
        self.source = redact_url(source)
        self.reason = reason
        super().__init__(f"{self.source}: {reason}")


class ConfigError(Exception):
    """The tap settings are inconsistent (the message says which setting and why)."""


def redact_url(url: str) -> str:
    """Return ``url`` without user-info (``user:password@``), query string or fragment."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if not parts.netloc:
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass(frozen=True)
class RemoteFile:
    """One file found by a listing, with the fingerprint that decides whether to read it again."""

    url: str
    """Full URL without credentials; the key of the file's bookmark."""
    path: str
    """Path as the filesystem knows it (what ``fs.open`` takes)."""
    modified: dt.datetime
    """Last modification time, timezone-aware UTC."""
    size: int
    etag: str | None = None

    @property
    def modified_iso(self) -> str:
        """Modified time as an ISO 8601 string (state and metadata column format)."""
        return self.modified.isoformat()

    def fingerprint(self) -> dict[str, t.Any]:
        """The plain-JSON fingerprint stored in a file bookmark."""
        return {"mtime": self.modified_iso, "size": self.size, "etag": self.etag}

    def sort_key(self) -> tuple[dt.datetime, str]:
        """Deterministic reading order: modified time, then URL."""
        return (self.modified, self.url)


@dataclass
class StorageSettings:
    """The storage-related part of the tap settings (see the tap's settings schema)."""

    s3: dict[str, t.Any] = field(default_factory=dict)
    sftp: dict[str, t.Any] = field(default_factory=dict)
    storage_options: dict[str, dict[str, t.Any]] = field(default_factory=dict)

    def secret_values(self) -> list[str]:
        """Every credential value in these settings (scrubbed from any library message we pass on)."""
        values: list[str] = []
        for group in (self.s3, self.sftp, *self.storage_options.values()):
            for key, value in group.items():
                if (
                    isinstance(value, str)
                    and value
                    and any(
                        word in key.lower()
                        for word in ("secret", "password", "token", "key", "passphrase", "credential")
                    )
                ):
                    values.append(value)
        return values

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> StorageSettings:
        """Pick the storage settings out of the whole tap config."""
        return cls(
            s3=dict(config.get("s3") or {}),
            sftp=dict(config.get("sftp") or {}),
            storage_options={k: dict(v or {}) for k, v in (config.get("storage_options") or {}).items()},
        )


def protocol_of(url: str) -> str:
    """Lower-case protocol of ``url`` ('' for a plain local path)."""
    protocol, _ = split_protocol(url)
    return (protocol or "").lower()


def _s3_options(settings: StorageSettings) -> dict[str, t.Any]:
    s3 = settings.s3
    client_kwargs: dict[str, t.Any] = {}
    if s3.get("endpoint_url"):
        client_kwargs["endpoint_url"] = s3["endpoint_url"]
    if s3.get("region_name"):
        client_kwargs["region_name"] = s3["region_name"]
    options: dict[str, t.Any] = {
        "client_kwargs": client_kwargs,
        # Fail fast on an unreachable endpoint instead of botocore's long default retry loop.
        "config_kwargs": {"connect_timeout": 10, "read_timeout": 60, "retries": {"max_attempts": 2}},
    }
    if s3.get("anon"):
        options["anon"] = True
    if s3.get("aws_access_key_id"):
        options["key"] = s3["aws_access_key_id"]
        options["secret"] = s3.get("aws_secret_access_key")
    if s3.get("aws_session_token"):
        options["token"] = s3["aws_session_token"]
    # Anything else the user put under s3 in storage_options wins (e.g. requester_pays).
    options.update(settings.storage_options.get("s3", {}))
    return options


def _sftp_known_hosts(sftp: t.Mapping[str, t.Any], source: str) -> t.Any:
    """What asyncssh's ``known_hosts`` should be: a file path, a pinned key, or None (check off)."""
    import asyncssh  # noqa: PLC0415  (only needed for SFTP)

    if sftp.get("host_key_check", True) is False:
        logger.warning(
            "SFTP host key checking is turned off for %s (sftp.host_key_check=false): the server's "
            "identity is not verified. Set sftp.known_hosts_path or sftp.host_key instead.",
            redact_url(source),
        )
        return None
    if sftp.get("host_key"):
        try:
            key = asyncssh.import_public_key(sftp["host_key"])
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise ConfigError("sftp.host_key is not an OpenSSH public key line (e.g. 'ssh-ed25519 AAAA...')") from exc
        return ([key], [], [])
    path = os.path.expanduser(sftp.get("known_hosts_path") or "~/.ssh/known_hosts")
    if not os.path.isfile(path):
        raise SourceError(
            source,
            f"SFTP host key checking is on but the known_hosts file {path} does not exist; set "
            "sftp.known_hosts_path or sftp.host_key (or, insecurely, sftp.host_key_check=false)",
        )
    return path


def _sftp_options(url: str, settings: StorageSettings) -> dict[str, t.Any]:
    import asyncssh  # noqa: PLC0415

    sftp = settings.sftp
    parts = urlsplit(url)
    if not parts.hostname:
        raise SourceError(url, "an SFTP URL needs a host: sftp://host[:port]/dir/*.csv")
    options: dict[str, t.Any] = {
        "host": parts.hostname,
        "port": int(parts.port or sftp.get("port") or 22),
        "known_hosts": _sftp_known_hosts(sftp, url),
        "timeout": float(sftp.get("connect_timeout") or DEFAULT_CONNECT_TIMEOUT_SECONDS),
        "connect_timeout": float(sftp.get("connect_timeout") or DEFAULT_CONNECT_TIMEOUT_SECONDS),
    }
    username = sftp.get("username") or parts.username
    if username:
        options["username"] = username
    if sftp.get("password"):
        options["password"] = sftp["password"]
    passphrase = sftp.get("private_key_passphrase")
    if sftp.get("private_key"):
        try:
            key = asyncssh.import_private_key(sftp["private_key"], passphrase)
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise ConfigError("sftp.private_key could not be loaded (wrong format or passphrase)") from exc
        options["client_keys"] = [key]
    elif sftp.get("private_key_path"):
        options["client_keys"] = [os.path.expanduser(sftp["private_key_path"])]
        if passphrase:
            options["passphrase"] = passphrase
    if "password" not in options and "client_keys" not in options:
        # No explicit credentials: let asyncssh use the agent / default keys, but not prompt.
        options.setdefault("client_keys", ())
    options.update(settings.storage_options.get("sftp", {}))
    return options


def filesystem_for(url: str, settings: StorageSettings) -> tuple[fsspec.AbstractFileSystem, str]:
    """Build the filesystem for ``url`` and return it with the path the filesystem understands.

    Raises:
        SourceError: the server cannot be reached or refuses the login.
        ConfigError: a credential setting cannot be used.
    """
    protocol = protocol_of(url)
    try:
        if protocol in LOCAL_PROTOCOLS:
            fs = fsspec.filesystem("file")
            path = url.split("://", 1)[1] if protocol else url
            return fs, os.path.abspath(os.path.expanduser(path))
        if protocol in {"s3", "s3a"}:
            import s3fs  # noqa: PLC0415

            fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False, **_s3_options(settings))
            return fs, fs._strip_protocol(url)
        if protocol in {"sftp", "ssh"}:
            from sshfs import SSHFileSystem  # noqa: PLC0415

            options = _sftp_options(url, settings)
            host = options.pop("host")
            fs = SSHFileSystem(host, skip_instance_cache=True, **options)
            return fs, urlsplit(url).path or "/"
        _prepare_library(protocol)
        options = dict(settings.storage_options.get(protocol, {}))
        options.setdefault("skip_instance_cache", True)
        fs, path = fsspec.core.url_to_fs(url, **options)
        return fs, path
    except (SourceError, ConfigError):
        raise
    except Exception as exc:
        raise SourceError(url, describe_exception(exc, connecting=True, secrets=settings.secret_values())) from None


def _prepare_library(protocol: str) -> None:
    """Settings a filesystem library needs before it is first imported or used."""
    if protocol in {"gs", "gcs"}:
        os.environ.setdefault(GCSFS_LAYOUT_PROBE_SWITCH, "false")
    elif protocol in {"az", "abfs", "abfss", "adl"}:
        logging.getLogger(AZURE_HTTP_LOGGER).setLevel(logging.WARNING)


def describe_exception(exc: BaseException, *, connecting: bool = False, secrets: t.Sequence[str] = ()) -> str:
    """A short reason for ``exc`` that cannot leak a password (its type and a library message).

    ``connecting`` says the error happened while logging in, where a permission error means the
    server refused the credentials. URL user-info and the given ``secrets`` are scrubbed from the
    library's message.
    """
    name = type(exc).__name__
    text = _URL_USERINFO.sub(r"\1", str(exc))
    for secret in secrets:
        text = text.replace(secret, "***")
    lowered = text.lower()
    if "host key" in lowered:
        return f"the server's host key is not trusted ({name}); check sftp.known_hosts_path/host_key"
    if isinstance(exc, TimeoutError | ConnectionRefusedError | ConnectionResetError):
        return f"server unreachable or not responding ({name})"
    if isinstance(exc, PermissionError) or "auth" in lowered or "permission denied" in lowered or "login" in lowered:
        return f"login refused ({name})" if connecting else f"access denied ({name})"
    if isinstance(exc, FileNotFoundError):
        return "not found"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{name}: {exc.strerror}"
    # Library messages do not carry credentials; keep them short and on one line.
    first_line = text.splitlines()[0][:300] if text else ""
    return f"{name}: {first_line}" if first_line else name


def _info_modified(info: t.Mapping[str, t.Any]) -> dt.datetime | None:
    for key in (
        "mtime",
        "LastModified",
        "Last-Modified",
        "last_modified",
        "modified",
        "updated",
        "modify",
        "created",
    ):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        if isinstance(value, str):
            parsed = _parse_time_text(value)
            if parsed is not None:
                return parsed
    return None


def _parse_time_text(text: str) -> dt.datetime | None:
    # FTP MLSD 'modify' facts look like 20240102030405[.123]; HTTP gives RFC 1123 dates.
    digits = text.split(".", 1)[0]
    if digits.isdigit() and len(digits) == 14:
        return dt.datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime  # noqa: PLC0415

        try:
            value = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _modified_or_unknown(fs: fsspec.AbstractFileSystem, path: str) -> dt.datetime:
    """Ask the filesystem for the modified time; servers that cannot tell get the Unix epoch.

    An unknown time still gives a stable fingerprint (size and ETag decide), but such files are
    ignored by ``start_date`` and never held back by ``settle_seconds``.
    """
    try:
        modified = fs.modified(path)
    except Exception:  # NotImplementedError, or a server without the command
        logger.debug("no modified time for %s; using the epoch", redact_url(str(path)))
        return UNKNOWN_MTIME
    return modified if modified.tzinfo else modified.replace(tzinfo=dt.UTC)


def _info_etag(info: t.Mapping[str, t.Any]) -> str | None:
    for key in ("ETag", "etag", "md5Hash", "md5_hash", "content_md5", "checksum", "crc32c"):
        value = info.get(key)
        if value:
            return str(value).strip('"')
    return None


#: Protocols whose URL host is a server, not part of the listed path (unlike a bucket store's bucket).
HOST_PROTOCOLS: t.Final = frozenset({"sftp", "ssh", "ftp", "ftps", "http", "https", "webdav"})


def _url_for(protocol: str, url: str, path: str) -> str:
    """Rebuild a full URL (without credentials) for a path returned by a listing."""
    if protocol in LOCAL_PROTOCOLS:
        return "file://" + path
    if "://" in path:
        return redact_url(path)
    host = urlsplit(url).netloc.rpartition("@")[2]
    stripped = path.lstrip("/")
    if protocol in HOST_PROTOCOLS:
        # Servers list paths without the host, whatever the path looks like: a folder named like the host
        # ("sftp://data/data/x.csv") must not be mistaken for it.
        return f"{protocol}://{host}/{stripped}"
    if host and stripped != host and not stripped.startswith(host + "/"):
        # Bucket stores list "bucket/key"; anything else listed without its host gets it back.
        return f"{protocol}://{host}/{stripped}"
    return f"{protocol}://{stripped}"


def _has_glob(path: str) -> bool:
    return any(c in GLOB_CHARS for c in path)


def list_files(url: str, settings: StorageSettings) -> tuple[fsspec.AbstractFileSystem, list[RemoteFile]]:
    """List the files matching ``url`` (a path, directory, glob or URL), sorted by (mtime, URL).

    A directory means every file directly in it. Raises :class:`SourceError` when nothing matches,
    naming the source without credentials.
    """
    protocol = protocol_of(url)
    fs, path = filesystem_for(url, settings)
    try:
        if _has_glob(path):
            found = fs.glob(path, detail=True)
        else:
            info = fs.info(path)
            if info.get("type") == "directory":
                found = {entry["name"]: entry for entry in fs.ls(path, detail=True) if entry.get("type") != "directory"}
            else:
                found = {path: info}
    except FileNotFoundError:
        found = {}
    except Exception as exc:
        raise SourceError(url, describe_exception(exc, secrets=settings.secret_values())) from None
    files: list[RemoteFile] = []
    for name, info in found.items():
        if info.get("type") == "directory":
            continue
        modified = _info_modified(info) or _modified_or_unknown(fs, name)
        files.append(
            RemoteFile(
                url=_url_for(protocol, url, name),
                path=name,
                modified=modified.astimezone(dt.UTC),
                size=int(info.get("size") or 0),
                etag=_info_etag(info),
            )
        )
    if not files:
        raise SourceError(url, "no file matches this path")
    files.sort(key=RemoteFile.sort_key)
    return fs, files


def local_unreadable_reason(path: str) -> str | None:
    """Why a listed local entry cannot be read as a file (None when it can): links and special files."""
    try:
        os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return "a dangling symbolic link (its target does not exist)"
        return "the file disappeared before it could be read"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop"
        return f"cannot be read ({type(exc).__name__}: {exc.strerror})"
    if not os.path.isfile(path):
        return "not a regular file (a device, socket or pipe)"
    return None


def url_prefix(path: str) -> str:
    """The URL every file listed for ``path`` (a path, glob or URL) starts with, as bookmarks write it."""
    static = path
    for index, char in enumerate(path):
        if char in GLOB_CHARS:
            static = path[:index]
            break
    protocol = protocol_of(static)
    if protocol in LOCAL_PROTOCOLS:
        local = static.split("://", 1)[1] if protocol else static
        absolute = os.path.abspath(os.path.expanduser(local)) if local else ""
        return "file://" + absolute
    return redact_url(static)


def open_binary(fs: fsspec.AbstractFileSystem, remote: RemoteFile) -> t.BinaryIO:
    """Open ``remote`` for streaming binary reads (never reads it whole).

    Raises:
        SourceError: the entry cannot be read (gone, a dangling link, a link loop, a pipe...), saying which.
    """
    try:
        if isinstance(fs, fsspec.implementations.local.LocalFileSystem):
            reason = local_unreadable_reason(remote.path)
            if reason is not None:
                raise SourceError(remote.url, reason)
            return open(remote.path, "rb", buffering=1024 * 1024)
        return t.cast("t.BinaryIO", fs.open(remote.path, "rb", block_size=REMOTE_BLOCK_SIZE))
    except SourceError:
        raise
    except FileNotFoundError:
        raise SourceError(remote.url, "the file disappeared before it could be read") from None
    except Exception as exc:
        raise SourceError(remote.url, describe_exception(exc)) from None
