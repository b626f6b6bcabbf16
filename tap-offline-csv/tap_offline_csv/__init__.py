"""tap-offline-csv: a Singer tap reading offline-conversion CSV files from anywhere fsspec reaches."""

from tap_offline_csv.reader import BadRowError, CSVFormatError
from tap_offline_csv.storage import ConfigError, SourceError

__all__ = ["BadRowError", "CSVFormatError", "ConfigError", "SourceError"]
