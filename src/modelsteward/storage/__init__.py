"""Storage: the SQL database (SQLite or PostgreSQL), migrations, blob store and workspace."""

from modelsteward.storage.blobs import BlobStore
from modelsteward.storage.db import Database
from modelsteward.storage.workspace import Workspace

__all__ = ["BlobStore", "Database", "Workspace"]
