"""The operational design domain (ODD): BSI PAS 1883 attributes, membership and coverage cells."""
