"""Application services: use cases that combine domains, the store and the ledger."""

from modelsteward.services.ledger import LedgerService

__all__ = ["LedgerService"]
