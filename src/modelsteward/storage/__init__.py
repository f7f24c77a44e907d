"""Storage: SQLAlchemy database (SQLite or PostgreSQL), Alembic migrations, blob store, workspace."""

from modelsteward.storage.blobs import BlobStore
from modelsteward.storage.db import Database
from modelsteward.storage.workspace import Workspace

__all__ = ["BlobStore", "Database", "Workspace"]
