"""Bills of materials: CycloneDX 1.6 AI-BOMs for registered model versions."""
